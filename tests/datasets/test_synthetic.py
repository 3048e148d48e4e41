"""Tests of bpframe.datasets.synthetic: XOR by hand, spirals and moons against their defining equations."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from bpframe.datasets import moons, synthetic, two_spirals, xor
from bpframe.errors import ConfigurationError


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_xor_truth_table(dtype: str) -> None:
    X, Y = xor(dtype=dtype)
    assert X.shape == (4, 2) and Y.shape == (4, 1)
    assert X.dtype == Y.dtype == np.dtype(dtype)
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert Y.tolist() == [[0], [1], [1], [0]]
    assert [int(a) ^ int(b) for a, b in X] == Y.ravel().tolist()


@pytest.mark.parametrize("turns", [0.5, 1.5, 3.0])
def test_spiral_points_lie_on_their_spirals(turns: float) -> None:
    X, y = two_spirals(301, turns=turns, seed=7)
    assert X.shape == (301, 2) and y.shape == (301,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [151, 150]
    r = np.hypot(X[:, 0], X[:, 1])
    assert r.max() <= 1.0
    theta = 2 * np.pi * turns * r  # the spiral's equation r = theta / (2 pi turns), solved for theta
    sign = np.where(y == 0, 1.0, -1.0)
    on_spiral = sign[:, None] * r[:, None] * np.column_stack([np.cos(theta), np.sin(theta)])
    np.testing.assert_allclose(X, on_spiral, atol=1e-12)


def test_spirals_are_seeded_and_shuffled() -> None:
    X1, y1 = two_spirals(200, noise=0.1, seed=3)
    X2, y2 = two_spirals(200, noise=0.1, seed=3)
    X3, _ = two_spirals(200, noise=0.1, seed=4)
    X4, y4 = two_spirals(200, noise=0.1, seed=np.random.default_rng(3))
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert np.array_equal(X1, X4) and np.array_equal(y1, y4)
    assert not np.array_equal(X1, X3)
    assert 0 < np.sum(y1[:100]) < 100  # not sorted by class


@pytest.mark.parametrize("make", [two_spirals, moons])
def test_noise_is_gaussian_with_the_requested_spread(make: object) -> None:
    clean, y = make(4000, noise=0.0, seed=11)  # type: ignore[operator]
    noisy, y_noisy = make(4000, noise=0.05, seed=11)  # type: ignore[operator]
    assert np.array_equal(y, y_noisy)  # same seed: same points, same order, only the noise differs
    residual = noisy - clean
    assert abs(residual.mean()) < 0.003
    assert 0.048 < residual.std() < 0.052
    assert np.mean(np.abs(residual) < 0.05) == pytest.approx(0.6827, abs=0.02)  # one-sigma mass of a Gaussian


def test_moons_lie_on_their_half_circles() -> None:
    X, y = moons(101, noise=0.0, seed=2)
    assert np.bincount(y).tolist() == [51, 50]
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0, atol=1e-12)
    assert upper[:, 1].min() >= -1e-12 and lower[:, 1].max() <= 0.5 + 1e-12
    assert upper[:, 0].min() == pytest.approx(-1.0) and lower[:, 0].max() == pytest.approx(2.0)


def test_moons_float32() -> None:
    X64, y64 = moons(50, seed=5)
    X32, y32 = moons(50, seed=5, dtype="float32")
    assert X32.dtype == np.float32 and np.array_equal(y32, y64)
    assert np.array_equal(X32, X64.astype(np.float32))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 1}, "n must be an integer >= 2; got 1"),
        ({"n": 10.0}, "n must be an integer >= 2; got 10.0"),
        ({"n": True}, "n must be an integer >= 2; got True"),
        ({"noise": -0.1}, "noise must be a finite number >= 0; got -0.1"),
        ({"noise": float("nan")}, "noise must be a finite number >= 0; got nan"),
        ({"noise": "0.1"}, "noise must be a finite number >= 0; got '0.1'"),
        ({"seed": -1}, "seed must be an integer >= 0, a numpy.random.Generator or None; got -1"),
        ({"seed": 1.5}, "seed must be an integer >= 0, a numpy.random.Generator or None; got 1.5"),
        ({"dtype": "int32"}, "dtype must be one of 'float32', 'float64'; got 'int32'"),
    ],
)
@pytest.mark.parametrize("make", [two_spirals, moons])
def test_bad_arguments_are_named(make: object, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        make(**kwargs)  # type: ignore[operator]
    assert str(info.value) == message


@pytest.mark.parametrize("turns", [0, -1.0, float("inf")])
def test_bad_turns_is_named(turns: float) -> None:
    with pytest.raises(ConfigurationError, match=rf"^turns must be a finite number > 0; got {turns!r}$"):
        two_spirals(turns=turns)


def test_xor_bad_dtype() -> None:
    with pytest.raises(ConfigurationError, match=r"^dtype must be one of 'float32', 'float64'; got 'bool'$"):
        xor(dtype="bool")


def test_docstring_examples_run() -> None:
    result = doctest.testmod(synthetic)
    assert result.attempted > 0 and result.failed == 0
