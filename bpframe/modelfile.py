"""Moved to :mod:`bpframe.io._schema` (the model file's format and its reading); this name gives a
:class:`DeprecationWarning` and the object from there."""

from __future__ import annotations

from .io import _schema
from .warn import moved

__getattr__ = moved("bpframe.modelfile", _schema)
