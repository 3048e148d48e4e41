"""Plugin discovery: built-ins by module name, then the ``bpframe`` entry points, one at a time.

Each plugin is imported, registered and asked for its objects inside its own ``try``: one broken plugin is
skipped with a :class:`~bpframe.errors.PluginWarning` naming its distribution, version and error, and never
stops the others (``BPFRAME_STRICT_PLUGINS=1`` turns that into a :class:`~bpframe.errors.PluginError`).
Loading happens on first use and once; :func:`reload_plugins` starts over.
"""

from __future__ import annotations

import importlib
import threading
import traceback
from collections.abc import Callable, Iterable
from importlib import metadata
from typing import Any

import pluggy

from . import hookspecs
from ._version import __version__
from .activation import Activation
from .config import env_flag, env_list
from .errors import PluginError, PluginWarning
from .init import Initializer
from .loss import Loss
from .optimizers import OptimizerSpec
from .registry import PluginFailure, Provenance, Registry, Spec
from .warn import warn

__all__ = ["DEFAULT_PLUGINS", "ENTRY_POINT_GROUP", "get_registry", "load_registry", "reload_plugins"]

ENTRY_POINT_GROUP = "bpframe"
DEFAULT_PLUGINS = (
    "bpframe.default_plugins.activations",
    "bpframe.default_plugins.losses",
    "bpframe.default_plugins.optimizers",
    "bpframe.default_plugins.initializers",
)
_HOOKS: tuple[tuple[str, type], ...] = (
    ("bpframe_register_activations", Activation),
    ("bpframe_register_losses", Loss),
    ("bpframe_register_optimizers", OptimizerSpec),
    ("bpframe_register_initializers", Initializer),
)

_lock = threading.Lock()
_registry: Registry | None = None


def get_registry() -> Registry:
    """Return the registry, loading every plugin on the first call."""
    global _registry
    if _registry is None:
        with _lock:
            if _registry is None:
                _registry = load_registry()
    return _registry


def reload_plugins() -> Registry:
    """Forget the loaded plugins and discover them again (after ``pip install`` in a running process)."""
    global _registry
    with _lock:
        _registry = load_registry()
    return _registry


def load_registry(
    *,
    strict: bool | None = None,
    disabled: Iterable[str] | None = None,
    autoload: bool | None = None,
    entry_points: Iterable[metadata.EntryPoint] | None = None,
) -> Registry:
    """Discover plugins and return a fresh :class:`~bpframe.registry.Registry`.

    Parameters default to the environment: ``BPFRAME_STRICT_PLUGINS``, ``BPFRAME_DISABLE_PLUGINS`` and
    ``BPFRAME_DISABLE_PLUGIN_AUTOLOAD``.
    """
    loader = _Loader(
        strict=env_flag("BPFRAME_STRICT_PLUGINS") if strict is None else strict,
        disabled=set(env_list("BPFRAME_DISABLE_PLUGINS") if disabled is None else disabled),
    )
    for module_name in DEFAULT_PLUGINS:
        loader.load_builtin(module_name)
    if autoload is None:
        autoload = not env_flag("BPFRAME_DISABLE_PLUGIN_AUTOLOAD")
    if autoload:
        eps = metadata.entry_points(group=ENTRY_POINT_GROUP) if entry_points is None else entry_points
        for ep in eps:
            loader.load_entry_point(ep)
    return loader.registry


def _describe_error(exc: BaseException) -> str:
    """One line for the exception and the plugin-side frame that raised it."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


class _Loader:
    """One discovery run: a fresh plugin manager and the registry it fills."""

    def __init__(self, *, strict: bool, disabled: set[str]) -> None:
        self.strict = strict
        self.disabled = disabled
        self.registry = Registry()
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)

    def load_builtin(self, module_name: str) -> None:
        """Load a built-in plugin; a failure here is a bug in bpframe, so it always raises."""
        provenance = Provenance(module_name, "bpframe", __version__)
        module = importlib.import_module(module_name)
        error = self._register_plugin(module, provenance)
        if error is not None:
            raise PluginError(f"built-in plugin {module_name} failed: {error}")

    def load_entry_point(self, ep: metadata.EntryPoint) -> None:
        """Load one third-party plugin, isolating any failure."""
        dist = getattr(ep, "dist", None)
        provenance = Provenance(ep.name, dist.metadata["Name"] if dist else None, dist.version if dist else None)
        if ep.name in self.disabled or (provenance.distribution or "") in self.disabled:
            return
        try:
            plugin = ep.load()
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            self._fail(provenance, f"import of {ep.value!r} failed: {_describe_error(exc)}")
            return
        error = self._register_plugin(plugin, provenance)
        if error is not None:
            self._fail(provenance, error)

    def _fail(self, provenance: Provenance, error: str) -> None:
        self.registry.failures.append(PluginFailure(provenance, error))
        message = f"bpframe plugin {provenance.describe()} was skipped: {error}"
        if self.strict:
            raise PluginError(message)
        warn(message, PluginWarning)

    def _register_plugin(self, plugin: Any, provenance: Provenance) -> str | None:
        """Register ``plugin``, call its hooks, and commit what it registered; return an error or ``None``."""
        name = f"{provenance.distribution or '?'}:{provenance.plugin}"
        try:
            self.pm.register(plugin, name=name)
            self.pm.check_pending()
        except Exception as exc:  # noqa: BLE001 - pluggy validation errors and anything a plugin raises
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            return f"invalid hook implementation: {exc}"
        staged: list[Spec] = []
        for hook_name, expected in _HOOKS:
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                if impl.plugin is not plugin:
                    continue
                error = self._call_hook(impl, hook_name, expected, staged)
                if error is not None:
                    return error
        self.registry.plugins.append(provenance)
        self.registry.plugin_objects.append((plugin, provenance))
        self._commit(staged, provenance)
        return None

    def _call_hook(self, impl: Any, hook_name: str, expected: type, staged: list[Spec]) -> str | None:
        """Call one hook implementation with a ``register`` callback that type-checks what it receives."""

        def register(obj: object) -> None:
            if not isinstance(obj, expected):
                raise TypeError(
                    f"register() in {hook_name} expects a bpframe.{expected.__name__}, got {type(obj).__name__}"
                )
            staged.append(obj)  # type: ignore[arg-type]

        kwargs: dict[str, Callable[[object], None]] = {"register": register}
        try:
            impl.function(*[kwargs[arg] for arg in impl.argnames])
        except Exception as exc:  # noqa: BLE001 - a plugin's hook may raise anything
            return f"hook {hook_name} raised {_describe_error(exc)}"
        return None

    def _commit(self, staged: list[Spec], provenance: Provenance) -> None:
        for spec in staged:
            conflict = self.registry.table_of(spec).add(spec, provenance)
            if conflict is not None:
                if self.strict:
                    raise PluginError(conflict)
                warn(conflict, PluginWarning)
