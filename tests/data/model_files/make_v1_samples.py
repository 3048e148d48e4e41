"""Write the format-version-1 sample models kept in this folder (run once, with the bpframe that wrote format 1).

The files were written by commit 9409583 (the last bpframe writing ``format_version`` 1) with
``python tests/data/model_files/make_v1_samples.py``; ``tests/io/test_compat.py`` checks that every later
bpframe still loads them and resumes their training. Re-running this script with a newer bpframe would write
the newer format: keep the committed files as they are.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import bpframe as bp
from bpframe.datasets import xor

HERE = Path(__file__).resolve().parent


def main() -> None:
    X, Y = xor()
    labels = Y[:, 0].astype(np.int64)
    adam = bp.Network([2, 4, 2], ["tanh", "softmax"], "cross_entropy", seed=7)
    adam.fit(X, labels, epochs=3, batch_size=2, eta=0.01, optimizer=bp.Adam(), validation_data=(X, labels), verbose=0)
    adam.save(HERE / "v1_adam_float64.npz", include_optimizer=True)
    momentum = bp.Network([2, 3, 1], "sigmoid", "quadratic", dtype="float32", seed=None)
    momentum.fit(X, Y, epochs=2, batch_size=4, eta=0.5, optimizer=bp.Momentum(mu=0.9), verbose=0)
    momentum.save(HERE / "v1_momentum_float32.npz", include_optimizer=True)
    plain = bp.Network([2, 3, 1], ["relu", "sigmoid"], "binary_cross_entropy", seed=1)
    plain.fit(X, Y, epochs=2, batch_size=1, eta=0.1, verbose=0)
    plain.save(HERE / "v1_sgd_no_optimizer.npz")
    print("wrote", *sorted(p.name for p in HERE.glob("v1_*.npz")), file=sys.stderr)


if __name__ == "__main__":
    main()
