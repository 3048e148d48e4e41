"""The threading policy: one BLAS thread inside bpframe's kernels by default, configurable, restored afterwards."""

from __future__ import annotations

import numpy as np
import pytest

import bpframe as bp
from bpframe.threads import _controller, blas_threads


def blas_pools():
    return [pool["num_threads"] for pool in _controller().info() if pool["user_api"] == "blas"]


@pytest.fixture(autouse=True)
def _reset():
    yield
    bp.set_num_threads(None)


def test_one_thread_inside_kernels_and_the_outside_setting_restored(monkeypatch):
    monkeypatch.delenv("BPFRAME_NUM_THREADS", raising=False)
    outside = blas_pools()
    assert outside, "no BLAS library found"
    with blas_threads():
        assert set(blas_pools()) == {1}
        with blas_threads():  # nested calls keep the limit
            assert set(blas_pools()) == {1}
        assert set(blas_pools()) == {1}
    assert blas_pools() == outside


def test_configured_thread_counts(monkeypatch):
    monkeypatch.setenv("BPFRAME_NUM_THREADS", "2")
    assert bp.get_num_threads() == 2
    bp.set_num_threads(3)
    assert bp.get_num_threads() == 3
    with blas_threads():
        assert set(blas_pools()) <= {1, 2, 3}  # a pool may cap the request at its own maximum
    bp.set_num_threads(None)
    monkeypatch.setenv("BPFRAME_NUM_THREADS", "zero")
    with pytest.raises(bp.ConfigurationError, match="BPFRAME_NUM_THREADS must be an int >= 1, got 'zero'"):
        bp.get_num_threads()
    with pytest.raises(bp.ConfigurationError, match="threads must be None or an int >= 1, got 0"):
        bp.set_num_threads(0)


def test_results_do_not_depend_on_the_thread_setting():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 20)), rng.integers(0, 3, 64)
    params = []
    for threads in (1, 2):
        bp.set_num_threads(threads)
        net = bp.Network([20, 16, 3], ["relu", "softmax"], "cross_entropy", seed=0)
        net.fit(X, y, epochs=2, batch_size=16, eta=0.1, verbose=0)
        params.append(net.parameters())
    np.testing.assert_allclose(params[0], params[1], rtol=1e-12)
