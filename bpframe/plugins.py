"""Plugin discovery: built-ins by module name, then the ``bpframe`` entry points, one at a time.

Each plugin is imported, registered and asked for its objects inside its own ``try``: one broken plugin is
skipped with a :class:`~bpframe.errors.PluginWarning` naming its distribution, version and error, and never
stops the others. Loading happens on first use and once per process, whatever fails; :func:`reload_plugins`
starts over.

Strict mode (``BPFRAME_STRICT_PLUGINS``) turns the problems of *some* plugins into a
:class:`~bpframe.errors.PluginError`: of every plugin for a flag such as ``1``, or only of the plugins and
distributions it lists (``BPFRAME_STRICT_PLUGINS=bpframe-bent``). Under pytest, bpframe's pytest plugin narrows
``1`` to the project under test, so that another installed plugin's failure stays one warning. The problems of
the others are warnings, delivered once; where warnings are errors (``-W error``), a plugin's failure is written
to stderr as one line instead, so that it can never make the built-ins unavailable.
"""

from __future__ import annotations

import importlib
import sys
import threading
import traceback
from collections.abc import Iterable
from importlib import metadata
from typing import Any

import pluggy

from . import config, hookspecs
from ._version import __version__
from .activation import Activation
from .config import EVERY_PLUGIN
from .errors import PluginError, PluginWarning
from .init import Initializer
from .loss import Loss
from .optimizer_spec import OptimizerSpec
from .registry import PluginFailure, Problem, Provenance, Registry, Spec
from .warn import warn

__all__ = [
    "DEFAULT_PLUGINS",
    "ENTRY_POINT_GROUP",
    "get_registry",
    "in_scope",
    "load_registry",
    "loaded_registry",
    "plugin_provenance",
    "reload_plugins",
    "strict_scope",
    "unshown_warnings",
]

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
#: plugin warnings that could not be issued as warnings (they were errors): written to stderr instead
_unshown: list[str] = []


def get_registry() -> Registry:
    """Return the registry, loading every plugin on the first call (once per process, whatever fails).

    Raises
    ------
    PluginError
        On every call, while a plugin within the strict scope (``strict_scope()``) failed to load or claims a
        name another plugin claims too.
    """
    registry = loaded_registry()
    _raise_strict(registry, strict_scope())
    return registry


def loaded_registry() -> Registry:
    """The process-wide registry as loaded, whether or not strict mode would raise for it (for the conformance
    kit, which reports a plugin's problems as failed checks); built once, like :func:`get_registry`'s."""
    return _registry if _registry is not None else _load_once()


def _load_once() -> Registry:
    """Build the process-wide registry if no other thread did; issue its warnings after it is in place."""
    global _registry
    with _lock:
        if _registry is not None:
            return _registry
        registry = _discover()
        _registry = registry
    _warn_out_of_scope(registry, strict_scope())
    return registry


def reload_plugins() -> Registry:
    """Forget the loaded plugins and discover them again (after ``pip install`` in a running process)."""
    global _registry
    with _lock:
        _registry = _discover()
    _warn_out_of_scope(_registry, strict_scope())
    _raise_strict(_registry, strict_scope())
    return _registry


def load_registry(
    *,
    strict: bool | Iterable[str] | None = None,
    disabled: Iterable[str] | None = None,
    autoload: bool | None = None,
    entry_points: Iterable[metadata.EntryPoint] | None = None,
) -> Registry:
    """Discover plugins and return a fresh :class:`~bpframe.registry.Registry`.

    ``strict`` is ``True`` (every plugin), ``False`` (none) or the plugin and distribution names strict mode
    applies to. Parameters default to the environment: ``BPFRAME_STRICT_PLUGINS``, ``BPFRAME_DISABLE_PLUGINS``
    and ``BPFRAME_DISABLE_PLUGIN_AUTOLOAD``.
    """
    registry = _discover(disabled=disabled, autoload=autoload, entry_points=entry_points)
    scope = _scope(strict)
    _warn_out_of_scope(registry, scope)
    _raise_strict(registry, scope)
    return registry


def strict_scope() -> frozenset[str]:
    """The plugins strict mode applies to now, from ``BPFRAME_STRICT_PLUGINS``: ``{"*"}`` for every plugin, the
    names it lists, or nothing."""
    return config.strict_plugins()


def in_scope(provenance: Provenance, scope: frozenset[str]) -> bool:
    """True when strict mode applies to this plugin."""
    return EVERY_PLUGIN in scope or any(provenance.matches(name) for name in scope)


def plugin_provenance(plugin: object) -> Provenance | None:
    """Where a loaded plugin object (a module, or the object an entry point names) comes from; ``None`` for an
    object that is not a loaded plugin (a callback passed to ``fit``)."""
    registry = _registry
    if registry is None:
        return None
    return next((provenance for obj, provenance in registry.plugin_objects if obj is plugin), None)


def unshown_warnings() -> list[str]:
    """The plugin warnings that could not be issued because warnings were errors (they went to stderr)."""
    return list(_unshown)


def _scope(strict: bool | Iterable[str] | None) -> frozenset[str]:
    if strict is None:
        return strict_scope()
    if isinstance(strict, bool):
        return frozenset({EVERY_PLUGIN}) if strict else frozenset()
    return frozenset(strict)


def _discover(
    *,
    disabled: Iterable[str] | None = None,
    autoload: bool | None = None,
    entry_points: Iterable[metadata.EntryPoint] | None = None,
) -> Registry:
    """Load the built-ins and the entry points; every problem is recorded, none raised."""
    loader = _Loader(disabled=set(config.disabled_plugins() if disabled is None else disabled))
    for module_name in DEFAULT_PLUGINS:
        loader.load_builtin(module_name)
    if autoload is None:
        autoload = config.plugin_autoload()
    if autoload:
        eps = metadata.entry_points(group=ENTRY_POINT_GROUP) if entry_points is None else entry_points
        for ep in eps:
            loader.load_entry_point(ep)
    return loader.registry


def _concerns(problem: Problem, scope: frozenset[str]) -> bool:
    return any(in_scope(owner, scope) for owner in problem.owners)


def _raise_strict(registry: Registry, scope: frozenset[str]) -> None:
    """Raise one PluginError listing every problem of a plugin within ``scope``."""
    if not scope:
        return
    messages = [problem.message for problem in registry.problems if _concerns(problem, scope)]
    if messages:
        raise PluginError("\n".join(dict.fromkeys(messages)))


def _warn_out_of_scope(registry: Registry, scope: frozenset[str]) -> None:
    """Issue one warning per problem that strict mode does not cover."""
    for problem in registry.problems:
        if not _concerns(problem, scope):
            _warn_safely(problem.message)


def _warn_safely(message: str) -> None:
    """A PluginWarning; where warnings are errors, one line on stderr instead (a broken plugin must never make
    bpframe unusable: strict mode is the way to make plugin problems errors)."""
    try:
        warn(message, PluginWarning)
    except PluginWarning:
        _unshown.append(message)
        print(f"bpframe: warning: {message}", file=sys.stderr)


def _describe_error(exc: BaseException) -> str:
    """One line for the exception and the plugin-side frame that raised it."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


class _Loader:
    """One discovery run: a fresh plugin manager and the registry it fills."""

    def __init__(self, *, disabled: set[str]) -> None:
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
        error = " ".join(error.split())  # one line, whatever the plugin's exception says
        self.registry.failures.append(PluginFailure(provenance, error))
        who = provenance.describe() if provenance.distribution is None else f"plugin {provenance.describe()}"
        message = f"bpframe {who} was skipped: {error}"
        self.registry.problems.append(Problem((provenance,), message))

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
            error = self._call_hook(plugin, hook_name, expected, staged)
            if error is not None:
                return error
        self.registry.plugins.append(provenance)
        self.registry.plugin_objects.append((plugin, provenance))
        self._commit(staged, provenance)
        return None

    def _call_hook(self, plugin: object, hook_name: str, expected: type, staged: list[Spec]) -> str | None:
        """Call ``plugin``'s implementations of ``hook_name`` (and only its own) through pluggy, so that every hook
        style works, with a ``register`` callback that type-checks what it receives."""

        def register(obj: object) -> None:
            if not isinstance(obj, expected):
                raise TypeError(
                    f"register() in {hook_name} expects a bpframe.{expected.__name__}, got {type(obj).__name__}"
                )
            staged.append(obj)  # type: ignore[arg-type]

        others = [other for other in self.pm.get_plugins() if other is not plugin]
        caller = self.pm.subset_hook_caller(hook_name, remove_plugins=others)
        if not caller.get_hookimpls():
            return None
        try:
            caller(register=register)
        except Exception as exc:  # noqa: BLE001 - a plugin's hook may raise anything
            return f"hook {hook_name} raised {_describe_error(exc)}"
        return None

    def _commit(self, staged: list[Spec], provenance: Provenance) -> None:
        for spec in staged:
            table = self.registry.table_of(spec)
            conflict = table.add(spec, provenance)
            if conflict is not None:
                self.registry.problems.append(Problem(tuple(table.conflicts[spec.name]), conflict))
