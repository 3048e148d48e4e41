"""Cached blocks loaded without numba: the machine code from the cache file, linked by llvmlite alone.

Importing numba takes 0.12-0.19 s, and a warm job that trains in the NumPy tier needs nothing of numba but its
blocks' machine code (measured on a 2-core AMD EPYC, alternating runs: the warm first-result digits job took
0.56 s loading its blocks through numba and 0.38 s linking them here). So when a block is written to the disk
cache, its object code is also stored in a form that needs only llvmlite to link (:func:`payload`), and
:func:`load` links it in about a millisecond after a 30 ms import of llvmlite: the same bytes numba would load,
so the same machine code runs.

This is only a faster way to the same file; numba's own loading stays the path of record. Whenever anything
could differ, :func:`load` returns ``None`` and the caller loads (or compiles) through numba:

- a numba setting that changes the machine code or the CPU it is made for is set (``NUMBA_CPU_NAME``,
  ``NUMBA_CPU_FEATURES``, ``NUMBA_ENABLE_AVX``, ``NUMBA_OPT``, a ``.numba_config.yaml`` here): the file is
  looked up under the identity this module computes, which matches numba's only on a default set-up;
- a symbol the code calls cannot be resolved in this process (the code would abort the process when linked),
  or belongs to numba's runtime beyond the few functions registered here (``_REGISTERED``: the GIL helpers and
  what raising an exception calls): code that allocates arrays goes through numba;
- the file has no such payload (an engine entry point, a file written before this payload existed).

A damaged file is removed with the same one warning as numba's path gives. This module imports no numba.
"""

from __future__ import annotations

import builtins
import importlib.util
import pickle
import sys
import threading
from pathlib import Path
from typing import Any

from .. import config
from . import cache

__all__ = ["host_identity", "jit_enabled", "load", "payload"]

#: numba settings that change what code is made, or for which CPU: with any of them set, numba decides.
CODEGEN_VARIABLES = ("NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES", "NUMBA_ENABLE_AVX", "NUMBA_OPT")

#: numba's per-folder configuration file, which can set any of them.
_NUMBA_CONFIG_FILE = ".numba_config.yaml"

#: Runtime functions of numba that this module registers itself (numba's C helpers, by their LLVM names): the
#: GIL helpers of the C callback's wrapper, and what raising an exception from compiled code calls (numba's C
#: helpers import ``numba.core.serialize`` themselves when an exception is raised). Any other ``numba_`` or
#: ``NRT_`` symbol (allocating arrays: numba's runtime set-up) makes a block numba's to load.
_REGISTERED = ("numba_gil_ensure", "numba_gil_release", "numba_do_raise", "numba_runtime_build_excinfo_struct",
               "numba_unpickle", "NRT_MemInfo_call_dtor", "NRT_Free")  # fmt: skip

_lock = threading.Lock()
_state: dict[str, Any] = {}
_loaded: dict[tuple[str, str], int] = {}  # (file, function) -> address, so a file is linked once per process


def jit_enabled() -> bool:
    """numba's ``DISABLE_JIT`` negated, without importing numba unless it is imported already (then its setting,
    which a program may change, is read) or a setting only numba can read is there (a configuration file, a
    value that is not an integer). Without numba, the environment is read once, as numba reads it once."""
    numba = sys.modules.get("numba")
    if numba is not None and hasattr(numba, "config"):
        return not numba.config.DISABLE_JIT
    found = _state.get("jit")
    if found is None:
        try:
            disabled = int(config.numba_variable("NUMBA_DISABLE_JIT") or "0")
        except ValueError:
            disabled = None
        if disabled is None or Path(_NUMBA_CONFIG_FILE).exists():
            from numba import config as numba_config

            return not numba_config.DISABLE_JIT  # type: ignore[attr-defined]
        found = _state["jit"] = not disabled
    return bool(found)


def _llvm() -> Any:
    import llvmlite.binding as llvm

    return llvm


def host_identity() -> str | None:
    """``repr`` of numba's "magic tuple" for this machine (the target triple, the CPU's name and its features,
    which name and identify every cache file), computed as numba's JIT computes it by default; ``None`` when a
    numba setting may change it."""
    if "identity" not in _state:
        identity = None
        numba_set = any(config.numba_variable(name) is not None for name in CODEGEN_VARIABLES)
        if not numba_set and not Path(_NUMBA_CONFIG_FILE).exists():
            llvm = _llvm()
            try:
                identity = repr((llvm.get_process_triple(), llvm.get_host_cpu_name(),
                                 llvm.get_host_cpu_features().flatten()))  # fmt: skip
            except RuntimeError:  # numba would use no features at all then: leave it to numba
                identity = None
        _state["identity"] = identity
    result: str | None = _state["identity"]
    return result


def payload(reduced: tuple[Any, ...], library: Any, wrapper: str) -> tuple[str, bytes, tuple[str, ...]] | None:
    """What :func:`load` needs of a compiled C callback, or ``None`` when it must be loaded through numba:
    (the wrapper function's symbol, the object code, every symbol the code needs from outside).

    ``reduced`` is numba's serialised compile result (its first item the library, as object code), ``library``
    the compiled library (its final LLVM module tells which symbols are declared but not defined)."""
    try:
        _name, kind, (object_code, _bitcode) = reduced[0]
        module = library._final_module
    except (AttributeError, TypeError, ValueError):
        return None
    if kind != "object" or not isinstance(object_code, bytes):
        return None
    needed = {fn.name for fn in module.functions if fn.is_declaration and not fn.name.startswith("llvm.")}
    needed |= {gv.name for gv in module.global_variables if gv.is_declaration}
    if any(_numba_owned(name) and name not in _REGISTERED for name in needed):
        return None
    return wrapper, object_code, tuple(sorted(needed))


def _numba_owned(name: str) -> bool:
    """Symbols only numba's runtime provides, once numba has set it up."""
    return name.startswith(("numba_", "NRT_", "_numba", ".numba", "_ZN08NumbaEnv"))


def load(folder: Path, name: str, key: str, label: str) -> int | None:
    """The address of the cached block ``name`` (its key and signature label as in
    :class:`~bpframe.kernels.store.KernelCache`), linked without numba, or ``None`` when numba must load it
    (see the module docstring); a damaged file is removed."""
    if not jit_enabled():
        return None
    identity = host_identity()
    if identity is None:
        return None
    path = folder / f"{name}-{cache.digest(name, key, label, identity)}{cache.FILE_SUFFIX}"
    with _lock:
        found = _loaded.get((str(path), name))
        if found is not None:
            return found
        try:
            data = path.read_bytes()
        except OSError:
            return None  # missing, or unreadable: numba's path says which
        try:
            stored, lean, _numba_result = pickle.loads(cache.decode(data))
            if stored != (name, key, label, identity):
                raise ValueError(f"the file belongs to another kernel ({stored[0]})")
        except Exception as exc:  # noqa: BLE001 - anything wrong with the file means: compile again
            cache.discard(path, exc)
            return None
        if lean is None:
            return None
        wrapper, object_code, needed = lean
        try:
            address = _link(object_code, wrapper, needed)
        except (ImportError, OSError, RuntimeError):  # no llvmlite or numba's runtime here: numba says why
            return None
        if address is None:
            return None
        _loaded[(str(path), name)] = address
    cache.stats().loaded.append(name)
    return address


def _link(object_code: bytes, wrapper: str, needed: tuple[str, ...]) -> int | None:
    """Link ``object_code`` into this process's llvmlite engine and return the address of ``wrapper``; ``None``
    (nothing linked) if a needed symbol cannot be resolved."""
    llvm = _llvm()
    engine = _engine()
    if any(not llvm.address_of_symbol(symbol) for symbol in needed):
        return None
    engine.add_object_file(llvm.ObjectFileRef.from_data(object_code))
    engine.finalize_object()
    address = int(engine.get_function_address(wrapper))
    return address or None


def _engine() -> Any:
    """This process's execution engine for linked blocks, made once, with the symbols numba would register for
    them: its GIL helpers, its runtime's destructor call, ``None`` and the built-in exceptions. (The BLAS
    functions are registered when the BLAS is first looked up, :func:`bpframe.kernels.blaslib.blas`; code that
    calls them before that is linked by numba.)"""
    if "engine" not in _state:
        llvm = _llvm()
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        helpers = _extension("_helperlib", ("_helperlib",)).c_helpers
        runtime = _extension("_nrt_python", ("core", "runtime", "_nrt_python")).c_helpers
        for symbol in _REGISTERED:
            prefix, _, name = symbol.partition("_")
            llvm.add_symbol(symbol, (helpers if prefix == "numba" else runtime)[name])
        llvm.add_symbol("_Py_NoneStruct", id(None))
        for value in vars(builtins).values():
            if isinstance(value, type) and issubclass(value, BaseException):
                llvm.add_symbol(f"PyExc_{value.__name__}", id(value))
        target = llvm.Target.from_triple(llvm.get_process_triple())
        machine = target.create_target_machine(cpu=llvm.get_host_cpu_name(),
                                               features=llvm.get_host_cpu_features().flatten(), reloc="static",
                                               codemodel="jitdefault", jit=True)  # fmt: skip
        _state["engine"] = llvm.create_mcjit_compiler(llvm.parse_assembly(""), machine)
    return _state["engine"]


def _extension(module: str, parts: tuple[str, ...]) -> Any:
    """numba's C extension module ``parts`` (under numba's folder), loaded by itself: the package's own
    ``__init__`` (the 0.12-0.19 s import) does not run, and the module is not entered in ``sys.modules`` (numba
    imports its own when it is imported; both share the one shared library)."""
    numba_module = sys.modules.get("numba")
    if numba_module is not None and hasattr(numba_module, "config"):
        return importlib.import_module("numba." + ".".join(parts))
    spec = importlib.util.find_spec("numba")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("numba is not installed")
    folder = Path(next(iter(spec.submodule_search_locations))).joinpath(*parts[:-1])
    for path in sorted(folder.glob(f"{parts[-1]}.*")):
        if path.suffix in (".so", ".pyd"):
            found = importlib.util.spec_from_file_location(f"_bpframe_lean.{module}", path)
            if found is None or found.loader is None:
                break
            extension = importlib.util.module_from_spec(found)
            found.loader.exec_module(extension)
            return extension
    raise ImportError(f"numba's extension module {'/'.join(parts)} was not found in {folder}")
