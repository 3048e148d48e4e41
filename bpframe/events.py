"""Training events: call the ``bpframe_*`` training hooks of plugins and callbacks, one at a time, isolated.

A hook implementation that raises is reported once with a :class:`~bpframe.errors.PluginWarning` naming its
plugin, and skipped for the rest of the fit; when strict mode covers that plugin (``BPFRAME_STRICT_PLUGINS=1``, or
a list naming it; a callback passed to ``fit`` is covered whenever strict mode is on) it raises a
:class:`~bpframe.errors.PluginError` instead. Training itself never stops because of a broken plugin.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pluggy

from . import hookspecs
from .errors import PluginError, PluginWarning
from .plugins import in_scope, plugin_provenance, strict_scope
from .warn import warn

__all__ = ["EventBus"]


class EventBus:
    """The training-event hooks of one fit: global plugins plus that fit's callbacks."""

    def __init__(self, plugins: Iterable[tuple[object, str]]) -> None:
        self._pm = pluggy.PluginManager(hookspecs.PROJECT)
        self._pm.add_hookspecs(hookspecs)
        self._names: dict[int, str] = {}
        self._disabled: set[int] = set()
        self._scope = strict_scope()
        for i, (plugin, description) in enumerate(plugins):
            if self._pm.is_registered(plugin):
                continue
            self._pm.register(plugin, name=f"{i}:{description}")
            self._names[id(plugin)] = description

    def listens(self, hook: str) -> bool:
        """True when some active implementation of ``hook`` exists."""
        return any(id(impl.plugin) not in self._disabled for impl in getattr(self._pm.hook, hook).get_hookimpls())

    def emit(self, hook: str, **kwargs: Any) -> list[Any]:
        """Call every implementation of ``hook`` (last registered first, as pluggy does); return their results."""
        results = []
        for impl in reversed(getattr(self._pm.hook, hook).get_hookimpls()):
            if id(impl.plugin) in self._disabled:
                continue
            try:
                results.append(impl.function(*[kwargs[name] for name in impl.argnames]))
            except Exception as exc:  # noqa: BLE001 - a plugin's hook may raise anything
                self._fail(impl.plugin, hook, exc)
        return results

    def _fail(self, plugin: object, hook: str, exc: Exception) -> None:
        message = (
            f"{self._names.get(id(plugin), repr(plugin))}: hook {hook} raised {type(exc).__name__}: {exc}; "
            "it is skipped for the rest of this training run"
        )
        if self._strict(plugin):
            raise PluginError(message) from exc
        self._disabled.add(id(plugin))
        warn(message, PluginWarning)

    def _strict(self, plugin: object) -> bool:
        """True when strict mode covers this plugin (a callback passed to fit whenever strict mode is on)."""
        if not self._scope:
            return False
        provenance = plugin_provenance(plugin)
        return provenance is None or in_scope(provenance, self._scope)
