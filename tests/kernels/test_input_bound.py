"""The check of a fit's inputs in the compiled engine (``engine.input_bound``): the same value as NumPy's
``bpframe.validation.max_abs``, used by every fit after the process has trained in the compiled engine with that
dtype, and the same errors for bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

import bpframe as bp
from bpframe import config
from bpframe.errors import DataError
from bpframe.kernels import cache, engine, program
from bpframe.kernels.interface import INPUT_BOUNDS
from bpframe.validation import as_inputs_with_bound, max_abs

DTYPES = [np.float32, np.float64]


def _values(dtype: type, seed: int) -> list[np.ndarray]:
    info = np.finfo(dtype)
    rng = np.random.default_rng(seed)
    return [
        rng.normal(scale=50.0, size=(37, 11)).astype(dtype),
        np.array([[-0.0, 0.0, -0.0]], dtype),
        np.array([[info.smallest_subnormal, -2 * info.smallest_subnormal]], dtype),
        np.array([[1.0, -info.max, 3.0]], dtype),
        np.full((4, 5), -7.25, dtype),
    ]


@pytest.mark.jit
@pytest.mark.parametrize("dtype", DTYPES)
def test_input_bound_has_numpys_value(dtype):
    for seed in range(3):
        for x in _values(dtype, seed):
            assert engine.input_bound(x.reshape(-1)) == max_abs(x)
            for bad in (np.nan, np.inf, -np.inf):
                y = x.copy()
                y.flat[y.size // 2] = bad
                assert engine.input_bound(y.reshape(-1)) == max_abs(y) == np.inf


@pytest.mark.jit_pass
@pytest.mark.jit
@pytest.mark.parametrize("dtype", DTYPES)
def test_a_compiled_fit_makes_it_the_check_of_later_fits(dtype, monkeypatch):
    name = np.dtype(dtype).name
    x = np.random.default_rng(0).uniform(-2.0, 3.5, size=(24, 4)).astype(dtype)
    y = np.eye(2, dtype=dtype)[np.arange(24) % 2]
    monkeypatch.delitem(INPUT_BOUNDS, name, raising=False)
    net = bp.Network([4, 3, 2], dtype=name, seed=0)
    with config.operation(engine="compiled"):
        net.fit(x, y, epochs=1, batch_size=8, eta=0.1, verbose=0)
        assert name in INPUT_BOUNDS  # the engine itself, or its loader from the cache
        bp.Network([4, 3, 2], dtype=name, seed=2).fit(x, y, epochs=1, batch_size=8, eta=0.1, verbose=0)
    assert INPUT_BOUNDS[name] is engine.input_bound  # a first fit checked X with it
    calls = []
    monkeypatch.setitem(INPUT_BOUNDS, name, lambda flat: calls.append(flat.shape) or engine.input_bound(flat))
    checked, top = as_inputs_with_bound("X", x, 4, np.dtype(dtype), INPUT_BOUNDS)
    assert checked is x and top == max_abs(x) == float(np.abs(x).max())
    net.fit(x, y, epochs=1, batch_size=8, eta=0.1, verbose=0)
    assert calls == [(96,)]  # the network trains again with the same optimizer: its first epoch checks X instead
    bp.Network([4, 3, 2], dtype=name, seed=1).fit(x, y, epochs=1, batch_size=8, eta=0.1, verbose=0)
    assert calls == [(96,), (96,)]  # a first fit checks X before any work, with the engine's scan


@pytest.mark.jit_pass
@pytest.mark.jit
def test_the_scan_is_compiled_beside_a_compiled_engine_and_else_loaded_by_the_first_fit_that_needs_it(monkeypatch):
    x = np.linspace(-4.0, 2.0, 30).reshape(6, 5)
    monkeypatch.setattr(cache.stats(), "compiled", ["engine-train_batches"])  # this process compiled the engine
    monkeypatch.delitem(INPUT_BOUNDS, "float64", raising=False)
    program._add_input_bound(np.dtype(np.float64))
    assert INPUT_BOUNDS["float64"] is engine.input_bound
    monkeypatch.setattr(cache.stats(), "compiled", [])  # it loaded the engine from the cache
    program._add_input_bound(np.dtype(np.float64))
    assert INPUT_BOUNDS["float64"] is not engine.input_bound
    assert as_inputs_with_bound("X", x, 5, np.dtype(np.float64), INPUT_BOUNDS)[1] == 4.0
    assert INPUT_BOUNDS["float64"] is engine.input_bound  # loaded on first use (here: already in memory)


@pytest.mark.jit
def test_bad_inputs_get_the_same_error_through_the_compiled_check(monkeypatch):
    monkeypatch.setitem(INPUT_BOUNDS, "float64", engine.input_bound)
    x = np.ones((6, 3))
    x[4, 1] = np.nan
    x[5, 2] = np.inf
    net = bp.Network([3, 2, 2], seed=0)
    with pytest.raises(DataError) as caught:
        net.fit(x, np.eye(2)[np.arange(6) % 2], epochs=1, batch_size=2, verbose=0)
    assert str(caught.value) == "X contains 2 non-finite value(s) (NaN or inf); the first is X[4, 1] = nan"


def test_the_scan_is_used_for_c_contiguous_arrays_of_its_dtype():
    x = np.random.default_rng(3).normal(size=(9, 5))
    assert as_inputs_with_bound("X", x, 5, np.dtype(np.float64), {}) == (x, float(np.abs(x).max()))
    calls: list[tuple[str, tuple[int, ...]]] = []

    def scan(flat: np.ndarray) -> float:
        calls.append((flat.dtype.name, flat.shape))
        return max_abs(flat)

    assert as_inputs_with_bound("X", x, 5, np.dtype(np.float64), {"float64": scan})[1] == float(np.abs(x).max())
    # a Fortran-ordered array is converted first, then measured; a float32 one is measured by NumPy
    f = np.asfortranarray(x)
    converted, top = as_inputs_with_bound("X", f, 5, np.dtype(np.float64), {"float64": scan})
    assert converted.flags.c_contiguous and top == float(np.abs(x).max())
    as_inputs_with_bound("X", x.astype(np.float32), 5, np.dtype(np.float32), {"float64": scan})
    assert calls == [("float64", (45,)), ("float64", (45,))]
