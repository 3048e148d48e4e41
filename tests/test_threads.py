"""The threading policy: one BLAS thread inside bpframe's kernels by default, configurable, restored afterwards."""

from __future__ import annotations

import os
import subprocess
import sys

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


POLICY = """
import bpframe as bp
import scipy.linalg  # a second BLAS library in the process, as scikit-learn brings
from bpframe.threads import _controller, blas_threads


def blas_pools():
    return [pool["num_threads"] for pool in _controller().info() if pool["user_api"] == "blas"]


outside = blas_pools()
assert outside, "no BLAS library found"
with blas_threads():
    assert set(blas_pools()) == {1}, blas_pools()
    with blas_threads():  # nested calls keep the limit
        assert set(blas_pools()) == {1}, blas_pools()
    assert set(blas_pools()) == {1}, blas_pools()
assert blas_pools() == outside, (blas_pools(), outside)
"""


def test_one_thread_inside_kernels_and_the_outside_setting_restored():
    """In a fresh interpreter: after some of scikit-learn's tests, in the same process and without numba's
    compiler only, OpenBLAS was seen ignoring every later ``set_num_threads`` (threadpoolctl's own calls included),
    which says nothing about bpframe's policy."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2"}
    env.pop("BPFRAME_NUM_THREADS", None)
    done = subprocess.run([sys.executable, "-c", POLICY], capture_output=True, text=True, env=env, timeout=300,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr


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
