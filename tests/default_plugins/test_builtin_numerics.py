"""The built-in activations and losses stay finite and correct at extreme inputs, in both dtypes."""

from __future__ import annotations

import math

import numpy as np
import pytest

import bpframe as bp
from bpframe.default_plugins import activations as A
from bpframe.default_plugins import losses as Lo

ELEMENTWISE = [
    (A.sigmoid, A.sigmoid_prime),
    (A.tanh, A.tanh_prime),
    (A.relu, A.relu_prime),
    (A.leaky_relu, A.leaky_relu_prime),
    (A.identity, A.identity_prime),
    (A.softplus, A.softplus_prime),
]
EXTREMES = [-1000.0, -745.0, -40.0, -1e-12, 0.0, 1e-12, 40.0, 710.0, 1000.0, 1.7976931348623157e308, -3.4e38]


@pytest.mark.parametrize(("sigma", "prime"), ELEMENTWISE, ids=lambda f: getattr(f, "__name__", ""))
@pytest.mark.parametrize("z", EXTREMES)
def test_elementwise_functions_are_finite(sigma, prime, z):
    assert math.isfinite(sigma(z))
    assert math.isfinite(prime(z))


def test_saturated_values_are_exact():
    assert A.sigmoid(1000.0) == 1.0 and A.sigmoid(-1000.0) == 0.0
    assert A.sigmoid_prime(1000.0) == 0.0 and A.sigmoid_prime(0.0) == 0.25
    assert A.softplus(1000.0) == 1000.0 and A.softplus(-1000.0) == 0.0
    assert A.softplus_prime(-1000.0) == 0.0 and A.softplus_prime(1000.0) == 1.0
    assert A.sigmoid(-30.0) == pytest.approx(9.357622968840175e-14, rel=1e-14)
    assert A.softplus(-30.0) == pytest.approx(9.357622968839737e-14, rel=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_of_huge_logits(dtype):
    z = np.array([1000.0, 0.0, -1000.0], dtype=dtype)
    a = np.empty_like(z)
    A.softmax_forward(z, a)
    np.testing.assert_array_equal(a, [1.0, 0.0, 0.0])
    out = np.empty_like(z)
    A.softmax_vjp(z, a, np.array([1.0, 2.0, 3.0], dtype=dtype), out)
    assert np.isfinite(out).all()


def test_softmax_vjp_equals_the_jacobian():
    rng = np.random.default_rng(0)
    z = rng.normal(size=5)
    a = np.empty(5)
    A.softmax_forward(z, a)
    jacobian = np.diag(a) - np.outer(a, a)
    v = rng.normal(size=5)
    out = np.empty(5)
    A.softmax_vjp(z, a, v, out)
    np.testing.assert_allclose(out, jacobian.T @ v, rtol=1e-12)
    assert a.sum() == pytest.approx(1.0, rel=1e-15)


def test_cross_entropies_give_finite_costs_at_saturation():
    assert Lo.cross_entropy(0.0, 1.0) == pytest.approx(-math.log(Lo.TINY))
    assert Lo.cross_entropy(0.0, 0.0) == 0.0
    assert math.isfinite(Lo.binary_cross_entropy(1.0, 0.0)) and math.isfinite(Lo.binary_cross_entropy(0.0, 1.0))
    assert Lo.binary_cross_entropy(1.0, 1.0) == 0.0
    assert math.isfinite(Lo.binary_cross_entropy_nabla_a(1.0, 0.0))
    assert Lo.a_minus_y(1000.0, 1.0, 0.0) == 1.0


@pytest.mark.jit  # float32 scalars mix with Python floats the numba way only when compiled
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("output", "loss"), [("sigmoid", "binary_cross_entropy"), ("softmax", "cross_entropy")])
def test_saturated_network_keeps_exact_output_errors(dtype, output, loss):
    """Logits of ±1000: the combined output error gives a − y exactly, the cost stays finite."""
    net = bp.Network([1, 2], output, loss, dtype=dtype)
    net.weights[1] = [[1000.0], [-1000.0]]
    net.biases[1] = [0.0, 0.0]
    g = net.backprop([[1.0]], [[0.0, 1.0]])
    np.testing.assert_array_equal(g.a[1], [[1.0, 0.0]])
    np.testing.assert_array_equal(g.delta[1], [[1.0, -1.0]])
    assert np.isfinite(g.cost) and g.cost > 20
    assert np.isfinite(g.nabla_w[1]).all()


def test_general_bp1_would_fail_where_the_combined_error_does_not():
    """The reason combined output errors exist: ∇ₐC ⊙ σ′(z) for sigmoid + BCE at z = 40 is 0 · huge."""
    a, y, z = A.sigmoid(40.0), 0.0, 40.0
    general = Lo.binary_cross_entropy_nabla_a(a, y) * A.sigmoid_prime(z)
    assert Lo.a_minus_y(z, a, y) == 1.0
    assert general != pytest.approx(1.0, rel=1e-3)
