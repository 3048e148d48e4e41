"""What recording each layer's learning speed costs: a W1 epoch with ``layer_speed`` off and on, against bpframe
before the feature existed (another source tree, e.g. a git worktree of an older commit), in the same run.

Each variant runs in its own process with the compiled engine (``BPFRAME_ENGINE=compiled``; one warm-up epoch
first, so the kernels are compiled or loaded before the timing), which trains ``--epochs``
epochs of W1 (Fashion-MNIST, [784, 30, 10] sigmoid, quadratic cost, eta 3.0, mini-batches of 10, float32, SGD, one
thread), one ``fit(epochs=1)`` call per epoch; the variants take turns round after round, and the table shows the
median epoch over all rounds, with min and max.

    python benchmarks/layer_speed.py --baseline-tree /tmp/base/tree --rounds 5

``--baseline-tree`` is a checkout of bpframe without ``layer_speed`` (the cost when off is HEAD's "off" against
it); without it, only HEAD's off and on are compared.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

WORKER = r"""
import json, sys, time
import numpy as np
import bpframe as bp
bp.set_num_threads(1)
X, y = np.load(sys.argv[1]), np.load(sys.argv[2])
record = sys.argv[3] == "on"
epochs = int(sys.argv[4])
net = bp.Network([784, 30, 10], "sigmoid", "quadratic", dtype="float32", seed=0)
extra = {"layer_speed": True} if record else {}
net.fit(X, y, epochs=1, batch_size=10, eta=3.0, verbose=0, **extra)  # warm-up: kernels loaded, pages touched
times = []
for _ in range(epochs):
    started = time.perf_counter()
    net.fit(X, y, epochs=1, batch_size=10, eta=3.0, verbose=0, **extra)
    times.append(time.perf_counter() - started)
print(json.dumps({"times": times, "bpframe": bp.__file__}))
"""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline-tree", type=Path, help="a bpframe source tree without layer_speed")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per process (default: 3)")
    parser.add_argument("--n-train", type=int, default=None, help="use the first N training images")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    from data import load

    X, y, _ = load("train")
    if args.n_train:
        X, y = X[: args.n_train], y[: args.n_train]
    variants = [("HEAD, layer_speed off", ROOT, "off"), ("HEAD, layer_speed on", ROOT, "on")]
    if args.baseline_tree:
        variants.insert(0, ("before (baseline tree)", args.baseline_tree.resolve(), "off"))
    times: dict[str, list[float]] = {name: [] for name, _, _ in variants}
    with tempfile.TemporaryDirectory() as folder:
        xs, ys = Path(folder) / "x.npy", Path(folder) / "y.npy"
        import numpy as np

        np.save(xs, X)
        np.save(ys, y)
        for round_ in range(args.rounds):
            for name, tree, mode in variants:
                env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                       "BPFRAME_ENGINE": "compiled"}  # fmt: skip
                out = subprocess.run([sys.executable, "-c", WORKER, str(xs), str(ys), mode, str(args.epochs)],
                                     env=env, capture_output=True, text=True, check=True, cwd=folder)  # fmt: skip
                result = json.loads(out.stdout.strip().splitlines()[-1])
                assert Path(result["bpframe"]).resolve().is_relative_to(Path(tree)), result["bpframe"]
                times[name] += result["times"]
            print(f"round {round_ + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    print(f"W1-f32 epoch ({X.shape[0]} images), {args.rounds} rounds x {args.epochs} epochs, warm cache, one thread")
    print(f"{'variant':26} {'median':>9} {'min':>9} {'max':>9} {'vs first':>9}  95 % interval of the ratio")
    first = times[variants[0][0]]
    for name, _, _ in variants:
        median = statistics.median(times[name])
        low, high = _ratio_interval(times[name], first)
        print(f"{name:26} {median:9.4f} {min(times[name]):9.4f} {max(times[name]):9.4f} "
              f"{median / statistics.median(first):9.3f}  [{low:.3f}, {high:.3f}]")  # fmt: skip
    print("ratio: median epoch over the first variant's; interval: 2,000 bootstrap resamples of both sets of epochs")
    return 0


def _ratio_interval(times: list[float], first: list[float], resamples: int = 2000) -> tuple[float, float]:
    """A bootstrap 95 % interval of median(times) / median(first): how well the run resolves the ratio."""
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = np.asarray(times), np.asarray(first)
    ratios = [np.median(rng.choice(a, a.size)) / np.median(rng.choice(b, b.size)) for _ in range(resamples)]
    low, high = np.percentile(ratios, [2.5, 97.5])
    return float(low), float(high)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
