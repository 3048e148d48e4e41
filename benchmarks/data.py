"""Fashion-MNIST for the benchmarks, through bpframe's own loader.

The parent process loads the data once and writes plain ``.npy`` files that every worker reads, so the
competitors never import bpframe and all of them train on byte-identical arrays.
"""

from __future__ import annotations

import numpy as np

__all__ = ["load"]


def load(split: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Return ``(X float32 (n, 784) in [0, 1], y int64 (n,), source)`` for ``split`` "train" or "test"."""
    try:
        from bpframe.datasets import load_fashion_mnist
    except ImportError as exc:
        raise SystemExit(
            f"cannot import bpframe.datasets.load_fashion_mnist ({exc}); run from the repo root or pip install -e ."
        ) from exc
    X, y = load_fashion_mnist(split=split, dtype="float32")
    return np.ascontiguousarray(X), np.asarray(y, dtype=np.int64), "bpframe.datasets.load_fashion_mnist"
