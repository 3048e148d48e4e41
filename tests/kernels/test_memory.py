"""The shuffled mini-batch gather with its prefetch hints copies exactly the rows it is asked for."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from bpframe.kernels.equations import gather_batch, gather_checked_batch
from bpframe.kernels.memory import prefetch


@pytest.mark.jit_pass
@pytest.mark.parametrize(
    ("x_dtype", "y_dtype"), [(np.float32, np.float32), (np.float64, np.float64), (np.float64, np.int8)]
)
@pytest.mark.parametrize("start", [0, 40, 95])  # 95: the rows ahead of the last batch are past the end of order
def test_gather_batch_copies_the_rows_of_order(x_dtype, y_dtype, start):
    rng = np.random.default_rng(start)
    n = 100
    x = rng.normal(size=(n, 37)).astype(x_dtype)
    y = rng.integers(0, 9, (n, 3)).astype(y_dtype)
    order = rng.permutation(n)
    rows = min(8, n - start)
    xb, yb = np.empty((rows, 37), x_dtype), np.empty((rows, 3), y_dtype)
    gather_batch(x, y, order, start, xb, yb)
    np.testing.assert_array_equal(xb, x[order[start : start + rows]])
    np.testing.assert_array_equal(yb, y[order[start : start + rows]])


@njit
def hint_everywhere(a):
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            prefetch(a, i, j)
    return a.sum()


@pytest.mark.jit_pass
def test_prefetch_changes_nothing():
    a = np.arange(12.0).reshape(3, 4)
    assert hint_everywhere(a) == 66.0
    np.testing.assert_array_equal(a, np.arange(12.0).reshape(3, 4))


@pytest.mark.jit_pass
@pytest.mark.jit
def test_prefetch_takes_a_2d_array_and_two_integers():
    @njit
    def one_dimensional(a):
        prefetch(a, 0, 0)

    with pytest.raises(TypingError):
        one_dimensional(np.zeros(3))


@njit
def _both_gathers(x, y, order, start, xb, yb):
    gather_batch(x, y, order, start, xb, yb)
    return gather_checked_batch(x, y, order, start, xb, yb)


@pytest.mark.jit
def test_the_gathers_prefetch_inline_without_a_call():
    """``prefetch_row`` is inlined into both gathers in numba's IR: as a call (LLVM did not inline it) it cost about
    4 % of a W2 epoch, with BLAS between the gathers as in training (``benchmarks/floor.py``'s products)."""
    x = np.arange(40.0, dtype=np.float32).reshape(10, 4)
    y = np.eye(10, dtype=np.float32)
    order = np.arange(10)[::-1].copy()
    xb, yb = np.empty((5, 4), np.float32), np.empty((5, 10), np.float32)
    assert _both_gathers(x, y, order, 0, xb, yb) == 39.0
    np.testing.assert_array_equal(xb, x[order[:5]])
    (assembly,) = _both_gathers.inspect_asm().values()
    assert "prefetch" in assembly  # the instructions (prefetcht1) are there ...
    assert "prefetch_row" not in assembly  # ... and no call to, or copy of, the helper
