"""Compile (or load from the disk cache) the blocks of plugin functions and the engine's entry points.

A block is compiled once per plugin function (pair) and dtype, and shared by every network that uses it; the
engine once per dtype. Both go through :class:`~bpframe.kernels.cache.KernelCache`, keyed by what the compiled
code depends on. A plugin function that numba cannot compile is reported with its plugin's name: the functions
of the failing block are compiled alone, one by one, to find it.
"""

from __future__ import annotations

import threading
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import config

from ..errors import KernelError, PluginError
from . import blocks, cache, engine
from .abi import SIGNATURES
from .blas import blas
from .options import BLOCK_OPTIONS, PLUGIN_OPTIONS
from .store import KernelCache

__all__ = ["Block", "block", "compiled_engine", "jit_enabled", "load_cached", "safely_named"]

_lock = threading.RLock()
_blocks: dict[tuple[Any, ...], Block] = {}
_engine_ready: set[str] = set()


def jit_enabled() -> bool:
    """False under ``NUMBA_DISABLE_JIT=1``, where every kernel and block runs as plain Python."""
    return not config.DISABLE_JIT  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Block:
    """A compiled block: its address for the engine, a ctypes function for the NumPy tier, what it was made of."""

    kind: str  # "activation", "vector_activation", "loss", "output_error", "update"
    address: Any  # int (or the Python function itself without the JIT)
    ctypes: Callable[..., int] | None
    functions: tuple[Callable[..., Any], ...]
    cached: bool  # True when the block is stored on disk


_TEMPLATES: dict[str, tuple[Callable[..., Any], str, tuple[str, ...]]] = {
    # kind: (template, C signature, roles of the functions in order)
    "activation": (blocks.activation_block, "layer", ("sigma", "sigma_prime")),
    "vector_activation": (blocks.vector_activation_block, "layer", ("forward", "vjp")),
    "loss": (blocks.loss_block, "layer", ("cost", "nabla_a")),
    "output_error": (blocks.output_error_block, "layer", ("output_error",)),
    "update": (blocks.update_block, "update", ("update",)),
}


def block(kind: str, functions: Sequence[Callable[..., Any]], dtype: np.dtype, owner: str) -> Block:
    """The block of ``kind`` for these plugin functions and dtype, compiled on first use (or loaded from disk).

    ``owner`` describes the plugin for error messages (``activation 'relu' (from bpframe 0.1.0 ...)``).
    """
    key = (kind, np.dtype(dtype).name, *(id(fn) for fn in functions))
    with _lock:
        found = _blocks.get(key)
        if found is None or found.functions != tuple(functions):
            found = _build_block(kind, tuple(functions), np.dtype(dtype), owner)
            _blocks[key] = found
    return found


def _build_block(kind: str, functions: tuple[Callable[..., Any], ...], dtype: np.dtype, owner: str) -> Block:
    template, signature, roles = _TEMPLATES[kind]
    if not jit_enabled():
        return Block(kind, template(*functions, dtype.type), None, functions, cached=False)
    from numba import njit

    inner = {**PLUGIN_OPTIONS, "no_cpython_wrapper": True, "no_cfunc_wrapper": True}  # called from the block only
    jitted = [njit(**inner)(safely_named(fn)) for fn in functions]
    digests = [cache.function_digest(fn) for fn in functions]
    folder = cache.cache_dir() if all(digests) else None
    key = cache.digest(kind, dtype.name, cache.kernels_digest(), *[d or "" for d in digests])
    name = f"block-{kind}-{_label(functions[0])}"
    try:
        cfunc = _compile_cfunc(template(*jitted, dtype.type), SIGNATURES[signature], KernelCache(folder, name, key))
    except Exception as exc:
        if not _from_numba(exc):
            raise
        raise _diagnose(functions, roles, dtype, owner, exc) from None
    return Block(kind, cfunc.address, cfunc.ctypes, functions, cached=folder is not None)


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


def _label(fn: Callable[..., Any]) -> str:
    """A file-name-safe label for a function (only letters, digits and underscores survive)."""
    text = f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', '')}"
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in text)[-60:]


def _compile_cfunc(pyfunc: Callable[..., Any], signature: Any, kernel_cache: KernelCache) -> Any:
    """numba's ``cfunc(signature)(pyfunc)``, with bpframe's cache in place of numba's."""
    from numba.core import sigutils
    from numba.core.ccallback import CFunc

    normalized = sigutils.normalize_signature(signature)  # type: ignore[no-untyped-call]
    compiled = CFunc(pyfunc, normalized, locals={}, options=dict(BLOCK_OPTIONS))
    compiled._cache = kernel_cache  # type: ignore[attr-defined]  # numba reads its cache from this attribute
    compiled.compile()
    return compiled


def _from_numba(exc: BaseException) -> bool:
    """True for numba's compile-time errors (not all of which derive from NumbaError)."""
    return type(exc).__module__.split(".")[0] == "numba"


_ARITY = {"sigma": 1, "sigma_prime": 1, "cost": 2, "nabla_a": 2, "output_error": 3}


def _diagnose(functions: Sequence[Callable[..., Any]], roles: Sequence[str], dtype: np.dtype, owner: str,
              exc: Exception) -> Exception:  # fmt: skip
    """Compile each function alone to find the one numba rejects; name it, its role and its plugin."""
    from numba import njit, types

    scalar = types.float32 if dtype.itemsize == 4 else types.float64
    vector = types.Array(scalar, 1, "C")
    for fn, role in zip(functions, roles, strict=True):
        if role == "update":
            continue
        sig = (scalar,) * _ARITY[role] if role in _ARITY else (vector,) * (2 if role == "forward" else 4)
        if role == "vjp":
            sig = (vector, vector, types.Array(types.float64, 1, "C"), vector)
        try:
            njit(**PLUGIN_OPTIONS)(fn).compile(sig)
        except Exception as inner:
            if not _from_numba(inner):
                raise
            return _plugin_error(owner, role, fn, scalar, inner)
    detail = "\n".join(str(exc).strip().splitlines()[:12])
    return KernelError(f"bpframe's block for {owner} failed to compile although each plugin function compiles "
                       f"alone; this is a bug in bpframe, please report it:\n{detail}")  # fmt: skip


def _plugin_error(owner: str, role: str, fn: Callable[..., Any], scalar: Any, exc: Exception) -> PluginError:
    detail = "\n".join(str(exc).strip().splitlines()[:12])
    where = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', '?')}"
    return PluginError(
        f"{owner}: its {role} function {where} cannot be compiled by numba for {scalar} inputs. Plugin functions "
        f"must use only numba's supported subset (math, scalar numpy, arithmetic, if/for) and call no plain "
        f"Python functions.\n{detail}"
    )


def compiled_engine() -> dict[str, Any]:
    """The engine's entry points, with bpframe's disk cache attached (numba compiles each per dtype on first
    call, or loads it from the cache)."""
    points = engine.entry_points()
    if not jit_enabled():
        return points
    with _lock:
        digest = cache.digest(cache.kernels_digest(), blas().name)  # also registers the BLAS symbols for linking
        folder = cache.cache_dir()
        for name, dispatcher in points.items():
            if name not in _engine_ready:
                dispatcher._cache = KernelCache(folder, f"engine-{name}", digest)
                _engine_ready.add(name)
    return points


def load_cached(dispatcher: Any, args: tuple[Any, ...]) -> bool:
    """True when ``dispatcher`` has code for these arguments' types, loading it from the disk cache if it is
    there; never compiles. (Mirrors the cache step of numba's ``Dispatcher.compile``.)"""
    if not jit_enabled():
        return True
    from numba import typeof
    from numba.core.typing.typeof import Purpose

    sig = tuple(typeof(arg, Purpose.argument) for arg in args)  # type: ignore[no-untyped-call]
    if dispatcher.overloads.get(sig) is not None:
        return True
    with _lock:
        cres = dispatcher._cache.load_overload(sig, dispatcher.targetctx)
        if cres is None:
            return False
        dispatcher.targetctx.insert_user_function(cres.entry_point, cres.fndesc, [cres.library])
        dispatcher.add_overload(cres)
    return True
