"""Tests of bpframe.datasets._labels.one_hot against a hand-built identity-matrix oracle."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpframe.datasets import _labels, one_hot
from bpframe.errors import ConfigurationError, DataError


def test_hand_worked_example() -> None:
    expected = [[0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
    assert one_hot(np.array([2, 0, 2, 3], dtype=np.uint8)).tolist() == expected


def test_num_classes_widens_and_dtype_is_applied() -> None:
    targets = one_hot([1, 0], num_classes=3, dtype="float32")
    assert targets.dtype == np.float32
    assert targets.tolist() == [[0, 1, 0], [1, 0, 0]]


def test_empty_labels_with_num_classes() -> None:
    assert one_hot(np.array([], dtype=np.int64), num_classes=5).shape == (0, 5)


@given(st.lists(st.integers(0, 11), max_size=40), st.integers(0, 4))
def test_rows_of_the_identity_matrix(labels: list[int], spare: int) -> None:
    k = (max(labels) + 1 if labels else 1) + spare
    targets = one_hot(np.array(labels, dtype=np.int64), num_classes=k)
    assert np.array_equal(targets, np.eye(k)[labels].reshape(len(labels), k))


@pytest.mark.parametrize(
    ("y", "num_classes", "message"),
    [
        (
            [0, 3, 1],
            3,
            "class labels must be integers in 0 .. 2 (num_classes=3, given); y[1] = 3 (1 label(s) out of range)",
        ),
        (
            [0, -1, -2],
            None,
            "class labels must be integers in 0 .. 0 (num_classes=1, inferred as max(y) + 1); "
            "y[1] = -1 (2 label(s) out of range)",
        ),
        ([[0], [1]], None, "y must be a 1-D array of class labels, shape (n,); got shape (2, 1)"),
        (5, None, "y must be a 1-D array of class labels, shape (n,); got shape ()"),
        ([0.0, 1.0], None, "y must hold integer class labels; got dtype float64"),
        ([True, False], None, "y must hold integer class labels; got dtype bool"),
        (np.array([], dtype=np.int64), None, "y is empty, so the number of classes cannot be inferred"),
    ],
)
def test_bad_labels_raise_data_error(y: object, num_classes: int | None, message: str) -> None:
    with pytest.raises(DataError) as info:
        one_hot(y, num_classes)  # type: ignore[arg-type]
    assert message in str(info.value)


@pytest.mark.parametrize("num_classes", [0, -2, 2.0, True, "3"])
def test_bad_num_classes_is_named(num_classes: object) -> None:
    with pytest.raises(ConfigurationError, match=rf"^num_classes must be an integer >= 1; got {num_classes!r}$"):
        one_hot([0, 1], num_classes)  # type: ignore[arg-type]


def test_bad_dtype_is_named() -> None:
    with pytest.raises(ConfigurationError, match=r"^dtype must be one of 'float32', 'float64'; got 'int64'$"):
        one_hot([0, 1], dtype="int64")


def test_docstring_examples_run() -> None:
    result = doctest.testmod(_labels)
    assert result.attempted > 0 and result.failed == 0
