"""Inputs: every public entry point that takes data rejects bad X and Y with a DataError naming the
argument, the value or shape received and what was expected; every real dtype and memory layout is accepted and
the caller's arrays are left byte-identical; every invalid setting of ``Network`` and ``fit`` is rejected before
any work (parameters, history and optimizer state unchanged, no kernel compiled).

The oracle for accepted inputs is the same call on ``np.array(V, dtype=net.dtype, order="C")``: converting once
must give bit-identical results, whatever the dtype or layout the caller passed.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import bpframe as bp

SIZES, ACTIVATIONS, LOSS = [3, 4, 2], ["tanh", "softmax"], "cross_entropy"  # 3 features, 2 classes
GOOD_X = np.array([[0.5, -1.0, 0.25], [1.0, 0.0, -0.5]])
GOOD_Y = np.array([0, 1])


def fresh(dtype: str = "float64") -> bp.Network:
    """A network on which nothing has run yet: no kernel, no history, no optimizer state."""
    return bp.Network(SIZES, ACTIVATIONS, LOSS, dtype=dtype, seed=0)


@dataclass(frozen=True)
class Snapshot:
    """What 'before any work' means for a network: all of it is unchanged after a rejected call."""

    theta: bytes
    history: dict[str, list[Any]]
    engine: object
    optimizer_state: object

    @classmethod
    def of(cls, net: bp.Network) -> Snapshot:
        return cls(net.parameters().tobytes(), net.history.as_dict(), net._model._program, net._model.optimizer)

    def assert_unchanged(self, net: bp.Network) -> None:
        assert net.parameters().tobytes() == self.theta, "parameters changed"
        assert net.history.as_dict() == self.history, "history changed"
        assert net._model._program is self.engine, "a kernel was built"
        assert net._model.optimizer is self.optimizer_state, "optimizer state changed"


# -- the entry points that take data ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A public call that takes X (and maybe Y), and the names its messages use for them."""

    call: Callable[[bp.Network, Any, Any], Any]
    x_name: str = "X"
    y_name: str = "Y"
    takes_y: bool = True


ENTRIES = {
    "feedforward": Entry(lambda net, X, Y: net.feedforward(X), takes_y=False),
    "predict": Entry(lambda net, X, Y: net.predict(X), takes_y=False),
    "backprop": Entry(lambda net, X, Y: net.backprop(X, Y)),
    "evaluate": Entry(lambda net, X, Y: net.evaluate(X, Y)),
    "fit": Entry(lambda net, X, Y: net.fit(X, Y, epochs=1, batch_size=1, verbose=0)),
    "fit-validation_data": Entry(
        lambda net, X, Y: net.fit(GOOD_X, GOOD_Y, epochs=1, verbose=0, validation_data=(X, Y)),
        x_name="validation_data[0]",
        y_name="validation_data[1]",
    ),
    "gradient_check": Entry(lambda net, X, Y: bp.gradient_check(net, X, Y)),
}
WITH_Y = [name for name, entry in ENTRIES.items() if entry.takes_y]


def _with_nan(value: float, where: tuple[int, int] = (1, 2)) -> np.ndarray:
    X = GOOD_X.copy()
    X[where] = value
    return X


BAD_X = {
    "nan": (_with_nan(np.nan), "{x} contains 1 non-finite value(s) (NaN or inf); the first is {x}[1, 2] = nan"),
    "+inf": (_with_nan(np.inf), "{x} contains 1 non-finite value(s) (NaN or inf); the first is {x}[1, 2] = inf"),
    "-inf": (_with_nan(-np.inf, (0, 0)), "the first is {x}[0, 0] = -inf"),
    "float16-inf": (_with_nan(np.inf).astype(np.float16), "the first is {x}[1, 2] = inf"),
    "two-nan": (np.full((2, 3), np.nan), "{x} contains 6 non-finite value(s) (NaN or inf); the first is {x}[0, 0]"),
    "1-D": (
        np.zeros(3),
        "{x} must be a 2-D array of shape (n_samples, 3), got 1-D shape (3,); for one sample use {x}.reshape(1, -1)",
    ),
    "3-D": (np.zeros((2, 3, 1)), "{x} must be a 2-D array of shape (n_samples, 3), got 3-D shape (2, 3, 1)"),
    "0-D": (1.5, "{x} must be a 2-D array of shape (n_samples, 3), got 0-D shape ()"),
    "empty": (np.zeros((0, 3)), "{x} is empty (shape (0, 3)); at least one sample is needed"),
    "empty-list": ([], "{x} must be a 2-D array of shape (n_samples, 3), got 1-D shape (0,)"),
    "too-many-features": (
        np.zeros((2, 5)),
        "{x} has 5 features per sample (shape (2, 5)) but the network's input layer has 3",
    ),
    "too-few-features": (np.zeros((2, 1)), "{x} has 1 features per sample (shape (2, 1))"),
    "no-features": (np.zeros((2, 0)), "{x} has 0 features per sample (shape (2, 0))"),
    "complex": (
        GOOD_X.astype(complex),
        "{x} must hold real numbers (bool, int or float), got an array of dtype complex128 (shape (2, 3))",
    ),
    "string": (GOOD_X.astype(str), "{x} must hold real numbers (bool, int or float), got an array of dtype <U"),
    "mixed-list": (
        [[1, "a", 2.0], [0, 0, 0]],
        "{x} must hold real numbers (bool, int or float), got an array of dtype <U",
    ),
    "object": (
        np.array([[1, None, 2], [0, 0, 0]], dtype=object),
        "{x} must hold real numbers (bool, int or float), got an array of dtype object (shape (2, 3))",
    ),
    "None": (None, "{x} must hold real numbers (bool, int or float), got an array of dtype object (shape ())"),
    "ragged": ([[1, 2, 3], [1, 2]], "{x} must be a numeric array; it could not be converted: "),
    "datetime": (np.zeros((2, 3), dtype="M8[s]"), "got an array of dtype datetime64[s] (shape (2, 3))"),
}

BAD_Y = {
    "nan": (
        np.array([[np.nan, 1.0], [1.0, 0.0]]),
        "{y} contains 1 non-finite value(s) (NaN or inf); the first is {y}[0, 0] = nan",
    ),
    "inf-label": (
        np.array([0.0, np.inf]),
        "{y} contains 1 non-finite value(s) (NaN or inf); the first is {y}[1] = inf",
    ),
    "too-few-rows": (np.array([[0.0, 1.0]]), "{y} has 1 rows but {x} has 2; they must match one to one"),
    "too-many-labels": (np.array([0, 1, 1]), "{y} has 3 rows but {x} has 2; they must match one to one"),
    "one-column-for-two-outputs": (
        np.zeros((2, 1)),
        "{y} has 1 columns (shape (2, 1)) but the network's output layer has 2 units",
    ),
    "three-columns": (np.zeros((2, 3)), "{y} has 3 columns (shape (2, 3)) but the network's output layer has 2 units"),
    "3-D": (
        np.zeros((2, 2, 1)),
        "{y} must be class labels of shape (n_samples,) or targets of shape (n_samples, 2), got 3-D shape (2, 2, 1)",
    ),
    "0-D": (1, "{y} must be class labels of shape (n_samples,) or targets of shape (n_samples, 2), got 0-D shape ()"),
    "label-too-big": (np.array([0, 2]), "{y} holds class label 2, outside 0..1 for a network with 2 outputs"),
    "label-negative": (np.array([-1, 0]), "{y} holds class label -1, outside 0..1 for a network with 2 outputs"),
    "label-huge-unsigned": (np.array([0, 2**63], dtype=np.uint64), "{y} holds class label 9223372036854775808"),
    "label-not-integer": (
        np.array([0.0, 0.5]),
        "{y} is 1-D, so it is read as class labels, but it holds non-integer values (e.g. 0.5); "
        "pass targets of shape (n, 2) instead",
    ),
    "target-above-1": (
        np.array([[2.0, 0.0], [0.0, 1.0]]),
        "{y} has values in [0.0, 2.0] but loss 'cross_entropy' needs targets in [0.0, 1.0]",
    ),
    "target-below-0": (np.array([[-0.5, 1.0], [0.0, 1.0]]), "{y} has values in [-0.5, 1.0] but loss 'cross_entropy'"),
    "complex": (
        np.zeros((2, 2), dtype=complex),
        "{y} must hold real numbers (bool, int or float), got an array of dtype complex128",
    ),
    "string": (
        np.array(["0", "1"]),
        "{y} must hold real numbers (bool, int or float), got an array of dtype <U1 (shape (2,))",
    ),
    "object": (np.array([[0, None], [1, 0]], dtype=object), "got an array of dtype object (shape (2, 2))"),
    "None": (None, "{y} must hold real numbers (bool, int or float), got an array of dtype object (shape ())"),
    "empty-labels": (np.array([], dtype=np.int64), "{y} is empty; at least one sample is needed"),
}


def _bad_x_cases():
    for entry in ENTRIES:
        for case, (X, message) in BAD_X.items():
            yield pytest.param(entry, X, message, id=f"{entry}-{case}")


def _bad_y_cases():
    for entry in WITH_Y:
        for case, (Y, message) in BAD_Y.items():
            yield pytest.param(entry, Y, message, id=f"{entry}-{case}")


@pytest.mark.parametrize(("entry", "X", "message"), list(_bad_x_cases()))
def test_bad_x_is_a_data_error_naming_it_before_any_work(entry, X, message):
    net = fresh()
    before = Snapshot.of(net)
    with pytest.raises(bp.DataError) as info:
        ENTRIES[entry].call(net, X, GOOD_Y)
    names = ENTRIES[entry]
    assert message.format(x=names.x_name, y=names.y_name) in str(info.value)
    before.assert_unchanged(net)


@pytest.mark.parametrize(("entry", "Y", "message"), list(_bad_y_cases()))
def test_bad_y_is_a_data_error_naming_it_before_any_work(entry, Y, message):
    net = fresh()
    before = Snapshot.of(net)
    with pytest.raises(bp.DataError) as info:
        ENTRIES[entry].call(net, GOOD_X, Y)
    names = ENTRIES[entry]
    assert message.format(x=names.x_name, y=names.y_name) in str(info.value)
    before.assert_unchanged(net)


@pytest.mark.parametrize(
    ("Y", "message"),
    [
        ([1.5, 0.0], "{y} has values in [0.0, 1.5] but loss 'binary_cross_entropy' needs targets in [0.0, 1.0]"),
        ([[-1.0], [0.0]], "{y} has values in [-1.0, 0.0] but loss 'binary_cross_entropy' needs targets in [0.0, 1.0]"),
        (np.array([2, 0]), "{y} has values in [0, 2] but loss 'binary_cross_entropy' needs targets in [0.0, 1.0]"),
        (np.zeros((2, 2)), "{y} has 2 columns (shape (2, 2)) but the network's output layer has 1 units"),
    ],
)
@pytest.mark.parametrize("entry", WITH_Y)
def test_single_output_targets_outside_0_1_or_of_the_wrong_width(entry, Y, message):
    """A (n,) vector for one output unit is read as targets, not labels: its values must fit the loss."""
    net = bp.Network([3, 4, 1], ["tanh", "sigmoid"], "binary_cross_entropy", seed=0)
    before = Snapshot.of(net)
    with pytest.raises(bp.DataError) as info:
        ENTRIES[entry].call(net, GOOD_X, Y)
    assert message.format(y=ENTRIES[entry].y_name) in str(info.value)
    before.assert_unchanged(net)


def test_nan_in_a_memory_mapped_file_is_rejected_and_the_file_untouched(tmp_path):
    X = memmap_of(_with_nan(np.nan), tmp_path / "x.dat")
    on_disk = (tmp_path / "x.dat").read_bytes()
    with pytest.raises(
        bp.DataError, match=r"X contains 1 non-finite value\(s\) \(NaN or inf\); the first is X\[1, 2\]"
    ):
        fresh().fit(X, GOOD_Y, epochs=1, verbose=0)
    assert (tmp_path / "x.dat").read_bytes() == on_disk


# -- values that overflow the network's dtype when converted ---------------------------------------------------


@pytest.mark.parametrize("value", [1e39, -1e39, 1.7976931348623157e308])
def test_inputs_beyond_float32_are_rejected_by_a_float32_network(value):
    net = fresh("float32")
    X = GOOD_X.copy()
    X[1, 0] = value
    with pytest.raises(bp.DataError) as info:
        net.feedforward(X)
    message = str(info.value)
    assert f"X[1, 0] = {value!r}" in message and "float32" in message


def test_targets_beyond_float32_are_rejected_by_a_float32_network():
    net = bp.Network([3, 1], "identity", "quadratic", dtype="float32")
    with pytest.raises(bp.DataError) as info:
        net.backprop(GOOD_X, [[0.0], [1e39]])
    message = str(info.value)
    assert "Y[1, 0] = 1e+39" in message and "float32" in message


@pytest.mark.skipif(np.finfo(np.longdouble).max <= np.finfo(np.float64).max, reason="long double is float64 here")
def test_long_double_beyond_float64_is_rejected():
    X = GOOD_X.astype(np.longdouble)
    X[0, 1] = np.longdouble("1e400")
    with pytest.raises(bp.DataError) as info:
        fresh().feedforward(X)
    assert "X[0, 1]" in str(info.value) and "float64" in str(info.value)


# -- every real dtype and layout is accepted, converted once, and left untouched ----------------------------------

BASE_X = np.array([[0.5, -1.0, 0.25], [1.0, 0.0, -0.5], [-0.75, 2.0, 1.5], [0.0, 0.125, -2.0], [1.25, -0.25, 0.0]])
BASE_Y = np.eye(2)[[0, 1, 1, 0, 1]]


def memmap_of(array: np.ndarray, path) -> np.memmap:
    """``array`` written to ``path`` and mapped back read-only (mode "r")."""
    writer = np.memmap(path, dtype=array.dtype, mode="w+", shape=array.shape)
    writer[...] = array
    writer.flush()
    del writer
    return np.memmap(path, dtype=array.dtype, mode="r", shape=array.shape)


def _read_only(a: np.ndarray) -> np.ndarray:
    a = a.copy()
    a.setflags(write=False)
    return a


def _unaligned(a: np.ndarray) -> np.ndarray:
    raw = np.zeros(a.nbytes + 1, dtype=np.uint8)[1:]
    out = raw.view(a.dtype).reshape(a.shape)
    out[...] = a
    return out


LAYOUTS: dict[str, Callable[[np.ndarray, Any], Any]] = {
    "float64": lambda a, tmp: a.copy(),
    "float32": lambda a, tmp: a.astype(np.float32),
    "float16": lambda a, tmp: a.astype(np.float16),
    "int64": lambda a, tmp: np.round(a).astype(np.int64),
    "int8": lambda a, tmp: np.round(a).astype(np.int8),
    "uint8": lambda a, tmp: np.abs(np.round(a)).astype(np.uint8),
    "bool": lambda a, tmp: a > 0,
    "read-only": lambda a, tmp: _read_only(a),
    "read-only-float32": lambda a, tmp: _read_only(a.astype(np.float32)),
    "memmap": lambda a, tmp: memmap_of(a, tmp / f"m{id(a)}.dat"),
    "memmap-int32": lambda a, tmp: memmap_of(np.round(a).astype(np.int32), tmp / f"i{id(a)}.dat"),
    "fortran": lambda a, tmp: np.asfortranarray(a),
    "strided": lambda a, tmp: np.repeat(a, 2, axis=1)[:, ::2],
    "reversed": lambda a, tmp: a[::-1].copy()[::-1],
    "broadcast": lambda a, tmp: np.broadcast_to(a[:1], a.shape),
    "big-endian": lambda a, tmp: a.astype(">f8"),
    "unaligned": lambda a, tmp: _unaligned(a),
    "list": lambda a, tmp: a.tolist(),
    "list-of-ints": lambda a, tmp: np.round(a).astype(int).tolist(),
}


def fingerprint(value: Any) -> Any:
    """Everything about an input the caller could notice changing: bytes, dtype, shape, strides, writability."""
    if isinstance(value, np.ndarray):
        return (value.tobytes(), value.dtype.str, value.shape, value.strides, value.flags.writeable)
    return copy.deepcopy(value)


def as_oracle(value: Any, dtype: np.dtype) -> np.ndarray:
    return np.array(value, dtype=dtype, order="C")


def outcome(entry: str, net: bp.Network, X: Any, Y: Any) -> Any:
    """The result of an entry point reduced to comparable bytes (fit: the parameters it leaves)."""
    result = ENTRIES[entry].call(net, X, Y)
    if isinstance(result, np.ndarray):
        return result.dtype.str, result.tobytes()
    if isinstance(result, bp.BackpropResult):
        return [g.tobytes() for g in (*result.nabla_w, *result.nabla_b, *result.delta)], result.cost
    if isinstance(result, bp.History):
        return net.parameters().tobytes(), result.cost, result.val_cost
    if isinstance(result, bp.GradientCheckResult):
        return result.weights, result.biases
    return result


@pytest.mark.jit_coverage
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("entry", ENTRIES)
def test_every_real_dtype_and_layout_is_accepted_and_left_untouched(tmp_path, entry, layout):
    X = LAYOUTS[layout](BASE_X, tmp_path)
    Y = LAYOUTS[layout](BASE_Y, tmp_path)
    before = fingerprint(X), fingerprint(Y)
    got = outcome(entry, fresh(), X, Y)
    want = outcome(entry, fresh(), as_oracle(X, np.float64), as_oracle(Y, np.float64))
    assert got == want
    assert (fingerprint(X), fingerprint(Y)) == before, "the caller's array was modified"


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("entry", ["feedforward", "fit"])
def test_a_float32_network_converts_every_layout_once(tmp_path, entry, layout):
    X = LAYOUTS[layout](BASE_X, tmp_path)
    before = fingerprint(X)
    got = outcome(entry, fresh("float32"), X, BASE_Y)
    want = outcome(entry, fresh("float32"), as_oracle(X, np.float32), BASE_Y)
    assert got == want
    assert fingerprint(X) == before


@pytest.mark.parametrize(
    "labels",
    [
        np.array([0, 1, 1, 0, 1], dtype=np.int8),
        np.array([0, 1, 1, 0, 1], dtype=np.uint64),
        np.array([False, True, True, False, True]),
        np.array([0.0, 1.0, 1.0, 0.0, 1.0], dtype=np.float16),
        [0, 1, 1, 0, 1],
        np.repeat(np.array([0, 1, 1, 0, 1]), 3)[::3],
    ],
    ids=["int8", "uint64", "bool", "float16", "list", "strided"],
)
def test_class_labels_of_any_integer_valued_dtype_are_one_hot_rows(labels):
    before = fingerprint(labels)
    got = fresh().backprop(BASE_X, labels)
    want = fresh().backprop(BASE_X, BASE_Y)
    assert got.cost == want.cost
    assert all(a.tobytes() == b.tobytes() for a, b in zip(got.nabla_w, want.nabla_w, strict=True))
    assert fingerprint(labels) == before


@pytest.mark.parametrize(
    "method",
    [
        pytest.param(bp.Network.feedforward, id="feedforward"),
        pytest.param(bp.Network.backprop, id="backprop"),
        pytest.param(bp.Network.evaluate, id="evaluate"),
        pytest.param(bp.Network.fit, id="fit"),
        pytest.param(bp.gradient_check, id="gradient_check"),
    ],
)
def test_the_conversion_is_documented_at_every_entry_point(method):
    assert "converted once" in " ".join(method.__doc__.split())


# -- invalid settings of Network(...) ---------------------------------------------------------------------------

NETWORK_SETTINGS = [
    (
        {"sizes": None},
        bp.ConfigurationError,
        "sizes must be a list of layer sizes such as [784, 30, 10], got NoneType None",
    ),
    ({"sizes": []}, bp.ConfigurationError, "sizes needs at least two layers (input and output), got 0: []"),
    ({"sizes": {3, 2}}, bp.ConfigurationError, "sizes must be a list of layer sizes such as [784, 30, 10], got set"),
    ({"sizes": 3}, bp.ConfigurationError, "sizes must be a list of layer sizes such as [784, 30, 10], got int 3"),
    ({"sizes": [3, -1]}, bp.ConfigurationError, "sizes[1] must be an int >= 1, got -1 (sizes=[3, -1])"),
    ({"sizes": [0, 2]}, bp.ConfigurationError, "sizes[0] must be an int >= 1, got 0"),
    ({"sizes": [3, "4", 2]}, bp.ConfigurationError, "sizes[1] must be an int >= 1, got '4'"),
    ({"sizes": [3, None]}, bp.ConfigurationError, "sizes[1] must be an int >= 1, got None"),
    ({"sizes": np.array([3.0, 2.0])}, bp.ConfigurationError, "sizes[0] must be an int >= 1, got np.float64(3.0)"),
    (
        {"activation": None},
        bp.ConfigurationError,
        "activation must be a name, a bpframe.Activation, or a list of 2 of them (one per layer after the input), "
        "got None",
    ),
    (
        {"activation": 5},
        bp.ConfigurationError,
        "activation must be a name, a bpframe.Activation, or a list of 2 of them",
    ),
    (
        {"activation": ("tanh",)},
        bp.ConfigurationError,
        "activation lists 1 activations ['tanh'] but the network has 2 layers after the input",
    ),
    ({"activation": ["tanh", "softmax", "tanh"]}, bp.ConfigurationError, "activation lists 3 activations"),
    (
        {"activation": ["tanh", "nope"]},
        bp.UnknownNameError,
        "unknown activation 'nope'; available: identity, leaky_relu, relu, sigmoid, softmax, softplus, tanh",
    ),
    ({"activation": "Sigmoid"}, bp.UnknownNameError, "unknown activation 'Sigmoid'; available: "),
    ({"activation": ""}, bp.UnknownNameError, "unknown activation ''; available: "),
    (
        {"activation": ["tanh", None]},
        bp.ConfigurationError,
        "activation[1] must be an activation name or a bpframe.Activation, got None",
    ),
    (
        {"loss": "nope"},
        bp.UnknownNameError,
        "unknown loss 'nope'; available: binary_cross_entropy, cross_entropy, quadratic",
    ),
    ({"loss": 5}, bp.ConfigurationError, "loss must be a loss name or a bpframe.Loss, got 5"),
    ({"loss": ["quadratic"]}, bp.ConfigurationError, "loss must be a loss name or a bpframe.Loss, got ['quadratic']"),
    ({"dtype": "int32"}, bp.ConfigurationError, "dtype must be 'float32' or 'float64', got 'int32'"),
    ({"dtype": "complex128"}, bp.ConfigurationError, "dtype must be 'float32' or 'float64', got 'complex128'"),
    ({"dtype": "nope"}, bp.ConfigurationError, "dtype must be 'float32' or 'float64', got 'nope'"),
    ({"dtype": 5}, bp.ConfigurationError, "dtype must be 'float32' or 'float64', got 5"),
    ({"dtype": np.float16}, bp.ConfigurationError, "dtype must be 'float32' or 'float64', got <class 'numpy.float16'>"),
    (
        {"init": 5},
        bp.ConfigurationError,
        "init must be an initializer name, a bpframe.Initializer, or a list of 2 of them (one per layer after the "
        "input), got 5",
    ),
    (
        {"init": ["glorot"]},
        bp.ConfigurationError,
        "init must be an initializer name, a bpframe.Initializer, or a list of 2 of them (one per layer after the "
        "input), got ['glorot']",
    ),
    (
        {"init": ["glorot", "xavier"]},
        bp.UnknownNameError,
        "unknown initializer 'xavier'; available: glorot, he, normal, scaled_normal",
    ),
    (
        {"init": ["glorot", 5]},
        bp.ConfigurationError,
        "init must hold initializer names or bpframe.Initializer objects, got 5",
    ),
    pytest.param(
        {"init": ["glorot", ["he"]]},
        bp.ConfigurationError,
        "init must hold initializer names or bpframe.Initializer objects, got ['he']",
        id="init-unhashable",
    ),
    ({"seed": 1.5}, bp.ConfigurationError, "seed must be None or an int >= 0, got 1.5"),
    ({"seed": True}, bp.ConfigurationError, "seed must be None or an int >= 0, got True"),
    ({"seed": "1"}, bp.ConfigurationError, "seed must be None or an int >= 0, got '1'"),
]


def with_ids(table: list[Any]) -> list[Any]:
    """Each row of a settings table as a param whose id spells the setting: ``activation=None``."""

    def spell(value: Any) -> str:
        text = repr(value)
        return type(value).__name__ if "\n" in text or " at 0x" in text else text

    def row_id(kwargs: dict[str, Any]) -> str:
        return ", ".join(f"{k}={spell(v)}" for k, v in kwargs.items())

    return [row if type(row) is not tuple else pytest.param(*row, id=row_id(row[0])) for row in table]


@pytest.mark.parametrize(("kwargs", "error", "message"), with_ids(NETWORK_SETTINGS))
def test_invalid_network_settings_are_rejected_with_the_allowed_values(kwargs, error, message):
    arguments = {"sizes": SIZES, "activation": ACTIVATIONS, "loss": LOSS, **kwargs}
    with pytest.raises(error) as info:
        bp.Network(arguments.pop("sizes"), **arguments)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sizes": (3, 4, 2)},
        {"sizes": np.array([3, 4, 2])},
        {"sizes": range(3, 0, -1), "activation": ["tanh", "softmax"]},
        {"sizes": [3, np.int32(4), np.uint8(2)]},
        {"dtype": np.float32},
        {"seed": np.int64(3)},
        {"seed": 2**100},
        {"init": ("he", "glorot")},
    ],
)
def test_equivalent_spellings_of_valid_settings_are_accepted(kwargs):
    arguments = {"sizes": SIZES, "activation": ACTIVATIONS, "loss": LOSS, **kwargs}
    net = bp.Network(arguments.pop("sizes"), **arguments)
    assert net.dtype.isnative and net.dtype.kind == "f"
    assert net.feedforward(np.zeros((1, 3), dtype=net.dtype)).shape == (1, net.sizes[-1])


# -- invalid settings of fit(...) -------------------------------------------------------------------------------


class HookWithUnknownArgument:
    @bp.hookimpl
    def bpframe_epoch_end(self, epoch, loss):
        pass


class MisspelledHook:
    @bp.hookimpl
    def bpframe_epoch_ends(self, epoch):
        pass


_CALLBACK_GAP = "bpframe/training.py _check_callbacks only checks that callbacks is a list: "

FIT_SETTINGS = [
    ({"epochs": -1}, bp.ConfigurationError, "epochs must be an int >= 1, got -1"),
    ({"epochs": 1.5}, bp.ConfigurationError, "epochs must be an int >= 1, got 1.5"),
    ({"epochs": 2.0}, bp.ConfigurationError, "epochs must be an int >= 1, got 2.0"),
    ({"epochs": True}, bp.ConfigurationError, "epochs must be an int >= 1, got True"),
    ({"epochs": "3"}, bp.ConfigurationError, "epochs must be an int >= 1, got '3'"),
    ({"epochs": None}, bp.ConfigurationError, "epochs must be an int >= 1, got None"),
    ({"batch_size": -1}, bp.ConfigurationError, "batch_size must be an int >= 1, got -1"),
    ({"batch_size": True}, bp.ConfigurationError, "batch_size must be an int >= 1, got True"),
    ({"batch_size": 2.0}, bp.ConfigurationError, "batch_size must be an int >= 1, got 2.0"),
    ({"batch_size": None}, bp.ConfigurationError, "batch_size must be an int >= 1, got None"),
    ({"eta": -0.1}, bp.ConfigurationError, "eta must be > 0, got -0.1"),
    ({"eta": float("inf")}, bp.ConfigurationError, "eta must be finite, got inf"),
    ({"eta": float("-inf")}, bp.ConfigurationError, "eta must be finite, got -inf"),
    ({"eta": np.float64("nan")}, bp.ConfigurationError, "eta must be finite, got np.float64(nan)"),
    ({"eta": True}, bp.ConfigurationError, "eta must be a number, got bool True"),
    ({"eta": None}, bp.ConfigurationError, "eta must be a number, got NoneType None"),
    ({"eta": 1j}, bp.ConfigurationError, "eta must be a number, got complex 1j"),
    ({"lmbda": float("nan")}, bp.ConfigurationError, "lmbda must be finite, got nan"),
    ({"lmbda": float("inf")}, bp.ConfigurationError, "lmbda must be finite, got inf"),
    ({"lmbda": "x"}, bp.ConfigurationError, "lmbda must be a number, got str 'x'"),
    (
        {"optimizer": "adagrad"},
        bp.UnknownNameError,
        "unknown optimizer 'adagrad'; available: adam, momentum, nesterov, sgd",
    ),
    (
        {"optimizer": 5},
        bp.ConfigurationError,
        "optimizer must be one of the names 'sgd', 'momentum', 'nesterov', 'adam' or an optimizer such as "
        "Adam(beta1=0.9) from bpframe.optimizers, got int 5",
    ),
    (
        {"optimizer": None},
        bp.ConfigurationError,
        "optimizer must be one of the names 'sgd', 'momentum', 'nesterov', 'adam'",
    ),
    (
        {"optimizer": bp.Adam},
        bp.ConfigurationError,
        "optimizer must be an instance, got the class Adam; write Adam() or the name 'adam'",
    ),
    (
        {"schedule": "step"},
        bp.ConfigurationError,
        "schedule must be None or a schedule such as StepDecay(step=10, factor=0.5) or ExponentialDecay(rate=0.95) "
        "from bpframe.optimizers, got str 'step'",
    ),
    ({"schedule": 5}, bp.ConfigurationError, "schedule must be None or a schedule such as StepDecay"),
    ({"schedule": bp.StepDecay}, bp.ConfigurationError, "schedule must be an instance, got the class StepDecay"),
    ({"shuffle": "yes"}, bp.ConfigurationError, "shuffle must be True or False, got 'yes'"),
    ({"shuffle": 1}, bp.ConfigurationError, "shuffle must be True or False, got 1"),
    ({"shuffle": None}, bp.ConfigurationError, "shuffle must be True or False, got None"),
    ({"verbose": True}, bp.ConfigurationError, "verbose must be 0, 1 or 2, got True"),
    ({"verbose": -1}, bp.ConfigurationError, "verbose must be 0, 1 or 2, got -1"),
    ({"verbose": "1"}, bp.ConfigurationError, "verbose must be 0, 1 or 2, got '1'"),
    ({"verbose": None}, bp.ConfigurationError, "verbose must be 0, 1 or 2, got None"),
    pytest.param(
        {"verbose": 1.0},
        bp.ConfigurationError,
        "verbose must be 0, 1 or 2, got 1.0",
        id="verbose-float",
    ),
    (
        {"callbacks": object()},
        bp.ConfigurationError,
        "callbacks must be a list of objects with hook methods, got <object object",
    ),
    ({"callbacks": {}}, bp.ConfigurationError, "callbacks must be a list of objects with hook methods, got {}"),
    (
        {"callbacks": iter([])},
        bp.ConfigurationError,
        "callbacks must be a list of objects with hook methods, got <list_iterator",
    ),
    (
        {"callbacks": [bp.EarlyStopping(monitor="val_cost")]},
        bp.ConfigurationError,
        "EarlyStopping monitors 'val_cost', which needs validation_data=(X_val, Y_val) in fit",
    ),
    pytest.param(
        {"callbacks": [HookWithUnknownArgument()]},
        bp.ConfigurationError,
        "loss",
        id="callback-hook-unknown-argument",
    ),
    pytest.param(
        {"callbacks": [MisspelledHook()]},
        bp.ConfigurationError,
        "bpframe_epoch_ends",
        id="callback-misspelled-hook",
    ),
    pytest.param(
        {"callbacks": [bp.EarlyStopping]},
        bp.ConfigurationError,
        "EarlyStopping",
        id="callback-class-not-instance",
    ),
    pytest.param(
        {"callbacks": [None]},
        bp.ConfigurationError,
        "callbacks[0]",
        id="callback-None",
    ),
    pytest.param(
        {"callbacks": ["EarlyStopping"]},
        bp.ConfigurationError,
        "callbacks[0]",
        id="callback-str",
    ),
    ({"validation_data": (GOOD_X,)}, bp.ConfigurationError, "validation_data must be a pair (X_val, Y_val), got tuple"),
    (
        {"validation_data": (GOOD_X, GOOD_Y, GOOD_Y)},
        bp.ConfigurationError,
        "validation_data must be a pair (X_val, Y_val), got tuple",
    ),
    (
        {"validation_data": {"X": GOOD_X}},
        bp.ConfigurationError,
        "validation_data must be a pair (X_val, Y_val), got dict",
    ),
    ({"validation_data": GOOD_X}, bp.ConfigurationError, "validation_data must be a pair (X_val, Y_val), got ndarray"),
    (
        {"validation_data": (GOOD_X, None)},
        bp.DataError,
        "validation_data[1] must hold real numbers (bool, int or float), got an array of dtype object",
    ),
]


@pytest.fixture(params=["fresh", "trained"])
def some_network(request):
    """A network before its first fit (no kernel yet) and one with history and optimizer state."""
    net = fresh()
    if request.param == "trained":
        net.fit(GOOD_X, GOOD_Y, epochs=2, batch_size=1, optimizer="momentum", verbose=0)
        assert len(net.history) == 2 and net._model.optimizer is not None
    return net


@pytest.mark.parametrize(("kwargs", "error", "message"), with_ids(FIT_SETTINGS))
def test_invalid_fit_settings_are_rejected_before_any_work(some_network, kwargs, error, message):
    before = Snapshot.of(some_network)
    arguments = {"epochs": 1, "verbose": 0, **kwargs}
    with pytest.raises(error) as info:
        some_network.fit(GOOD_X, GOOD_Y, **arguments)
    assert message in str(info.value)
    before.assert_unchanged(some_network)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"epochs": np.int64(1), "batch_size": np.int32(2)},
        {"eta": np.float32(0.1), "lmbda": 0},
        {"eta": 1, "lmbda": np.float64(0.5)},
        {"verbose": np.int64(0)},
        {"callbacks": ()},
        {"validation_data": [GOOD_X, GOOD_Y]},
        pytest.param(
            {"shuffle": np.bool_(False)},
            id="numpy-bool-shuffle",
        ),
    ],
    ids=lambda kw: "-".join(kw) if isinstance(kw, dict) else None,
)
def test_equivalent_spellings_of_valid_fit_settings_are_accepted(kwargs):
    arguments = {"epochs": 1, "verbose": 0, **kwargs}
    assert len(fresh().fit(GOOD_X, GOOD_Y, **arguments)) == 1


def test_a_batch_size_larger_than_the_data_is_one_batch_of_all_of_it():
    """The documented answer to "batch size larger than the data": one batch of every sample, every epoch."""

    class Settings:
        @bp.hookimpl
        def bpframe_fit_start(self, settings):
            self.seen = settings

    record = Settings()
    big, exact = fresh(), fresh()
    big.fit(BASE_X, BASE_Y, epochs=2, batch_size=10**9, shuffle=False, callbacks=[record], verbose=0)
    exact.fit(BASE_X, BASE_Y, epochs=2, batch_size=len(BASE_X), shuffle=False, verbose=0)
    assert (record.seen["batch_size"], record.seen["num_batches"]) == (5, 1)
    assert big.parameters().tobytes() == exact.parameters().tobytes()
    assert "a ``batch_size`` larger than the data means one batch of all of it" in " ".join(
        bp.Network.fit.__doc__.split()
    )


# -- gradient_check's own settings ------------------------------------------------------------------------------

_GRADCHECK_GAP = (
    "bpframe/gradcheck.py gradient_check validates eps only: entries and seed go straight to NumPy "
    "(rng.choice / default_rng) and net is used unchecked"
)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"eps": 0.0}, bp.ConfigurationError, "eps must be > 0, got 0.0"),
        ({"eps": float("nan")}, bp.ConfigurationError, "eps must be finite, got nan"),
        ({"eps": "1e-6"}, bp.ConfigurationError, "eps must be a number, got str '1e-6'"),
        *[
            pytest.param(
                kwargs,
                bp.ConfigurationError,
                message,
                id=f"{name}",
            )
            for name, kwargs, message in [
                ("entries-0", {"entries": 0}, "entries must be None or an int >= 1, got 0"),
                ("entries-negative", {"entries": -1}, "entries must be None or an int >= 1, got -1"),
                ("entries-float", {"entries": 2.5}, "entries must be None or an int >= 1, got 2.5"),
                ("entries-str", {"entries": "3"}, "entries must be None or an int >= 1, got '3'"),
                ("entries-bool", {"entries": True}, "entries must be None or an int >= 1, got True"),
                ("seed-negative", {"seed": -1}, "seed must be an int >= 0, got -1"),
                ("seed-str", {"seed": "a"}, "seed must be an int >= 0, got 'a'"),
                ("seed-float", {"seed": 1.5}, "seed must be an int >= 0, got 1.5"),
            ]
        ],
    ],
)
def test_gradient_check_settings_are_rejected_with_the_allowed_range(kwargs, error, message):
    with pytest.raises(error) as info:
        bp.gradient_check(fresh(), GOOD_X, GOOD_Y, **kwargs)
    assert message in str(info.value)


def test_gradient_check_needs_a_network():
    with pytest.raises(bp.ConfigurationError, match=r"net must be a bpframe.Network, got NoneType"):
        bp.gradient_check(None, GOOD_X, GOOD_Y)


def test_gradient_check_checks_every_entry_when_asked():
    result = bp.gradient_check(fresh(), BASE_X, BASE_Y, entries=None)
    assert result.checked == fresh().parameters().size and math.isfinite(result.max_error)


# -- X read in the first epoch -------------------------------------------------------------------------------------
# A network training again with the same optimizer does not read X in a pass of its own before training: the first
# epoch checks each mini-batch's rows as it copies them (bpframe.kernels.equations.gather_checked_batch). A NaN or
# inf found there undoes the fit and gets the error the pass would have given.


class _FitEvents:
    """Records the fit-level events: a fit refused before any work emits none, one undone part-way both."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    @bp.hookimpl
    def bpframe_fit_start(self, settings):
        self.seen.append("start")

    @bp.hookimpl
    def bpframe_fit_end(self, history, reason):
        self.seen.append(f"end:{reason}")


def _late_nan_problem(net: bp.Network) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """61 rows of 3 features, and X with a NaN in the row the next fit's first epoch reads last."""
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(61, 3)), rng.integers(0, 2, 61)
    last = int(copy.deepcopy(net._model.shuffle).permutation(61)[-1])
    return X, Y, (last, 1)


@pytest.mark.parametrize("engine", ["numpy", pytest.param("compiled", marks=pytest.mark.jit)])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_nan_found_in_the_first_epoch_undoes_the_fit_exactly(engine, optimizer, monkeypatch):
    monkeypatch.setenv("BPFRAME_ENGINE", engine)
    net = fresh()
    X, Y, _ = _late_nan_problem(net)
    net.fit(X, Y, epochs=2, batch_size=4, eta=0.2, optimizer=optimizer, verbose=0)
    _, _, (row, col) = _late_nan_problem(net)
    bad = X.copy()
    bad[row, col] = np.nan
    twin, settings = copy.deepcopy(net), copy.deepcopy(net.fit_settings)
    events = _FitEvents()
    with pytest.raises(bp.DataError) as info:
        net.fit(bad, Y, epochs=3, batch_size=4, eta=0.2, optimizer=optimizer, callbacks=[events], verbose=0)
    assert str(info.value) == f"X contains 1 non-finite value(s) (NaN or inf); the first is X[{row}, 1] = nan"
    assert events.seen == ["start", "end:failed"]  # it was found by the training loop, after 15 of 16 batches
    assert net.fit_settings == settings and net._model.run is None
    assert net._model.optimizer.step == twin._model.optimizer.step == 2 * 16
    # nothing of the undone fit is left: the next fit gives bit for bit what the twin, which never saw it, gives
    for model in (net, twin):
        model.fit(X, Y, epochs=2, batch_size=4, eta=0.2, optimizer=optimizer, verbose=0)
    assert net.parameters().tobytes() == twin.parameters().tobytes()
    assert net._model.optimizer.state.tobytes() == twin._model.optimizer.state.tobytes()
    assert net.history.as_dict()["cost"] == twin.history.as_dict()["cost"]


def test_a_first_fit_and_converted_inputs_are_checked_before_any_work():
    net = fresh()
    X, Y, (row, col) = _late_nan_problem(net)
    X[row, col] = np.inf
    message = f"X contains 1 non-finite value(s) (NaN or inf); the first is X[{row}, 1] = inf"
    for inputs in (X, X.astype(np.float32), np.asfortranarray(X)):  # a first fit; then converted copies
        events = _FitEvents()
        with pytest.raises(bp.DataError) as info:
            net.fit(inputs, Y, epochs=1, batch_size=4, verbose=0, callbacks=[events])
        assert str(info.value) == message and events.seen == []
        net.fit(np.nan_to_num(X, posinf=1.0), Y, epochs=1, batch_size=4, verbose=0)


def test_a_resumed_fit_checks_x_before_it_continues(monkeypatch):
    """A resumed fit continues the first epoch of an earlier call, whose rows before the stop were read then: X is
    checked before any work, as in a first fit."""
    import os
    import signal

    from bpframe import training

    checked = []
    real = training.require_finite
    monkeypatch.setattr(training, "require_finite", lambda *args: checked.append(args[0]) or real(*args))

    class InterruptAfterThirdBatch:
        @bp.hookimpl
        def bpframe_batches_end(self, epoch, done, total, cost):
            if (epoch, done) == (1, 3):
                os.kill(os.getpid(), signal.SIGINT)

    net = fresh()
    X, Y, _ = _late_nan_problem(net)
    net.fit(X, Y, epochs=1, batch_size=4, verbose=0)
    assert checked == ["X"]  # a first fit
    net.fit(X, Y, epochs=2, batch_size=4, verbose=0)
    assert checked == ["X"]  # training again: its first epoch checked X
    with pytest.raises(bp.TrainingInterrupted):
        net.fit(X, Y, epochs=2, batch_size=4, verbose=0, callbacks=[InterruptAfterThirdBatch()])
    assert checked == ["X"] and net._model.run is not None
    net.fit(X, Y, epochs=2, batch_size=4, verbose=0)
    assert checked == ["X", "X"] and net._model.run is None  # the resumed fit checked X first


def test_x_changed_during_the_fit_is_named_as_such(monkeypatch):
    """A NaN written into X while fit reads it (here by a listener between mini-batches) is found when its row is
    read; if X is finite again when the error is written, the message says what happened."""
    net = fresh()
    X, Y, _ = _late_nan_problem(net)
    net.fit(X, Y, epochs=1, batch_size=4, verbose=0)
    _, _, (row, col) = _late_nan_problem(net)
    twin = copy.deepcopy(net)

    class Writer:
        @bp.hookimpl
        def bpframe_batches_end(self, epoch, done, total, cost):
            if done < total:
                X[row, col] = np.nan

    with pytest.raises(bp.DataError, match=rf"the first is X\[{row}, 1\] = nan$"):
        net.fit(X, Y, epochs=1, batch_size=4, verbose=0, callbacks=[Writer()])
    assert net.parameters().tobytes() == twin.parameters().tobytes()
    X[row, col] = 0.5
    from bpframe import training

    monkeypatch.setattr(training, "require_finite", lambda name, array, scans=None: 0.0)
    with pytest.raises(bp.DataError) as info:
        net.fit(X, Y, epochs=1, batch_size=4, verbose=0, callbacks=[Writer()])
    assert str(info.value) == (
        "X changed during fit: a row of epoch 1, batch 16 of 16 held a NaN or inf when fit read it, and no entry "
        "of X is NaN or inf now; the network is as it was before this fit"
    )
    assert net.parameters().tobytes() == twin.parameters().tobytes()
