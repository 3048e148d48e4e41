"""The 8×8 handwritten digits, shipped inside the package (1,797 images, 10 classes, about 49 KB)."""

from __future__ import annotations

import functools
from importlib.resources import files

import numpy as np
from numpy.typing import DTypeLike

from ..errors import DataError
from ._validate import check_choice, check_float_dtype

__all__ = ["load_digits"]

_SPLITS = ("train", "test", "all")
_KEYS = {"images": (1797, 64), "labels": (1797,), "train_index": (1437,), "test_index": (360,)}


@functools.lru_cache(maxsize=1)
def _digits_arrays() -> dict[str, np.ndarray]:
    """Read ``data/digits.npz`` once (no pickle) and return its arrays, made read-only."""
    resource = files(__package__) / "data" / "digits.npz"
    with resource.open("rb") as stream, np.load(stream, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    for key, shape in _KEYS.items():
        if key not in arrays or arrays[key].shape != shape:
            found = arrays[key].shape if key in arrays else "missing"
            raise DataError(f"{resource}: damaged package data: {key} should have shape {shape}, found {found}")
        arrays[key].flags.writeable = False
    return arrays


def load_digits(split: str = "train", *, dtype: DTypeLike = "float64") -> tuple[np.ndarray, np.ndarray]:
    """Load the 8×8 handwritten digits: small enough to ship, hard enough to be worth training on.

    These are the 1,797 images of the UCI "Optical Recognition of Handwritten Digits" test set
    (Alpaydin & Kaynak, 1998; CC BY 4.0), the same rows in the same order as scikit-learn's ``load_digits``.
    Each image is 8×8 pixels, each pixel a count 0..16 of ink in a 4×4 block of the original 32×32 bitmap.

    The split is fixed and stored with the data: 360 test images chosen per class in proportion to its size
    (a seeded stratified draw, 35-37 per class), and the other 1,437 for training. Rows keep the original
    order within each split, so shuffle before mini-batch training.

    Parameters
    ----------
    split : {"train", "test", "all"}, default "train"
        Which rows: the 1,437 training images, the 360 test images, or all 1,797.
    dtype : {"float64", "float32"}, default "float64"
        Element type of ``X``.

    Returns
    -------
    X : ndarray, shape (n, 64)
        Pixels row by row, scaled to [0, 1] (the counts divided by 16, so exactly representable).
    y : ndarray of int64, shape (n,)
        The digit shown, 0..9.

    Raises
    ------
    ConfigurationError
        If ``split`` or ``dtype`` is not one of the allowed values.

    See Also
    --------
    one_hot : turn ``y`` into target rows of shape (n, 10).

    Examples
    --------
    >>> from bpframe.datasets import load_digits
    >>> X, y = load_digits("train")
    >>> X.shape, X.dtype, y.shape, y.dtype
    ((1437, 64), dtype('float64'), (1437,), dtype('int64'))
    >>> X_test, y_test = load_digits("test", dtype="float32")
    >>> X_test.shape, X_test.dtype, float(X_test.min()), float(X_test.max())
    ((360, 64), dtype('float32'), 0.0, 1.0)
    """
    check_choice("split", split, _SPLITS)
    out_dtype = check_float_dtype(dtype)
    arrays = _digits_arrays()
    rows = slice(None) if split == "all" else arrays[f"{split}_index"]
    X = arrays["images"][rows].astype(out_dtype)
    X /= 16
    y = arrays["labels"][rows].astype(np.int64)
    return X, y
