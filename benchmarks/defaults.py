#!/usr/bin/env python
"""How the defaults of ``bpframe train`` and of the scikit-learn estimators were chosen: on validation data only.

Every candidate trains on the training split minus a stratified 10 % validation split (bpframe.split, seeded)
and is scored on that validation split; the test split is never loaded. One line per candidate and problem:
the validation accuracy after the last epoch and at the epoch with the lowest validation cost (what early
stopping keeps), the median over the seeds, and the seconds per run.

    python benchmarks/defaults.py                                   # the grid below, seeds 0 and 1
    python benchmarks/defaults.py --problems digits --seeds 0,1,2
    python benchmarks/defaults.py --problems fashion-mnist --dtype float32 --n-train 20000

One thread (set before numpy is imported), like every other benchmark here.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import itertools
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bpframe as bp
from bpframe.datasets import load_digits, load_fashion_mnist, moons, one_hot, two_spirals
from bpframe.split import holdout

EPOCHS = {"digits": 30, "fashion-mnist": 10, "spirals": 30, "moons": 30}
OPTIMIZERS = [
    ("adam", 0.0005),
    ("adam", 0.001),
    ("adam", 0.002),
    ("adam", 0.005),
    ("momentum", 0.05),
    ("momentum", 0.01),
]
BATCHES = [16, 32, 64, 128]
HIDDEN = [64, 100, 128]


def load(problem: str, dtype: str, n_train: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The training split of a problem (the test split is never touched here)."""
    if problem == "digits":
        X, y = load_digits("train", dtype=dtype)
    elif problem == "fashion-mnist":
        X, y = load_fashion_mnist(split="train", dtype=dtype)
    elif problem == "spirals":
        X, y = two_spirals(400, noise=0.05, seed=0, dtype=dtype)
    else:
        X, y = moons(400, noise=0.1, seed=0, dtype=dtype)
    return (X[:n_train], y[:n_train]) if n_train else (X, y)


def run_one(X, y, hidden, optimizer, eta, batch, epochs, seed, dtype, patience, lmbda) -> tuple[float, ...]:
    """(final validation accuracy, validation accuracy at the lowest validation cost, seconds, that cost). With a patience,
    training early-stops as ``bpframe train`` does, and "final" is the state early stopping kept."""
    classes = int(y.max()) + 1
    part = holdout(X, one_hot(y, classes, dtype=dtype), 0.1, np.random.SeedSequence(seed))
    net = bp.Network([X.shape[1], hidden, classes], ["relu", "softmax"], "cross_entropy", dtype=dtype, seed=seed)
    stopper = [bp.EarlyStopping(monitor="val_cost", patience=patience)] if patience else None
    started = time.perf_counter()
    history = net.fit(part.x_train, part.y_train, epochs=epochs, batch_size=batch, eta=eta, lmbda=lmbda, optimizer=optimizer,
                      validation_data=(part.x_val, part.y_val), callbacks=stopper, verbose=0)  # fmt: skip
    seconds = time.perf_counter() - started
    best = int(np.argmin(history.val_cost))
    final = net.evaluate(part.x_val, part.y_val)["accuracy"] if patience else history.val_accuracy[-1]
    return final, history.val_accuracy[best], seconds, history.val_cost[best]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default="digits,spirals,moons,fashion-mnist")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--dtype", default="float64")
    parser.add_argument("--n-train", type=int, default=None, help="the first N training rows only")
    parser.add_argument("--epochs", type=int, default=None, help="instead of each problem's own (see EPOCHS)")
    parser.add_argument("--lmbdas", default="0", help="L2 weight decays to try, e.g. 0,1,3")
    parser.add_argument("--patience", type=int, default=0, help="early stopping on val_cost, as bpframe train does")
    parser.add_argument("--hidden", default=",".join(map(str, HIDDEN)))
    parser.add_argument("--batches", default=",".join(map(str, BATCHES)))
    parser.add_argument("--optimizers", default=",".join(f"{o}:{e}" for o, e in OPTIMIZERS))
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    optimizers = [(o, float(e)) for o, e in (item.split(":") for item in args.optimizers.split(","))]
    grid = list(itertools.product([int(h) for h in args.hidden.split(",")], optimizers,
                                  [int(b) for b in args.batches.split(",")],
                                  [float(v) for v in args.lmbdas.split(",")]))  # fmt: skip
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}, load average {os.getloadavg()[0]:.2f}, dtype {args.dtype}, "
          f"seeds {seeds}, epochs {args.epochs or 'per problem'}, patience {args.patience}", flush=True)  # fmt: skip
    print("problem        hidden  optimizer  eta     batch  lmbda  val_acc(final)  val_acc(best val_cost)  s/run   min val_cost",
          flush=True)  # fmt: skip
    for problem in args.problems.split(","):
        X, y = load(problem, args.dtype, args.n_train)
        for hidden, (optimizer, eta), batch, lmbda in grid:
            epochs = args.epochs or EPOCHS[problem]
            runs = [run_one(X, y, hidden, optimizer, eta, batch, epochs, s, args.dtype, args.patience, lmbda)
                    for s in seeds]  # fmt: skip
            final, best, secs, cost = (statistics.median(r[i] for r in runs) for i in range(4))
            print(f"{problem:<14} {hidden:<7} {optimizer:<10} {eta:<7g} {batch:<6} {lmbda:<6g} {final:<15.4f} {best:<23.4f} "
                  f"{secs:<6.2f} {cost:.4f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
