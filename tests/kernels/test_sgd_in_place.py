"""The in-place step (SGD's fused form): BP3 and BP4 fused with the update, taken only when a bound proves no
parameter can overflow; otherwise the two-buffer path, which keeps the last good parameters when an update does
overflow."""

from __future__ import annotations

import numpy as np
import pytest

import bpframe as bp
from bpframe.kernels import engine
from bpframe.kernels.bounds import max_abs, step_bound
from bpframe.kernels.equations import bp3_bp4_step_in_place

DTYPES = [np.float32, np.float64]


# -- max_abs: the largest magnitude, or inf when anything is NaN or inf ---------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1,), (17,), (5, 9), (3, 4, 5)])
def test_max_abs_is_the_largest_magnitude(dtype, shape):
    x = np.random.default_rng(sum(shape)).normal(scale=50.0, size=shape).astype(dtype)
    assert max_abs(x) == float(np.abs(x).max())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [0, 6, 12])
def test_max_abs_of_a_non_finite_array_is_inf(dtype, bad, where):
    x = np.linspace(-3.0, 3.0, 13).astype(dtype)
    x[where] = bad
    assert max_abs(x) == np.inf


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_abs_edge_values(dtype):
    info = np.finfo(dtype)
    assert max_abs(np.zeros((0, 3), dtype)) == 0.0
    assert max_abs(np.array([-0.0, 0.0], dtype)) == 0.0
    assert max_abs(np.array([info.smallest_subnormal, -2 * info.smallest_subnormal], dtype)) == float(
        2 * info.smallest_subnormal
    )
    assert max_abs(np.array([1.0, -info.max], dtype)) == float(info.max)


# -- the bound ---------------------------------------------------------------------------------------------------
@pytest.mark.jit_pass
def test_step_bound_by_hand():
    # max(|keep|, 1) * 1 + 0.1 * 2 * max(3, 1) = 1.6 (keep = 1 - eta * decay = 1)
    assert step_bound(1.0, 2.0, 3.0, 10, 0.1, 1.0, 1e30) == pytest.approx(1.6)
    # inputs below 1 in size: the bias term (a = 1) dominates: 1 + 0.1 * 2 * 1
    assert step_bound(1.0, 2.0, 0.25, 10, 0.1, 1.0, 1e30) == pytest.approx(1.2)
    # eta * decay = 3: each step multiplies w by keep = -2 before the gradient: 2 * 1 + 0.1 * 2 * 3
    assert step_bound(1.0, 2.0, 3.0, 10, 0.1, -2.0, 1e30) == pytest.approx(2.6)


@pytest.mark.parametrize(
    ("bound", "delta_max", "a_max", "n", "eta"),
    [
        (9.9e29, 2e28, 1.0, 1, 1.0),  # the new parameters could exceed the limit
        (1.0, 1e14, 1e14, 10**6, 1e-10),  # the product's sums could exceed it before they are scaled by eta / n
        (1.0, np.nan, 1.0, 1, 1.0),
        (1.0, 1.0, np.inf, 1, 1.0),
        (np.inf, 1.0, 1.0, 1, 1.0),
    ],
)
def test_step_bound_refuses(bound, delta_max, a_max, n, eta):
    assert step_bound(bound, delta_max, a_max, n, eta, 1.0, 1e30) == np.inf


def test_step_bound_accepts_up_to_the_limit():
    assert step_bound(9.9e29, 1e28, 1.0, 1, 1.0, 1.0, 1e30) == pytest.approx(1e30)
    assert step_bound(1.0, 1e14, 1e14, 10**2, 1e-10, 1.0, 1e30) == pytest.approx(1e18)


# -- the fused step ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_bp3_bp4_step_in_place_is_the_sgd_step(dtype):
    rng = np.random.default_rng(5)
    delta, a_prev = rng.normal(size=(7, 4)).astype(dtype), rng.normal(size=(7, 3)).astype(dtype)
    theta = rng.normal(size=4 * 3 + 4 + 5).astype(dtype)  # w (4x3), b (4), then entries that must stay as they are
    w, b = theta[:12].reshape(4, 3), theta[12:16]
    w0, b0, rest = w.astype(np.float64), b.astype(np.float64), theta[16:].copy()
    eta, decay = 0.3, 0.2
    bp3_bp4_step_in_place(delta, a_prev, w, b, 1.0 - eta * decay, 1.0, eta, np.empty(8))
    d64, a64 = delta.astype(np.float64), a_prev.astype(np.float64)
    expected_w = (1 - eta * decay) * w0 - eta * (d64.T @ a64) / 7
    expected_b = b0 - eta * d64.mean(axis=0)
    tolerance = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-13, "atol": 1e-14}
    np.testing.assert_allclose(w, expected_w, **tolerance)
    np.testing.assert_allclose(b, expected_b, **tolerance)
    np.testing.assert_array_equal(theta[16:], rest)


def _one_batch(dtype):
    """A network, the engine's buffers after forward, BP1 and BP2 on one batch, and the batch itself."""
    rng = np.random.default_rng(11)
    net = bp.Network([5, 4, 3], ["sigmoid", "softmax"], "cross_entropy", dtype=dtype, seed=4)
    x = rng.normal(size=(6, 5)).astype(dtype)
    y = np.eye(3, dtype=dtype)[rng.integers(0, 3, 6)]
    layout = net.program.layout("train")
    zs, acts, deltas = (np.empty(6 * 12, dtype) for _ in range(3))
    acts[:30] = x.ravel()
    work, status = np.empty(8), np.zeros(4, np.int64)
    none = np.empty(0)  # no dropout: no rates, and empty mask and kept-activation buffers
    assert engine.forward(net._model.theta, layout, zs, acts, 6, 0, none, 0, 0, zs[:0], zs[:0]) == 0
    assert engine.errors(net._model.theta, layout, zs, acts, deltas, y, 6, work, status, none, zs[:0])  # BP1, BP2
    return net, layout, x, y, acts, deltas, work


@pytest.mark.jit
@pytest.mark.parametrize("dtype", DTYPES)
def test_the_guard_takes_the_in_place_step_when_it_is_safe(dtype):
    net, layout, x, y, acts, deltas, work = _one_batch(dtype)
    expected = twin(net)
    reference = expected.backprop(x, y)
    fused = np.array([1.0, 1.0, 0.5])  # keep_w, keep_b, step: SGD with eta = 0.5 and no decay
    bound = np.array([max_abs(net._model.theta)])
    taken = engine.fused_step(
        net._model.theta, layout, acts, acts[:0], np.empty(0), deltas, 6, fused, max_abs(x), bound, 1e30, work
    )
    assert taken
    tolerance = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-13}
    for l in (1, 2):
        np.testing.assert_allclose(net.weights[l], expected.weights[l] - 0.5 * reference.nabla_w[l], **tolerance)
        np.testing.assert_allclose(net.biases[l], expected.biases[l] - 0.5 * reference.nabla_b[l], **tolerance)
    assert bound[0] >= np.abs(net._model.theta).max()  # still a bound after the step
    assert bound[0] < 2 * np.abs(net._model.theta).max()  # and not a loose one: D, A <= 1 here


@pytest.mark.jit
@pytest.mark.parametrize("dtype", DTYPES)
def test_the_guard_leaves_everything_as_it_was_when_it_refuses(dtype):
    net, layout, x, _, acts, deltas, work = _one_batch(dtype)
    before = net._model.theta.copy()
    fused = np.array([1.0, 1.0, 0.5])
    bound = np.array([1e6])  # a loose bound: the guard recomputes it exactly before it gives up
    limit = 1e-3  # below the parameters themselves: no step can be proved safe
    taken = engine.fused_step(
        net._model.theta, layout, acts, acts[:0], np.empty(0), deltas, 6, fused, max_abs(x), bound, limit, work
    )
    assert not taken
    np.testing.assert_array_equal(net._model.theta, before)
    assert bound[0] == np.abs(net._model.theta).max()


# -- end to end: the in-place path and the two-buffer path train alike -----------------------------------------------
def twin(net):
    """A second network with the same configuration and parameters."""
    other = bp.Network(net.sizes, list(net.activations), net.loss, dtype=net.dtype, seed=net.seed)
    other.set_parameters(net.parameters())
    return other


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_sgd_in_place_trains_as_momentum_zero_does(dtype):
    """Momentum with mu = 0 is SGD, computed by the two-buffer path."""
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(64, 6)), rng.integers(0, 3, 64)
    a = bp.Network([6, 5, 3], ["relu", "softmax"], "cross_entropy", dtype=dtype, seed=8)
    b, start = twin(a), a.parameters()
    a.fit(X, y, epochs=3, batch_size=10, eta=0.2, lmbda=0.3, shuffle=False, verbose=0)
    b.fit(X, y, epochs=3, batch_size=10, eta=0.2, lmbda=0.3, shuffle=False, optimizer=bp.Momentum(mu=0.0), verbose=0)
    tolerance = {"rtol": 2e-4, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-10, "atol": 1e-12}
    np.testing.assert_allclose(a.parameters(), b.parameters(), **tolerance)
    assert np.abs(a.parameters() - start).max() > 0.01


def _huge_batch(dtype):
    """8 inputs of magnitude max/10: the guard cannot prove an SGD step safe (8 · |delta| · max/10 > max/16)."""
    rng = np.random.default_rng(4)
    X = np.where(rng.random((8, 4)) < 0.5, -1.0, 1.0) * (float(np.finfo(dtype).max) / 10)
    Y = np.array([[0.0], [1.0]] * 4)
    return X, Y


@pytest.mark.jit  # saturated float32 sigmoids: the pure-Python functions see 1 - a == 0 where compiled ones do not
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_step_the_guard_cannot_prove_safe_is_taken_with_two_buffers(dtype):
    X, Y = _huge_batch(dtype)
    net = bp.Network([4, 1], "sigmoid", "binary_cross_entropy", dtype=dtype, seed=5)
    other, w0, b0 = twin(net), net.weights[1].astype(np.float64), net.biases[1].astype(np.float64)
    net.fit(X, Y, epochs=1, batch_size=8, eta=1e-3, shuffle=False, verbose=0)
    other.fit(X, Y, epochs=1, batch_size=8, eta=1e-3, shuffle=False, optimizer=bp.Momentum(mu=0.0), verbose=0)
    np.testing.assert_array_equal(net.parameters(), other.parameters())
    x = X.astype(dtype).astype(np.float64)
    delta = 1.0 / (1.0 + np.exp(-np.clip(x @ w0.T + b0, -700, 700))) - Y  # sigmoid + BCE: delta = a - y
    np.testing.assert_allclose(net.weights[1], w0 - 1e-3 * delta.T @ x / 8, rtol=1e-5)
    np.testing.assert_allclose(net.biases[1], b0 - 1e-3 * delta.mean(axis=0), rtol=1e-5, atol=1e-7)


@pytest.mark.jit  # saturated float32 sigmoids: the pure-Python functions see 1 - a == 0 where compiled ones do not
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_step_that_would_overflow_keeps_the_parameters_of_the_batch_before(dtype):
    """Three batches train; the fourth's inputs make its update overflow (eta · max/10 · ...): the error names
    batch 4 and the network keeps exactly the parameters it had after batch 3."""

    class AfterBatch3:
        @bp.hookimpl
        def bpframe_batches_end(self, net, done):
            if done == 3:
                self.parameters = net.parameters()

    rng = np.random.default_rng(9)
    X = np.vstack([rng.normal(size=(24, 4)), _huge_batch(dtype)[0]])
    Y = np.array([[0.0], [1.0]] * 16)
    net = bp.Network([4, 1], "sigmoid", "binary_cross_entropy", dtype=dtype, seed=1)
    start, seen = net.parameters(), AfterBatch3()
    with pytest.raises(bp.DivergenceError, match="batch 4 of 4"):
        net.fit(X, Y, epochs=1, batch_size=8, eta=1e3, shuffle=False, callbacks=[seen], verbose=0)
    np.testing.assert_array_equal(net.parameters(), seen.parameters)
    assert np.abs(seen.parameters - start).max() > 1.0
