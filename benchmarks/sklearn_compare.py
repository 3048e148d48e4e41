#!/usr/bin/env python
"""bpframe's scikit-learn estimators against scikit-learn's own MLPClassifier / MLPRegressor, in the same run.

    python benchmarks/sklearn_compare.py                         # digits, Fashion-MNIST, diabetes; 3 seeds each
    python benchmarks/sklearn_compare.py --rows digits,diabetes --seeds 5
    python benchmarks/sklearn_compare.py --markdown table.md

Each row trains both libraries on the same arrays with the same hidden layers, the same number of epochs and
the same training settings (bpframe's defaults: Adam, learning rate 0.001, mini-batches of 32, no L2; every
epoch trained, no early stopping), one thread each, in this process, alternating seed by seed:

- accuracy (classification) or R² (regression) on the test split, the median over the seeds;
- fit seconds with a warm kernel cache: the median over the seeds of ``fit`` after one untimed warm-up fit in
  the same process (bpframe's kernels are loaded; scikit-learn is imported and warm); a fit shorter than 2 s is
  repeated (same seed, same result) and its median taken;
- bpframe's cold-cache seconds: ``fit`` in a fresh process whose kernel caches (``BPFRAME_CACHE_DIR``,
  ``NUMBA_CACHE_DIR``) are new and empty, so every kernel it needs is compiled (the process's imports are not
  counted; the data are loaded before the clock starts);
- the ratio of bpframe's warm fit time to scikit-learn's (below 0.5: more than twice as fast).

A last line per classification row shows scikit-learn with its own defaults (mini-batches of 200, L2 1e-4) for
context. The machine's load average is printed before and after: on a shared machine compare rows of one run.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy is imported: one thread everywhere

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

BATCH, ETA = 32, 0.001  # bpframe's defaults, given to both libraries


@dataclass(frozen=True)
class Row:
    """One problem: its data, network and number of epochs."""

    name: str
    hidden: tuple[int, ...]
    epochs: int
    regression: bool = False


ROWS = {
    "digits": Row("digits", (128,), 30),
    "fashion-mnist": Row("fashion-mnist", (128,), 10),
    "diabetes": Row("diabetes", (64,), 50, regression=True),
}


def load(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, y_train, X_test, y_test): the digits' and Fashion-MNIST's own splits (Fashion-MNIST in float32,
    its pixels are exact there), scikit-learn's diabetes data split 3:1 with X and y standardised on the
    training rows."""
    from bpframe.datasets import load_digits, load_fashion_mnist

    if name == "digits":
        return (*load_digits("train"), *load_digits("test"))
    if name == "fashion-mnist":
        return (*load_fashion_mnist(split="train", dtype="float32"), *load_fashion_mnist(split="test", dtype="float32"))
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import train_test_split

    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    mean, std, y_mean, y_std = X_train.mean(0), X_train.std(0), y_train.mean(), y_train.std()
    return (X_train - mean) / std, (y_train - y_mean) / y_std, (X_test - mean) / std, (y_test - y_mean) / y_std


def bpframe_model(row: Row, seed: int):
    from bpframe.sklearn import BPClassifier, BPRegressor

    cls = BPRegressor if row.regression else BPClassifier
    return cls(hidden_layer_sizes=row.hidden, epochs=row.epochs, batch_size=BATCH, eta=ETA, tol=None, random_state=seed)


def sklearn_model(row: Row, seed: int, own_defaults: bool = False):
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    cls = MLPRegressor if row.regression else MLPClassifier
    settings = {} if own_defaults else {"batch_size": BATCH, "learning_rate_init": ETA, "alpha": 0.0}
    # every epoch trained, as bpframe's tol=None: no stopping on a plateau of the training loss
    return cls(
        hidden_layer_sizes=row.hidden,
        max_iter=row.epochs,
        n_iter_no_change=row.epochs + 1,
        random_state=seed,
        **settings,
    )


def timed_fit(model, X, y) -> tuple[float, object]:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's ConvergenceWarning after max_iter epochs
        started = time.perf_counter()
        model.fit(X, y)
        return time.perf_counter() - started, model


def cold_fit_seconds(row: Row, seed: int) -> float:
    """bpframe's first fit in a fresh process with new, empty kernel caches."""
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "BPFRAME_CACHE_DIR": f"{folder}/bp", "NUMBA_CACHE_DIR": f"{folder}/numba"}
        out = subprocess.run([sys.executable, __file__, "--cold", row.name, "--seed", str(seed)], env=env,
                             capture_output=True, text=True, check=True)  # fmt: skip
    return float(json.loads(out.stdout.strip().splitlines()[-1])["seconds"])


def _repeats(seconds: float) -> int:
    """More fits of a short one (the same seed, the same result), so that a noisy moment on a shared machine
    does not decide its time: about 2 s of fits, at most 9 more."""
    return min(9, int(2.0 / max(seconds, 1e-3)))


def measure(row: Row, seeds: list[int]) -> dict[str, float]:
    """Median scores and fit times of both libraries over the seeds, and bpframe's cold-cache fit."""
    X, y, X_test, y_test = load(row.name)
    timed_fit(bpframe_model(row, 1000), X, y)  # warm-up: kernels loaded, nothing counted
    timed_fit(sklearn_model(row, 1000), X[:2000], y[:2000])
    results: dict[str, list[float]] = {"bp_s": [], "bp_score": [], "sk_s": [], "sk_score": []}
    for seed in seeds:
        for key, make in (("bp", bpframe_model), ("sk", sklearn_model)):
            seconds, fitted = timed_fit(make(row, seed), X, y)
            results[f"{key}_score"].append(float(fitted.score(X_test, y_test)))
            times = [seconds] + [timed_fit(make(row, seed), X, y)[0] for _ in range(_repeats(seconds))]
            results[f"{key}_s"].append(statistics.median(times))
    summary = {key: statistics.median(values) for key, values in results.items()}
    summary["bp_cold_s"] = cold_fit_seconds(row, seeds[0])
    if not row.regression:
        seconds, fitted = timed_fit(sklearn_model(row, seeds[0], own_defaults=True), X, y)
        summary.update(sk_default_s=seconds, sk_default_score=float(fitted.score(X_test, y_test)))
    return summary


def table(rows: list[Row], results: dict[str, dict[str, float]], seeds: list[int]) -> str:
    head = ("| data | hidden, epochs | bpframe acc./R² | scikit-learn acc./R² | bpframe fit s (warm) | bpframe fit s "
            "(cold cache) | scikit-learn fit s | bpframe ÷ scikit-learn |")  # fmt: skip
    lines = [head, "|" + "---|" * 8]
    for row in rows:
        r = results[row.name]
        metric = "R²" if row.regression else "acc."
        lines.append(
            f"| {row.name} ({metric}) | {row.hidden}, {row.epochs} | {r['bp_score']:.4f} | {r['sk_score']:.4f} | "
            f"{r['bp_s']:.3f} | {r['bp_cold_s']:.2f} | {r['sk_s']:.3f} | {r['bp_s'] / r['sk_s']:.2f} |"
        )
        if "sk_default_s" in r:
            lines.append(
                f"| {row.name}, scikit-learn's own defaults (batch 200, L2 1e-4) | {row.hidden}, {row.epochs} | | "
                f"{r['sk_default_score']:.4f} | | | {r['sk_default_s']:.3f} | {r['bp_s'] / r['sk_default_s']:.2f} |"
            )
    lines.append(f"\nmedians over seeds {seeds}; one thread; {time.strftime('%Y-%m-%d %H:%M')}")
    return "\n".join(lines)


def rst_table(markdown: str, command: str, load: str) -> str:
    """The Markdown table as an reStructuredText list-table, with the command and the machine's load."""
    lines = [line for line in markdown.splitlines() if line.startswith("|") and not line.startswith("|---")]
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    out = [".. list-table::", "   :header-rows: 1", ""]
    for row in cells:
        out.append("   * - " + (row[0] or " "))
        out.extend(f"     - {cell}" if cell else "     -" for cell in row[1:])
    footer = markdown.splitlines()[-1]
    return "\n".join([*out, "", f"{footer}; load average {load}. Produced by:", "", ".. code-block:: console",
                      "", f"   $ {command}", ""])  # fmt: skip


def cold(name: str, seed: int) -> None:
    """The ``--cold`` child: load the data, then time the first fit (every kernel compiled)."""
    row = ROWS[name]
    X, y, _, _ = load(name)
    seconds, _ = timed_fit(bpframe_model(row, seed), X, y)
    print(json.dumps({"seconds": seconds}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default=",".join(ROWS), help=f"any of {', '.join(ROWS)}")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per row (default 3)")
    parser.add_argument("--markdown", help="also write the table to this file")
    parser.add_argument("--rst", help="also write the table as reStructuredText to this file (for the docs)")
    parser.add_argument("--cold", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold:
        cold(args.cold, args.seed)
        return
    rows, seeds = [ROWS[name] for name in args.rows.split(",")], list(range(args.seeds))
    start_load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average at start: {start_load}", file=sys.stderr, flush=True)
    results = {}
    for row in rows:
        results[row.name] = measure(row, seeds)
        print(f"{row.name}: {results[row.name]}", file=sys.stderr, flush=True)
    end_load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average at end: {end_load}", file=sys.stderr, flush=True)
    text = table(rows, results, seeds)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")
    if args.rst:
        command = "python benchmarks/sklearn_compare.py " + " ".join(sys.argv[1:])
        load = f"{start_load} at the start, {end_load} at the end (1, 5, 15 minutes)"
        Path(args.rst).write_text(rst_table(text, command, load))


if __name__ == "__main__":
    main()
