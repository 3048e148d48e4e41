"""The engine's views of its flat buffers (:func:`bpframe.kernels.abi.borrow`): the right entries, written through,
made without numba's reshape call, and only from a 1-D contiguous buffer."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from bpframe.kernels.abi import borrow
from bpframe.kernels.build import jit_enabled


@njit
def _fill_rows(buffer, start, rows, cols):
    view = borrow(buffer, start, rows, cols)
    for i in range(rows):
        for j in range(cols):
            view[i, j] = 100 * i + j
    return view.shape[0], view.shape[1], view.strides[0], view.strides[1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("start", "rows", "cols"), [(0, 1, 1), (3, 2, 5), (7, 4, 3), (20, 0, 4)])
def test_a_borrowed_view_is_the_entries_from_start_row_by_row(dtype, start, rows, cols):
    buffer = np.full(40, -1.0, dtype)
    shape_and_strides = _fill_rows(buffer, start, rows, cols)
    itemsize = np.dtype(dtype).itemsize
    assert tuple(shape_and_strides) == (rows, cols, cols * itemsize, itemsize)
    expected = np.full(40, -1.0, dtype)
    expected[start : start + rows * cols] = (100 * np.arange(rows)[:, None] + np.arange(cols)).ravel()
    np.testing.assert_array_equal(buffer, expected)  # written in place, nothing outside the view touched


@njit
def _sum_borrowed(buffer, times):
    total = 0.0
    for k in range(times):
        total += borrow(buffer, k % 4, 2, 3)[1, 2]
    return total


@njit
def _sum_reshaped(buffer, times):
    total = 0.0
    for k in range(times):
        total += buffer[k % 4 : k % 4 + 6].reshape((2, 3))[1, 2]
    return total


@pytest.mark.jit
def test_a_borrowed_view_is_made_without_numbas_reshape_call():
    """numba's view of a reshaped slice calls its C helper ``numba_attempt_nocopy_reshape`` every time (and counts
    a reference to the buffer); a borrowed view is built in place. Both read the same entries."""
    buffer = np.arange(12, dtype=np.float64)
    assert _sum_borrowed(buffer, 100) == _sum_reshaped(buffer, 100) == sum(float(k % 4 + 5) for k in range(100))
    (borrowed,) = _sum_borrowed.inspect_llvm().values()
    (reshaped,) = _sum_reshaped.inspect_llvm().values()
    assert "numba_attempt_nocopy_reshape" in reshaped
    assert "numba_attempt_nocopy_reshape" not in borrowed


@pytest.mark.jit
def test_only_a_one_dimensional_contiguous_buffer_can_be_borrowed_from():
    from numba.core.errors import TypingError

    @njit
    def strided(buffer):
        return borrow(buffer[::2], 0, 1, 1)

    with pytest.raises(TypingError):
        strided(np.zeros(8))
    assert jit_enabled()
