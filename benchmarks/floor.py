"""The floor of a workload on this machine: one epoch of only its matrix products (and the row gather).

No framework can train a fully-connected network faster than the matrix products of its forward and backward
passes; this times exactly those (the same shapes, one thread, numba calling the same BLAS as bpframe), with
and without copying each shuffled mini-batch's rows into a contiguous buffer. Compare with the bpframe row of
``benchmarks/run.py`` to see how much of an epoch is not matrix products.

    python benchmarks/floor.py --workload W2
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import itertools

import numpy as np
from numba import njit

WORKLOADS = {
    "W1": ([784, 30, 10], 10, "float32"),
    "W2": ([784, 100, 10], 128, "float32"),
    "W3": ([784, 1024, 1024, 10], 256, "float32"),
}


@njit(cache=False)
def epoch(x, order, weights, batch, gather):
    """Forward products a[l-1] w[l]^T, backward delta[l+1] w[l+1] and BP4's delta^T a, for every batch."""
    n_layers = len(weights)
    xb = np.empty((batch, x.shape[1]), x.dtype)
    acts = [np.empty((batch, w.shape[0]), x.dtype) for w in weights]
    deltas = [np.empty((batch, w.shape[0]), x.dtype) for w in weights]
    grads = [np.empty_like(w) for w in weights]
    for k in range(order.shape[0] // batch):
        if gather:
            for i in range(batch):
                row = order[k * batch + i]
                for j in range(x.shape[1]):
                    xb[i, j] = x[row, j]
        np.dot(xb, weights[0].T, acts[0])
        for l in range(1, n_layers):
            np.dot(acts[l - 1], weights[l].T, acts[l])
        for l in range(n_layers - 1, 0, -1):
            np.dot(acts[l], weights[l], deltas[l - 1])  # stands in for delta[l+1] w[l+1]
            np.dot(acts[l].T, acts[l - 1], grads[l])
        np.dot(deltas[0].T, xb, grads[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="W2")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sizes, batch, dtype = WORKLOADS[args.workload]
    rng = np.random.default_rng(0)
    x = rng.random((60000, sizes[0]), dtype=np.float32).astype(dtype)
    weights = [rng.random((m, n), dtype=np.float32).astype(dtype) for n, m in itertools.pairwise(sizes)]
    from numba.typed import List

    typed = List(weights)
    order = rng.permutation(60000)
    for gather in (False, True):
        epoch(x, order, typed, batch, gather)
        times = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            epoch(x, order, typed, batch, gather)
            times.append(time.perf_counter() - started)
        what = "matrix products + row gather" if gather else "matrix products only"
        print(f"{args.workload} {what}: median {np.median(times):.3f} s, min {min(times):.3f} s ({args.rounds} rounds)")


if __name__ == "__main__":
    main()
