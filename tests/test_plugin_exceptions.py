"""A plugin function that *raises* inside the engine is named, with its role, its input and its exception, and
nothing is changed by the step it interrupted: every kind of block, in forward passes, backprop and training."""

from __future__ import annotations

import numpy as np
import pytest

import bpframe as bp

X = np.array([[0.5, -1.0], [1.0, 2.0], [-0.25, 0.75]])


def calm(z):
    return z


def calm_prime(z):
    return 1.0


def prime_refusing_negatives(z):
    if z < 0.0:
        raise ValueError("sigma_prime refuses negative z")
    return 1.0


def cost_refusing_large(a, y):
    if a > 100.0:
        raise OverflowError("cost refuses a > 100")
    return 0.5 * (a - y) * (a - y)


def nabla_refusing_large(a, y):
    if a > 100.0:
        raise OverflowError("nabla_a refuses a > 100")
    return a - y


def plain_cost(a, y):
    return 0.5 * (a - y) * (a - y)


def plain_nabla(a, y):
    return a - y


def error_refusing_large(z, a, y):
    if a > 100.0:
        raise ArithmeticError("output error refuses a > 100")
    return a - y


def forward_refusing_large(z, a):
    for j in range(z.shape[0]):
        if z[j] > 100.0:
            raise ValueError("vector forward refuses z > 100")
        a[j] = z[j]


def vjp_copy(z, a, v, out):
    for j in range(z.shape[0]):
        out[j] = v[j]


REFUSING_PRIME = bp.Activation("refusing_prime", calm, prime_refusing_negatives)
CALM = bp.Activation("calm_identity", calm, calm_prime)
VECTOR = bp.Activation("refusing_vector", elementwise=False, forward=forward_refusing_large, vjp=vjp_copy)
LOSSES = {
    "cost": bp.Loss("refusing_cost", cost_refusing_large, plain_nabla),
    "nabla": bp.Loss("refusing_nabla", plain_cost, nabla_refusing_large),
    "output_error": bp.Loss(
        "refusing_error", plain_cost, plain_nabla, output_errors={"calm_identity": error_refusing_large}
    ),
}


def network(hidden, output, loss, scale=1.0):
    net = bp.Network([2, 2, 1], [hidden, output], loss, seed=0)
    net.weights[1] = [[1.0, 0.0], [0.0, 1.0]]
    net.biases[1] = [0.0, 0.0]
    net.weights[2] = [[scale, scale]]
    net.biases[2] = [0.0]
    return net


@pytest.mark.jit_pass
@pytest.mark.parametrize("tier", ["numpy", "compiled"])
def test_a_raising_derivative_in_bp2_is_named(tier, monkeypatch):
    monkeypatch.setenv("BPFRAME_ENGINE", tier)
    net = network(REFUSING_PRIME, CALM, "quadratic")
    before = net.parameters()
    with pytest.raises(bp.PluginError) as info:
        net.backprop(X, [[0.0], [1.0], [0.0]])
    message = str(info.value)
    assert "activation 'refusing_prime' (defined in user code, not registered): its sigma_prime" in message
    assert "raised ValueError: sigma_prime refuses negative z at z=-1.0 (layer 1, sample 0)" in message
    assert isinstance(info.value.__cause__, ValueError)
    with pytest.raises(bp.PluginError, match="training stopped in epoch 1, batch 1 of 1: activation 'refusing_prime'"):
        net.fit(X, [[0.0], [1.0], [0.0]], epochs=2, batch_size=3, verbose=0)
    np.testing.assert_array_equal(net.parameters(), before)


@pytest.mark.jit_pass
@pytest.mark.parametrize("tier", ["numpy", "compiled"])
@pytest.mark.parametrize(
    ("kind", "role", "exception"),
    [("cost", "cost", "OverflowError"), ("nabla", "nabla_a", "OverflowError"),
     ("output_error", "output_error", "ArithmeticError")],
)  # fmt: skip
def test_a_raising_loss_function_is_named(tier, kind, role, exception, monkeypatch):
    monkeypatch.setenv("BPFRAME_ENGINE", tier)
    loss = LOSSES[kind]
    net = network(CALM, CALM, loss, scale=1000.0)  # output 1000 z: far above 100 for sample 1
    before = net.parameters()
    with pytest.raises(bp.PluginError) as info:
        net.fit(X, [[0.0], [1.0], [0.0]], epochs=1, batch_size=3, shuffle=False, verbose=0)
    message = str(info.value)
    assert f"loss '{loss.name}' (defined in user code, not registered): its {role}" in message
    assert f"raised {exception}:" in message and "(sample 1)" in message
    np.testing.assert_array_equal(net.parameters(), before)
    assert net._model.optimizer.step == 0


@pytest.mark.jit_pass
@pytest.mark.parametrize("tier", ["numpy", "compiled"])
def test_a_raising_vector_activation_is_named(tier, monkeypatch):
    monkeypatch.setenv("BPFRAME_ENGINE", tier)
    net = bp.Network([2, 2, 2], [CALM, VECTOR], "quadratic", seed=0)
    net.weights[2] = [[500.0, 0.0], [0.0, 1.0]]
    with pytest.raises(bp.PluginError) as info:
        net.feedforward(X)
    message = str(info.value)
    assert "activation 'refusing_vector' (defined in user code, not registered): its forward" in message
    assert "raised ValueError: vector forward refuses z > 100" in message and "(layer 2)" in message
    before = net.parameters()
    with pytest.raises(bp.PluginError, match="training stopped in epoch 1, batch 1 of 2: activation 'refusing_vec"):
        net.fit(X, [[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]], epochs=2, batch_size=2, shuffle=False, verbose=0)
    np.testing.assert_array_equal(net.parameters(), before)
    assert net._model.optimizer.step == 0
