"""Tests of bpframe.datasets._digits: the shipped 8×8 digits, checked against scikit-learn's published values."""

from __future__ import annotations

import doctest
import zipfile
from importlib.resources import files

import numpy as np
import pytest

from bpframe.datasets import _digits, load_digits
from bpframe.errors import ConfigurationError

# Known values of sklearn.datasets.load_digits() (scikit-learn 1.9.1), the independent oracle.
CLASS_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
TEST_CLASS_COUNTS = [36, 37, 35, 37, 36, 36, 36, 36, 35, 36]
PIXEL_SUM = 561718
PIXEL_SUM_PER_CLASS = [56415, 57007, 55566, 56151, 56239, 55915, 56336, 54289, 57408, 56392]
FIRST_IMAGE = [
    0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3, 15, 2, 0, 11, 8, 0, 0, 4, 12, 0, 0, 8, 8, 0,
    0, 5, 8, 0, 0, 9, 8, 0, 0, 4, 11, 0, 1, 12, 7, 0, 0, 2, 14, 5, 10, 12, 0, 0, 0, 0, 6, 13, 10, 0, 0, 0,
]  # fmt: skip
LAST_IMAGE = [
    0, 0, 10, 14, 8, 1, 0, 0, 0, 2, 16, 14, 6, 1, 0, 0, 0, 0, 15, 15, 8, 15, 0, 0, 0, 0, 5, 16, 16, 10, 0, 0,
    0, 0, 12, 15, 15, 12, 0, 0, 0, 4, 16, 6, 4, 16, 6, 0, 0, 8, 16, 10, 8, 16, 8, 0, 0, 1, 8, 12, 14, 12, 1, 0,
]  # fmt: skip


def test_all_matches_the_published_data() -> None:
    X, y = load_digits("all")
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert np.bincount(y, minlength=10).tolist() == CLASS_COUNTS
    assert y[:12].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    assert (X[0] * 16).tolist() == FIRST_IMAGE and y[0] == 0
    assert (X[-1] * 16).tolist() == LAST_IMAGE and y[-1] == 8
    assert (X * 16).sum() == PIXEL_SUM
    assert [(X[y == k] * 16).sum() for k in range(10)] == PIXEL_SUM_PER_CLASS


def test_pixels_are_sixteenths_in_the_unit_interval() -> None:
    X, _ = load_digits("all")
    assert X.min() == 0.0 and X.max() == 1.0
    counts = X * 16
    assert np.array_equal(counts, np.round(counts))
    assert set(np.unique(counts).tolist()) == set(range(17))


def test_split_sizes_and_class_balance() -> None:
    X_train, y_train = load_digits("train")
    X_test, y_test = load_digits("test")
    assert X_train.shape == (1437, 64) and y_train.shape == (1437,)
    assert X_test.shape == (360, 64) and y_test.shape == (360,)
    assert np.bincount(y_test, minlength=10).tolist() == TEST_CLASS_COUNTS
    assert (np.bincount(y_train, minlength=10) + np.bincount(y_test, minlength=10)).tolist() == CLASS_COUNTS


def test_splits_are_disjoint_and_cover_all_rows_in_order() -> None:
    arrays = _digits._digits_arrays()
    train, test = arrays["train_index"].astype(np.int64), arrays["test_index"].astype(np.int64)
    assert np.intersect1d(train, test).size == 0
    assert np.array_equal(np.union1d(train, test), np.arange(1797))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)
    X, y = load_digits("all")
    X_train, y_train = load_digits("train")
    X_test, y_test = load_digits("test")
    assert np.array_equal(X[train], X_train) and np.array_equal(y[train], y_train)
    assert np.array_equal(X[test], X_test) and np.array_equal(y[test], y_test)


@pytest.mark.parametrize("dtype", ["float32", np.float32, np.dtype("float32")])
def test_float32_equals_float64_exactly(dtype: object) -> None:
    X32, y32 = load_digits("test", dtype=dtype)
    X64, y64 = load_digits("test")
    assert X32.dtype == np.float32
    assert np.array_equal(X32.astype(np.float64), X64) and np.array_equal(y32, y64)


def test_returns_fresh_writable_arrays() -> None:
    X, y = load_digits("test")
    X[:] = -1.0
    y[:] = -1
    X_again, y_again = load_digits("test")
    assert X_again.min() == 0.0 and y_again.min() == 0


def test_packaged_file_is_a_plain_npz() -> None:
    resource = files("bpframe.datasets") / "data" / "digits.npz"
    data = resource.read_bytes()
    assert 20_000 < len(data) < 100_000
    with resource.open("rb") as stream, zipfile.ZipFile(stream) as archive:
        assert sorted(archive.namelist()) == ["images.npy", "labels.npy", "test_index.npy", "train_index.npy"]
    with resource.open("rb") as stream, np.load(stream, allow_pickle=False) as arrays:
        dtypes = {key: arrays[key].dtype for key in arrays.files}
    assert dtypes == {"images": np.uint8, "labels": np.uint8, "train_index": np.uint16, "test_index": np.uint16}


def test_the_data_readme_ships_alongside() -> None:
    text = (files("bpframe.datasets") / "data" / "README.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in text and "Alpaydin" in text


@pytest.mark.parametrize(
    ("split", "message"),
    [
        ("tran", "split must be one of 'train', 'test', 'all'; got 'tran' (did you mean 'train'?)"),
        ("validation", "split must be one of 'train', 'test', 'all'; got 'validation'"),
        (None, "split must be one of 'train', 'test', 'all'; got None"),
        (1, "split must be one of 'train', 'test', 'all'; got 1"),
    ],
)
def test_bad_split_is_named(split: object, message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_digits(split)  # type: ignore[arg-type]
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("dtype", ["int8", "float16", np.uint8, "complex128", "no-such-type", None])
def test_bad_dtype_is_named(dtype: object) -> None:
    with pytest.raises(ConfigurationError, match=r"^dtype must be one of 'float32', 'float64'; got "):
        load_digits("train", dtype=dtype)


def test_docstring_examples_run() -> None:
    result = doctest.testmod(_digits, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
