r"""The forward product of small mini-batches, :math:`z = a^{l-1} (w^l)^\mathsf{T}`, without a BLAS call.

A BLAS ``gemm`` packs its operands into blocks before it multiplies: for a 10-row mini-batch that overhead is
most of the call. Measured on a 2-core AMD EPYC (Zen 4), one thread, W1's first layer (10 × 784 inputs, 30
neurons): 12.3 µs for ``sgemm`` against 4.9 µs for :func:`small_forward` (float64: 17.8 against 9.5 µs); at
128 rows BLAS is ahead again (182 against 199 µs). So the engine takes this kernel for mini-batches of at most
``SMALL_ROWS`` (16) rows whose layer has at least ``SMALL_DEPTH`` (256) inputs, and BLAS for everything else:
the same rule in both tiers (:func:`~bpframe.kernels.interface.small_product`). Those BLAS times are OpenBLAS's
Haswell kernels, which pack; its AVX-512 kernels multiply small matrices without packing, faster than this kernel
(:data:`~bpframe.kernels.blaslib.SMALL_MATRIX_CORES`), and with them the engine takes BLAS for every product.

The kernel computes each :math:`z_{ij} = \sum_k a_{ik} w_{jk}` for two rows and four neurons at a time, so that
every number it loads is used four (or two) times while eight sums stay in registers. It is the one kernel of
bpframe compiled with reassociation allowed (the sums are vectorised along :math:`k`, as a BLAS does): its
results differ from BLAS's in the last bits, but both tiers call the same compiled code (a C function, like the
blocks, :mod:`bpframe.kernels.abi`), so they agree bit for bit, and a sum never depends on the other rows of the
batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .abi import OK, view

__all__ = ["small_forward"]


def small_forward(dtype: Any) -> Callable[..., int]:
    """The kernel for one float type: ``p0`` = :math:`a^{l-1}` ``(m, k)``, ``p1`` = :math:`w^l` ``(n, k)``,
    ``p2`` = z ``(m, n)``, written. An odd last row or a last group of fewer than four neurons is computed
    with its neighbour's index repeated (the same value written twice), so there is no separate edge loop."""

    def kernel(p0, p1, p2, m, k, n):
        a, w, z = view(p0, (m, k), dtype), view(p1, (n, k), dtype), view(p2, (m, n), dtype)
        zero = dtype(0)
        for i in range(0, m, 2):
            i1 = min(i + 1, m - 1)
            for j in range(0, n, 4):
                j1, j2, j3 = min(j + 1, n - 1), min(j + 2, n - 1), min(j + 3, n - 1)
                s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = zero
                for q in range(k):
                    a0, a1 = a[i, q], a[i1, q]
                    w0, w1, w2, w3 = w[j, q], w[j1, q], w[j2, q], w[j3, q]
                    s00 += a0 * w0
                    s01 += a0 * w1
                    s02 += a0 * w2
                    s03 += a0 * w3
                    s10 += a1 * w0
                    s11 += a1 * w1
                    s12 += a1 * w2
                    s13 += a1 * w3
                z[i, j], z[i, j1], z[i, j2], z[i, j3] = s00, s01, s02, s03
                z[i1, j], z[i1, j1], z[i1, j2], z[i1, j3] = s10, s11, s12, s13
        return OK

    return kernel
