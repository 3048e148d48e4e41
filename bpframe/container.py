"""Moved to :mod:`bpframe.io._container` (the model file's ZIP container); this name gives a
:class:`DeprecationWarning` and the object from there."""

from __future__ import annotations

from typing import Any

from .io import _container
from .warn import warn


def __getattr__(name: str) -> Any:
    value = getattr(_container, name)  # AttributeError for a name neither module has
    warn(
        f"bpframe.container.{name} moved to bpframe.io._container.{name}; bpframe.container will be removed",
        DeprecationWarning,
    )
    return value
