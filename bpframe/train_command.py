"""``bpframe train``: check every argument, hold out a validation split, train, and never lose the work.

The order is what a user can rely on:

1. Every argument is checked before any data is loaded: sizes, optimizer, numbers, and the output paths
   (``--save``, ``--plot``: the folder exists and is writable, the plot format is one matplotlib writes).
2. A validation split is held out from the training data (``--validation-split``, stratified, seeded by
   ``--seed``); a problem too small for one (xor) says so and validates on the training data.
3. Training early-stops on the validation cost (``--patience``), and the whole state of the best epoch is
   restored and named.
4. Ctrl-C stops after the current mini-batch; with ``--save`` the model is saved as it stands (with early
   stopping, the best epoch's state) and the message says so; the exit status is 130.
5. The test split is scored once, at the end.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

import bpframe as bp

from . import datasets
from .datasets import one_hot
from .errors import ConfigurationError, MissingDependencyError, TrainingInterrupted
from .kernels.cache import stats
from .limits import check_network_size
from .optimizers import optimizer_from_config
from .split import holdout
from .validation import check_dropout

_METRICS = ("val_cost", "val_accuracy", "cost", "accuracy")

__all__ = [
    "check_arguments",
    "check_hidden",
    "check_output_path",
    "check_plot_format",
    "engine_report",
    "load_dataset",
    "optimizer_from_args",
    "run_train",
]


def load_dataset(name: str, split: str, dtype: str, folder: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) of a named dataset and split; synthetic problems have one split used for both."""
    if name == "digits":
        return datasets.load_digits(split, dtype=dtype)
    if name == "fashion-mnist":
        return datasets.load_fashion_mnist(folder, split=split, dtype=dtype)
    if name == "xor":
        X, Y = datasets.xor(dtype=dtype)
        return X, Y[:, 0].astype(np.int64)
    if name == "spirals":
        return datasets.two_spirals(400, noise=0.05, seed=0 if split == "train" else 1, dtype=dtype)
    return datasets.moons(400, noise=0.1, seed=0 if split == "train" else 1, dtype=dtype)


def optimizer_from_args(args: argparse.Namespace) -> Any:
    """The optimizer named by ``--optimizer`` with the hyper-parameters of ``--opt`` and the per-name aliases
    (``--mu``, ``--beta1``, ...): every name and range comes from the optimizer table (its registry)."""
    params: dict[str, float] = {}
    for key, value in [*args.opt, *getattr(args, "hyper_aliases", {}).items()]:
        if key in params and params[key] != value:
            raise ConfigurationError(f"--opt {key}={value:g} contradicts another value for {key}: {params[key]:g}")
        params[key] = value
    return optimizer_from_config({"name": args.optimizer, **params})


def check_hidden(hidden: list[int], dtype: str) -> None:
    """Refuse hidden layers beyond bpframe's limits before any data is loaded (the network checks all again)."""
    if any(width < 1 for width in hidden):
        return  # the network's own check names it, among the real sizes
    try:
        check_network_size([1, *hidden, 1], np.dtype(dtype))
    except ConfigurationError as exc:
        text = ",".join(str(width) for width in hidden[:6]) + (
            f",... ({len(hidden)} layers)" if len(hidden) > 6 else ""
        )
        raise ConfigurationError(
            f"--hidden {text} is too large, even counting a 1-wide input and output: {exc}"
        ) from None


def check_output_path(option: str, value: str) -> Path:
    """``value`` as a file path whose folder exists and is writable, and which is not a folder itself."""
    path = Path(value)
    folder = path.parent
    if path.is_dir():
        raise ConfigurationError(f"{option} {value}: that is a folder; give a file name in it")
    if not folder.is_dir():
        raise ConfigurationError(f"{option} {value}: the folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigurationError(f"{option} {value}: cannot write in the folder {folder} (permission denied)")
    return path


def check_plot_format(value: str) -> None:
    """The learning-curve file's format (its suffix) is one matplotlib can write, and matplotlib is installed."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependencyError(
            f'--plot {value} needs matplotlib: pip install "bpframe[plot]" (or pip install matplotlib)'
        ) from None
    formats = sorted(Figure().canvas.get_supported_filetypes())
    suffix = Path(value).suffix.lower().lstrip(".")
    if suffix not in formats:
        what = f"matplotlib cannot write format {suffix!r}" if suffix else "no file extension to name the format"
        raise ConfigurationError(f"--plot {value}: {what}; give a file name ending in one of .{', .'.join(formats)}")


def _check_init(args: argparse.Namespace) -> None:
    """--init: installed initializer names, one or one per layer."""
    if args.init is None:
        return
    layers = len(args.hidden) + 1
    shown = ",".join(args.init)
    if len(args.init) not in (1, layers):
        raise ConfigurationError(
            f"--init {shown}: give one initializer for every layer, or one per layer ({layers} with --hidden "
            f"{','.join(map(str, args.hidden))})"
        )
    known = bp.initializers()
    for name in args.init:
        if name not in known:
            raise ConfigurationError(f"--init {shown}: unknown initializer {name!r}; available: {', '.join(known)}")


def _check_regularisation(args: argparse.Namespace) -> None:
    """--l1 and --dropout, named as on the command line; --dropout becomes what ``fit`` takes."""
    if not args.l1 >= 0 or args.l1 == float("inf"):
        raise ConfigurationError(f"--l1 must be a number >= 0, got {args.l1:g}")
    rates = args.dropout[0] if len(args.dropout) == 1 else args.dropout
    try:
        check_dropout(rates, len(args.hidden))
    except ConfigurationError as exc:
        shown = ",".join(f"{rate:g}" for rate in args.dropout)
        raise ConfigurationError(f"--dropout {shown}: {exc}") from None
    args.dropout = rates


def _check_numbers(args: argparse.Namespace) -> None:
    """The numeric options, named as on the command line."""
    for option, value, low in (("--epochs", args.epochs, 1), ("--batch-size", args.batch_size, 1),
                               ("--patience", args.patience, 0)):  # fmt: skip
        if value < low:
            raise ConfigurationError(f"{option} must be an int >= {low}, got {value}")
    if not 0.0 <= args.validation_split < 1.0:
        raise ConfigurationError(
            f"--validation-split must be a fraction in [0, 1) (0 validates on the training data), "
            f"got {args.validation_split:g}"
        )


def check_arguments(args: argparse.Namespace) -> tuple[Any, Any]:
    """Everything that can be checked before data are loaded; returns the optimizer and the early stopping."""
    _check_numbers(args)
    if args.monitor not in _METRICS:
        raise ConfigurationError(f"--monitor {args.monitor}: not a metric; use one of {', '.join(_METRICS)}")
    check_hidden(args.hidden, args.dtype)
    _check_init(args)
    _check_regularisation(args)
    optimizer = optimizer_from_args(args)
    stopper = bp.EarlyStopping(monitor=args.monitor, patience=args.patience) if args.patience else None
    if args.save:
        check_output_path("--save", args.save)
    if args.plot:
        check_output_path("--plot", args.plot)
        check_plot_format(args.plot)
    return optimizer, stopper


def _validation(args: argparse.Namespace, X: np.ndarray, y: np.ndarray, classes: int) -> tuple[Any, ...]:
    """``(X_train, Y_train, X_val, Y_val)``: a held-out split, or the training data twice (said so)."""
    Y = one_hot(y, classes, dtype=X.dtype)
    if args.validation_split == 0:
        print("no validation split (--validation-split 0): validating on the training data")
        return X, Y, X, Y
    try:
        part = holdout(X, Y, args.validation_split, np.random.SeedSequence(args.seed), "--validation-split")
    except ConfigurationError:
        print(f"{args.dataset}: {X.shape[0]} training samples are too few to hold out a validation split of "
              f"{args.validation_split:g} (every class on both sides); validating on the training data")  # fmt: skip
        return X, Y, X, Y
    print(f"holding out {part.x_val.shape[0]} of {X.shape[0]} training samples for validation "
          f"({args.validation_split:g}, stratified, seed {args.seed})")  # fmt: skip
    return part.x_train, part.y_train, part.x_val, part.y_val


def _stopping_report(stopper: Any, history: Any) -> str | None:
    """What early stopping did, with the epoch whose state the network now has."""
    if stopper is None or stopper.best_epoch is None:
        return None
    best = f"the whole state of epoch {stopper.best_epoch} ({stopper.monitor} {stopper.best_value:.4f})"
    if stopper.stopped_epoch is not None:
        return (
            f"early stopping: {stopper.monitor} did not improve for {stopper.patience} epochs after epoch "
            f"{stopper.best_epoch}; restored {best}"
        )
    if stopper.best_epoch != len(history):
        return f"restored {best}, the best of the {len(history)} epochs"
    return None


def _interrupted(net: Any, args: argparse.Namespace, stopper: Any, exc: KeyboardInterrupt) -> int:
    """Ctrl-C: save the model as it stands (with --save) and say what was kept."""
    where = ""
    if isinstance(exc, TrainingInterrupted):
        where = f" in epoch {exc.epoch} after {exc.batch} batches"
    if not args.save:
        print(f"interrupted{where}; nothing saved (give --save PATH to keep the model when interrupted)")
        return 130
    path = net.save(args.save, include_optimizer=True)
    state = "as it stands"
    if stopper is not None and stopper.best_epoch is not None:
        state = f"with the whole state of epoch {stopper.best_epoch}, the best {stopper.monitor} so far"
    print(f"interrupted{where}: saved the model {state} to {path}")
    return 130


def engine_report(net: Any) -> str:
    """Which tier trained, and what this process compiled or loaded: why a first run takes longer."""
    tiers = " and ".join({"numpy": "NumPy tier", "compiled": "compiled engine"}[t] for t in sorted(net.program.tiers))
    record = stats()
    return f"{tiers or 'no training'}; {len(record.compiled)} kernels compiled, {len(record.loaded)} loaded from cache"


def run_train(args: argparse.Namespace) -> int:
    """The ``train`` subcommand."""
    optimizer, stopper = check_arguments(args)
    X, y = load_dataset(args.dataset, "train", args.dtype, args.data_dir)
    Xt, yt = load_dataset(args.dataset, "test", args.dtype, args.data_dir)  # read now: a bad file fails early
    classes = int(max(y.max(), yt.max())) + 1
    activation: Any = args.activation if len(args.activation) > 1 else args.activation[0]
    init: Any = args.init if args.init is None or len(args.init) > 1 else args.init[0]
    net = bp.Network([X.shape[1], *args.hidden, classes], activation, args.loss, dtype=args.dtype, init=init,
                     seed=args.seed)  # fmt: skip
    print(f"training {net} on {args.dataset} ({X.shape[0]} training / {Xt.shape[0]} test samples)")
    X_train, Y_train, X_val, Y_val = _validation(args, X, y, classes)
    extras = (f", l1 {args.l1:g}" if args.l1 else "") + (f", dropout {args.dropout}" if args.dropout else "")
    print(f"optimizer {optimizer}, eta {args.eta:g}, lmbda {args.lmbda:g}{extras}, batch size {args.batch_size}, "
          f"{args.epochs} epochs, " + (f"early stopping on {args.monitor} (patience {args.patience}), "
          if stopper else "") + f"seed {args.seed}", flush=True)  # fmt: skip
    started = time.perf_counter()
    try:
        history = net.fit(
            X_train, Y_train, epochs=args.epochs, batch_size=args.batch_size, eta=args.eta, lmbda=args.lmbda,
            optimizer=optimizer, schedule=args.schedule, validation_data=(X_val, Y_val),
            callbacks=None if stopper is None else [stopper], verbose=0 if args.quiet else 1, l1=args.l1,
            dropout=args.dropout, layer_speed=args.layer_speed,
        )  # fmt: skip
    except TrainingInterrupted as exc:
        return _interrupted(net, args, stopper, exc)
    seconds = time.perf_counter() - started
    report = _stopping_report(stopper, history)
    if report:
        print(report)
    try:
        result = net.evaluate(Xt, yt)  # the only time the test split is used
    except KeyboardInterrupt as exc:
        return _interrupted(net, args, None, exc)
    print(f"done: {len(history)} epochs in {seconds:.1f} s ({engine_report(net)}); test accuracy "
          f"{result['accuracy']:.4f}, test cost {result['cost']:.4f}")  # fmt: skip
    if args.save:
        print(f"model saved to {net.save(args.save, include_optimizer=True)}")
    if args.plot:
        print(f"learning curves saved to {history.plot(args.plot)}")
    return 0
