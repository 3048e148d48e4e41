"""The numba side of the kernel cache: a ``Cache`` that numba's dispatchers and C callbacks use in place of their own.

See :mod:`bpframe.kernels.cache` for where files live, what their keys cover, and how they are written.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from numba.core.caching import _Cache

from . import lean
from .cache import FILE_SUFFIX, decode, digest, discard, encode, stats, warn_once, write_atomically

__all__ = ["KernelCache"]

#: numba versions whose cached code is known to need only numba's runtime (NRT) to be loaded, not the typing and
#: lowering registries that ``refresh()`` imports (0.25 s, scipy.linalg included, measured with numba 0.68.1).
_LEAN_LOAD_VERSIONS = ("0.68.",)


def _prepare(target_context: Any) -> None:
    """Make the target ready to link cached code: numba's runtime only, where that is known to be enough."""
    import numba

    if numba.__version__.startswith(_LEAN_LOAD_VERSIONS):
        from numba.core.runtime import rtsys  # type: ignore[attr-defined]

        rtsys.initialize(target_context)
    else:
        target_context.refresh()


#: The bytes of every file numba's path loaded in this process, by identity: what :meth:`KernelCache.store`
#: writes for a loaded result (a few files, the engine's about 140 KB each).
_loaded_files: dict[tuple[str, ...], bytes] = {}


class KernelCache(_Cache):
    """A numba cache for one compiled function, stored by bpframe under a key bpframe computes.

    Set as a dispatcher's or ``CFunc``'s ``_cache``: numba then asks it for a compiled result before compiling
    and hands it every new result. ``folder=None`` means compile in memory only.

    A C callback (a block) has one signature, named by ``label`` (``"layer"``, ``"update"``, ``"product"``) in
    place of numba's text of it, and its file also holds the object code in the form
    :mod:`bpframe.kernels.lean` links without numba; a dispatcher (an engine entry point) has ``label=None``.
    """

    def __init__(self, folder: Path | None, name: str, key: str, label: str | None = None) -> None:
        self._folder, self._name, self._key, self._label = folder, name, key, label

    @property
    def cache_path(self) -> str:
        return str(self._folder or "")

    def enable(self) -> None:
        """Always enabled (numba's interface)."""

    def disable(self) -> None:
        """Not supported: bpframe decides per kernel whether to cache (numba's interface)."""

    def flush(self) -> None:
        """Nothing is buffered (numba's interface)."""

    def _identity(self, sig: Any, codegen: Any) -> tuple[str, ...]:
        """Everything a file must be for: this function, its key, the signature, the CPU. It names the file and
        is stored inside it, so a file copied or renamed onto another kernel's name is never taken for it."""
        return (self._name, self._key, str(sig) if self._label is None else self._label, repr(codegen.magic_tuple()))

    def _path(self, sig: Any, codegen: Any) -> Path:
        assert self._folder is not None
        return self._folder / f"{self._name}-{digest(*self._identity(sig, codegen))}{FILE_SUFFIX}"

    def load_overload(self, sig: Any, target_context: Any) -> Any:
        """The compiled result for ``sig`` if a sound file has it, else ``None`` (a broken file is removed)."""
        if self._folder is None:
            return None
        _prepare(target_context)
        path = self._path(sig, target_context.codegen())
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            warn_once("unreadable", f"bpframe cannot read its kernel cache file {path} ({exc}); recompiling")
            return None
        try:
            identity, _lean, serialised = pickle.loads(decode(data))
            if identity != self._identity(sig, target_context.codegen()):
                raise ValueError(f"the file belongs to another kernel ({identity[0]})")
            from numba.core.compiler import CompileResult

            result = CompileResult._rebuild(target_context, *pickle.loads(serialised))  # type: ignore[no-untyped-call]
        except Exception as exc:  # noqa: BLE001 - anything wrong with the file means: compile again
            discard(path, exc)
            return None
        stats().loaded.append(self._name)
        _loaded_files[identity] = data
        return result

    def save_overload(self, sig: Any, cres: Any) -> None:
        """Store a new compiled result (a numba compile that cannot be cached is only counted)."""
        stats().compiled.append(self._name)
        self._write(sig, cres)

    def store(self, sig: Any, cres: Any) -> bool:
        """Write a result this process holds unless its file is there; True when written. A result loaded from
        another folder is written as the file it was loaded from (numba hands a loaded library's object code to
        LLVM and keeps no copy to serialise again)."""
        if self._folder is None:
            return False
        path = self._path(sig, cres.library.codegen)
        if path.exists():
            return False
        data = _loaded_files.get(self._identity(sig, cres.library.codegen))
        if data is None:
            return self._write(sig, cres)
        return self._put(path, data)

    def _write(self, sig: Any, cres: Any) -> bool:
        if self._folder is None or cres.library.has_dynamic_globals or any(not x.can_cache for x in cres.lifted):
            return False
        identity = self._identity(sig, cres.library.codegen)
        try:
            reduced = cres._reduce()
        except RuntimeError:  # a library numba loaded from a file this process did not read: nothing to write
            return False
        wrapper = cres.fndesc.llvm_cfunc_wrapper_name
        linkable = None if self._label is None else lean.payload(reduced, cres.library, wrapper)
        serialised = pickle.dumps(reduced, protocol=pickle.HIGHEST_PROTOCOL)
        payload = pickle.dumps((identity, linkable, serialised), protocol=pickle.HIGHEST_PROTOCOL)
        return self._put(self._path(sig, cres.library.codegen), encode(payload))

    def _put(self, path: Path, data: bytes) -> bool:
        assert self._folder is not None
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            write_atomically(path, data)
        except OSError as exc:
            warn_once("unwritable-file", f"bpframe could not write a kernel cache file in {self._folder}: {exc}")
            return False
        return True
