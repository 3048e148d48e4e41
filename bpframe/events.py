"""Training events: the ``bpframe_*`` training hooks of plugins and callbacks, called through pluggy, isolated.

**Dispatch.** Each event is one call of pluggy's own hook caller (``pm.hook.bpframe_epoch_end(...)``), so every
hook style pluggy documents works as pluggy documents it: plain implementations, ``tryfirst=True`` and
``trylast=True``, old-style wrappers (``hookwrapper=True``: the ``yield`` returns a ``pluggy.Result``) and
new-style wrappers (``wrapper=True``: the ``yield`` returns the list of results, and the wrapper returns the
list the caller gets). Apart from ``tryfirst``/``trylast``, implementations run last registered first: the
progress display, then the callbacks passed to ``fit`` (the last one first), then the installed plugins.

**Isolation.** pluggy stops a hook call at the first exception; bpframe must not let one broken plugin stop the
others or the training. So the bus does not register a plugin itself: it registers a *guard* for it, an object
holding the plugin's training-hook implementations under the same names, with the same arguments and options,
each wrapped in a ``try``:

- a plain implementation that raises gives ``None`` (no result), and the call goes on to the next one;
- a wrapper whose code before its ``yield`` raises lets the call go on without it; one whose code after the
  ``yield`` raises (or that yields twice) leaves the result as the inner call gave it. Exceptions of the inner
  call itself still reach every wrapper, as in pluggy.

A failure is reported once, when the hook call is over, with a :class:`~bpframe.errors.PluginWarning` naming the
plugin, and every hook of that plugin is skipped for the rest of the fit; when strict mode covers the plugin
(``BPFRAME_STRICT_PLUGINS=1``, or a list naming it; a callback passed to ``fit`` is covered whenever strict mode
is on), the guard raises a :class:`~bpframe.errors.PluginError` at once instead, which pluggy hands to the
wrappers that already ran before ``fit`` ends with it. Training itself never stops because of a broken plugin
outside strict mode.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Generator, Iterable
from typing import Any

import pluggy

from . import hookspecs
from .errors import PluginError, PluginWarning
from .plugins import in_scope, plugin_provenance, strict_scope
from .warn import warn

__all__ = ["EventBus"]

_Wrapper = Generator[None, Any, Any]

#: The training-hook implementations found in a plugin *module*, by the module's id: (module, ((attribute, hook,
#: options), ...)). A module's hooks are read once per process, as pluggy reads a plugin's once when it is
#: registered; reading them walks every name in the module (1.1 ms per fit for the four built-in modules,
#: measured), which every fit of a small dataset would otherwise repeat. Objects (callbacks, plugin instances)
#: are read at every fit: their attributes may change between fits.
_MODULE_IMPLS: dict[int, tuple[types.ModuleType, tuple[tuple[str, str, dict[str, Any]], ...]]] = {}


class _Guard:
    """Stands in for one plugin in the bus's plugin manager: its training-hook implementations, each guarded."""

    def __init__(self, plugin: object, description: str) -> None:
        self.plugin = plugin
        self.description = description
        self.hooks: list[str] = []  # the attributes set to guarded implementations

    def __dir__(self) -> list[str]:
        """Only the guarded implementations: pluggy's ``register`` reads every name ``dir`` gives (0.2 ms a
        plugin for an object's ~30 inherited names)."""
        return list(self.hooks)


class EventBus:
    """The training-event hooks of one fit: global plugins plus that fit's callbacks."""

    def __init__(self, plugins: Iterable[tuple[object, str]]) -> None:
        self._pm = pluggy.PluginManager(hookspecs.PROJECT)
        self._pm.add_hookspecs(hookspecs)
        self._guards: dict[int, _Guard] = {}  # id(plugin) -> its guard
        self._disabled: set[int] = set()
        self._failures: list[str] = []  # reported when the hook call in progress is over
        self._scope = strict_scope()
        for i, (plugin, description) in enumerate(plugins):
            if id(plugin) in self._guards:
                continue
            guard = self._guard(plugin, description)
            self._guards[id(plugin)] = guard
            self._pm.register(guard, name=f"{i}:{description}")

    def listens(self, hook: str) -> bool:
        """True when some active implementation of ``hook`` exists."""
        return any(
            id(impl.plugin.plugin) not in self._disabled for impl in getattr(self._pm.hook, hook).get_hookimpls()
        )

    def emit(self, hook: str, **kwargs: Any) -> list[Any]:
        """Call ``hook`` through pluggy with ``kwargs``; return the results that are not ``None``."""
        try:
            results = getattr(self._pm.hook, hook)(**kwargs)
        finally:
            failures, self._failures = self._failures, []
            for message in failures:
                warn(message, PluginWarning)
        if results is None:  # a new-style wrapper may return anything; fit expects a list
            return []
        return list(results) if isinstance(results, list) else [results]

    # -- the guard --------------------------------------------------------------------------------------------

    def _guard(self, plugin: object, description: str) -> _Guard:
        """A guard holding ``plugin``'s training-hook implementations (registration hooks are not events)."""
        guard = _Guard(plugin, description)
        for attr, hook, opts in self._implementations(plugin):
            function = getattr(plugin, attr)
            if opts.get("wrapper"):
                guarded = self._guarded_wrapper(guard, hook, function)
            elif opts.get("hookwrapper"):
                guarded = self._guarded_old_wrapper(guard, hook, function)
            else:
                guarded = self._guarded_plain(guard, hook, function)
            guarded = functools.wraps(function)(guarded)  # pluggy reads the arguments through __wrapped__
            setattr(guarded, f"{hookspecs.PROJECT}_impl", dict(opts))
            setattr(guard, attr, guarded)
            guard.hooks.append(attr)
        return guard

    def _implementations(self, plugin: object) -> tuple[tuple[str, str, dict[str, Any]], ...]:
        """``plugin``'s training-hook implementations as (attribute, hook, pluggy's options), read as pluggy reads
        them; a module's are read once per process (``_MODULE_IMPLS``)."""
        if isinstance(plugin, types.ModuleType):
            known = _MODULE_IMPLS.get(id(plugin))
            if known is not None and known[0] is plugin:
                return known[1]
        found = []
        for attr in dir(plugin):
            opts = self._pm.parse_hookimpl_opts(plugin, attr)
            if opts is None or (opts.get("specname") or attr) not in hookspecs.TRAINING_HOOKS:
                continue
            found.append((attr, opts.get("specname") or attr, dict(opts)))
        impls = tuple(found)
        if isinstance(plugin, types.ModuleType):
            _MODULE_IMPLS[id(plugin)] = (plugin, impls)
        return impls

    def _guarded_plain(self, guard: _Guard, hook: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if id(guard.plugin) in self._disabled:
                return None
            try:
                return function(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - a plugin's hook may raise anything
                self._fail(guard, hook, exc)
                return None

        return guarded

    def _guarded_wrapper(self, guard: _Guard, hook: str, function: Callable[..., _Wrapper]) -> Callable[..., _Wrapper]:
        """A new-style wrapper (``wrapper=True``): its ``yield`` gives the results, it returns the results."""

        def guarded(*args: Any, **kwargs: Any) -> _Wrapper:
            teardown = self._start(guard, hook, function, args, kwargs)
            if teardown is None:
                return (yield)
            try:
                result = yield
            except BaseException as inner:  # noqa: BLE001 - the call failed inside: the wrapper sees it, as in pluggy
                return self._finish(guard, hook, teardown, inner, None)
            return self._finish(guard, hook, teardown, None, result)

        return guarded

    def _guarded_old_wrapper(
        self, guard: _Guard, hook: str, function: Callable[..., _Wrapper]
    ) -> Callable[..., _Wrapper]:
        """An old-style wrapper (``hookwrapper=True``): its ``yield`` gives a ``pluggy.Result``."""

        def guarded(*args: Any, **kwargs: Any) -> _Wrapper:
            teardown = self._start(guard, hook, function, args, kwargs)
            outcome = yield
            if teardown is not None:
                self._finish_old(guard, hook, teardown, outcome)

        return guarded

    def _start(self, guard: _Guard, hook: str, function: Callable[..., _Wrapper], args: tuple[Any, ...],
               kwargs: dict[str, Any]) -> _Wrapper | None:  # fmt: skip
        """Run a wrapper up to its ``yield``; ``None`` when it is skipped or failed before it."""
        if id(guard.plugin) in self._disabled:
            return None
        try:
            teardown = function(*args, **kwargs)
            next(teardown)
        except Exception as exc:  # noqa: BLE001 - StopIteration too: a wrapper that never yields
            self._fail(guard, hook, exc)
            return None
        return teardown

    def _finish(self, guard: _Guard, hook: str, teardown: _Wrapper, inner: BaseException | None, result: Any) -> Any:
        """Run a new-style wrapper after its ``yield``, sending it the result or throwing in the inner exception;
        return what the call gives: the wrapper's value, or ``result`` unchanged (``inner`` raised again) when the
        wrapper failed."""
        try:
            if inner is not None:
                teardown.throw(inner)
            else:
                teardown.send(result)
        except StopIteration as stop:
            return stop.value
        except BaseException as exc:
            if exc is inner or not isinstance(exc, Exception):
                raise
            self._fail(guard, hook, exc)
        else:
            teardown.close()
            self._fail(guard, hook, RuntimeError("the wrapper yielded a second time"))
        if inner is not None:
            raise inner
        return result

    def _finish_old(self, guard: _Guard, hook: str, teardown: _Wrapper, outcome: pluggy.Result[Any]) -> None:
        """Run an old-style wrapper after its ``yield``. A failure changes the outcome only in strict mode (pluggy
        warns when an old-style wrapper raises after its ``yield``, so the error goes in the outcome)."""
        try:
            teardown.send(outcome)
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001 - a plugin's hook may raise anything
            if exc is not outcome.exception:
                self._fail_into(outcome, guard, hook, exc)
            return
        teardown.close()
        self._fail_into(outcome, guard, hook, RuntimeError("the wrapper yielded a second time"))

    def _fail_into(self, outcome: pluggy.Result[Any], guard: _Guard, hook: str, exc: Exception) -> None:
        try:
            self._fail(guard, hook, exc)
        except PluginError as error:
            outcome.force_exception(error)

    def _fail(self, guard: _Guard, hook: str, exc: Exception) -> None:
        """Report a failed hook when the hook call is over and skip the plugin from now on; in strict mode, raise."""
        message = (
            f"{guard.description}: hook {hook} raised {type(exc).__name__}: {exc}; "
            "it is skipped for the rest of this training run"
        )
        if self._strict(guard.plugin):
            raise PluginError(message) from exc
        self._disabled.add(id(guard.plugin))
        self._failures.append(message)

    def _strict(self, plugin: object) -> bool:
        """True when strict mode covers this plugin (a callback passed to fit whenever strict mode is on)."""
        if not self._scope:
            return False
        provenance = plugin_provenance(plugin)
        return provenance is None or in_scope(provenance, self._scope)
