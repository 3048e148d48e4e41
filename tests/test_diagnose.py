"""A plugin function that turns finite inputs into NaN or inf is named, with the input, by the method that sees it."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import bpframe as bp


def log_act(z):
    return math.log(z)


def log_act_prime(z):
    return 1.0 / z


def fine(z):
    return z


def fine_prime(z):
    return 1.0


def exploding_prime(z):
    return 1.0 / (z - z)


def overflowing_cost(a, y):
    return math.exp(1000.0 * (a - y) * (a - y))


def overflowing_grad(a, y):
    return a - y


# The compiled kernels turn math errors into nan/inf (NumPy's error model); plain Python raises instead.
pytestmark = pytest.mark.jit

LOG = bp.Activation("log_act", log_act, log_act_prime)
X = np.array([[0.5, -1.0], [1.0, 2.0]])


@pytest.fixture
def net():
    net = bp.Network([2, 2, 1], [LOG, "identity"], "quadratic", seed=0)
    net.weights[1] = [[1.0, 0.0], [0.0, 1.0]]
    net.biases[1] = [0.0, 0.0]
    return net


def test_feedforward_names_the_activation_and_its_input(net):
    with pytest.raises(bp.PluginError) as info:
        net.feedforward(X)
    message = str(info.value)
    assert message.startswith("activation 'log_act' (defined in user code, not registered): its sigma returned nan")
    assert "at z=-1.0 (layer 1, sample 0; as plain Python it raised ValueError: math domain error)" in message


def test_training_stops_naming_the_activation(net):
    before = net.parameters()
    with pytest.raises(bp.DivergenceError) as info:
        net.fit(X, [[0.0], [1.0]], epochs=3, batch_size=2, eta=0.1, shuffle=False, verbose=0)
    assert str(info.value).startswith(
        "training diverged at epoch 1, batch 1 of 1: activation 'log_act' (defined in user code, not registered): "
        "its sigma returned nan at z=-1.0"
    )
    np.testing.assert_array_equal(net.parameters(), before)


def test_backprop_and_evaluate_name_the_faulty_function(net):
    with pytest.raises(bp.PluginError, match=r"its sigma returned nan at z=-1\.0"):
        net.backprop(X, [[0.0], [1.0]])
    with pytest.raises(bp.PluginError, match=r"its sigma returned nan at z=-1\.0"):
        net.evaluate(X, [[0.0], [1.0]])


def test_a_derivative_that_divides_by_zero_is_named():
    act = bp.Activation("bad_prime", fine, exploding_prime)
    net = bp.Network([2, 2, 1], [act, "identity"], "quadratic", seed=0)
    with pytest.raises(bp.PluginError) as info:
        net.backprop(X, [[0.0], [1.0]])
    assert re.search(
        r"activation 'bad_prime' \(defined in user code, not registered\): its sigma_prime returned (nan|inf) "
        r"\(as plain Python it raised ZeroDivisionError: float division by zero\) at z=",
        str(info.value),
    )


def test_a_loss_that_overflows_is_named():
    loss = bp.Loss("explosive", overflowing_cost, overflowing_grad)
    net = bp.Network([2, 1], "identity", loss, seed=0)
    net.weights[1] = [[1.0, 1.0]]
    with pytest.raises(bp.PluginError) as info:
        net.evaluate(X, [[0.0], [0.0]])
    assert (
        "loss 'explosive' (defined in user code, not registered): its cost returned inf "
        "(as plain Python it raised OverflowError: math range error) at a=3.0, y=0.0 (sample 1)"
    ) in str(info.value)


def test_huge_weights_are_not_blamed_on_a_plugin():
    net = bp.Network([2, 1], "identity", "quadratic", seed=0)
    net.weights[1] = [[1e300, 1e300]]
    out = net.feedforward([[1e10, 1e10]])
    assert np.isinf(out).all()
