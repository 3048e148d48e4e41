"""Holding out validation data: a seeded split of the training rows, stratified by class for classification.

``Network.fit(validation_split=0.1)``, the scikit-learn estimators' ``early_stopping`` and ``bpframe train`` all
split through :func:`holdout`, so they agree on what "a validation split" is:

- The number of validation rows is ``round(fraction * n)``.
- **Classification** (the targets are one-hot rows, or 0/1 values of a single output unit): the split is
  stratified. Every class keeps its share of the rows on both sides, to within one row, and has at least one
  row in each: a class of ``count`` rows contributes the whole part of ``count * n_val / n`` rows (at least one,
  at most ``count - 1``), and the rows still missing go to the classes with the largest remainders (the first
  classes on a tie).
- **Anything else** (regression targets, soft labels): a random subset.
- Which rows go where comes from a seeded generator, so the same seed and data give the same split on every
  call (and a resumed ``fit`` sees the same rows). Both parts keep the rows in their original order.
- A split that would leave one side without a row, or (stratified) without every class, is refused with a
  :class:`~bpframe.ConfigurationError` that gives the numbers; a class with a single row cannot be on both
  sides and is refused too.

Examples
--------
>>> import numpy as np
>>> from bpframe.split import holdout
>>> X = np.arange(20.0).reshape(10, 2)
>>> Y = np.eye(2)[[0, 0, 0, 0, 0, 0, 1, 1, 1, 1]]       # 6 rows of class 0, 4 of class 1
>>> part = holdout(X, Y, 0.5, np.random.SeedSequence(0))
>>> part.x_val.shape, part.y_val.sum(axis=0).tolist()   # 3 of class 0, 2 of class 1
((5, 2), [3.0, 2.0])
>>> part.stratified
True
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from .errors import ConfigurationError

__all__ = ["Holdout", "check_fraction", "class_labels", "holdout", "split_indices"]


@dataclass(frozen=True)
class Holdout:
    """The two parts of a split: training rows and validation rows, and whether the split was stratified."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    stratified: bool


def check_fraction(name: str, value: object) -> float:
    """``value`` as a float strictly between 0 and 1, else a ConfigurationError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 < float(value) < 1.0:
        raise ConfigurationError(
            f"{name} must be a fraction of the training rows strictly between 0 and 1 (e.g. 0.1), got {value!r}"
        )
    return float(value)


def class_labels(y: np.ndarray) -> np.ndarray | None:
    """The class of every row of 2-D targets ``y`` when they are class targets, else ``None``.

    Class targets are one-hot rows (several output units, exactly one 1 per row, 0 elsewhere) or 0/1 values of
    a single output unit.

    Examples
    --------
    >>> import numpy as np
    >>> class_labels(np.array([[0.0, 1.0], [1.0, 0.0]])).tolist()
    [1, 0]
    >>> class_labels(np.array([[0.2, 0.8]])) is None
    True
    """
    if y.ndim != 2 or y.shape[0] == 0:
        return None
    binary = bool(np.all((y == 0) | (y == 1)))
    if not binary:
        return None
    if y.shape[1] == 1:
        single: np.ndarray = y[:, 0].astype(np.int64)
        return single
    if not np.all(y.sum(axis=1) == 1):
        return None
    labels: np.ndarray = np.argmax(y, axis=1).astype(np.int64)
    return labels


def holdout(
    x: np.ndarray, y: np.ndarray, fraction: float, seed: np.random.SeedSequence, name: str = "validation_split"
) -> Holdout:
    """Split rows of inputs ``x`` (n, features) and targets ``y`` (n, outputs) into training and validation parts.

    Parameters
    ----------
    x : ndarray, shape (n, n_features)
    y : ndarray, shape (n, n_outputs)
        Targets; their kind decides whether the split is stratified (:func:`class_labels`).
    fraction : float in (0, 1)
        The share of rows held out for validation.
    seed : numpy.random.SeedSequence
        Decides which rows go where; the same seed gives the same split.
    name : str
        The argument's name in error messages.

    Returns
    -------
    Holdout

    Raises
    ------
    ConfigurationError
        For a fraction outside (0, 1), or a split that would leave a side without a row or, stratified, without
        every class.
    """
    fraction = check_fraction(name, fraction)
    labels = class_labels(y)
    train, val = split_indices(x.shape[0], fraction, seed, labels, name)
    return Holdout(x[train], y[train], x[val], y[val], labels is not None)


def split_indices(
    n: int,
    fraction: float,
    seed: np.random.SeedSequence,
    labels: np.ndarray | None = None,
    name: str = "validation_split",
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted row indices ``(train, validation)`` of a split of ``n`` rows (stratified when ``labels`` are given)."""
    n_val = math.floor(fraction * n + 0.5)
    _check_sides(n, n_val, fraction, name)
    rng = np.random.default_rng(seed)
    if labels is None:
        val = rng.permutation(n)[:n_val]
    else:
        val = _stratified(labels, n_val, fraction, rng, name)
    mask = np.zeros(n, dtype=bool)
    mask[val] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def _check_sides(n: int, n_val: int, fraction: float, name: str) -> None:
    """Refuse a split that leaves no row on one side."""
    if n_val < 1 or n - n_val < 1:
        side = "validation" if n_val < 1 else "training"
        raise ConfigurationError(
            f"{name}={fraction:g} of {n} rows leaves {n - n_val} for training and {n_val} for validation; at least "
            f"one is needed on each side, so there are too few rows for {side}: pass validation_data=(X_val, Y_val) "
            "or more rows"
        )


def _stratified(labels: np.ndarray, n_val: int, fraction: float, rng: np.random.Generator, name: str) -> np.ndarray:
    """Validation rows taking each class's share of ``n_val`` (largest remainders), at least one row of every
    class on each side."""
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    _check_classes(classes, counts, len(labels), n_val, fraction, name)
    quota = _quotas(counts, n_val)
    picks = []
    for k, count in enumerate(counts):
        rows = np.flatnonzero(inverse == k)
        picks.append(rows[rng.permutation(int(count))[: quota[k]]])
    return np.concatenate(picks)


def _check_classes(classes: np.ndarray, counts: np.ndarray, n: int, n_val: int, fraction: float, name: str) -> None:
    """Refuse a stratified split that cannot put every class on both sides."""
    single = classes[counts < 2]
    if single.size:
        raise ConfigurationError(
            f"{name}: class {single[0].item()!r} has only one row, so a stratified split cannot put it in both the "
            "training and the validation part; pass validation_data=(X_val, Y_val) instead"
        )
    k = len(classes)
    if n_val < k or n - n_val < k:
        raise ConfigurationError(
            f"{name}={fraction:g} of {n} rows leaves {n - n_val} for training and {n_val} for validation, fewer than "
            f"the {k} classes on one side; a stratified split needs at least one row of every class on each side: "
            "use a fraction that holds out more (or fewer) rows, or pass validation_data=(X_val, Y_val)"
        )


def _quotas(counts: np.ndarray, n_val: int) -> np.ndarray:
    """Validation rows per class: proportional, summing to ``n_val``, each in ``[1, count - 1]``."""
    ideal = counts * (n_val / counts.sum())
    quota: np.ndarray = np.clip(np.floor(ideal).astype(np.int64), 1, counts - 1)
    order = np.argsort(-(ideal - quota), kind="stable")  # largest remainder first, then class order
    while quota.sum() < n_val:
        room = order[quota[order] < counts[order] - 1]
        quota[room[0]] += 1
        order = np.argsort(-(ideal - quota), kind="stable")
    while quota.sum() > n_val:
        spare = order[::-1][quota[order[::-1]] > 1]
        quota[spare[0]] -= 1
        order = np.argsort(-(ideal - quota), kind="stable")
    return quota
