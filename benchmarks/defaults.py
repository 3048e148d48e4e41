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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bpframe as bp
from bpframe.datasets import load_digits, load_fashion_mnist, moons, one_hot, two_spirals
from bpframe.split import holdout


@dataclass(frozen=True)
class Candidate:
    """One set of defaults."""

    hidden: int
    optimizer: str
    eta: float
    batch: int
    lmbda: float


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


def train_like_the_cli(X, y, c: Candidate, epochs: int, seed: int, dtype: str, patience: int):
    """Hold out 10 % of X (stratified, seeded), train on the rest with early stopping as ``bpframe train`` does;
    returns the network (the kept state) and its history."""
    classes = int(y.max()) + 1
    part = holdout(X, one_hot(y, classes, dtype=dtype), 0.1, np.random.SeedSequence(seed))
    net = bp.Network([X.shape[1], c.hidden, classes], ["relu", "softmax"], "cross_entropy", dtype=dtype, seed=seed)
    stopper = [bp.EarlyStopping(monitor="val_cost", patience=patience)] if patience else None
    history = net.fit(part.x_train, part.y_train, epochs=epochs, batch_size=c.batch, eta=c.eta, lmbda=c.lmbda,
                      optimizer=c.optimizer, validation_data=(part.x_val, part.y_val), callbacks=stopper,
                      verbose=0)  # fmt: skip
    return net, history, part


def run_one(X, y, c: Candidate, epochs: int, seed: int, dtype: str, patience: int) -> tuple[float, ...]:
    """(validation accuracy of the state kept, validation accuracy at the lowest validation cost, seconds, that
    cost). Without a patience the state kept is the last epoch's."""
    started = time.perf_counter()
    net, history, part = train_like_the_cli(X, y, c, epochs, seed, dtype, patience)
    seconds = time.perf_counter() - started
    best = int(np.argmin(history.val_cost))
    final = net.evaluate(part.x_val, part.y_val)["accuracy"]
    return final, history.val_accuracy[best], seconds, history.val_cost[best]


def cross_validate(X, y, c: Candidate, epochs: int, seed: int, dtype: str, patience: int, folds: int):
    """Mean accuracy and cost on the held-out folds of a stratified K-fold split of the training data, each fold's
    model trained by :func:`train_like_the_cli` on the other folds."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), np.int64)
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        fold[rows[rng.permutation(len(rows))]] = np.arange(len(rows)) % folds
    scores = []
    for k in range(folds):
        inside, outside = fold != k, fold == k
        net, _, _ = train_like_the_cli(X[inside], y[inside], c, epochs, seed * folds + k, dtype, patience)
        result = net.evaluate(X[outside], y[outside])
        scores.append((result["accuracy"], result["cost"]))
    return float(np.mean([a for a, _ in scores])), float(np.mean([c for _, c in scores]))


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
    parser.add_argument(
        "--cv",
        type=int,
        default=0,
        metavar="K",
        help="score by K-fold cross-validation of the training split instead (each seed one K-fold)",
    )
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    optimizers = [(o, float(e)) for o, e in (item.split(":") for item in args.optimizers.split(","))]
    grid = list(itertools.product([int(h) for h in args.hidden.split(",")], optimizers,
                                  [int(b) for b in args.batches.split(",")],
                                  [float(v) for v in args.lmbdas.split(",")]))  # fmt: skip
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}, load average {os.getloadavg()[0]:.2f}, dtype {args.dtype}, "
          f"seeds {seeds}, epochs {args.epochs or 'per problem'}, patience {args.patience}", flush=True)  # fmt: skip
    score = "cv_acc  cv_cost" if args.cv else "val_acc(kept)  val_acc(best val_cost)  s/run   min val_cost"
    print(f"problem        hidden  optimizer  eta     batch  lmbda  {score}", flush=True)
    for problem in args.problems.split(","):
        X, y = load(problem, args.dtype, args.n_train)
        epochs = args.epochs or EPOCHS[problem]
        for hidden, (optimizer, eta), batch, lmbda in grid:
            c = Candidate(hidden, optimizer, eta, batch, lmbda)
            head = f"{problem:<14} {hidden:<7} {optimizer:<10} {eta:<7g} {batch:<6} {lmbda:<6g}"
            if args.cv:
                cv = [cross_validate(X, y, c, epochs, s, args.dtype, args.patience, args.cv) for s in seeds]
                print(f"{head} {np.mean([a for a, _ in cv]):<7.4f} {np.mean([k for _, k in cv]):.4f}", flush=True)
                continue
            runs = [run_one(X, y, c, epochs, s, args.dtype, args.patience) for s in seeds]
            final, best, secs, cost = (statistics.median(r[i] for r in runs) for i in range(4))
            print(f"{head} {final:<14.4f} {best:<23.4f} {secs:<7.2f} {cost:.4f}", flush=True)


if __name__ == "__main__":
    main()
