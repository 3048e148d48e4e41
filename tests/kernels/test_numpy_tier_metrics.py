"""The NumPy tier's count of correct predictions is the engine's loop, NaN and ties included."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from bpframe.kernels import metrics, numpy_tier

LOOP = getattr(metrics.count_correct, "py_func", metrics.count_correct)  # the engine's loop, as plain Python


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("cols", [1, 2, 10])
def test_count_correct_is_the_engines_loop(seed, cols):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 3, size=(40, cols)).astype(np.float64)  # small integers: many ties
    y = rng.integers(0, 3, size=(40, cols)).astype(np.float64)
    if seed % 2:  # NaN anywhere, including column 0, in half of the cases
        a[rng.random(a.shape) < 0.15] = np.nan
    assert numpy_tier.count_correct(a, y) == LOOP(a, y)


def test_ties_go_to_the_first_maximum_with_and_without_nan():
    a = np.array([[1.0, 3.0, 3.0], [np.nan, 5.0, 5.0], [2.0, np.nan, 2.0]])
    y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    # row 0: first of the tied maxima (1) matches; row 1: a NaN in column 0 keeps 0, which matches;
    # row 2: NaN is never chosen, the first 2.0 (column 0) matches
    assert numpy_tier.count_correct(a, y) == LOOP(a, y) == 3
    assert numpy_tier.count_correct(a[:1], y[:1]) == 1  # no NaN: the fast path


@njit
def _compiled_count(a, y):
    return metrics.count_correct(a, y)


@pytest.mark.jit
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("cols", [1, 2, 10])
def test_the_compiled_count_is_the_numpy_tiers(dtype, seed, cols):
    """The compiled loop (a select per entry, not a branch) counts as the NumPy tier does, ties and NaN included."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 3, size=(40, cols)).astype(dtype)
    y = rng.integers(0, 3, size=(40, cols)).astype(dtype)
    if seed % 2:
        a[rng.random(a.shape) < 0.15] = np.nan
    assert _compiled_count(a, y) == numpy_tier.count_correct(a, y)
    assert _compiled_count(a[:3], y[:3]) == numpy_tier.count_correct(a[:3], y[:3])
