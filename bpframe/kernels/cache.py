"""The on-disk cache of compiled kernels: where it lives, what its keys cover, and how files are read and written.

Layout: ``<base>/bpframe-<version>/numba-<version>-py<major>.<minor>/<name>-<digest>.bpk``, one compiled function
per file. ``<base>`` is ``BPFRAME_CACHE_DIR`` or the user cache folder. A file holds a header line, the SHA-256 of
its payload, and the payload: the file's identity, for a block its object code in the form
:mod:`bpframe.kernels.lean` links without numba, and numba's own serialised compile result (object code and type
information).

The key of a file covers everything the compiled code depends on, because numba itself only checks the date of
the file that *defines* a function and freezes the globals it reads:

- every module of ``bpframe.kernels`` (found by a glob, not a list), numba's and llvmlite's versions, and the
  CPU numba compiles for (its "magic tuple");
- for a plugin function, every module file it reaches through its globals and the values numba freezes into
  its code: the globals it reads, what a closure captured, default arguments (see :func:`function_digest`).

Reading is defensive: a truncated, garbled or foreign file is removed and the kernel recompiled, with one
warning. Writing goes through a temporary file in the same folder and ``os.replace``, so concurrent
processes compiling the same kernel never see half a file, and every one of them gets a correct result.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import importlib
import importlib.metadata
import os
import sys
import tempfile
import threading
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import config
from .._version import __version__
from ..errors import BpframeWarning
from ..io import _atomic as atomic
from ..warn import warn

__all__ = [
    "FILE_SUFFIX",
    "CacheStats",
    "ClearReport",
    "cache_base",
    "cache_dir",
    "cache_files",
    "clear_cache",
    "decode",
    "digest",
    "discard",
    "encode",
    "function_digest",
    "kernels_digest",
    "stats",
    "version_of",
    "warn_once",
    "write_atomically",
]

#: Every file bpframe writes into the cache ends with this suffix (temporary files with ``.bpk.tmp``).
FILE_SUFFIX = ".bpk"
_HEADER = b"bpframe-kernel-cache 3\n"
_KERNELS = Path(__file__).resolve().parent

_lock = threading.Lock()
_warned: set[str] = set()


@dataclass
class CacheStats:
    """What the kernel cache did in this process: files loaded, functions compiled, files removed as corrupt."""

    loaded: list[str] = field(default_factory=list)
    compiled: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def reset(self) -> None:
        """Forget every record (tests count compilations from here)."""
        self.loaded.clear()
        self.compiled.clear()
        self.removed.clear()


_STATS = CacheStats()


def stats() -> CacheStats:
    """The process-wide record of cache loads and compilations (see :class:`CacheStats`)."""
    return _STATS


def warn_once(kind: str, message: str) -> None:
    """Warn about ``kind`` once per process: a broken cache is worth one line, not one per kernel."""
    with _lock:
        if kind in _warned:
            return
        _warned.add(kind)
    warn(message, BpframeWarning)


# ------------------------------------------------------------------------------------------------- locations


def cache_base() -> Path:
    """The folder that holds every bpframe kernel cache: ``BPFRAME_CACHE_DIR`` or ``<user cache>/bpframe``
    (:class:`bpframe.config.Settings`, read once per operation)."""
    settings = config.settings()
    return Path(settings.cache_dir) if settings.cache_dir else settings.cache_home / "bpframe"


def version_of(distribution: str) -> str:
    """The installed version of numba or llvmlite, from its metadata (importing numba takes 0.12-0.19 s; a warm job
    that loads its blocks without numba never imports it), or from the module when there is no metadata."""
    found = _versions.get(distribution)
    if found is None:
        try:
            found = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            found = str(importlib.import_module(distribution).__version__)
        _versions[distribution] = found
    return found


_versions: dict[str, str] = {}


def _versioned(base: Path) -> Path:
    """The folder of this bpframe, numba and Python inside ``base``."""
    python = f"py{sys.version_info[0]}.{sys.version_info[1]}"
    return base / f"bpframe-{__version__}" / f"numba-{version_of('numba')}-{python}"


def cache_dir() -> Path | None:
    """The writable folder for this bpframe, numba and Python, or ``None`` (with one warning) if there is none."""
    if config.settings().no_kernel_cache:
        return None
    path = _versioned(cache_base())
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.NamedTemporaryFile(dir=path, prefix=".probe-", suffix=FILE_SUFFIX + ".tmp").close()
    except OSError as exc:
        warn_once(
            "unwritable",
            f"bpframe cannot write its kernel cache in {path} ({exc.strerror or exc}); kernels are compiled in "
            "memory and recompiled in every process. Set BPFRAME_CACHE_DIR to a writable folder.",
        )
        return None
    return path


# ------------------------------------------------------------------------------------------------------ keys


def digest(*parts: str | bytes) -> str:
    """A short hex digest of the parts, in order (each part's length is hashed too, so parts cannot run together)."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()[:32]


_kernels_digest: list[str] = []


def kernels_digest() -> str:
    """The digest of every ``bpframe/kernels/*.py`` file (by glob: a new module is covered without a list) and of
    the numba and llvmlite versions; memoised for the process."""
    if not _kernels_digest:
        parts: list[str | bytes] = [version_of("numba"), version_of("llvmlite")]
        for path in sorted(_KERNELS.glob("*.py")):
            parts += [path.name, path.read_bytes()]
        _kernels_digest.append(digest(*parts))
    return _kernels_digest[0]


_SCALARS = (bool, int, float, complex, str, bytes, type(None))


def _frozen(value: Any) -> str | None:
    """A value numba freezes into compiled code as a constant (a number, a string, ``None``, an enum member, a
    NumPy scalar or array, a tuple of those), as exact text for a digest; ``None`` for anything else (functions and
    modules are followed instead, and numba refuses the rest)."""
    if isinstance(value, _SCALARS):
        return f"{type(value).__name__}:{value!r}"
    if isinstance(value, enum.Enum):
        return f"enum:{type(value).__module__}.{type(value).__qualname__}.{value.name}={_frozen(value.value)}"
    if isinstance(value, np.ndarray):
        data = hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()
        return f"array:{value.dtype.str}:{value.shape}:{data}"
    if isinstance(value, np.generic):
        return f"{value.dtype.str}:{value.tobytes().hex()}"
    if isinstance(value, tuple):
        items = [_frozen(item) for item in value]
        return None if None in items else f"({','.join(item for item in items if item is not None)})"
    return None


def _module_file(module: types.ModuleType) -> Path | None:
    file = getattr(module, "__file__", None)
    return Path(file) if file and file.endswith(".py") else None


def _add_module(module: types.ModuleType, files: dict[str, bytes]) -> None:
    """Record ``module``'s source under its name (not its path: the same file installed in two environments, tox's
    py311 and docs say, is the same compiled code, and shares one cache file)."""
    name = module.__name__
    if name not in files and (path := _module_file(module)) is not None:
        with contextlib.suppress(OSError):
            files[name] = path.read_bytes()


def _reached(fn: Callable[..., Any], files: dict[str, bytes], values: list[str], seen: set[int]) -> None:
    """Collect the module files and frozen values that compiled ``fn`` depends on: the globals it reads, the values
    its closure captured and its default arguments (:func:`_frozen`), following the functions and modules they
    name (helpers in other modules, ``numba.njit`` dispatchers, a closure's inner helper)."""
    fn = getattr(fn, "py_func", fn)  # a numba dispatcher: follow its Python function
    if id(fn) in seen:
        return
    seen.add(id(fn))
    module = sys.modules.get(getattr(fn, "__module__", "") or "")
    if module is not None:  # also for a callable without Python code of its own, such as a jitclass
        _add_module(module, files)
    code = getattr(fn, "__code__", None)
    if code is None:
        return
    names = set(code.co_names)
    for const in code.co_consts:  # nested functions and lambdas
        if isinstance(const, types.CodeType):
            names |= set(const.co_names)
    scope = getattr(fn, "__globals__", {})
    where = f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', '')}"
    found = [(f"{where} global {name}", scope[name]) for name in sorted(names) if name in scope]
    for name, cell in zip(code.co_freevars, getattr(fn, "__closure__", None) or (), strict=False):
        with contextlib.suppress(ValueError):  # an empty cell: a name assigned after the closure was made
            found.append((f"{where} captured {name}", cell.cell_contents))
    found += [(f"{where} default {i}", value) for i, value in enumerate(getattr(fn, "__defaults__", None) or ())]
    found += [(f"{where} default {k}", v) for k, v in sorted((getattr(fn, "__kwdefaults__", None) or {}).items())]
    for what, value in found:
        frozen = _frozen(value)
        if frozen is not None:
            values.append(f"{what}={frozen}")
        elif isinstance(value, types.ModuleType):
            _through_module(value, names, f"{where} via", files, values, seen)
        elif callable(value):
            _reached(value, files, values, seen)


def _through_module(module: types.ModuleType, names: set[str], where: str, files: dict[str, bytes], values: list[str],
                    seen: set[int]) -> None:  # fmt: skip
    """A module a function reads attributes of (``pkg.scale(z)``, ``pkg.OFFSET``, ``pkg.sub.f``): its source, and
    what the function's names find in it, followed like globals: a package's ``__init__`` that re-exports a helper
    from a submodule must not hide the submodule's source. Read from the module's ``__dict__``, so that a module's
    lazy ``__getattr__`` runs nothing; a name found by chance (an attribute name of something else) only adds to
    the digest."""
    if id(module) in seen:
        return
    seen.add(id(module))
    _add_module(module, files)
    attributes = vars(module)
    for name in sorted(names):
        if name not in attributes:
            continue
        value = attributes[name]
        frozen = _frozen(value)
        if frozen is not None:
            values.append(f"{where} {module.__name__}.{name}={frozen}")
        elif isinstance(value, types.ModuleType):
            _through_module(value, names, where, files, values, seen)
        elif callable(value):
            _reached(value, files, values, seen)


def function_digest(fn: Callable[..., Any]) -> str | None:
    """The digest of everything a plugin function's compiled code depends on, or ``None`` when it cannot be
    cached (defined in ``__main__``, a notebook or an interactive session, or its source is not a file).

    It covers the function's identity (module and qualified name), the source of every module it reaches through
    its globals (a helper imported from a second module, a ``numba.njit`` helper, a module used as ``m.f``, and
    what ``m.f`` is: a package's ``__init__`` re-exporting a helper from a submodule brings in the submodule; a
    ``jitclass``, which has no Python code of its own to follow, brings in its module), each
    by its module's name and not its path, and every value numba freezes into the compiled code: the globals it
    reads, the values a closure captured (two activations made by one factory with different parameters are
    different code) and default arguments, whether numbers, strings, NumPy scalars and arrays or tuples of them.
    """
    module_name = getattr(fn, "__module__", None) or ""
    if module_name == "__main__" or module_name not in sys.modules:
        return None
    if _module_file(sys.modules[module_name]) is None:
        return None
    files: dict[str, bytes] = {}
    values: list[str] = []
    _reached(fn, files, values, set())
    parts: list[str | bytes] = [module_name, getattr(fn, "__qualname__", "")]
    for name in sorted(files):
        parts += [name, files[name]]
    return digest(*parts, *values)


# ------------------------------------------------------------------------------------------------ the files


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` with bpframe's one atomic writer (:func:`bpframe.io._atomic.write_atomically`)."""
    atomic.write_atomically(path, lambda file: file.write(data), FILE_SUFFIX + ".tmp")


def discard(path: Path, exc: Exception) -> None:
    """Remove a damaged cache file (the kernel is then compiled again), with one warning per process."""
    with contextlib.suppress(OSError):
        path.unlink()
    stats().removed.append(str(path))
    warn_once(
        "corrupt",
        f"bpframe removed a damaged kernel cache file {path} ({type(exc).__name__}: {exc}) and recompiles it; "
        "other damaged files are removed without another warning",
    )


def encode(payload: bytes) -> bytes:
    """A cache file's bytes: the header, the payload's checksum, the payload."""
    return _HEADER + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload


def decode(data: bytes) -> bytes:
    """The payload of a cache file; ValueError if the header or the checksum does not match."""
    if not data.startswith(_HEADER):
        raise ValueError("not a bpframe kernel cache file")
    checksum, newline, payload = data[len(_HEADER) :].partition(b"\n")
    if not newline or hashlib.sha256(payload).hexdigest().encode() != checksum:
        raise ValueError("checksum mismatch (truncated or damaged)")
    return payload


# ------------------------------------------------------------------------------------------------- clearing


@dataclass(frozen=True)
class ClearReport:
    """What :func:`clear_cache` removed."""

    folder: Path
    files: int
    bytes: int


def _ours(path: Path) -> bool:
    """Files bpframe writes: cache files, their temporary files, and v0.1's generated modules and numba files."""
    name = path.name
    if name.endswith(FILE_SUFFIX) or (FILE_SUFFIX + ".tmp") in name or name.startswith(".probe-"):
        return True
    if name.startswith("k_") and name.endswith(".py"):  # bpframe 0.1's generated kernel modules ...
        return True
    return path.parent.name == "__pycache__" and name.startswith("k_") and name.endswith((".nbi", ".nbc", ".pyc"))


def _walk(base: Path) -> Iterator[Path]:
    """The files under ``base``, deepest folders first."""
    for root, _dirs, files in os.walk(base, topdown=False):
        for name in files:
            yield Path(root) / name


def cache_files(base: Path) -> Iterator[Path]:
    """The compiled kernels bpframe stored under ``base`` (every version)."""
    if base.is_dir():
        yield from (path for path in _walk(base) if path.name.endswith(FILE_SUFFIX))


def clear_cache() -> ClearReport:
    """Delete every file bpframe wrote into the kernel cache (all versions), and folders left empty by it.

    Files that bpframe did not write (e.g. when ``BPFRAME_CACHE_DIR`` points at a folder that holds other things)
    are never touched, nor are the folders that hold them.
    """
    base = cache_base()
    count = size = 0
    if base.is_dir():
        for path in _walk(base):
            if _ours(path):
                with contextlib.suppress(OSError):
                    size += path.stat().st_size
                    path.unlink()
                    count += 1
        for root, _dirs, _files in os.walk(base, topdown=False):
            folder = Path(root)
            if folder != base and _is_our_folder(folder, base):
                with contextlib.suppress(OSError):
                    folder.rmdir()  # only succeeds when empty
    return ClearReport(folder=base, files=count, bytes=size)


def _is_our_folder(folder: Path, base: Path) -> bool:
    """Folders bpframe creates under the base: ``bpframe-*``, ``numba-*``, ``py*`` and ``__pycache__`` inside them."""
    relative = folder.relative_to(base).parts
    return bool(relative) and relative[0].startswith("bpframe-")
