"""Moved to :mod:`bpframe.io._schema` (the model file's format and its reading); this name gives a
:class:`DeprecationWarning` and the object from there."""

from __future__ import annotations

from typing import Any

from .io import _schema
from .warn import warn


def __getattr__(name: str) -> Any:
    value = getattr(_schema, name)  # AttributeError for a name neither module has
    warn(
        f"bpframe.modelfile.{name} moved to bpframe.io._schema.{name}; bpframe.modelfile will be removed",
        DeprecationWarning,
    )
    return value
