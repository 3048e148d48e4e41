"""Where generated kernel modules live, and how they are written and imported.

Layout: ``<root>/bpframe-<version>/numba-<version>/py<major>.<minor>/k_<hash>.py`` with numba's own cache
files in ``__pycache__`` beside each module. The hash covers the generated source, the source of every module
the kernel inlines (the plugin modules and bpframe's equation modules) and the plugin distributions'
versions: numba notices changes to the kernel's own file only, so any change elsewhere must give a new file.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
import threading
import warnings
from pathlib import Path
from types import ModuleType

from .._version import __version__
from ..config import env_flag, env_path
from ..errors import BpframeWarning

__all__ = ["cache_base", "cache_dir", "clear_cache", "digest", "exec_module", "load_module"]

_warned = threading.Event()


def _user_cache_home() -> Path:
    """The per-user cache folder of this platform (an empty or relative XDG_CACHE_HOME is ignored)."""
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg)
    return Path.home() / ".cache"


def cache_base() -> Path:
    """The folder that holds every bpframe kernel cache: ``BPFRAME_CACHE_DIR`` or ``<user cache>/bpframe``."""
    configured = env_path("BPFRAME_CACHE_DIR")
    return Path(configured) if configured else _user_cache_home() / "bpframe"


def cache_dir() -> Path | None:
    """The writable folder for this bpframe, numba and Python, or ``None`` (with one warning) if there is none."""
    if env_flag("BPFRAME_NO_KERNEL_CACHE"):
        return None
    import numba

    path = cache_base() / f"bpframe-{__version__}" / f"numba-{numba.__version__}"
    path = path / f"py{sys.version_info[0]}.{sys.version_info[1]}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.NamedTemporaryFile(dir=path, prefix=".probe-").close()  # can we create files here?
    except OSError as exc:
        if not _warned.is_set():
            _warned.set()
            warnings.warn(
                f"bpframe cannot write its kernel cache in {path} ({exc.strerror or exc}); kernels are compiled "
                "in memory and recompiled in every process. Set BPFRAME_CACHE_DIR to a writable folder.",
                BpframeWarning,
                stacklevel=4,
            )
        return None
    return path


def clear_cache() -> Path:
    """Delete every cached kernel of every bpframe version; return the folder that was removed."""
    base = cache_base()
    if base.exists():
        shutil.rmtree(base)
    return base


def digest(*parts: str | bytes) -> str:
    """A short hex digest of the parts, in order."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()[:24]


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_module(folder: Path, key: str, source: str) -> ModuleType:
    """Import the module ``k_<key>`` from ``folder``, writing it first if it is not there yet."""
    name = f"bpframe_kernel_{key}"
    if name in sys.modules:
        return sys.modules[name]
    path = folder / f"k_{key}.py"
    if not path.exists() or path.read_text(encoding="utf-8") != source:
        _write_atomically(path, source)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def exec_module(key: str, source: str, namespace: dict[str, object]) -> ModuleType:
    """Build the module in memory (no disk cache), with ``namespace`` providing the plugin functions."""
    module = ModuleType(f"bpframe_kernel_mem_{key}")
    module.__dict__.update(namespace)
    code = compile(source, f"<bpframe kernel {key}>", "exec")
    exec(code, module.__dict__)
    return module
