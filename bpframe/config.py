"""Every environment variable bpframe reads, read here and nowhere else, and parsed strictly.

The variables, their values and defaults are listed in one table, in the configuration guide
(``docs/guide/configuration.rst``); ``VARIABLES`` names them, and a test keeps the two in step.

Parsing is strict: a flag is ``1``, ``true``, ``yes`` or ``on`` (set) or ``0``, ``false``, ``no`` or ``off``
(unset), in any case and with surrounding spaces ignored; empty or absent means the default. Any other value is a
:class:`~bpframe.errors.ConfigurationError` naming the variable, the value and what is accepted.

The variables of the engine (threads, tier, kernel cache) are read **once per operation**: :func:`operation`
reads them at the start of ``fit`` (a bad value is reported before any work, never in the middle of training),
and every :func:`settings` call until the operation ends, from any thread, sees that one reading. A kernel call
made outside an operation (``feedforward``, ``evaluate``) is its own operation: it reads them when it starts.
Plugin discovery reads the plugin variables when it runs (once per process, or per :func:`~bpframe.reload_plugins`),
and strict mode's scope is read once per use of the registry and once per fit.

This module imports nothing from bpframe but ``bpframe.errors``, and never numba or pluggy: the compiled
engine's modules may import it.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigurationError

__all__ = [
    "ENGINES",
    "EVERY_PLUGIN",
    "VARIABLES",
    "Settings",
    "disabled_plugins",
    "env_choice",
    "env_flag",
    "env_int",
    "env_list",
    "env_names",
    "env_path",
    "fashion_mnist_dir",
    "narrow_strict_plugins",
    "operation",
    "plugin_autoload",
    "read",
    "restore_strict_plugins",
    "settings",
    "strict_plugins",
]

#: Every ``BPFRAME_*`` variable bpframe reads (each one has a row in the configuration guide's table).
VARIABLES = (
    "BPFRAME_STRICT_PLUGINS",
    "BPFRAME_DISABLE_PLUGINS",
    "BPFRAME_DISABLE_PLUGIN_AUTOLOAD",
    "BPFRAME_CACHE_DIR",
    "BPFRAME_NO_KERNEL_CACHE",
    "BPFRAME_NUM_THREADS",
    "BPFRAME_FASHION_MNIST_DIR",
    "BPFRAME_ENGINE",
)

#: What :func:`env_names` returns for a flag such as ``1``: every name.
EVERY_PLUGIN = "*"
#: The values of ``BPFRAME_ENGINE``.
ENGINES = ("auto", "compiled", "numpy")

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_STRICT = "BPFRAME_STRICT_PLUGINS"


def _raw(name: str) -> str:
    """The variable's value without surrounding spaces; ``""`` when it is not set (the one read of the
    environment)."""
    return os.environ.get(name, "").strip()


def numba_variable(name: str) -> str | None:
    """The value of one of numba's own variables (``NUMBA_...``) as numba will read it, or ``None`` when it is not
    set. bpframe never acts on them: it only looks whether numba would make other code than it does by default,
    to know whether cached code can be loaded without importing numba (:mod:`bpframe.kernels.lean`)."""
    if not name.startswith("NUMBA_"):
        raise ValueError(f"not one of numba's variables: {name!r}")
    return os.environ.get(name)


# -- parsers, one per kind of value ---------------------------------------------------------------------------


def env_flag(name: str) -> bool:
    """Read a boolean variable: ``1/true/yes/on`` is ``True``, ``0/false/no/off`` or empty is ``False``.

    Raises
    ------
    ConfigurationError
        For any other value, naming the variable, the value and the accepted values.

    Examples
    --------
    >>> import os
    >>> os.environ["MY_FLAG"] = " Yes "
    >>> env_flag("MY_FLAG")
    True
    >>> os.environ["MY_FLAG"] = "maybe"
    >>> env_flag("MY_FLAG")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    bpframe.errors.ConfigurationError: MY_FLAG must be 1, true, yes or on to set it, ... leave it unset; got 'maybe'
    >>> del os.environ["MY_FLAG"]
    """
    value = _raw(name)
    if value.lower() in _TRUE:
        return True
    if not value or value.lower() in _FALSE:
        return False
    raise ConfigurationError(
        f"{name} must be {', '.join(_TRUE[:-1])} or {_TRUE[-1]} to set it, or {', '.join(_FALSE)} or empty to "
        f"leave it unset; got {value!r}"
    )


def env_list(name: str) -> list[str]:
    """Read a comma-separated list, dropping blanks."""
    return [item.strip() for item in _raw(name).split(",") if item.strip()]


def env_names(name: str) -> frozenset[str]:
    """Read a variable that is either a flag or a list of names: ``{EVERY_PLUGIN}`` when it is a set flag
    (``1``, ``true``, ...), the names when it lists some (``bpframe-a, b``), nothing when it is unset or off."""
    value = _raw(name).lower()
    if not value or value in _FALSE:
        return frozenset()
    if value in _TRUE:
        return frozenset({EVERY_PLUGIN})
    return frozenset(env_list(name))


def env_path(name: str) -> str | None:
    """Read a path variable; empty means unset."""
    return _raw(name) or None


def env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    """Read a variable that must be one of ``choices`` (case-insensitive); empty means ``default``."""
    value = _raw(name).lower()
    if not value:
        return default
    if value not in choices:
        raise ConfigurationError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def env_int(name: str, default: int) -> int:
    """Read a whole number >= 1 (digits only); empty means ``default``."""
    value = _raw(name)
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ConfigurationError(f"{name} must be an int >= 1, got {value!r}")
    return int(value)


# -- the plugin variables, read by discovery and strict mode ----------------------------------------------------


def strict_plugins() -> frozenset[str]:
    """``BPFRAME_STRICT_PLUGINS``: ``{"*"}`` for every plugin, the plugin and distribution names it lists, or
    nothing (the one place the strict flag is read)."""
    return env_names(_STRICT)


def disabled_plugins() -> list[str]:
    """``BPFRAME_DISABLE_PLUGINS``: the entry-point and distribution names not to load."""
    return env_list("BPFRAME_DISABLE_PLUGINS")


def plugin_autoload() -> bool:
    """False when ``BPFRAME_DISABLE_PLUGIN_AUTOLOAD`` is set: load the built-in plugins only."""
    return not env_flag("BPFRAME_DISABLE_PLUGIN_AUTOLOAD")


def narrow_strict_plugins(names: str) -> str | None:
    """Set ``BPFRAME_STRICT_PLUGINS`` to ``names`` (for this process and the programs it starts); return the value
    it had, ``None`` when it was unset, for :func:`restore_strict_plugins`."""
    previous = os.environ.get(_STRICT)
    os.environ[_STRICT] = names
    return previous


def restore_strict_plugins(previous: str | None) -> None:
    """Give ``BPFRAME_STRICT_PLUGINS`` back the value :func:`narrow_strict_plugins` returned."""
    if previous is None:
        os.environ.pop(_STRICT, None)
    else:
        os.environ[_STRICT] = previous


def fashion_mnist_dir() -> str | None:
    """``BPFRAME_FASHION_MNIST_DIR``: the folder ``load_fashion_mnist()`` reads when no path is given."""
    return env_path("BPFRAME_FASHION_MNIST_DIR")


# -- the engine's variables, read once per operation -----------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """The engine's configuration as one operation sees it, read from the environment at its start.

    Attributes
    ----------
    num_threads : int
        ``BPFRAME_NUM_THREADS``: BLAS threads inside bpframe's kernels (1 when unset).
    engine : {"auto", "compiled", "numpy"}
        ``BPFRAME_ENGINE``: the tier of the engine, or ``"auto"`` to let bpframe choose.
    cache_dir : str or None
        ``BPFRAME_CACHE_DIR``: the kernel cache's base folder; ``None`` for ``<cache_home>/bpframe``.
    no_kernel_cache : bool
        ``BPFRAME_NO_KERNEL_CACHE``: compile in memory only.
    cache_home : pathlib.Path
        The platform's per-user cache folder (``%LOCALAPPDATA%`` on Windows, ``~/Library/Caches`` on macOS,
        ``$XDG_CACHE_HOME`` or ``~/.cache`` elsewhere; an empty or relative ``XDG_CACHE_HOME`` is ignored).
    """

    num_threads: int
    engine: str
    cache_dir: str | None
    no_kernel_cache: bool
    cache_home: Path


def read() -> Settings:
    """Read the engine's variables now.

    Raises
    ------
    ConfigurationError
        When one of them has a value that is not accepted (the message names the variable, the value and what
        is accepted).
    """
    return Settings(
        num_threads=env_int("BPFRAME_NUM_THREADS", 1),
        engine=env_choice("BPFRAME_ENGINE", ENGINES, "auto"),
        cache_dir=env_path("BPFRAME_CACHE_DIR"),
        no_kernel_cache=env_flag("BPFRAME_NO_KERNEL_CACHE"),
        cache_home=_user_cache_home(),
    )


def _user_cache_home() -> Path:
    """The per-user cache folder of this platform (an empty or relative XDG_CACHE_HOME is ignored)."""
    if sys.platform == "win32":
        return Path(_raw("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches"
    xdg = _raw("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg)
    return Path.home() / ".cache"


class _Operation:
    """The reading of the operation in progress and how many operations share it. Process-wide, not per thread:
    an engine call runs in bpframe's engine thread, not in the thread that started the operation."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.settings: Settings | None = None
        self.depth = 0


_operation = _Operation()


@contextmanager
def operation(engine: str | None = None) -> Iterator[Settings]:
    """Read the engine's variables once, for the whole block: every :func:`settings` call until it ends sees that
    reading. Operations that overlap (nested, or in other threads) share the reading of the first.

    ``engine`` ("auto", "compiled" or "numpy") replaces ``BPFRAME_ENGINE`` for the block, e.g. ``bpframe cache
    warm`` compiling the engine; only the first of overlapping operations may give it.

    Raises
    ------
    ConfigurationError
        At the start, before the block runs, when a variable has a value that is not accepted, or when
        ``engine`` is given inside another operation (whose reading the block would have to share).
    """
    if engine is not None and engine not in ENGINES:
        raise ConfigurationError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    with _operation.lock:
        if _operation.settings is None:
            fresh = read()
            _operation.settings = fresh if engine is None else dataclasses.replace(fresh, engine=engine)
        elif engine is not None and engine != _operation.settings.engine:
            raise ConfigurationError(
                f"cannot run with engine={engine!r} inside an operation that already runs with "
                f"engine={_operation.settings.engine!r}"
            )
        _operation.depth += 1
        current = _operation.settings
    try:
        yield current
    finally:
        with _operation.lock:
            _operation.depth -= 1
            if _operation.depth == 0:
                _operation.settings = None


def settings() -> Settings:
    """The settings of the operation in progress, or a fresh reading (:func:`read`) when none is."""
    current = _operation.settings
    return current if current is not None else read()
