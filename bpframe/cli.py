"""The ``bpframe`` command: train, evaluate, inspect models, list plugins, check gradients, manage the cache.

Every error is one line on stderr (``bpframe: error: ...``) with exit status 1 (2 for a usage error, 130 after
Ctrl-C), never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

import bpframe as bp

from ._version import __version__
from .errors import BpframeError, BpframeWarning, ConfigurationError
from .io import describe_model
from .kernels import cache
from .optimizers import ExponentialDecay, StepDecay
from .plugins import loaded_registry
from .train_command import load_dataset, run_train

__all__ = ["build_parser", "main"]

DATASETS = ("digits", "fashion-mnist", "xor", "spirals", "moons")


def _ints(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers such as 64,32, got {text!r}") from None


def _floats(text: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers such as 0.5 or 0.2,0.5, got {text!r}"
        ) from None


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _schedule(text: str) -> Any:
    kind, _, rest = text.partition(":")
    usage = f"expected step:EPOCHS:FACTOR (e.g. step:10:0.5) or exp:RATE (e.g. exp:0.95), got {text!r}"
    try:
        if kind == "step":
            step, factor = rest.split(":")
            return StepDecay(step=int(step), factor=float(factor))
        if kind == "exp":
            return ExponentialDecay(rate=float(rest))
    except ValueError:
        raise argparse.ArgumentTypeError(usage) from None
    raise argparse.ArgumentTypeError(usage)


def _key_value(text: str) -> tuple[str, float]:
    key, equals, value = text.partition("=")
    try:
        if equals and key.strip().isidentifier():
            return key.strip(), float(value)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"expected KEY=NUMBER such as mu=0.8, got {text!r}")


class _Alias(argparse.Action):
    """``--mu 0.8`` is ``--opt mu=0.8``: one option per hyper-parameter name of the optimizer table."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
        aliases = dict(getattr(namespace, "hyper_aliases", None) or {})
        aliases[self.dest.removeprefix("hyper_")] = values
        namespace.hyper_aliases = aliases


def _optimizer_names() -> list[str]:
    """The registered optimizers, in registration order (built-ins first)."""
    return list(loaded_registry().optimizers.entries)


def _hyper_parameters() -> dict[str, list[str]]:
    """Every hyper-parameter name in the optimizer table, with the optimizers that have it."""
    names: dict[str, list[str]] = {}
    for entry in loaded_registry().optimizers.entries.values():
        for hyper in entry.spec.hyper:
            names.setdefault(hyper.name, []).append(f"{entry.spec.title} (default {hyper.default:g})")
    return names


def cmd_train(args: argparse.Namespace) -> int:
    return run_train(args)


def cmd_evaluate(args: argparse.Namespace) -> int:
    net = bp.load(args.model)
    X, y = load_dataset(args.dataset, args.split, net.dtype.name, args.data_dir)
    result = net.evaluate(X, y)
    print(f"{args.dataset} {args.split} ({X.shape[0]} samples): accuracy {result['accuracy']:.4f}, "
          f"cost {result['cost']:.4f}")  # fmt: skip
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    print(describe_model(args.model))
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    registry = loaded_registry()  # the listing shows every plugin's problems; strict mode is for using them
    titles = ("activations", "losses", "optimizers", "initializers")
    for title, table in zip(titles, registry.tables(), strict=True):
        print(f"{title}:")
        for name in table.names():
            entry = table.get(name)
            description = getattr(entry.spec, "description", "")
            print(f"  {name:<22} {entry.provenance.describe():<60} {description}")
        for name, owners in sorted(table.conflicts.items()):
            print(f"  {name:<22} CONFLICT: registered by {' and '.join(p.describe() for p in owners)}")
    if registry.failures:
        print("plugins that failed to load:")
        for failure in registry.failures:
            print(f"  {failure.provenance.describe()}: {failure.error}")
    if args.check:
        from .testing import check_registry

        return check_registry(registry, out=sys.stdout)
    return 0


def cmd_gradcheck(args: argparse.Namespace) -> int:
    activation: Any = args.activation if len(args.activation) > 1 else args.activation[0]
    net = bp.Network(args.sizes, activation, args.loss, seed=args.seed)
    rng = np.random.default_rng(args.seed)
    X = rng.normal(size=(args.samples, args.sizes[0]))
    if net.loss.target_range is None:
        Y: np.ndarray = rng.normal(size=(args.samples, args.sizes[-1]))
    elif args.sizes[-1] > 1:
        Y = rng.integers(0, args.sizes[-1], args.samples)
    else:
        Y = rng.uniform(size=(args.samples, 1))
    result = bp.gradient_check(net, X, Y, entries=args.entries)
    print(f"gradient check of {net} on {args.samples} random samples")
    print(result)
    ok = result.passed(args.tolerance)
    print(f"{'PASS' if ok else 'FAIL'} (tolerance {args.tolerance:g})")
    return 0 if ok else 1


def cmd_cache(args: argparse.Namespace) -> int:
    if args.action != "warm":
        given = [flag for flag, value in (("--dtype", args.dtype), ("--no-engine", args.no_engine),
                                          ("--quiet", args.quiet)) if value]  # fmt: skip
        if given:
            raise ConfigurationError(f"{', '.join(given)}: only for `bpframe cache warm`, not `cache {args.action}`")
    if args.action == "warm":
        from .warm import warm_cache  # numba (0.13 s to import) only for this command

        def show(item: Any) -> None:
            if not args.quiet or item.error is not None:
                print(item.line(), flush=True)

        warmed = warm_cache(args.dtype or ("float32", "float64"), engine=not args.no_engine, progress=show)
        print(warmed.summary())
        return 1 if warmed.failures else 0
    if args.action == "clear":
        report = cache.clear_cache()
        print(f"removed {report.files} kernel cache files ({report.bytes / 2**20:.1f} MiB) from {report.folder}")
    else:
        base = cache.cache_base()
        files = list(cache.cache_files(base))
        size = sum(f.stat().st_size for f in files)
        print(f"kernel cache: {base} ({len(files)} compiled kernels, {size / 2**20:.1f} MiB)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``bpframe`` command."""
    parser = argparse.ArgumentParser(prog="bpframe", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"bpframe {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = sub.add_parser("train", help="train a network (default: the embedded digits)",
                           description="Train a network, early-stopping on a validation split held out from the "
                           "training data, and report its accuracy on the test split once, at the end. Ctrl-C "
                           "stops after the current mini-batch (with --save, the model is saved as it "
                           "stands).")  # fmt: skip
    train.add_argument("--dataset", choices=DATASETS, default="digits", help="default: %(default)s")
    train.add_argument("--data-dir", help="folder of the IDX files for fashion-mnist")
    train.add_argument("--hidden", type=_ints, default=[128], help="hidden layer sizes, e.g. 64,32 (default: 128)")
    train.add_argument("--activation", type=_names, default=["relu", "softmax"],
                       help="one activation, or one per layer (default: relu,softmax)")  # fmt: skip
    train.add_argument("--loss", default="cross_entropy", help="default: %(default)s")
    train.add_argument("--init", type=_names, help="weight initializer: one of bp.initializers() for every layer, "
                       "or one per layer, e.g. he,glorot (default: each activation's own)")  # fmt: skip
    train.add_argument("--optimizer", default="adam",
                       help=f"one of {', '.join(_optimizer_names())} (default: %(default)s)")  # fmt: skip
    train.add_argument("--opt", type=_key_value, action="append", default=[], metavar="KEY=VALUE",
                       help="a hyper-parameter of the optimizer, e.g. --opt mu=0.8 (repeatable)")  # fmt: skip
    train.add_argument("--eta", type=float, default=0.001, help="learning rate (default: %(default)s)")
    taken = {action.dest for action in train._actions}
    for name, owners in _hyper_parameters().items():
        if name not in taken:  # a plugin's hyper-parameter named like another option is reachable by --opt only
            train.add_argument(f"--{name}", type=float, action=_Alias, dest=f"hyper_{name}", metavar="VALUE",
                               help=f"same as --opt {name}=VALUE: {', '.join(owners)}")  # fmt: skip
    train.add_argument("--lmbda", type=float, default=0.0, help="L2 weight decay (default: %(default)s)")
    train.add_argument("--l1", type=float, default=0.0, help="L1 regularisation strength (default: %(default)s)")
    train.add_argument("--dropout", type=_floats, default=[0.0], metavar="P",
                       help="probability of dropping a hidden neuron while training: one for every hidden layer, "
                       "or one per hidden layer, e.g. 0.2,0.5 (default: 0)")  # fmt: skip
    train.add_argument(
        "--layer-speed",
        action="store_true",
        help="record each layer's learning speed per epoch (drawn by --plot, saved by --save)",
    )
    train.add_argument("--schedule", type=_schedule, help="step:EPOCHS:FACTOR or exp:RATE")
    train.add_argument("--epochs", type=int, default=100, help="the most epochs (default: %(default)s)")
    train.add_argument("--batch-size", type=int, default=32, help="default: %(default)s")
    train.add_argument("--validation-split", type=float, default=0.1, metavar="FRACTION",
                       help="share of the training data held out for validation, stratified (default: "
                       "%(default)s; 0: validate on the training data)")  # fmt: skip
    train.add_argument("--patience", type=int, default=10,
                       help="early stopping: epochs without improvement (default: %(default)s; 0: off)")  # fmt: skip
    train.add_argument("--monitor", default="val_cost", help="early stopping metric (default: %(default)s)")
    train.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    train.add_argument("--dtype", choices=("float32", "float64"), default="float64", help="default: %(default)s")
    train.add_argument("--save", metavar="PATH", help="save the trained model (.npz), also when interrupted")
    train.add_argument("--plot", metavar="FILE", help="save the learning curves, e.g. curves.png (needs bpframe[plot])")
    train.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    train.set_defaults(run=cmd_train)

    evaluate = sub.add_parser("evaluate", help="score a saved model on a dataset")
    evaluate.add_argument("model")
    evaluate.add_argument("--dataset", choices=DATASETS, default="digits")
    evaluate.add_argument("--split", choices=("train", "test"), default="test")
    evaluate.add_argument("--data-dir", help="folder of the IDX files for fashion-mnist")
    evaluate.set_defaults(run=cmd_evaluate)

    info = sub.add_parser("info", help="describe a saved model")
    info.add_argument("model")
    info.set_defaults(run=cmd_info)

    plugins = sub.add_parser(
        "plugins", help="list activations, losses, optimizers and initializers and the plugins providing them"
    )
    plugins.add_argument("--check", action="store_true", help="run the conformance checks on everything")
    plugins.set_defaults(run=cmd_plugins)

    grad = sub.add_parser("gradcheck", help="check back-propagation against central differences")
    grad.add_argument("--sizes", type=_ints, default=[4, 5, 3], help="layer sizes (default: 4,5,3)")
    grad.add_argument("--activation", type=_names, default=["sigmoid"], help="one, or one per layer")
    grad.add_argument("--loss", default="quadratic")
    grad.add_argument("--samples", type=int, default=8)
    grad.add_argument("--entries", type=int, default=20, help="entries checked per layer and kind")
    grad.add_argument("--tolerance", type=float, default=1e-6)
    grad.add_argument("--seed", type=int, default=0)
    grad.set_defaults(run=cmd_gradcheck)

    cache_cmd = sub.add_parser("cache", help="show, clear or warm the compiled-kernel cache",
                               description="info: where the kernel cache is and its size; clear: remove bpframe's "
                               "files from it; warm: compile every installed activation, loss and optimizer, and the "
                               "engine, into it, so that no later network compiles anything")  # fmt: skip
    cache_cmd.add_argument("action", choices=("info", "clear", "warm"))
    cache_cmd.add_argument("--dtype", type=_names, default=None, help="warm: float32,float64 (default: both)")
    cache_cmd.add_argument("--no-engine", action="store_true", help="warm: the plugin functions' blocks only")
    cache_cmd.add_argument("-q", "--quiet", action="store_true", help="warm: print failures and the summary only")
    cache_cmd.set_defaults(run=cmd_cache)
    return parser


def _one_line(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None,
              line: str | None = None) -> None:  # fmt: skip
    """Show a warning as ``bpframe: warning: <message>`` on stderr: one line, no file path of bpframe's."""
    text = " ".join(str(message).split())
    print(f"bpframe: warning: {text}", file=sys.stderr if file is None else file)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    import warnings

    with warnings.catch_warnings():
        warnings.showwarning = _one_line
        args = build_parser().parse_args(argv)
        try:
            return int(args.run(args))
        except BpframeWarning as exc:  # a bpframe warning turned into an error (-W error)
            print(f"bpframe: error: {' '.join(str(exc).split())}", file=sys.stderr)
            return 1
        except (BpframeError, OSError) as exc:
            print(f"bpframe: error: {exc}", file=sys.stderr)
            return 1
        except MemoryError as exc:  # the limits keep bpframe's own allocations in check; this is for the rest
            print(f"bpframe: error: out of memory{f' ({exc})' if str(exc) else ''}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("bpframe: interrupted", file=sys.stderr)
            return 130
        except Exception as exc:  # noqa: BLE001 - a bug or a library's own error: still one line and a status
            text = " ".join(str(exc).split()) or "(no message)"
            print(f"bpframe: error: unexpected {type(exc).__name__}: {text}", file=sys.stderr)
            return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
