"""The floor of a workload on this machine: one epoch of only its matrix products and its shuffled row gather.

No framework can train a fully-connected network faster than the matrix products of its forward and backward
passes; this times exactly those (the same shapes and mini-batches, the last partial one included, one thread,
calling the same BLAS function as bpframe, ``bpframe.kernels.blas.gemm``), after copying each shuffled mini-batch's
rows into a contiguous
buffer as every implementation must (with the prefetch hints bpframe uses, ``bpframe.kernels.memory``).
``benchmarks/run.py`` runs it as the implementation ``floor``, so the table shows it beside PyTorch and
bpframe in the same run; standalone it also times the products without the gather:

    python benchmarks/floor.py --workload W2
"""

from __future__ import annotations

import argparse
import itertools
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from numba import njit
from numba.typed import List

from bpframe.kernels.blas import gemm
from bpframe.kernels.memory import CACHE_LINE_BYTES, PREFETCH_ROWS_AHEAD, prefetch

__all__ = ["epoch", "random_weights"]

WORKLOADS = {
    "W1": ([784, 30, 10], 10, "float32"),
    "W2": ([784, 100, 10], 128, "float32"),
    "W3": ([784, 1024, 1024, 10], 256, "float32"),
}


@njit(cache=False)
def _products(xb, weights, acts, deltas, grads):
    """Forward a[l-1] w[l]^T, backward delta[l+1] w[l+1] (not into the input) and BP4's delta^T a, one batch."""
    n_layers = len(weights)
    gemm(xb, False, weights[0], True, acts[0], 1.0, 0.0)
    for l in range(1, n_layers):
        gemm(acts[l - 1], False, weights[l], True, acts[l], 1.0, 0.0)
    for l in range(n_layers - 1, 0, -1):
        gemm(acts[l], False, weights[l], False, deltas[l - 1], 1.0, 0.0)  # stands in for delta[l+1] w[l+1]
        gemm(acts[l], True, acts[l - 1], False, grads[l], 1.0, 0.0)
    gemm(deltas[0], True, xb, False, grads[0], 1.0, 0.0)


@njit(cache=False)
def _gather(x, order, start, xb):
    step = max(1, CACHE_LINE_BYTES // x.itemsize)
    for i in range(xb.shape[0]):
        if start + i + PREFETCH_ROWS_AHEAD < order.shape[0]:
            later = order[start + i + PREFETCH_ROWS_AHEAD]
            for j in range(0, x.shape[1], step):
                prefetch(x, later, j)
        row = order[start + i]
        for j in range(x.shape[1]):
            xb[i, j] = x[row, j]


@njit(cache=False)
def epoch(x, order, weights, batch, gather):
    """One epoch of mini-batches of ``batch`` rows of x[order] (the last one smaller if batch does not divide n)."""
    n = order.shape[0]
    grads = [np.empty_like(w) for w in weights]
    start = 0
    while start < n:
        m = min(batch, n - start)
        xb = np.empty((m, x.shape[1]), x.dtype)
        acts = [np.empty((m, w.shape[0]), x.dtype) for w in weights]
        deltas = [np.empty((m, w.shape[0]), x.dtype) for w in weights]
        while start + m <= n:
            if gather:
                _gather(x, order, start, xb)
            _products(xb, weights, acts, deltas, grads)
            start += m


def random_weights(sizes, dtype, seed: int = 0) -> List:
    """Weights w[l] of shape (sizes[l], sizes[l-1]) as the typed list ``epoch`` takes (values do not matter)."""
    rng = np.random.default_rng(seed)
    return List(rng.random((m, n), dtype=np.float32).astype(dtype) for n, m in itertools.pairwise(sizes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="W2")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sizes, batch, dtype = WORKLOADS[args.workload]
    rng = np.random.default_rng(0)
    x = rng.random((60000, sizes[0]), dtype=np.float32).astype(dtype)
    weights = random_weights(sizes, dtype)
    order = rng.permutation(60000)
    for gather in (False, True):
        epoch(x, order, weights, batch, gather)
        times = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            epoch(x, order, weights, batch, gather)
            times.append(time.perf_counter() - started)
        what = "matrix products + row gather" if gather else "matrix products only"
        print(f"{args.workload} {what}: median {np.median(times):.3f} s, min {min(times):.3f} s ({args.rounds} rounds)")


if __name__ == "__main__":
    main()
