"""The twins of :mod:`bpframe.kernels.dropout`: each loop the engine compiles gives the bits of its NumPy form (the
NumPy tier's), on random inputs of both dtypes and every length modulo four; and the masks have the rate asked."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit

from bpframe.kernels import dropout

pytestmark = pytest.mark.jit  # without the JIT the engine runs the NumPy forms themselves

LOOPS = {name: njit(getattr(dropout, f"{name}_loop")) for name in ("draw_mask", "apply_mask", "add_l1", "norm")}
DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 13, 1000])
def test_each_loop_gives_the_bits_of_its_numpy_form(dtype, size):
    rng = np.random.default_rng(size)
    for key, step, l, rate in ((0, 0, 1, 0.5), (2**63 - 1, 123456789, 7, 0.1), (42, 3, 2, 0.999)):
        want, got = np.empty(size, dtype), np.empty(size, dtype)
        dropout.draw_mask(want, key, step, l, rate)
        LOOPS["draw_mask"](got, key, step, l, rate)
        np.testing.assert_array_equal(got, want)
    values, mask = rng.normal(size=size).astype(dtype), want
    want, got = np.empty(size, dtype), np.empty(size, dtype)
    dropout.apply_mask(values, mask, want)
    LOOPS["apply_mask"](values, mask, got)
    np.testing.assert_array_equal(got, want)
    theta = rng.normal(size=size).astype(dtype)
    theta[::3] = 0.0  # sgn(0) = 0, and -0.0 too
    theta[1::5] = -0.0
    grad = rng.normal(size=size).astype(dtype)
    grad[::4] = -0.0
    want, got = grad.copy(), grad.copy()
    dropout.add_l1(want, theta, size - 1, 0.37)
    LOOPS["add_l1"](got, theta, size - 1, 0.37)
    assert want.tobytes() == got.tobytes()  # signs of zeros included
    assert got[-1] == grad[-1]  # entries past n_weights (the biases) untouched
    assert dropout.norm(values) == LOOPS["norm"](values) == pytest.approx(np.linalg.norm(values.astype(float)))


def test_masks_drop_at_the_rate_asked_and_differ_between_updates_and_layers():
    masks = {}
    for step, l in ((0, 1), (1, 1), (0, 2)):
        out = np.empty(100_000)
        LOOPS["draw_mask"](out, 9, step, l, 0.3)
        assert set(np.unique(out)) == {0.0, 1 / 0.7}
        assert abs(np.mean(out == 0) - 0.3) < 4 * math.sqrt(0.3 * 0.7 / out.size)
        masks[step, l] = out
    assert np.mean(masks[0, 1] != masks[1, 1]) > 0.3 and np.mean(masks[0, 1] != masks[0, 2]) > 0.3
