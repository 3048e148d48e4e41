"""Compile (or load from the disk cache) the blocks of plugin functions and the engine's entry points.

A block is compiled once per plugin function (pair) and dtype, and shared by every network that uses it; the
engine once per dtype. Both go through :class:`~bpframe.kernels.store.KernelCache`, keyed by what the compiled
code depends on. A plugin function that numba cannot compile is reported with its plugin's name: the functions
of the failing block are compiled alone, one by one, to find it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import config
from ..errors import KernelError, PluginError
from . import cache, lean
from .alone import compile_alone, label, safely_named
from .blaslib import blas
from .interface import BLOCK_KINDS, C_SIGNATURES
from .options import BLOCK_OPTIONS, PLUGIN_OPTIONS, PRODUCT_OPTIONS

__all__ = [
    "Block",
    "block",
    "compiled_engine",
    "engine_on_disk",
    "jit_enabled",
    "load_cached",
    "product_block",
    "safely_named",
    "store_block",
    "store_engine",
]

_lock = threading.RLock()
_blocks: dict[tuple[Any, ...], Block] = {}
_engine_ready: set[str] = set()
_engine_where: list[Any] = [None]  # the cache settings the engine's caches were attached for
_not_cached: dict[tuple[int, Any], int] = {}  # (dispatcher, argument types) -> its overloads when looked for
_known_compiled: set[tuple[int, tuple[Any, ...]]] = set()
_engine_files: dict[tuple[Any, ...], bool] = {}  # (cache settings, entry point) -> a file of it was there


def _type_key(value: Any) -> Any:
    """What numba's type of an argument depends on, cheaply: an array's dtype, dimensions, layout and
    writability; a tuple's (named tuple's) fields; a scalar's Python type."""
    if isinstance(value, np.ndarray):
        flags = value.flags
        return (value.dtype.str, value.ndim, flags.c_contiguous, flags.f_contiguous, flags.writeable, flags.aligned)
    if isinstance(value, tuple):
        return (type(value), *map(_type_key, value))
    return type(value)


def jit_enabled() -> bool:
    """False under ``NUMBA_DISABLE_JIT=1``, where every kernel and block runs as plain Python (read without
    importing numba, :func:`bpframe.kernels.lean.jit_enabled`)."""
    return lean.jit_enabled()


@dataclass(frozen=True)
class Block:
    """A compiled block: its address for the engine, a ctypes function for the NumPy tier, what it was made of."""

    kind: str  # a key of bpframe.kernels.interface.BLOCK_KINDS
    address: Any  # int (or the block's Python function itself without the JIT)
    ctypes: Callable[..., int] | None
    function: Callable[..., Any] | None  # the plugin function it applies (None for the product kernel)
    cached: bool  # True when the block is stored on disk


def block(kind: str, function: Callable[..., Any], dtype: np.dtype, owner: str) -> Block:
    """The block of ``kind`` (see :data:`bpframe.kernels.blocks.TEMPLATES`) for this plugin function and dtype,
    compiled on first use or loaded from the disk cache (without importing numba when
    :mod:`bpframe.kernels.lean` can link it), and then shared by every network that uses it.

    ``owner`` describes the plugin for error messages (``activation 'relu' (from bpframe 0.1.0 ...)``).
    """
    key = (kind, np.dtype(dtype).name, id(function))
    with _lock:
        found = _blocks.get(key)
        if found is None or found.function is not function:
            found = _build_block(kind, function, np.dtype(dtype), owner)
            _blocks[key] = found
    return found


def _build_block(kind: str, function: Callable[..., Any], dtype: np.dtype, owner: str) -> Block:
    signature, role = BLOCK_KINDS[kind]
    if not jit_enabled():
        from .blocks import TEMPLATES

        return Block(kind, TEMPLATES[kind][0](function, dtype.type), None, function, cached=False)
    digest = cache.function_digest(function)
    folder = cache.cache_dir() if digest else None
    key = cache.digest(kind, dtype.name, cache.kernels_digest(), digest or "")
    name = f"block-{kind}-{label(function)}"
    if folder is not None:
        address = lean.load(folder, name, key, signature)
        if address is not None:
            return Block(kind, address, C_SIGNATURES[signature](address), function, cached=True)
    from numba import njit

    from .abi import SIGNATURES
    from .blocks import TEMPLATES
    from .store import KernelCache

    inner = {**PLUGIN_OPTIONS, "inline": "always"}  # typed into the block: no pipeline of its own
    try:
        pyfunc = TEMPLATES[kind][0](njit(**inner)(safely_named(function)), dtype.type)
        cfunc = _compile_cfunc(pyfunc, SIGNATURES[signature], KernelCache(folder, name, key, signature))
    except Exception as exc:
        if not _from_numba(exc):
            raise
        raise _diagnose(function, role, dtype, owner, exc) from None
    return Block(kind, cfunc.address, C_SIGNATURES[signature](cfunc.address), function, cached=folder is not None)


def store_block(kind: str, function: Callable[..., Any], dtype: np.dtype, owner: str) -> Block:
    """:func:`block`, but compiled or loaded through the disk cache even when this process already holds it, so
    that the cache has it afterwards whatever happened to the cache since (``bpframe cache warm``)."""
    dtype = np.dtype(dtype)
    found = _build_block(kind, function, dtype, owner)
    with _lock:
        _blocks[(kind, dtype.name, id(function))] = found
    return found


def product_block(dtype: np.dtype, *, store: bool = False) -> Block:
    """The small forward-product kernel (:mod:`bpframe.kernels.products`) for ``dtype``, compiled on first use
    or loaded from the disk cache (keyed like the engine: bpframe's kernels, nothing of a plugin); with ``store``,
    through the disk cache even when this process already holds it (as ``store_block``)."""
    dtype = np.dtype(dtype)
    key = ("product", dtype.name)
    with _lock:
        found = None if store else _blocks.get(key)
        if found is None:
            found = _build_product(dtype)
            _blocks[key] = found
    return found


def _build_product(dtype: np.dtype) -> Block:
    if not jit_enabled():
        from . import products

        return Block("product", products.small_forward(dtype.type), None, None, cached=False)
    folder = cache.cache_dir()
    digest = cache.digest("product", dtype.name, cache.kernels_digest())
    name = f"product-forward-{dtype.name}"
    address = lean.load(folder, name, digest, "product") if folder is not None else None
    if address is None:
        from . import products
        from .abi import SIGNATURES
        from .store import KernelCache

        kernel_cache = KernelCache(folder, name, digest, "product")
        address = _compile_cfunc(products.small_forward(dtype.type), SIGNATURES["product"], kernel_cache,
                                 PRODUCT_OPTIONS).address  # fmt: skip
    return Block("product", address, C_SIGNATURES["product"](address), None, cached=True)


def _compile_cfunc(pyfunc: Callable[..., Any], signature: Any, kernel_cache: Any,
                   options: dict[str, Any] = BLOCK_OPTIONS) -> Any:  # fmt: skip
    """numba's ``cfunc(signature)(pyfunc)``, with bpframe's cache in place of numba's."""
    from numba.core import sigutils
    from numba.core.ccallback import CFunc

    normalized = sigutils.normalize_signature(signature)  # type: ignore[no-untyped-call]
    compiled = CFunc(pyfunc, normalized, locals={}, options=dict(options))
    compiled._cache = kernel_cache  # type: ignore[attr-defined]  # numba reads its cache from this attribute
    compiled.compile()
    return compiled


def _from_numba(exc: BaseException) -> bool:
    """True for numba's compile-time errors (not all of which derive from NumbaError)."""
    return type(exc).__module__.split(".")[0] == "numba"


def _diagnose(function: Callable[..., Any], role: str, dtype: np.dtype, owner: str, exc: Exception) -> Exception:
    """Compile the plugin function alone: if numba rejects it, name it, its role and its plugin; if not, the
    block itself failed, which is bpframe's bug."""
    try:
        compile_alone(function, role, dtype)
    except Exception as inner:
        if not _from_numba(inner):
            raise
        return _plugin_error(owner, role, function, dtype.name, inner)
    detail = "\n".join(str(exc).strip().splitlines()[:12])
    return KernelError(f"bpframe's block for {owner} failed to compile although its plugin function compiles "
                       f"alone; this is a bug in bpframe, please report it:\n{detail}")  # fmt: skip


def _plugin_error(owner: str, role: str, fn: Callable[..., Any], scalar: str, exc: Exception) -> PluginError:
    detail = "\n".join(str(exc).strip().splitlines()[:12])
    where = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', '?')}"
    return PluginError(
        f"{owner}: its {role} function {where} cannot be compiled by numba for {scalar} inputs. Plugin functions "
        f"must use only numba's supported subset (math, scalar numpy, arithmetic, if/for) and call no plain "
        f"Python functions.\n{detail}"
    )


def compiled_engine() -> dict[str, Any]:
    """The engine's entry points, with bpframe's disk cache attached (numba compiles each per dtype on first
    call, or loads it from the cache). The cache is attached again when the configured folder changed since.
    Imports numba (the engine's module)."""
    from . import engine

    points = engine.entry_points()
    if not jit_enabled():
        return points
    settings = config.settings()
    where = (settings.cache_dir, settings.no_kernel_cache, settings.cache_home)
    if len(_engine_ready) == len(points) and _engine_where[0] == where:  # every engine call comes here
        return points
    with _lock:
        if _engine_where[0] != where:
            _engine_ready.clear()
            _engine_where[0] = where
        from .store import KernelCache

        digest = cache.digest(cache.kernels_digest(), blas().name)  # also registers the BLAS symbols for linking
        folder = cache.cache_dir()
        for name, dispatcher in points.items():
            if name not in _engine_ready:
                dispatcher._cache = KernelCache(folder, f"engine-{name}", digest)
                _engine_ready.add(name)
    return points


def engine_on_disk(name: str) -> bool:
    """Whether the engine's entry point ``name`` may be loadable: this process has used the engine already, or
    the disk cache holds a file of it for some signature. Found without importing numba, and looked for once
    per process and cache folder, like :func:`load_cached`'s look on disk; when True, :func:`load_cached` says
    whether the file fits."""
    if _engine_ready or not jit_enabled():
        return True
    settings = config.settings()
    if settings.no_kernel_cache:
        return False
    where = (settings.cache_dir, settings.cache_home, name)  # no probe of the folder: this runs every epoch
    found = _engine_files.get(where)
    if found is None:
        folder = cache.cache_dir()
        pattern = f"engine-{name}-*{cache.FILE_SUFFIX}"
        found = _engine_files[where] = folder is not None and any(folder.glob(pattern))
    return found


def store_engine() -> int:
    """Write to the disk cache every compiled engine entry point this process holds that the cache lacks (it was
    compiled before the cache folder changed, or was cleared since); returns how many files were written."""
    written = 0
    with _lock:
        for dispatcher in compiled_engine().values():
            for sig, cres in list(dispatcher.overloads.items()):
                written += dispatcher._cache.store(sig, cres)
    return written


def load_cached(dispatcher: Any, args: tuple[Any, ...], *, disk: bool = True) -> bool:
    """True when ``dispatcher`` has code for these arguments' types, loading it from the disk cache if it is
    there (with ``disk=False``: only when this process holds it already); never compiles. (Mirrors the cache
    step of numba's ``Dispatcher.compile``.)"""
    if not jit_enabled():
        return True
    from numba import typeof
    from numba.core.typing.typeof import Purpose

    shape_of_types = _type_key(args)
    if (id(dispatcher), shape_of_types) in _known_compiled:
        return True  # asked before: typing the arguments again costs 0.5 ms a call (measured, a 50-epoch fit)
    if _not_cached.get((id(dispatcher), shape_of_types)) == len(dispatcher.overloads):
        return False  # looked for on disk already, and nothing compiled since (0.6 ms a call, 33 ms a digits job)
    sig = tuple(typeof(arg, Purpose.argument) for arg in args)  # type: ignore[no-untyped-call]
    if dispatcher.overloads.get(sig) is not None:
        _known_compiled.add((id(dispatcher), shape_of_types))
        return True
    if not disk:
        return False
    if (id(dispatcher), shape_of_types) in _not_cached:
        _not_cached[(id(dispatcher), shape_of_types)] = len(dispatcher.overloads)
        return False
    with _lock:
        cres = dispatcher._cache.load_overload(sig, dispatcher.targetctx)
        if cres is None:
            # looked once per process: a compile here puts it in overloads, which the count above notices
            _not_cached[(id(dispatcher), shape_of_types)] = len(dispatcher.overloads)
            return False
        dispatcher.targetctx.insert_user_function(cres.entry_point, cres.fndesc, [cres.library])
        dispatcher.add_overload(cres)
        _known_compiled.add((id(dispatcher), shape_of_types))
    return True
