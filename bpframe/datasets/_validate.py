"""Argument checks shared by the dataset loaders; each raises :class:`~bpframe.errors.ConfigurationError`."""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import DTypeLike

from ..errors import ConfigurationError

__all__ = ["check_choice", "check_float_dtype", "check_int", "check_real", "make_rng"]

_FLOAT_DTYPES = ("float32", "float64")


def _listing(allowed: Sequence[str]) -> str:
    """Quote and join the allowed values for an error message."""
    return ", ".join(repr(value) for value in allowed)


def check_choice(argument: str, value: object, allowed: Sequence[str]) -> str:
    """Return ``value`` if it is one of the ``allowed`` strings, else raise naming all three."""
    if isinstance(value, str) and value in allowed:
        return value
    message = f"{argument} must be one of {_listing(allowed)}; got {value!r}"
    if isinstance(value, str):
        close = difflib.get_close_matches(value, allowed, n=1)
        if close:
            message += f" (did you mean {close[0]!r}?)"
    raise ConfigurationError(message)


def check_float_dtype(value: DTypeLike, argument: str = "dtype") -> np.dtype:
    """Return ``value`` as a NumPy dtype if it is float32 or float64, else raise."""
    try:
        dtype = np.dtype(value) if value is not None else None
    except (TypeError, ValueError):
        dtype = None
    if dtype is None or dtype.name not in _FLOAT_DTYPES:
        raise ConfigurationError(f"{argument} must be one of {_listing(_FLOAT_DTYPES)}; got {value!r}")
    return dtype


def check_int(argument: str, value: object, minimum: int) -> int:
    """Return ``value`` if it is an integer (not a bool) of at least ``minimum``, else raise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigurationError(f"{argument} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def check_real(argument: str, value: object, *, positive: bool = False) -> float:
    """Return ``value`` as a float if it is a finite real >= 0 (> 0 when ``positive``), else raise."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    number = float(value) if ok else math.nan  # type: ignore[arg-type]
    if math.isfinite(number) and (number > 0 if positive else number >= 0):
        return number
    bound = "> 0" if positive else ">= 0"
    raise ConfigurationError(f"{argument} must be a finite number {bound}; got {value!r}")


def make_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """Return a generator for ``seed`` (a non-negative int, a Generator, or None for fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return seed
    is_int = isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_))
    if seed is not None and not (is_int and seed >= 0):
        raise ConfigurationError(f"seed must be an integer >= 0, a numpy.random.Generator or None; got {seed!r}")
    return np.random.default_rng(seed)
