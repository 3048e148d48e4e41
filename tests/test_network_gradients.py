"""Back-propagation against central differences and against the slow NumPy reference, for every built-in
activation (in hidden and output layers) and every loss with the outputs it makes sense for."""

from __future__ import annotations

import math

import numpy as np
import pytest
import reference

import bpframe as bp

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "identity", "softplus", "softmax"]
OUTPUT_PAIRS = [(name, "quadratic") for name in HIDDEN] + [
    ("sigmoid", "binary_cross_entropy"),
    ("sigmoid", "cross_entropy"),
    ("softmax", "cross_entropy"),
    ("softmax", "binary_cross_entropy"),
]


def configuration(k: int, output: str, loss: str):
    """A random network shape of depth 1..3 hidden layers whose hidden activations rotate through HIDDEN."""
    rng = np.random.default_rng(100 + k)
    depth = 1 + k % 3
    sizes = [int(s) for s in rng.integers(2, 6, size=depth + 2)]
    hidden = [HIDDEN[(k + 3 * i) % len(HIDDEN)] for i in range(depth)]
    return sizes, [*hidden, output], rng


def data(rng, sizes, loss, n=4):
    X = rng.normal(size=(n, sizes[0]))
    if loss == "quadratic":
        Y = rng.normal(size=(n, sizes[-1]))
    elif loss == "cross_entropy":
        Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)]
    else:
        Y = rng.uniform(0.0, 1.0, size=(n, sizes[-1]))
    return X, Y


CASES = [(k, out, loss) for k, (out, loss) in enumerate(OUTPUT_PAIRS)]


@pytest.mark.parametrize(("k", "output", "loss"), CASES, ids=[f"{o}-{l}" for _, o, l in CASES])
def test_gradients_match_central_differences(k, output, loss):
    sizes, acts, rng = configuration(k, output, loss)
    net = bp.Network(sizes, acts, loss, seed=k)
    X, Y = data(rng, sizes, loss)
    g = net.backprop(X, Y)
    ws, bs = reference.params(net)
    num_w, num_b = reference.numeric_gradient(net.activations, net.loss, ws, bs, X, Y)
    for l in range(1, net.num_layers + 1):
        assert reference.relative_error(g.nabla_w[l], num_w[l - 1]) < 1e-6, (acts, l)
        assert reference.relative_error(g.nabla_b[l], num_b[l - 1]) < 1e-6, (acts, l)
    assert g.cost == pytest.approx(reference.cost(net.activations, net.loss, ws, bs, X, Y), rel=1e-12)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("k", "output", "loss"), CASES, ids=[f"{o}-{l}" for _, o, l in CASES])
def test_kernels_match_reference(k, output, loss, dtype):
    sizes, acts, rng = configuration(k, output, loss)
    net = bp.Network(sizes, acts, loss, seed=k, dtype=dtype)
    X, Y = data(rng, sizes, loss, n=7)
    g = net.backprop(X, Y)
    ws, bs = reference.params(net)
    zs, activations, deltas, nabla_b, nabla_w = reference.backprop(net.activations, net.loss, ws, bs, X, Y)
    rtol, atol = (1e-10, 1e-12) if dtype == "float64" else (2e-4, 2e-5)
    np.testing.assert_allclose(g.a[0], X, rtol=rtol, atol=atol)
    for l in range(1, net.num_layers + 1):
        for name, got, want in [
            ("z", g.z[l], zs[l - 1]),
            ("a", g.a[l], activations[l]),
            ("delta", g.delta[l], deltas[l - 1]),
            ("nabla_b", g.nabla_b[l], nabla_b[l - 1]),
            ("nabla_w", g.nabla_w[l], nabla_w[l - 1]),
        ]:
            assert got.dtype == np.dtype(dtype)
            np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"{name}[{l}]")
    np.testing.assert_allclose(net.feedforward(X), activations[-1], rtol=rtol, atol=atol)


def test_general_formula_agrees_with_combined_output_error():
    """Without the combined a − y, BP1 for sigmoid + binary cross-entropy uses ∇ₐC ⊙ σ′(z): same result."""
    bce = bp.Network([3, 4, 2], ["tanh", "sigmoid"], "binary_cross_entropy", seed=3)
    plain_loss = bp.Loss("bce_general", bce.loss.cost, bce.loss.nabla_a, target_range=(0.0, 1.0))
    general = bp.Network([3, 4, 2], ["tanh", "sigmoid"], plain_loss, seed=3)
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(5, 3)), rng.uniform(size=(5, 2))
    a, b = bce.backprop(X, Y), general.backprop(X, Y)
    for l in (1, 2):
        np.testing.assert_allclose(a.delta[l], b.delta[l], rtol=1e-10)
        np.testing.assert_allclose(a.nabla_w[l], b.nabla_w[l], rtol=1e-10)


def test_hand_worked_network():
    """[1, 1, 1], sigmoid hidden, identity output, quadratic cost; x = 1, y = 0, w1 = 0.5, b1 = 0, w2 = 2, b2 = 1.

    a1 = σ(0.5) = 0.6224593312018546, z2 = a2 = 2 a1 + 1 = 2.244918662403709, C = ½ a2² = 2.519829900404229,
    δ2 = a2 − y = 2.244918662403709, δ1 = w2 δ2 σ′(z1) = 2 · 2.2449… · a1 (1 − a1) = 1.0551284385110193,
    ∂C/∂w2 = δ2 a1 = 1.3973705692023746, ∂C/∂w1 = δ1 x.
    """
    net = bp.Network([1, 1, 1], ["sigmoid", "identity"], "quadratic")
    net.weights[1] = [[0.5]]
    net.biases[1] = [0.0]
    net.weights[2] = [[2.0]]
    net.biases[2] = [1.0]
    g = net.backprop([[1.0]], [[0.0]])
    assert g.a[1][0, 0] == pytest.approx(0.6224593312018546, rel=1e-15)
    assert g.z[2][0, 0] == pytest.approx(2.244918662403709, rel=1e-15)
    assert g.cost == pytest.approx(2.519829900404229, rel=1e-15)
    assert g.delta[2][0, 0] == pytest.approx(2.244918662403709, rel=1e-15)
    assert g.delta[1][0, 0] == pytest.approx(1.0551284385110193, rel=1e-14)
    assert g.nabla_w[2][0, 0] == pytest.approx(1.3973705692023746, rel=1e-15)
    assert g.nabla_b[2][0] == pytest.approx(2.244918662403709, rel=1e-15)
    assert g.nabla_w[1][0, 0] == pytest.approx(1.0551284385110193, rel=1e-14)
    assert g.nabla_b[1][0] == pytest.approx(1.0551284385110193, rel=1e-14)


def test_gradient_check_reports_per_layer_errors():
    net = bp.Network([4, 5, 3, 2], ["tanh", "softplus", "softmax"], "cross_entropy", seed=2)
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(6, 4)), rng.integers(0, 2, 6)
    result = bp.gradient_check(net, X, y, entries=None)
    assert set(result.weights) == {1, 2, 3} and set(result.biases) == {1, 2, 3}
    assert result.checked == net.parameters().size
    assert result.passed(1e-6), str(result)
    assert "layer 1: weights" in str(result)


def test_gradient_check_detects_a_wrong_derivative():
    """A plugin whose σ′ is wrong fails the check by a wide margin."""
    good = bp.Network([3, 4, 1], "sigmoid", "quadratic", seed=0).activations[0]
    wrong = bp.Activation("wrong_sigmoid", good.sigma, _twice_sigmoid_prime)
    net = bp.Network([3, 4, 1], wrong, "quadratic", seed=0)
    rng = np.random.default_rng(2)
    result = bp.gradient_check(net, rng.normal(size=(5, 3)), rng.normal(size=(5, 1)))
    assert result.max_error > 0.1
    assert not result.passed()


def _twice_sigmoid_prime(z):
    e = math.exp(-abs(z))
    return 2.0 * e / ((1.0 + e) * (1.0 + e))


def test_float32_gradients_follow_float64():
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(8, 6)), rng.integers(0, 3, 8)
    nets = [
        bp.Network([6, 5, 3], ["relu", "softmax"], "cross_entropy", seed=4, dtype=d) for d in ("float64", "float32")
    ]
    g64, g32 = (n.backprop(X, y) for n in nets)
    for l in (1, 2):
        np.testing.assert_allclose(g32.nabla_w[l], g64.nabla_w[l], rtol=2e-3, atol=1e-5)
