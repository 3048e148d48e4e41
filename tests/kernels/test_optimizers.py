"""The built-in optimizers' update blocks against their equations written out in NumPy, and against hand-worked
numbers.

Layout as in the engine: theta holds the weights (the first ``n_weights`` entries), then the biases; the L2
decay ``hyper[1]`` applies to the weights only. The updates run through their compiled blocks (the engine's and
the NumPy tier's path); the oracle runs in float64 on the same (rounded) inputs.
"""

from __future__ import annotations

import numpy as np
import pytest

from bpframe.kernels import numpy_tier
from bpframe.kernels.build import block
from bpframe.kernels.interface import Training
from bpframe.optimizers import HYPER_SLOTS
from bpframe.plugins import get_registry

N_WEIGHTS, N_BIASES, STEPS = 7, 3, 4
DTYPES = [np.float32, np.float64]
TOLERANCE = {np.float32: {"rtol": 2e-5, "atol": 2e-6}, np.float64: {"rtol": 1e-12, "atol": 1e-13}}
STATE_ROWS = {"sgd": 0, "momentum": 1, "nesterov": 1, "adam": 2}


def decayed(theta, grad, n_weights, decay):
    """g = grad + decay * w for the weights, grad alone for the biases."""
    g = grad.copy()
    g[:n_weights] += decay * theta[:n_weights]
    return g


def oracle_steps(name, theta, grads, n_weights, hyper):
    """Apply ``len(grads)`` updates of optimizer ``name`` in float64; return theta after each, and the state."""
    eta, decay, b1, b2, eps = (float(h) for h in hyper)
    theta = theta.astype(np.float64)
    m = np.zeros_like(theta)  # velocity for momentum/Nesterov, first moment for Adam
    v = np.zeros_like(theta)
    history = []
    for t, grad in enumerate(grads, start=1):
        g = decayed(theta, grad.astype(np.float64), n_weights, decay)
        if name == "sgd":
            theta = theta - eta * g
        elif name == "momentum":
            m = b1 * m + g
            theta = theta - eta * m
        elif name == "nesterov":
            m = b1 * m + g
            theta = theta - eta * (g + b1 * m)
        elif name == "adam":
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g**2
            m_hat = m / (1 - b1**t)
            v_hat = v / (1 - b2**t)
            theta = theta - eta * m_hat / (np.sqrt(v_hat) + eps)
        history.append(theta)
    state = {"sgd": np.zeros((0, theta.size)), "momentum": m[None], "nesterov": m[None], "adam": np.stack([m, v])}
    return history, state[name]


def update(name, theta, grad, state, n_weights, hyper, step):
    """One update through the optimizer's compiled block; returns (new theta, new state, block status)."""
    spec = get_registry().optimizer(name)
    compiled = block("update", spec.update, theta.dtype, f"optimizer {name!r}")
    slots = np.zeros(HYPER_SLOTS)
    slots[: len(hyper)] = hyper
    theta_out, state_out = np.empty_like(theta), np.empty_like(state)
    fields = dict.fromkeys(Training._fields)
    fields.update(grad=grad, state=state, hyper=slots, update=compiled.address, counter=np.array([step - 1]))
    t = Training(**fields)
    status = numpy_tier._update(t, theta, state, theta_out, state_out, n_weights)
    return theta_out, state_out, status


def kernel_steps(name, theta, grads, n_weights, hyper):
    """The same updates through the compiled update block, state carried from step to step."""
    theta = theta.copy()
    state = np.zeros((STATE_ROWS[name], theta.size), theta.dtype)
    history = []
    for t, grad in enumerate(grads, start=1):
        theta, state, status = update(name, theta, grad, state, n_weights, hyper, t)
        assert status == 1
        history.append(theta.copy())
    return history, state, theta


def random_problem(dtype, seed):
    """theta and STEPS gradients of N_WEIGHTS + N_BIASES parameters."""
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(N_WEIGHTS + N_BIASES).astype(dtype)
    grads = rng.standard_normal((STEPS, N_WEIGHTS + N_BIASES)).astype(dtype)
    return theta, grads


HYPER = {
    "sgd": [0.3, 0.0, 0.0, 0.0, 0.0],
    "momentum": [0.1, 0.0, 0.9, 0.0, 0.0],
    "nesterov": [0.1, 0.0, 0.9, 0.0, 0.0],
    "adam": [0.01, 0.0, 0.9, 0.999, 1e-8],
}


def check_against_oracle(name, dtype, decay, seed):
    theta, grads = random_problem(dtype, seed)
    hyper = np.array(HYPER[name])
    hyper[1] = decay
    got, state, final = kernel_steps(name, theta, grads, N_WEIGHTS, hyper)
    want, want_state = oracle_steps(name, theta, grads, N_WEIGHTS, hyper)
    for step, (g, w) in enumerate(zip(got, want, strict=False), start=1):
        np.testing.assert_allclose(g, w, **TOLERANCE[dtype], err_msg=f"{name}, step {step}")
    np.testing.assert_allclose(state, want_state, **TOLERANCE[dtype], err_msg=f"{name} state")
    assert final.dtype == dtype and state.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("decay", [0.0, 0.05])
def test_sgd_matches_numpy(dtype, decay):
    check_against_oracle("sgd", dtype, decay, seed=1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("decay", [0.0, 0.05])
def test_momentum_matches_numpy(dtype, decay):
    check_against_oracle("momentum", dtype, decay, seed=2)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("decay", [0.0, 0.05])
def test_nesterov_matches_numpy(dtype, decay):
    check_against_oracle("nesterov", dtype, decay, seed=3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("decay", [0.0, 0.05])
def test_adam_matches_numpy(dtype, decay):
    check_against_oracle("adam", dtype, decay, seed=4)


@pytest.mark.jit_pass
@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_by_hand(dtype):
    # One weight w = 1 with decay 0.5, one bias b = 1, eta = 0.1:
    # w = 1 - 0.1 * (0.5 + 0.5 * 1) = 0.9;  b = 1 - 0.1 * 2 = 0.8 (no decay on the bias).
    theta = np.array([1.0, 1.0], dtype)
    new, _, _ = update("sgd", theta, np.array([0.5, 2.0], dtype), np.empty((0, 2), dtype), 1, [0.1, 0.5], 1)
    np.testing.assert_allclose(new, [0.9, 0.8], **TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_momentum_and_nesterov_by_hand(dtype):
    # theta = 1, constant g = 1, mu = 0.5, eta = 0.1, no decay.
    # Momentum: v = 1, theta = 0.9;  v = 0.5 * 1 + 1 = 1.5, theta = 0.9 - 0.15 = 0.75.
    # Nesterov: v = 1, theta = 1 - 0.1 * (1 + 0.5 * 1) = 0.85;  v = 1.5, theta = 0.85 - 0.1 * (1 + 0.75) = 0.675.
    hyper = np.array([0.1, 0.0, 0.5])
    grads = np.ones((2, 1), dtype)
    momentum, velocity, _ = kernel_steps("momentum", np.ones(1, dtype), grads, 1, hyper)
    np.testing.assert_allclose(np.concatenate(momentum), [0.9, 0.75], **TOLERANCE[dtype])
    np.testing.assert_allclose(velocity, [[1.5]], **TOLERANCE[dtype])
    nesterov, velocity, _ = kernel_steps("nesterov", np.ones(1, dtype), grads, 1, hyper)
    np.testing.assert_allclose(np.concatenate(nesterov), [0.85, 0.675], **TOLERANCE[dtype])
    np.testing.assert_allclose(velocity, [[1.5]], **TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_by_hand(dtype):
    # theta = [w, b] = [1, 1], n_weights = 1, eta = 0.1, decay = 0.5, beta1 = 0.5, beta2 = 0.75, epsilon = 0.
    # Step 1, grad = [0.5, 2]: g = [0.5 + 0.5 * 1, 2] = [1, 2]
    #   m = 0.5 * g = [0.5, 1];  v = 0.25 * g^2 = [0.25, 1];  m_hat = m / 0.5 = [1, 2];  v_hat = v / 0.25 = [1, 4]
    #   theta = [1 - 0.1 * 1 / 1, 1 - 0.1 * 2 / 2] = [0.9, 0.9]
    # Step 2, grad = [-1.45, 2]: g = [-1.45 + 0.5 * 0.9, 2] = [-1, 2]
    #   m = 0.5 * [0.5, 1] + 0.5 * [-1, 2] = [-0.25, 1.5];  v = 0.75 * [0.25, 1] + 0.25 * [1, 4] = [0.4375, 1.75]
    #   1 - beta1^2 = 0.75, 1 - beta2^2 = 0.4375:  m_hat = [-1/3, 2];  v_hat = [1, 4]
    #   theta = [0.9 - 0.1 * (-1/3) / 1, 0.9 - 0.1 * 2 / 2] = [0.9333..., 0.8]
    hyper = np.array([0.1, 0.5, 0.5, 0.75, 0.0])
    grads = np.array([[0.5, 2.0], [-1.45, 2.0]], dtype)
    history, state, _ = kernel_steps("adam", np.ones(2, dtype), grads, 1, hyper)
    np.testing.assert_allclose(history[0], [0.9, 0.9], **TOLERANCE[dtype])
    np.testing.assert_allclose(history[1], [0.9 + 0.1 / 3, 0.8], **TOLERANCE[dtype])
    np.testing.assert_allclose(state, [[-0.25, 1.5], [0.4375, 1.75]], **TOLERANCE[dtype])


@pytest.mark.parametrize("name", sorted(STATE_ROWS))
def test_biases_get_no_decay(name):
    theta, _ = random_problem(np.float64, seed=5)
    before = theta.copy()
    hyper = np.array(HYPER[name])
    hyper[1] = 0.5
    _, state, after = kernel_steps(name, theta, np.zeros((2, theta.size)), N_WEIGHTS, hyper)
    np.testing.assert_array_equal(after[N_WEIGHTS:], before[N_WEIGHTS:])
    np.testing.assert_array_equal(state[:, N_WEIGHTS:], 0.0)
    # the weights shrink towards 0 under the decay alone
    assert np.all(np.abs(after[:N_WEIGHTS]) < np.abs(before[:N_WEIGHTS]))


@pytest.mark.parametrize("name", sorted(STATE_ROWS))
def test_float32_stays_float32(name):
    theta, grads = random_problem(np.float32, seed=6)
    history, state, final = kernel_steps(name, theta, grads, N_WEIGHTS, np.array(HYPER[name]))
    assert final.dtype == np.float32 and state.dtype == np.float32
    assert all(h.dtype == np.float32 for h in history)


@pytest.mark.parametrize("name", sorted(STATE_ROWS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_an_update_that_overflows_reports_it(name, dtype):
    """The block says NONFINITE (2) when a new parameter is not finite, so the engine commits nothing."""
    top = float(np.finfo(dtype).max)
    theta, grad = np.array([0.75 * top, 1.0], dtype), np.array([-1.0, 0.0], dtype)
    hyper = np.array(HYPER[name])
    hyper[0] = 0.5 * top  # eta: one step of about eta against the gradient passes the largest number
    _, _, status = update(name, theta, grad, np.zeros((STATE_ROWS[name], 2), dtype), 1, hyper, 1)
    assert status == 2
