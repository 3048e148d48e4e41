"""The kit over plugins: what one plugin (or distribution, or module) registered, and the whole registry."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import ModuleType, SimpleNamespace
from typing import TYPE_CHECKING, Any, TextIO

from ..activation import Activation
from ..init import Initializer
from ..loss import Loss
from ..optimizer_spec import OptimizerSpec
from ..plugins import load_registry, loaded_registry
from ._checks import activation_problems, loss_problems
from ._common import ConformanceError, PluginReport, SpecResult, message
from ._initializer import initializer_problems
from ._optimizer import optimizer_problems

if TYPE_CHECKING:
    from ..registry import PluginFailure, Provenance, Registry

__all__ = ["plugin_reports", "registry_report", "run_case", "test_cases"]

KINDS = ("activation", "loss", "optimizer", "initializer")


def registry_or_loaded(registry: Registry | None) -> Registry:
    """``registry``, or the process-wide one as loaded (a plugin's own problems are reported, not raised)."""
    if registry is not None:
        return registry
    return loaded_registry()


def module_registry(module: object) -> tuple[Registry, str]:
    """The built-ins plus ``module`` (or any object with hook implementations) loaded as a plugin, and the name
    it is loaded under: a plugin checked before it is packaged."""
    name = getattr(module, "__name__", None) or type(module).__name__
    entry_point = SimpleNamespace(name=name, value=name, group="bpframe", dist=None, load=lambda: module)
    return load_registry(entry_points=[entry_point], autoload=True, disabled=(), strict=False), name  # type: ignore[list-item]


def plugin_reports(registry: Registry, name: str, *, run: bool = True) -> list[PluginReport]:
    """A report per loaded plugin matching ``name``, then one per matching plugin that failed to load."""
    loaded = [_report(registry, p, run=run) for p in registry.plugins if p.matches(name)]
    return loaded + [_failure_report(f) for f in registry.failures if f.provenance.matches(name)]


def _report(registry: Registry, provenance: Provenance, *, run: bool = True) -> PluginReport:
    """Check (or, with ``run=False``, list unchecked) everything ``provenance`` registered."""
    report = PluginReport(provenance, hooks=_hooks(registry, provenance))
    for kind, table in zip(KINDS, registry.tables(), strict=True):
        for spec_name in table.names():
            if table.entries[spec_name].provenance == provenance:
                pending = SpecResult(kind, spec_name, ())
                report.results.append(run_case(registry, pending) if run else pending)
        for spec_name, owners in sorted(table.conflicts.items()):
            if provenance in owners:
                owners_text = " and ".join(p.describe() for p in owners)
                problem = f"conflict: the name is registered by {owners_text}, so it cannot be used"
                report.results.append(SpecResult(kind, spec_name, (problem,)))
    return report


def _failure_report(failure: PluginFailure) -> PluginReport:
    problem = f"load: {failure.error}"
    return PluginReport(failure.provenance, [SpecResult("plugin", failure.provenance.plugin, (problem,))])


def problems_of(registry: Registry, kind: str, spec: Any) -> list[str]:
    """Every failed check of one object of ``kind``."""
    if kind == "activation":
        return activation_problems(spec)
    if kind == "loss":
        acts = {n: registry.activation(n) for n in registry.activations.names()}
        return loss_problems(spec, acts)
    return optimizer_problems(spec) if kind == "optimizer" else initializer_problems(spec)


def run_case(registry: Registry, pending: SpecResult) -> SpecResult:
    """Check one registered object by kind and name; a crash of the kit itself is reported, not raised."""
    if pending.problems or pending.kind == "plugin":
        return pending
    started = time.perf_counter()
    table = registry.tables()[KINDS.index(pending.kind)]
    try:
        problems = problems_of(registry, pending.kind, table.get(pending.name).spec)
    except Exception as exc:  # noqa: BLE001 - a plugin function may fail in ways no check anticipates
        problems = [f"error: checking raised {type(exc).__name__}: {exc}"]
    return SpecResult(pending.kind, pending.name, tuple(problems), time.perf_counter() - started)


def _hooks(registry: Registry, provenance: Provenance) -> tuple[str, ...]:
    """The training-event hooks a plugin implements (registration hooks are shown by what they registered)."""
    names: list[str] = []
    for plugin, owner in registry.plugin_objects:
        if owner == provenance:
            names += [n for n in dir(plugin) if n.startswith("bpframe_") and not n.startswith("bpframe_register")
                      and hasattr(getattr(plugin, n, None), "bpframe_impl")]  # fmt: skip
    return tuple(sorted(names))


def nothing_named(registry: Registry, name: str) -> str:
    known = sorted({p.distribution or p.plugin for p in registry.plugins} | {p.plugin for p in registry.plugins})
    return (
        f"no bpframe plugin or distribution named {name!r} is loaded; loaded: {', '.join(known)}. "
        "Install the package (pip install -e .) so that its 'bpframe' entry point is discovered."
    )


def registry_report(registry: Registry, out: TextIO | None = None) -> int:
    """Print one block per plugin and a summary line; 0 when everything passed, else 1."""
    out = out or sys.stdout
    started = time.perf_counter()
    print("conformance checks:", file=out, flush=True)
    n_objects = n_failed = 0
    reports = [_report(registry, p) for p in registry.plugins] + [_failure_report(f) for f in registry.failures]
    for report in reports:
        print(report.format(), file=out, flush=True)
        n_objects += sum(r.kind != "plugin" for r in report.results)
        n_failed += sum(not r.passed for r in report.results)
    bad_plugins = sum(not r.passed for r in reports)
    outcome = f"{n_failed} failed, in {bad_plugins} plugins" if n_failed else "all passed"
    seconds = time.perf_counter() - started
    print(f"{n_objects} objects from {len(reports)} plugins checked in {seconds:.1f} s: {outcome}", file=out)
    return 1 if n_failed else 0


def test_cases(name: str) -> tuple[Registry, list[tuple[Provenance, SpecResult] | None]]:
    """What :func:`~bpframe.testing.conformance_tests` parametrizes over: one case per object (unchecked)."""
    registry = registry_or_loaded(None)
    cases: list[tuple[Provenance, SpecResult] | None] = [
        (report.provenance, spec)
        for report in plugin_reports(registry, name, run=False)
        for spec in report.results or [SpecResult("plugin", report.provenance.plugin, ())]
    ]
    return registry, cases or [None]


def failure_text(provenance: Provenance, result: SpecResult) -> str:
    """The message of a failed case."""
    if result.kind == "plugin":
        return message(provenance.describe(), result.problems)
    return message(f"{result.kind} {result.name!r} from {provenance.describe()}", result.problems)


def check_any(target: Any, check_one: Callable[[str, Any], None], check_named: Callable[[Any], object]) -> None:
    """Dispatch a target to the check of its kind (used by :func:`bpframe.testing.check`)."""
    kinds = {Activation: "activation", Loss: "loss", OptimizerSpec: "optimizer", Initializer: "initializer"}
    kind = kinds.get(type(target))
    if kind is not None:
        check_one(kind, target)
    elif isinstance(target, (str, ModuleType)) or _has_hooks(target):
        check_named(target)
    else:
        raise TypeError(
            "bpframe.testing.check expects an Activation, a Loss, an OptimizerSpec, an Initializer, a plugin "
            f"module, or a plugin or distribution name, got {type(target).__name__}"
        )


def _has_hooks(target: object) -> bool:
    """True for an object with a ``@bpframe.hookimpl`` method (a plugin object that is not a module)."""
    return any(
        hasattr(getattr(target, name, None), "bpframe_impl") for name in dir(target) if name.startswith("bpframe_")
    )


def raise_reports(reports: list[PluginReport], registry: Registry, name: str) -> list[PluginReport]:
    if not reports:
        raise ConformanceError(nothing_named(registry, name))
    failed = [r for r in reports if not r.passed]
    if failed:
        raise ConformanceError("\n".join(r.format() for r in failed))
    return reports
