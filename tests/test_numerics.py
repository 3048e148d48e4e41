"""Numerics: the built-ins stay finite at ±1000 and at the largest finite float32/float64 *as compiled*
(tests/default_plugins/test_builtin_numerics.py runs them as plain Python); saturated cross-entropies train with
the exact a − y; divergence stops with the last finite parameters, exactly; a plugin function that returns NaN,
divides by zero or overflows is named, with its input, by the call that sees the non-finite value.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import bpframe as bp

pytestmark = pytest.mark.jit  # compiled semantics: NumPy's error model (log(-1) is nan), float32 arithmetic

DTYPES = ["float32", "float64"]
ELEMENTWISE = ["sigmoid", "tanh", "relu", "leaky_relu", "identity", "softplus"]


def fmax(dtype: str) -> float:
    return float(np.finfo(dtype).max)


def extremes(dtype: str) -> list[float]:
    """Pre-activations at which every built-in must stay finite."""
    tiny = float(np.finfo(dtype).tiny)
    return [0.0, tiny, -tiny, 1.0, -1.0, 40.0, -40.0, 1000.0, -1000.0, fmax(dtype), -fmax(dtype)]


# -- built-ins at extreme pre-activations, compiled ------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_compiled_builtins_are_finite_at_the_extremes_of_each_dtype(name, dtype):
    from numba import njit

    from bpframe.kernels.options import PLUGIN_OPTIONS

    act = bp.Network([1, 1], name).activations[0]
    scalar = np.dtype(dtype).type
    for fn in (act.sigma, act.sigma_prime):
        compiled = njit(**PLUGIN_OPTIONS)(fn)
        for z in extremes(dtype):
            value = compiled(scalar(z))
            assert np.isfinite(value), f"{fn.__name__}({dtype} {z!r}) = {value!r}"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_networks_give_finite_outputs_and_gradients_at_extreme_pre_activations(name, dtype):
    """z = ±1000 and ±(largest finite value): outputs are finite and saturate exactly; with the outputs as targets
    the cost and every gradient are exactly 0 (a NaN or inf σ′ would show as 0 · inf)."""
    big = fmax(dtype)
    net = bp.Network([1, 4], name, "quadratic", dtype=dtype)
    net.weights[1] = [[1000.0], [-1000.0], [big], [-big]]
    net.biases[1] = [0.0, 0.0, 0.0, 0.0]
    out = net.feedforward([[1.0]])
    expected = {
        "sigmoid": [1.0, 0.0, 1.0, 0.0],
        "tanh": [1.0, -1.0, 1.0, -1.0],
        "relu": [1000.0, 0.0, big, 0.0],
        "leaky_relu": [1000.0, -10.0, big, -0.01 * big],
        "identity": [1000.0, -1000.0, big, -big],
        "softplus": [1000.0, 0.0, big, 0.0],
    }[name]
    np.testing.assert_allclose(out[0], expected, rtol=1e-6)
    g = net.backprop([[1.0]], out)
    assert g.cost == 0.0
    assert np.all(g.delta[1] == 0.0) and np.all(g.nabla_w[1] == 0.0) and np.all(g.nabla_b[1] == 0.0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("z", "expected"),
    [
        ([1000.0, 0.0, -1000.0], [1.0, 0.0, 0.0]),
        (["max", 0.0, "-max"], [1.0, 0.0, 0.0]),
        ([-1000.0, "max", 1000.0], [0.0, 1.0, 0.0]),
        ([1000.0, 1000.0, 1000.0], [1 / 3, 1 / 3, 1 / 3]),
        (["-max", "-max", "-max"], [1 / 3, 1 / 3, 1 / 3]),
    ],
    ids=["1000-0-minus1000", "max-0-minusmax", "one-max", "equal-1000", "equal-minus-max"],
)
def test_compiled_softmax_of_huge_logits(dtype, z, expected):
    big = fmax(dtype)
    z = [big if v == "max" else -big if v == "-max" else v for v in z]
    net = bp.Network([1, 3], "softmax", "cross_entropy", dtype=dtype)
    net.weights[1] = np.array(z).reshape(3, 1)
    net.biases[1] = [0.0, 0.0, 0.0]
    a = net.feedforward([[1.0]])[0]
    np.testing.assert_allclose(a, expected, rtol=1e-6, atol=0.0)
    assert a.sum() == pytest.approx(1.0, rel=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("output", "loss", "width"), [("sigmoid", "binary_cross_entropy", 2), ("softmax", "cross_entropy", 3)]
)
def test_saturated_cross_entropy_at_the_largest_float_gives_a_finite_cost_and_a_minus_y(dtype, output, loss, width):
    big = fmax(dtype)
    net = bp.Network([1, width], output, loss, dtype=dtype)
    net.weights[1] = [[big], [-big], [0.0]][:width]
    net.biases[1] = [0.0] * width
    y = [[0.0, 1.0, 0.0][:width]]
    g = net.backprop([[1.0]], y)
    a = g.a[1][0]
    np.testing.assert_array_equal(g.delta[1][0], a - np.array(y[0]))
    assert math.isfinite(g.cost) and g.cost > 600  # −ln(1e−300) per wrong unit: large, finite
    assert np.isfinite(g.nabla_w[1]).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_saturated_wrong_sigmoid_unit_trains_by_exactly_eta_times_a_minus_y(dtype):
    """One SGD step from logits ±1000 on the wrong side: δ = a − y = ±1, so w and b move by exactly η."""
    net = bp.Network([1, 2], "sigmoid", "binary_cross_entropy", dtype=dtype)
    net.weights[1] = [[1000.0], [-1000.0]]
    net.biases[1] = [0.0, 0.0]
    history = net.fit([[1.0]], [[0.0, 1.0]], epochs=1, batch_size=1, eta=0.5, shuffle=False, verbose=0)
    np.testing.assert_array_equal(net.weights[1], [[999.5], [-999.5]])
    np.testing.assert_array_equal(net.biases[1], [-0.5, 0.5])
    assert history.cost[0] == pytest.approx(-2 * math.log(1e-300), rel=1e-12)


def test_float32_softmax_with_binary_cross_entropy_saturated_matches_float64():
    results = {}
    for dtype in DTYPES:
        net = bp.Network([1, 3], "softmax", "binary_cross_entropy", dtype=dtype)
        net.weights[1] = [[1000.0], [0.0], [-1000.0]]
        net.biases[1] = [0.0, 0.0, 0.0]
        results[dtype] = net.backprop([[1.0]], [[0.0, 0.0, 1.0]])
    assert np.isfinite(results["float32"].delta[1]).all()
    np.testing.assert_allclose(results["float32"].nabla_w[1], results["float64"].nabla_w[1], atol=1e-6)


# -- divergence keeps the last finite parameters, exactly --------------------------------------------------------


def exploding(dtype: str) -> bp.Network:
    """z = 3w + b with w = 1 and eta = 1: every full-batch step multiplies the error by about 10."""
    net = bp.Network([1, 1], "identity", "quadratic", dtype=dtype)
    net.weights[1] = [[1.0]]
    net.biases[1] = [0.0]
    return net


@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_divergence_keeps_exactly_the_parameters_of_the_last_finite_step(dtype, optimizer):
    X, Y = [[3.0]], [[0.0]]
    net = exploding(dtype)
    with pytest.raises(bp.DivergenceError) as info:
        net.fit(X, Y, epochs=1000, batch_size=1, eta=1.0, optimizer=optimizer, shuffle=False, verbose=0)
    k = int(re.match(r"training diverged at epoch (\d+), batch 1 of 1", str(info.value)).group(1))
    assert k > 2
    replay = exploding(dtype)
    replay.fit(X, Y, epochs=k - 1, batch_size=1, eta=1.0, optimizer=optimizer, shuffle=False, verbose=0)
    assert net.parameters().tobytes() == replay.parameters().tobytes()
    assert np.isfinite(net.parameters()).all()
    assert net.history.cost == replay.history.cost and info.value.history.cost == replay.history.cost
    assert net._model.optimizer.step == replay._model.optimizer.step == k - 1
    assert net._model.optimizer.state.tobytes() == replay._model.optimizer.state.tobytes()


def test_the_fit_end_hook_hears_that_training_diverged():
    class Ending:
        @bp.hookimpl
        def bpframe_fit_end(self, history, reason):
            self.seen = (len(history), reason)

    ending = Ending()
    with pytest.raises(bp.DivergenceError) as info:
        exploding("float32").fit([[3.0]], [[0.0]], epochs=1000, batch_size=1, eta=1.0, callbacks=[ending], verbose=0)
    assert ending.seen == (len(info.value.history), "diverged")


def test_weights_that_overflow_under_decay_stop_training_with_finite_parameters():
    """sigmoid + binary cross-entropy: the cost is bounded however large the weights, so only the weights show the
    divergence that lmbda · eta / n = 3 (each update multiplies w by −2) causes."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 2))
    Y = (X[:, :1] > 0).astype(float)
    net = bp.Network([2, 1], "sigmoid", "binary_cross_entropy", dtype="float32", seed=0)
    with pytest.raises(bp.DivergenceError):
        net.fit(X, Y, epochs=400, batch_size=20, eta=1.0, lmbda=60.0, verbose=0)
    assert np.isfinite(net.parameters()).all(), net.parameters()
    assert np.isfinite(net.feedforward(X)).all()


@pytest.mark.parametrize(("dtype", "eta"), [("float64", 1e300), ("float32", 1e30)])
def test_an_update_that_overflows_is_divergence_even_in_the_last_epoch(dtype, eta):
    net = bp.Network([1, 1], "identity", "quadratic", dtype=dtype)
    net.weights[1] = [[1e10]]
    net.biases[1] = [0.0]
    before = net.parameters()
    with pytest.raises(bp.DivergenceError):
        net.fit([[1.0]], [[0.0]], epochs=1, batch_size=1, eta=eta, verbose=0)
    np.testing.assert_array_equal(net.parameters(), before)


# -- a plugin function that returns NaN, divides by zero or overflows is named with its input ---------------------


def bad_log(z):
    """NaN for z < 0 (compiled; plain Python raises ValueError)."""
    return math.log(z)


def bad_log_prime(z):
    return 1.0 / z


def bad_reciprocal(z):
    """inf at z = 0 (compiled with NumPy's error model; plain Python raises ZeroDivisionError)."""
    return 1.0 / z


def bad_reciprocal_prime(z):
    return -1.0 / (z * z)


def bad_exp(z):
    """Overflows to inf beyond z ≈ 709.8 (float64) or z ≈ 88.7 (float32)."""
    return math.exp(z)


def bad_slope(z):
    return z


def bad_slope_prime(z):
    """NaN for z < 0, in compiled code and in plain Python alike."""
    return 1.0 if z >= 0.0 else math.nan


def steep(z):
    return z


def steep_prime(z):
    """e^z: finite at z = 100 in float64 (2.7e43), inf in float32."""
    return math.exp(z)


def bad_cost(a, y):
    """NaN when the output is below the target."""
    return math.nan if a < y else 0.5 * (a - y) * (a - y)


def bad_cost_grad(a, y):
    return a - y


BAD_LOG = bp.Activation("bad_log", bad_log, bad_log_prime)
BAD_RECIPROCAL = bp.Activation("bad_reciprocal", bad_reciprocal, bad_reciprocal_prime)
BAD_EXP = bp.Activation("bad_exp", bad_exp, bad_exp)
BAD_SLOPE = bp.Activation("bad_slope", bad_slope, bad_slope_prime)
STEEP = bp.Activation("steep", steep, steep_prime)
BAD_COST = bp.Loss("bad_cost", bad_cost, bad_cost_grad)


def faulty(activation: bp.Activation | str, dtype: str, loss: bp.Loss | str = "quadratic") -> bp.Network:
    """[2, 2, 1] with the plugin in layer 1 and z¹ = x exactly (identity weights, zero biases)."""
    net = bp.Network([2, 2, 1], [activation, "identity"], loss, dtype=dtype)
    net.weights[1] = [[1.0, 0.0], [0.0, 1.0]]
    net.biases[1] = [0.0, 0.0]
    net.weights[2] = [[1.0, 1.0]]
    net.biases[2] = [0.0]
    return net


SIGMA_FAULTS = [
    pytest.param(BAD_LOG, [[0.5, -1.0]], "returned nan", "at z=-1.0", id="nan"),
    pytest.param(BAD_RECIPROCAL, [[0.0, 1.0]], "returned inf", "at z=0.0", id="divide-by-zero"),
    pytest.param(BAD_EXP, [[1000.0, 1.0]], "returned inf", "at z=1000.0", id="overflow"),
]


def assert_names_the_plugin(message: str, name: str, returned: str, at: str) -> None:
    assert f"activation '{name}'" in message, message
    assert returned in message, message
    assert at in message, message


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("activation", "X", "returned", "at"), SIGMA_FAULTS)
def test_fit_stops_naming_the_activation_and_the_input(activation, X, returned, at, dtype):
    net = faulty(activation, dtype)
    before = net.parameters()
    with pytest.raises(bp.DivergenceError) as info:
        net.fit(X, [[0.0]], epochs=2, batch_size=1, eta=0.1, verbose=0)
    assert_names_the_plugin(str(info.value), activation.name, returned, at)
    assert net.parameters().tobytes() == before.tobytes()


@pytest.mark.parametrize("call", ["feedforward", "predict", "backprop", "evaluate"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("activation", "X", "returned", "at"), SIGMA_FAULTS)
def test_finite_inputs_giving_a_non_finite_output_name_the_activation(activation, X, returned, at, dtype, call):
    net = faulty(activation, dtype)
    method = getattr(net, call)
    with pytest.raises(bp.PluginError) as info:
        method(X) if call in ("feedforward", "predict") else method(X, [[0.0]])
    assert_names_the_plugin(str(info.value), activation.name, returned, at)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("activation", "X"), [(BAD_LOG, [[0.5, 2.0]]), (BAD_EXP, [[1.0, -3.0]])])
def test_a_plugin_is_not_blamed_where_it_is_finite(activation, X, dtype):
    out = faulty(activation, dtype).feedforward(X)
    assert np.isfinite(out).all()


def test_the_float32_only_overflow_of_a_sigma_is_found_in_the_compiled_values():
    """exp(100) is 2.7e43 in float64 but inf in float32: the diagnosis must use what the kernel computed."""
    with pytest.raises(bp.PluginError) as info:
        faulty(BAD_EXP, "float32").feedforward([[100.0, 0.0]])
    assert_names_the_plugin(str(info.value), "bad_exp", "returned inf", "at z=100.0")
    assert np.isfinite(faulty(BAD_EXP, "float64").feedforward([[100.0, 0.0]])).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_derivative_returning_nan_is_named_by_fit_and_backprop_but_not_feedforward(dtype):
    X = [[0.5, -1.0]]
    assert np.isfinite(faulty(BAD_SLOPE, dtype).feedforward(X)).all()
    with pytest.raises(bp.PluginError) as info:
        faulty(BAD_SLOPE, dtype).backprop(X, [[0.0]])
    assert "activation 'bad_slope'" in str(info.value) and "sigma_prime returned nan at z=-1.0" in str(info.value)
    with pytest.raises(bp.DivergenceError) as info:
        faulty(BAD_SLOPE, dtype).fit(X, [[0.0]], epochs=1, batch_size=1, verbose=0)
    assert "activation 'bad_slope'" in str(info.value) and "sigma_prime returned nan at z=-1.0" in str(info.value)


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_loss_returning_nan_is_named_with_the_output_and_target(dtype):
    X, Y = [[0.5, -1.0]], [[5.0]]  # output 0.5 − 1.0 = −0.5 < 5
    with pytest.raises(bp.PluginError) as info:
        faulty("identity", dtype, BAD_COST).evaluate(X, Y)
    assert "loss 'bad_cost'" in str(info.value) and "its cost returned nan at a=-0.5, y=5.0" in str(info.value)
    with pytest.raises(bp.DivergenceError) as info:
        faulty("identity", dtype, BAD_COST).fit(X, Y, epochs=1, batch_size=1, verbose=0)
    assert "loss 'bad_cost'" in str(info.value) and "returned nan at a=-0.5, y=5.0" in str(info.value)


def test_the_float32_only_overflow_of_a_derivative_is_named():
    net = faulty(STEEP, "float32")
    with pytest.raises(bp.DivergenceError) as info:
        net.fit([[100.0, 1.0]], [[0.0]], epochs=1, batch_size=1, eta=0.1, verbose=0)
    assert_names_the_plugin(str(info.value), "steep", "returned inf", "at z=100.0")
