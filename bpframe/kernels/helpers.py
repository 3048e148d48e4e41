"""The decorator of the engine's helpers: compiled without the wrappers that only Python callers need.

numba gives every compiled function a wrapper that Python can call, and building it is a large part of the
compile time of a small function (measured: the engine's training entry point took 6.2 s to compile with the
wrappers of its 25 helpers, 4.1 s without). Helpers are called from compiled code only, so they are compiled
without; a call from Python (a test, a learner trying a kernel) goes to a twin compiled with the wrapper, on
first use, instead of crashing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from numba import config, njit
from numba.core.registry import CPUDispatcher

from .options import ENGINE_OPTIONS

__all__ = ["helper"]


class _HelperDispatcher(CPUDispatcher):
    """A dispatcher whose compiled code has no Python wrapper; Python calls go to a wrapped twin."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        twin = self.__dict__.get("_bpframe_twin")
        if twin is None:
            twin = njit(**ENGINE_OPTIONS)(self.py_func)
            self.__dict__["_bpframe_twin"] = twin
        return twin(*args, **kwargs)


def helper(fn: Callable[..., Any] | None = None, *, inline: bool = False) -> Any:
    """Compile ``fn`` as an engine helper (see the module docstring); plain Python under NUMBA_DISABLE_JIT.

    ``@helper(inline=True)`` inlines the helper into each caller in numba's IR (``inline="always"``), so no call
    is left; for a few lines in a hot loop whose call LLVM would not inline (the gathers' prefetch).
    """
    if fn is None:
        return lambda f: helper(f, inline=inline)
    if config.DISABLE_JIT:  # type: ignore[attr-defined]
        return fn
    options = {**ENGINE_OPTIONS, "no_cpython_wrapper": True, "no_cfunc_wrapper": True}
    if inline:
        options["inline"] = "always"
    dispatcher = njit(**options)(fn)
    dispatcher.__class__ = _HelperDispatcher
    return dispatcher
