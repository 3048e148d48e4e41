"""Moved to :mod:`bpframe.io._container` (the model file's ZIP container); this name gives a
:class:`DeprecationWarning` and the object from there."""

from __future__ import annotations

from .io import _container
from .warn import moved

__getattr__ = moved("bpframe.container", _container)
