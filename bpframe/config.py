"""Every ``BPFRAME_*`` environment variable bpframe reads, in one place.

========================================  ==============================================================
variable                                  meaning
========================================  ==============================================================
``BPFRAME_STRICT_PLUGINS=1``              a plugin that fails to load is an error instead of a warning; a list
                                          of plugin or distribution names limits that to those (under pytest,
                                          ``1`` means the project under test, see bpframe.pytest_plugin)
``BPFRAME_DISABLE_PLUGINS=a,b``           skip these plugins (entry-point or distribution names)
``BPFRAME_DISABLE_PLUGIN_AUTOLOAD=1``     load the built-in plugins only, no entry points
``BPFRAME_CACHE_DIR=/path``               where compiled kernels are cached (default: the user cache dir)
``BPFRAME_NO_KERNEL_CACHE=1``             compile kernels in memory only, never write to disk
``BPFRAME_NUM_THREADS=1``                 BLAS threads inside bpframe's kernels (default 1; see bpframe.threads)
``BPFRAME_FASHION_MNIST_DIR=/path``       the folder ``load_fashion_mnist()`` reads when no path is given
``BPFRAME_ENGINE=auto``                   ``compiled`` or ``numpy`` forces a tier of the engine (default ``auto``)
========================================  ==============================================================
"""

from __future__ import annotations

import os

from .errors import ConfigurationError

__all__ = ["EVERY_PLUGIN", "env_choice", "env_flag", "env_list", "env_names", "env_path"]

#: What :func:`env_names` returns for a flag such as ``1``: every name.
EVERY_PLUGIN = "*"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def env_flag(name: str) -> bool:
    """Read a boolean variable; an unrecognised value is treated as set, with the same meaning as ``1``."""
    value = os.environ.get(name, "").strip().lower()
    return value not in _FALSE


def env_list(name: str) -> list[str]:
    """Read a comma-separated list, dropping blanks."""
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def env_names(name: str) -> frozenset[str]:
    """Read a variable that is either a flag or a list of names: ``{EVERY_PLUGIN}`` when it is a set flag
    (``1``, ``true``, ...), the names when it lists some (``bpframe-a, b``), nothing when it is unset or off."""
    value = os.environ.get(name, "").strip()
    if value.lower() in _FALSE:
        return frozenset()
    if value.lower() in _TRUE:
        return frozenset({EVERY_PLUGIN})
    return frozenset(env_list(name))


def env_path(name: str) -> str | None:
    """Read a path variable; empty means unset."""
    value = os.environ.get(name, "").strip()
    return value or None


def env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    """Read a variable that must be one of ``choices`` (case-insensitive); empty means ``default``."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value not in choices:
        raise ConfigurationError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value
