"""Turning integer class labels into one-hot target rows."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from ..errors import DataError
from ._validate import check_float_dtype, check_int

__all__ = ["one_hot"]


def _check_labels(y: ArrayLike) -> np.ndarray:
    """Return ``y`` as a 1-D integer array, or raise :class:`DataError` saying what it is instead."""
    labels = np.asarray(y)
    if labels.ndim != 1:
        raise DataError(
            f"y must be a 1-D array of class labels, shape (n,); got shape {labels.shape} "
            "(flatten a column of labels with y.ravel())"
        )
    if labels.dtype.kind not in "iu":
        raise DataError(
            f"y must hold integer class labels; got dtype {labels.dtype} "
            "(convert exact whole numbers with y.astype(np.int64))"
        )
    return labels


def one_hot(y: ArrayLike, num_classes: int | None = None, *, dtype: DTypeLike = "float64") -> np.ndarray:
    """Encode integer class labels as one-hot rows, the target form for a softmax or sigmoid output layer.

    Parameters
    ----------
    y : array_like of int, shape (n,)
        Class labels, each in ``0 .. num_classes - 1``.
    num_classes : int, optional
        The number of classes ``k``, at least 1. By default ``max(y) + 1`` (``y`` must then be non-empty).
    dtype : {"float64", "float32"}, default "float64"
        Element type of the result.

    Returns
    -------
    ndarray, shape (n, k)
        Row ``i`` is 1 in column ``y[i]`` and 0 elsewhere.

    Raises
    ------
    DataError
        If ``y`` is not 1-D, not of an integer dtype, holds a negative label or one ``>= num_classes``,
        or is empty while ``num_classes`` is not given.
    ConfigurationError
        If ``num_classes`` is not an integer >= 1, or ``dtype`` is not float32 or float64.

    Examples
    --------
    >>> from bpframe.datasets import one_hot
    >>> one_hot([2, 0, 1])
    array([[0., 0., 1.],
           [1., 0., 0.],
           [0., 1., 0.]])
    >>> one_hot([1], num_classes=4, dtype="float32")
    array([[0., 1., 0., 0.]], dtype=float32)
    """
    labels = _check_labels(y)
    out_dtype = check_float_dtype(dtype)
    if num_classes is None:
        if labels.size == 0:
            raise DataError("y is empty, so the number of classes cannot be inferred: pass num_classes=")
        k = int(labels.max()) + 1
    else:
        k = check_int("num_classes", num_classes, 1)
    if labels.size:
        _check_range(labels, k, inferred=num_classes is None)
    targets = np.zeros((labels.size, k), dtype=out_dtype)
    targets[np.arange(labels.size), labels] = 1
    return targets


def _check_range(labels: np.ndarray, k: int, *, inferred: bool) -> None:
    """Raise naming the first label outside ``0 .. k - 1``."""
    bad = np.flatnonzero((labels < 0) | (labels >= k))
    if bad.size == 0:
        return
    i = int(bad[0])
    source = "inferred as max(y) + 1" if inferred else "given"
    raise DataError(
        f"class labels must be integers in 0 .. {k - 1} (num_classes={k}, {source}); "
        f"y[{i}] = {labels[i]} ({bad.size} label(s) out of range)"
    )
