"""Bad input is rejected before any work with a message naming the argument, the value and what was expected."""

from __future__ import annotations

import numpy as np
import pytest

import bpframe as bp


@pytest.fixture(scope="module")
def net():
    return bp.Network([3, 4, 2], ["tanh", "softmax"], "cross_entropy", seed=0)


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ("784,30", "sizes must be a list of layer sizes such as [784, 30, 10], got str '784,30'"),
        ([784], "sizes needs at least two layers (input and output), got 1: [784]"),
        ([784, 0, 10], "sizes[1] must be an int >= 1, got 0 (sizes=[784, 0, 10])"),
        ([784, 2.5, 10], "sizes[1] must be an int >= 1, got 2.5"),
        ([784, True, 10], "sizes[1] must be an int >= 1, got True"),
    ],
)
def test_bad_sizes(sizes, message):
    with pytest.raises(bp.ConfigurationError) as info:
        bp.Network(sizes)
    assert message in str(info.value)


def test_bad_configuration_messages():
    with pytest.raises(bp.ConfigurationError, match=r"activation lists 1 activations \['relu'\] but the network has 2"):
        bp.Network([2, 3, 1], ["relu"])
    with pytest.raises(bp.ConfigurationError, match=r"dtype must be 'float32' or 'float64', got 'float16'"):
        bp.Network([2, 1], dtype="float16")
    with pytest.raises(bp.UnknownNameError, match=r"unknown initializer 'xavier'; available: glorot, he, "):
        bp.Network([2, 1], init="xavier")
    with pytest.raises(bp.ConfigurationError, match=r"seed must be None or an int >= 0, got -1"):
        bp.Network([2, 1], seed=-1)
    with pytest.raises(
        bp.ConfigurationError, match=r"activation\[1\] must be an activation name or a bpframe.Activation, got 3"
    ):
        bp.Network([2, 2, 1], ["relu", 3])
    with pytest.raises(bp.ConfigurationError, match=r"loss must be a loss name or a bpframe\.Loss, got None"):
        bp.Network([2, 1], loss=None)


@pytest.mark.parametrize(
    ("X", "message"),
    [
        (
            np.ones(3),
            "X must be a 2-D array of shape (n_samples, 3), got 1-D shape (3,); for one sample use X.reshape(1, -1)",
        ),
        (np.ones((2, 3, 1)), "X must be a 2-D array of shape (n_samples, 3), got 3-D shape (2, 3, 1)"),
        (np.ones((0, 3)), "X is empty (shape (0, 3)); at least one sample is needed"),
        (np.ones((2, 5)), "X has 5 features per sample (shape (2, 5)) but the network's input layer has 3"),
        (np.array([[1.0, np.nan, 0.0]]), "X contains 1 non-finite value(s) (NaN or inf); the first is X[0, 1] = nan"),
        (np.array([["a", "b", "c"]]), "X must hold real numbers (bool, int or float), got an array of dtype <U1"),
        (
            np.ones((1, 3), dtype=complex),
            "X must hold real numbers (bool, int or float), got an array of dtype complex128",
        ),
        (
            np.array([[1, None, 2]], dtype=object),
            "X must hold real numbers (bool, int or float), got an array of dtype object",
        ),
    ],
)
def test_bad_inputs(net, X, message):
    with pytest.raises(bp.DataError) as info:
        net.feedforward(X)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("Y", "message"),
    [
        (np.ones((2, 3)), "Y has 3 columns (shape (2, 3)) but the network's output layer has 2 units"),
        (np.ones((3, 2)) * 0.5, "Y has 3 rows but X has 2; they must match one to one"),
        (np.array([0, 2]), "Y holds class label 2, outside 0..1 for a network with 2 outputs"),
        (np.array([0.5, 1.0]), "Y is 1-D, so it is read as class labels, but it holds non-integer values (e.g. 0.5)"),
        (
            np.array([[2.0, 0.0], [0.0, 1.0]]),
            "Y has values in [0.0, 2.0] but loss 'cross_entropy' needs targets in [0.0, 1.0]",
        ),
        (
            np.array([[np.inf, 0.0], [0.0, 1.0]]),
            "Y contains 1 non-finite value(s) (NaN or inf); the first is Y[0, 0] = inf",
        ),
    ],
)
def test_bad_targets(net, Y, message):
    with pytest.raises(bp.DataError) as info:
        net.backprop(np.zeros((2, 3)), Y)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"eta": 0.0}, "eta must be > 0, got 0.0"),
        ({"eta": float("nan")}, "eta must be finite, got nan"),
        ({"eta": "0.1"}, "eta must be a number, got str '0.1'"),
        ({"batch_size": 0}, "batch_size must be an int >= 1, got 0"),
        ({"epochs": 0}, "epochs must be an int >= 1, got 0"),
        ({"lmbda": -1.0}, "lmbda must be >= 0, got -1.0"),
        ({"verbose": 5}, "verbose must be 0, 1 or 2, got 5"),
        ({"validation_data": np.ones((2, 3))}, "validation_data must be a pair (X_val, Y_val)"),
    ],
)
def test_bad_fit_settings_are_rejected_before_any_work(net, kwargs, message):
    before = net.parameters()
    with pytest.raises(bp.ConfigurationError) as info:
        net.fit(np.zeros((4, 3)), [0, 1, 0, 1], **kwargs)
    assert message in str(info.value)
    np.testing.assert_array_equal(net.parameters(), before)


@pytest.mark.parametrize(
    "X",
    [
        np.array([[1, 0, 1]], dtype=np.int64),
        np.array([[True, False, True]]),
        np.array([[1, 0, 1]], dtype=np.float16),
        np.asfortranarray(np.ones((4, 3))),
        np.ones((4, 6))[:, ::2],
    ],
    ids=["int", "bool", "float16", "fortran", "strided"],
)
def test_any_real_array_layout_is_accepted_and_left_untouched(net, X):
    original = X.copy()
    X.setflags(write=False)
    out = net.feedforward(X)
    expected = net.feedforward(np.array(X, dtype=np.float64, order="C"))
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(X, original)


def test_weights_are_settable_with_checks(net):
    with pytest.raises(bp.DataError, match=r"weights\[1\] must have shape \(4, 3\), got \(3, 4\)"):
        net.weights[1] = np.ones((3, 4))
    with pytest.raises(bp.DataError, match=r"biases\[2\] must be finite"):
        net.biases[2] = [np.nan, 0.0]
    with pytest.raises(
        IndexError, match=r"weights\[0\] does not exist: layers are numbered 1 to 2 \(layer 0 is the input"
    ):
        net.weights[0]
    with pytest.raises(IndexError, match=r"biases\[3\] does not exist"):
        net.biases[3]


def test_batch_larger_than_the_data_is_one_full_batch():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(5, 2)), rng.normal(size=(5, 1))
    a = bp.Network([2, 3, 1], ["tanh", "identity"], "quadratic", seed=0)
    b = bp.Network([2, 3, 1], ["tanh", "identity"], "quadratic", seed=0)
    a.fit(X, Y, epochs=2, batch_size=500, eta=0.1, verbose=0, shuffle=False)
    b.fit(X, Y, epochs=2, batch_size=5, eta=0.1, verbose=0, shuffle=False)
    np.testing.assert_array_equal(a.parameters(), b.parameters())


def test_activation_and_loss_specs_validate_themselves():
    with pytest.raises(bp.ConfigurationError, match="activation name must be a lower-case identifier"):
        bp.Activation("Bad Name", abs, abs)
    with pytest.raises(bp.ConfigurationError, match="an elementwise activation must provide sigma_prime="):
        bp.Activation("half", abs)
    with pytest.raises(bp.ConfigurationError, match="a non-elementwise activation must provide vjp="):
        bp.Activation("vec", elementwise=False, forward=abs)
    with pytest.raises(bp.ConfigurationError, match=r"loss 'l': nabla_a must be a function, got 3"):
        bp.Loss("l", abs, 3)


def test_cross_entropy_targets_must_be_probability_rows(net):
    with pytest.raises(bp.DataError, match=r"Y\[1\] sums to 0\.5, but loss 'cross_entropy' needs every target row"):
        net.backprop(np.zeros((2, 3)), [[1.0, 0.0], [0.25, 0.25]])
    g = net.backprop(np.zeros((2, 3)), [[0.3, 0.7], [1.0, 0.0]])  # soft labels are fine
    assert np.isfinite(g.cost)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "make",
    [
        lambda rng, dt: rng.normal(size=(30, 4)).astype(dt),  # used as it is
        lambda rng, dt: np.asfortranarray(rng.normal(size=(30, 4))).astype(dt, order="F"),  # copied to C order
        lambda rng, dt: rng.integers(-50, 50, (30, 4)),  # converted from integers
        lambda rng, dt: rng.normal(size=(30, 4)).astype(np.float16),  # converted from another float dtype
    ],
    ids=["as-is", "fortran", "ints", "float16"],
)
def test_inputs_come_with_their_largest_magnitude(dtype, make):
    from bpframe.validation import as_inputs_with_bound

    X = make(np.random.default_rng(2), dtype)
    x, top = as_inputs_with_bound("X", X, 4, np.dtype(dtype))
    assert x.dtype == dtype and x.flags.c_contiguous
    assert top == float(np.abs(x).max())
    assert (x is X) == (X.dtype == dtype and X.flags.c_contiguous)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.nan, -np.inf])
def test_a_non_finite_input_is_named_whichever_check_finds_it(dtype, bad):
    from bpframe.validation import as_inputs_with_bound

    X = np.ones((5, 3), dtype)
    X[3, 1] = bad
    expected = r"^X contains 1 non-finite value\(s\) \(NaN or inf\); the first is X\[3, 1\] = "
    with pytest.raises(bp.DataError, match=expected):
        as_inputs_with_bound("X", X, 3, np.dtype(dtype))
    with pytest.raises(bp.DataError, match=r"the first is X\[3, 1\]"):
        as_inputs_with_bound("X", np.asfortranarray(X), 3, np.dtype(dtype))
