"""Property-based: over network shapes, activations, losses, dtypes and input values,

1. back-propagation's gradients match central differences wherever the functions are smooth;
2. finite inputs of moderate size give finite outputs, costs and gradients, in float32 as in float64;
3. any array or nested list at all, fed to the public calls, either works or raises a ``bp.BpframeError`` —
   never a numba, NumPy or built-in error.

Activations and losses come from a short fixed list of whole configurations, not free combinations: every new
(activations, loss) pair compiles a kernel, so hypothesis varies the shapes, seeds, dtypes and values instead.
"""

from __future__ import annotations

from typing import Any

import hypothesis.extra.numpy as npst
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import bpframe as bp

settings.register_profile(
    "bpframe-properties",
    max_examples=100,
    deadline=None,  # the first example of a configuration may compile its kernels
    database=None,  # nothing written into the source tree
    derandomize=True,  # the same examples on every run: a failure is reproducible, the suite never flaky
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = settings.get_profile("bpframe-properties")

#: (activation per layer after the input, loss): 2 to 4 layers, smooth everywhere, each loss with outputs it fits.
SMOOTH = [
    (("sigmoid",), "quadratic"),
    (("tanh", "identity"), "quadratic"),
    (("softplus", "softmax"), "cross_entropy"),
    (("tanh", "sigmoid"), "binary_cross_entropy"),
    (("sigmoid", "tanh", "softmax"), "cross_entropy"),
    (("identity", "softplus", "tanh"), "quadratic"),
]
GRID = st.integers(-200, 200).map(lambda k: k / 100)  # [-2, 2] in steps of 0.01: no subnormal near-zeros


@st.composite
def problems(draw: st.DrawFn, values: st.SearchStrategy[float] = GRID) -> tuple[bp.Network, np.ndarray, Any]:
    """A network of a SMOOTH configuration with drawn sizes and seed, a batch X and fitting targets Y."""
    activations, loss = draw(st.sampled_from(SMOOTH))
    dtype = draw(st.sampled_from(["float64", "float32"]))
    least_outputs = 2 if activations[-1] == "softmax" else 1  # one softmax unit is constant
    hidden = [draw(st.integers(1, 6)) for _ in activations[:-1]]
    sizes = [draw(st.integers(1, 6)), *hidden, draw(st.integers(least_outputs, 6))]
    net = bp.Network(sizes, list(activations), loss, dtype=dtype, seed=draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(1, 5))
    X = draw(npst.arrays(np.float64, (n, sizes[0]), elements=values))
    if loss == "cross_entropy":
        Y: Any = draw(npst.arrays(np.int64, n, elements=st.integers(0, sizes[-1] - 1)))
    elif loss == "binary_cross_entropy":
        Y = draw(npst.arrays(np.float64, (n, sizes[-1]), elements=st.integers(0, 100).map(lambda k: k / 100)))
    else:
        Y = draw(npst.arrays(np.float64, (n, sizes[-1]), elements=GRID))
    return net, X, Y


# -- 1. gradients ---------------------------------------------------------------------------------------------------


@PROFILE
@given(problems())
def test_gradients_match_central_differences(problem):
    net, X, Y = problem
    g = net.backprop(X, Y)
    # the relative error is per layer, against the layer's largest entry: a layer whose gradient is not exactly 0
    # but tiny would measure rounding, not the equations
    scales = [float(np.abs(v).max()) for l in range(1, net.num_layers + 1) for v in (g.nabla_w[l], g.nabla_b[l])]
    assume(all(s == 0.0 or s > 1e-4 for s in scales))
    result = bp.gradient_check(net, X, Y, entries=None)  # in float64 whatever the network's dtype
    assert result.checked == net.parameters().size
    assert result.max_error < 1e-5, f"{net!r}\n{result}"


# -- 2. finite in, finite out -----------------------------------------------------------------------------------------

MODERATE = st.floats(-1000.0, 1000.0, allow_nan=False, allow_infinity=False, width=32)


@pytest.mark.jit  # float32 scalars mix with Python floats the numba way only when compiled
@PROFILE
@given(problems(values=MODERATE))
def test_finite_inputs_of_moderate_size_give_finite_outputs_costs_and_gradients(problem):
    net, X, Y = problem
    out = net.feedforward(X)
    assert out.dtype == net.dtype and np.isfinite(out).all(), (net, X, out)
    g = net.backprop(X, Y)
    assert np.isfinite(g.cost)
    for l in range(1, net.num_layers + 1):
        assert np.isfinite(g.nabla_w[l]).all() and np.isfinite(g.nabla_b[l]).all(), (net, X, l)
    assert np.isfinite(net.evaluate(X, Y)["cost"])


# -- 3. anything at all is either accepted or refused with bpframe's own error ---------------------------------------

ANY_DTYPE = st.one_of(
    npst.boolean_dtypes(),
    npst.integer_dtypes(),
    npst.unsigned_integer_dtypes(),
    npst.floating_dtypes(),
    npst.complex_number_dtypes(),
    npst.datetime64_dtypes(),
    npst.unicode_string_dtypes(max_len=3),
    npst.byte_string_dtypes(max_len=3),
)
SHAPES = npst.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
SCALARS = st.one_of(
    st.integers(-(2**70), 2**70), st.floats(), st.booleans(), st.none(), st.text(max_size=2), st.complex_numbers()
)
NESTED = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4), max_leaves=16)
REAL_DTYPE = st.one_of(
    npst.boolean_dtypes(), npst.integer_dtypes(), npst.unsigned_integer_dtypes(), npst.floating_dtypes()
)
#: inputs and targets of the shapes a network with 3 inputs and 2 outputs takes for 2 samples, so that the values
#: (extreme ints, NaN, inf, out-of-range labels and targets) are tested too, not only the shapes
X_LIKE = npst.arrays(REAL_DTYPE, (2, 3))
Y_LIKE = st.one_of(
    npst.arrays(np.int64, (2,), elements=st.integers(-1, 2)),
    npst.arrays(REAL_DTYPE, (2, 2)),
    npst.arrays(np.float64, (2, 2), elements=st.floats(-0.5, 1.5)),
)
ANYTHING = st.one_of(npst.arrays(ANY_DTYPE, SHAPES), NESTED)


def within_float32(value: Any) -> bool:
    """False for float data a float32 network cannot hold (test_inputs.py checks that such data is refused)."""
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        return True  # refused before any conversion
    if array.dtype.kind != "f" or array.dtype.itemsize <= 4 or array.size == 0:
        return True
    finite = array[np.isfinite(array)]
    return finite.size == 0 or bool(np.abs(finite).max() <= np.finfo(np.float32).max)


NETWORKS = {dtype: bp.Network([3, 4, 2], ["tanh", "softmax"], "cross_entropy", dtype=dtype, seed=0) for dtype in
            ("float64", "float32")}  # fmt: skip
CALLS = {
    "feedforward": lambda net, X, Y: net.feedforward(X),
    "predict": lambda net, X, Y: net.predict(X),
    "backprop": lambda net, X, Y: net.backprop(X, Y),
    "evaluate": lambda net, X, Y: net.evaluate(X, Y),
    "fit": lambda net, X, Y: net.fit(X, Y, epochs=1, batch_size=2, verbose=0),
    "fit-validation": lambda net, X, Y: net.fit(np.zeros((2, 3)), [0, 1], epochs=1, verbose=0, validation_data=(X, Y)),
    "gradient_check": lambda net, X, Y: bp.gradient_check(net, X, Y, entries=3),
}


@settings(PROFILE, max_examples=500)
@given(
    call=st.sampled_from(sorted(CALLS)),
    dtype=st.sampled_from(sorted(NETWORKS)),
    X=st.one_of(X_LIKE, ANYTHING),
    Y=st.one_of(Y_LIKE, ANYTHING),
)
def test_any_input_is_accepted_or_refused_with_a_bpframe_error(call, dtype, X, Y):
    if dtype == "float32":
        assume(within_float32(X) and within_float32(Y))
    net = NETWORKS[dtype]
    theta = net.parameters()
    try:
        CALLS[call](net, X, Y)
    except bp.BpframeError:
        pass
    finally:
        net.set_parameters(theta)  # a fit that worked must not change the next example's network


@pytest.mark.parametrize(
    ("X", "Y"),
    [
        ([[1, 2**70, 3]], [0]),  # beyond int64: NumPy makes an object array
        ([[1.0, 2.0, 3.0], [1.0, 2.0]], [0, 1]),  # ragged
        ([[[1.0, 2.0, 3.0]]], [[0, 1]]),  # one level too deep
        ([[1.0, None, 3.0]], [0]),
        ([[1.0, "2", 3.0]], [0]),
        ([[1.0, 2.0, 3.0j]], [0]),
        (np.zeros((1, 3)), [[0.5, float("nan")]]),
        (np.zeros((1, 3)), [True]),
        (np.zeros((1, 3), dtype=np.float16), np.array([1], dtype=np.uint64)),
        (np.array([[1e308, -1e308, 1e308]]), [1]),  # finite but huge: the output may be NaN; no crash
    ],
)
def test_hand_picked_oddities(X, Y):
    net = NETWORKS["float64"]
    theta = net.parameters()
    for call in CALLS.values():
        try:
            call(net, X, Y)
        except bp.BpframeError:
            pass
        finally:
            net.set_parameters(theta)
