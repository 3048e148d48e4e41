"""Compile one plugin function alone, with the argument types the engine calls it with.

The one table of roles: how many scalars each scalar role takes, which roles take rows (a non-elementwise
activation's ``forward`` and ``vjp``), and an optimizer's ``update``. The blocks inline a plugin function into
bpframe's loops; compiling it alone first is how a numba error is pinned on the plugin and not on the engine
(:mod:`bpframe.kernels.build`), how the conformance kit checks a function (:mod:`bpframe.testing`), and how a
non-finite value is traced back to the function that produced it (``bpframe.diagnose``).
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numpy as np

from . import cache, lean
from .options import PLUGIN_OPTIONS

__all__ = [
    "SCALAR_ARITY",
    "UPDATE",
    "VECTOR_ROLES",
    "compile_alone",
    "jit_alone",
    "label",
    "safely_named",
    "signature",
]

#: How many scalar arguments a function of each scalar role takes.
SCALAR_ARITY = {"sigma": 1, "sigma_prime": 1, "cost": 2, "nabla_a": 2, "output_error": 3}
#: The roles of a non-elementwise activation, which take rows: ``forward(z, out)``, ``vjp(z, a, g, out)``.
VECTOR_ROLES = ("forward", "vjp")
#: The role of an optimizer's update kernel.
UPDATE = "update"


def signature(role: str, dtype: np.dtype | str) -> tuple[Any, ...]:
    """The numba argument types the engine calls a plugin function of ``role`` with, for ``dtype`` values."""
    from numba import types as nb

    scalar = nb.float32 if np.dtype(dtype).itemsize == 4 else nb.float64
    vector, float64 = nb.Array(scalar, 1, "C"), nb.Array(nb.float64, 1, "C")
    if role in SCALAR_ARITY:
        return (scalar,) * SCALAR_ARITY[role]
    if role == "forward":
        return (vector, vector)
    if role == "vjp":  # the engine hands the vector-Jacobian product a float64 copy of the row
        return (vector, vector, float64, vector)
    if role == UPDATE:  # (theta, gradient, state, hyper-parameters per layer...) as the update block passes them
        matrix = nb.Array(scalar, 2, "C")
        return (vector, vector, matrix, vector, matrix, nb.int64, float64, nb.int64)
    raise ValueError(f"unknown plugin-function role {role!r}; expected one of {[*SCALAR_ARITY, *VECTOR_ROLES, UPDATE]}")


def _safe(text: object) -> bool:
    return isinstance(text, str) and bool(text) and all(part.isidentifier() for part in text.split("."))


def safely_named(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` (a numba dispatcher's Python function), or a copy of it with a plain name when its name or module
    is not made of identifiers: numba writes names into the code it generates, and a name is data, never code."""
    fn = getattr(fn, "py_func", fn)
    if _safe(getattr(fn, "__qualname__", None)) and _safe(getattr(fn, "__module__", None)):
        return fn
    code = getattr(fn, "__code__", None)
    if code is None:
        return fn
    copy = types.FunctionType(code, fn.__globals__, "plugin_function", fn.__defaults__, fn.__closure__)
    copy.__qualname__, copy.__module__ = "plugin_function", "bpframe_plugin"
    return copy


def jit_alone(function: Callable[..., Any]) -> Any:
    """``function`` wrapped by numba with the options plugin functions are compiled with, not yet compiled."""
    from numba import njit

    return njit(**PLUGIN_OPTIONS)(safely_named(function))


def label(fn: Callable[..., Any]) -> str:
    """A file-name-safe label for a function (only letters, digits and underscores survive), the readable part
    of its kernel cache files' names."""
    text = f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', '')}"
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in text)[-60:]


def compile_alone(function: Callable[..., Any], role: str, dtype: np.dtype | str, *, cached: bool = False) -> Any:
    """The numba dispatcher of ``function`` compiled alone for the one signature its ``role`` is called with
    (:func:`signature`) in ``dtype``; numba's own exception when it cannot be compiled.

    With ``cached``, it goes through bpframe's disk cache as a block does: keyed by everything the compiled code
    depends on (:func:`bpframe.kernels.cache.function_digest`, bpframe's kernels, the dtype and role), so a later
    process loads it instead of compiling it (the conformance kit, whose runs compile every function of a plugin
    in both dtypes). A function that cannot be cached (defined in ``__main__``) compiles in memory, as always.
    """
    dispatcher = jit_alone(function)
    if cached:
        _attach_cache(dispatcher, function, role, np.dtype(dtype))
    dispatcher.compile(signature(role, dtype))
    return dispatcher


def _attach_cache(dispatcher: Any, function: Callable[..., Any], role: str, dtype: np.dtype) -> None:
    if not lean.jit_enabled():
        return
    function_digest = cache.function_digest(function)
    folder = cache.cache_dir() if function_digest else None
    if folder is None:
        return
    from .store import KernelCache

    key = cache.digest("alone", role, dtype.name, cache.kernels_digest(), function_digest or "")
    dispatcher._cache = KernelCache(folder, f"alone-{role}-{label(function)}", key)
