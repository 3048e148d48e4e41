"""The registry: names of activations, losses, optimizers and initializers mapped to their specs and where they
came from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .activation import Activation
from .errors import DuplicateNameError, UnknownNameError
from .init import Initializer
from .loss import Loss
from .optimizer_spec import OptimizerSpec

__all__ = ["Entry", "PluginFailure", "Problem", "Provenance", "Registry", "Table", "normal_name"]

T = TypeVar("T", Activation, Loss, OptimizerSpec, Initializer)
Spec = Activation | Loss | OptimizerSpec | Initializer


@dataclass(frozen=True)
class Provenance:
    """Which plugin registered an object, and from which installed distribution.

    ``distribution`` and ``version`` are ``None`` for a plugin that is not part of an installed distribution
    (registered by hand), and ``plugin`` is the entry-point or module name.
    """

    plugin: str
    distribution: str | None
    version: str | None

    def describe(self) -> str:
        """Return ``'dist version (plugin name)'`` for messages."""
        if self.distribution is None:
            return f"plugin {self.plugin!r}"
        return f"{self.distribution} {self.version} (plugin {self.plugin!r})"

    def matches(self, name: str) -> bool:
        """True when ``name`` is this plugin's entry-point name or its distribution's name (compared after
        normalising case and ``-_.`` as pip does)."""
        return self.plugin == name or (
            self.distribution is not None and normal_name(self.distribution) == normal_name(name)
        )


def normal_name(name: str) -> str:
    """A distribution name as pip compares it: lower case, runs of ``-_.`` as one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that was skipped, and why."""

    provenance: Provenance
    error: str


@dataclass(frozen=True)
class Problem:
    """A plugin failure or a name conflict found while loading: the plugins involved, and the message."""

    owners: tuple[Provenance, ...]
    message: str


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered object and its provenance."""

    spec: T
    provenance: Provenance


class Table(Generic[T]):
    """Name -> entry for one kind of object, with conflicts remembered rather than resolved."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.entries: dict[str, Entry[T]] = {}
        self.conflicts: dict[str, list[Provenance]] = {}

    def add(self, spec: T, provenance: Provenance) -> str | None:
        """Add ``spec``; return a conflict message if the name was already taken."""
        name = spec.name
        if name in self.conflicts:
            self.conflicts[name].append(provenance)
            return self._conflict_message(name)
        if name in self.entries:
            self.conflicts[name] = [self.entries.pop(name).provenance, provenance]
            return self._conflict_message(name)
        self.entries[name] = Entry(spec, provenance)
        return None

    def _conflict_message(self, name: str) -> str:
        owners = " and ".join(p.describe() for p in self.conflicts[name])
        return (
            f"{self.kind} {name!r} is registered by more than one plugin: {owners}. "
            "The name is unusable until one of them is uninstalled or blocked with "
            "BPFRAME_DISABLE_PLUGINS=<plugin name>."
        )

    def get(self, name: str) -> Entry[T]:
        """Return the entry for ``name`` or raise a message listing what exists."""
        if name in self.entries:
            return self.entries[name]
        if name in self.conflicts:
            raise DuplicateNameError(self._conflict_message(name))
        available = ", ".join(sorted(self.entries)) or "(none)"
        raise UnknownNameError(f"unknown {self.kind} {name!r}; available: {available}")

    def names(self) -> list[str]:
        """Sorted usable names."""
        return sorted(self.entries)


class Registry:
    """Everything the loaded plugins registered, with provenance and the plugins that failed."""

    def __init__(self) -> None:
        self.activations: Table[Activation] = Table("activation")
        self.losses: Table[Loss] = Table("loss")
        self.optimizers: Table[OptimizerSpec] = Table("optimizer")
        self.initializers: Table[Initializer] = Table("initializer")
        self.failures: list[PluginFailure] = []
        #: every failure and conflict, in the order found, with the plugins it concerns (strict mode reads it)
        self.problems: list[Problem] = []
        self.plugins: list[Provenance] = []
        #: the loaded plugin objects (modules or instances), for the training-event hooks
        self.plugin_objects: list[tuple[object, Provenance]] = []

    def activation(self, name: str) -> Activation:
        """Return the activation registered under ``name``."""
        return self.activations.get(name).spec

    def loss(self, name: str) -> Loss:
        """Return the loss registered under ``name``."""
        return self.losses.get(name).spec

    def optimizer(self, name: str) -> OptimizerSpec:
        """Return the optimizer registered under ``name``."""
        return self.optimizers.get(name).spec

    def initializer(self, name: str) -> Initializer:
        """Return the initializer registered under ``name``."""
        return self.initializers.get(name).spec

    def tables(self) -> tuple[Table[Any], ...]:
        """Every table, in the order listings show them."""
        return (self.activations, self.losses, self.optimizers, self.initializers)

    def table_of(self, spec: Spec) -> Table[Any]:
        """The table that holds objects of ``spec``'s kind."""
        if isinstance(spec, Activation):
            return self.activations
        if isinstance(spec, Loss):
            return self.losses
        return self.optimizers if isinstance(spec, OptimizerSpec) else self.initializers

    def provenance_of(self, spec: Spec) -> Provenance | None:
        """Return the provenance of a registered spec object, ``None`` for an unregistered one."""
        table = self.table_of(spec)
        entry = table.entries.get(spec.name)
        if entry is not None and _same(entry.spec, spec):
            return entry.provenance
        return None


_ROLES = ("sigma", "sigma_prime", "forward", "vjp", "cost", "nabla_a", "update", "fused", "reference", "draw")


def _same(a: Spec, b: Spec) -> bool:
    """The same object, or one registered again (after reload_plugins) with the very same functions."""
    if a is b:
        return True
    if type(a) is not type(b) or a.name != b.name:
        return False
    same_roles = all(getattr(a, role, None) is getattr(b, role, None) for role in _ROLES)
    if isinstance(a, Loss) and isinstance(b, Loss):
        errors_a, errors_b = a.output_errors, b.output_errors
        same_roles = same_roles and errors_a.keys() == errors_b.keys()
        same_roles = same_roles and all(errors_a[k] is errors_b[k] for k in errors_a)
    return same_roles
