"""gemm: C = alpha op(A) op(B) + beta C through the BLAS numba's np.dot uses, against NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from bpframe.kernels.blas import gemm

DTYPES = [np.float32, np.float64]


@njit
def compiled_gemm(a, trans_a, b, trans_b, c, alpha, beta):
    gemm(a, trans_a, b, trans_b, c, alpha, beta)


def op(x, transpose):
    return x.T if transpose else x


@pytest.mark.jit_pass
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize(("alpha", "beta"), [(1.0, 0.0), (-0.25, 1.0), (2.0, 0.5)])
def test_gemm_matches_numpy(dtype, trans_a, trans_b, alpha, beta):
    rng = np.random.default_rng(1)
    m, k, n = 5, 7, 3
    a = rng.normal(size=(k, m) if trans_a else (m, k)).astype(dtype)
    b = rng.normal(size=(n, k) if trans_b else (k, n)).astype(dtype)
    c = rng.normal(size=(m, n)).astype(dtype)
    expected = alpha * (op(a, trans_a).astype(np.float64) @ op(b, trans_b).astype(np.float64)) + beta * c
    compiled_gemm(a, trans_a, b, trans_b, c, alpha, beta)
    tolerance = {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-13, "atol": 1e-13}
    np.testing.assert_allclose(c, expected, **tolerance)
    assert c.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_beta_zero_ignores_what_c_held(dtype):
    """As in BLAS: with beta = 0, C is only written, so NaN in it does not leak into the product."""
    a, b = np.ones((2, 3), dtype), np.ones((3, 2), dtype)
    c = np.full((2, 2), np.nan, dtype)
    compiled_gemm(a, False, b, False, c, 1.0, 0.0)
    np.testing.assert_array_equal(c, np.full((2, 2), 3.0))


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_writes_only_its_view(dtype):
    """A weight matrix is a view into the flat parameter vector: the entries around it stay as they were."""
    theta = np.arange(20, dtype=dtype)
    w = theta[4:10].reshape(2, 3)
    delta, a_prev = np.ones((4, 2), dtype), np.ones((4, 3), dtype)
    compiled_gemm(delta, True, a_prev, False, w, -0.5, 1.0)
    np.testing.assert_array_equal(theta[4:10], np.arange(4, 10, dtype=dtype) - 2.0)
    np.testing.assert_array_equal(theta[:4], np.arange(4))
    np.testing.assert_array_equal(theta[10:], np.arange(10, 20))


@pytest.mark.jit_pass
@pytest.mark.jit
def test_gemm_refuses_mixed_dtypes_and_non_contiguous_arrays():
    a64, b32, c32 = np.ones((2, 2)), np.ones((2, 2), np.float32), np.ones((2, 2), np.float32)
    with pytest.raises(TypingError):
        compiled_gemm(a64, False, b32, False, c32, 1.0, 0.0)
    with pytest.raises(TypingError):
        compiled_gemm(np.ones((2, 4))[:, ::2], False, np.ones((2, 2)), False, np.ones((2, 2)), 1.0, 0.0)
