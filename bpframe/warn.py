"""Warnings attributed to the caller's line: the innermost frame outside bpframe, however deep bpframe warns.

A fixed ``stacklevel`` is right for one call path only: plugins load on the first call that needs them
(``Network(...)``, ``bp.load``, ``bpframe.activations()``, ...), and the same warning travels up a different
number of bpframe frames from each. Walking the stack finds the user's line, or the plugin's when a plugin
called bpframe, wherever the warning starts.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any

__all__ = ["moved", "warn"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message: str, category: type[Warning]) -> None:
    """Issue ``message`` as a ``category`` warning at the innermost calling line outside bpframe.

    Examples
    --------
    >>> import warnings
    >>> from bpframe.errors import BpframeWarning
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn("a message", BpframeWarning)
    >>> caught[0].filename.startswith("<doctest")  # this example's line, not bpframe's
    True
    """
    warnings.warn(message, category, stacklevel=_caller_level())


def _caller_level() -> int:
    """The ``stacklevel`` of the first frame outside bpframe, as counted by the ``warnings.warn`` in :func:`warn`."""
    frame = sys._getframe(2)  # warn()'s caller: stacklevel 2 of the warnings.warn call in warn()
    level = 2
    while frame.f_back is not None and _in_bpframe(frame.f_code.co_filename):
        frame = frame.f_back
        level += 1
    return level


@functools.lru_cache(maxsize=256)
def _in_bpframe(filename: str) -> bool:
    """True for a file of the bpframe package (its tests, plugins and users live elsewhere)."""
    return os.path.abspath(filename).startswith(_PACKAGE)


def moved(old: str, new: ModuleType) -> Callable[[str], Any]:
    """The module ``__getattr__`` of a module that moved to ``new``: each name is looked up there, with a
    :class:`DeprecationWarning` naming its new place (an :class:`AttributeError` for a name ``new`` lacks)."""

    def __getattr__(name: str) -> Any:
        value = getattr(new, name)
        warn(f"{old}.{name} moved to {new.__name__}.{name}; {old} will be removed", DeprecationWarning)
        return value

    return __getattr__
