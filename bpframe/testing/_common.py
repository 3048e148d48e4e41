"""What every part of the kit shares: its error, its results, how a failure names a function, and the inputs."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import BpframeError
from ..plugins import loaded_registry

if TYPE_CHECKING:
    from ..registry import Provenance

__all__ = ["ConformanceError", "PluginReport", "SpecResult"]

#: Relative tolerance of derivatives against central differences, relative to max(1, |difference quotient|).
RTOL = 1e-6
#: float32 against float64 results: |f32 − f64| ≤ RTOL32 |f64| + ATOL32 (JAX uses 2e-3 for float32).
RTOL32, ATOL32 = 2e-3, 1e-5
#: One-sided slopes that differ by more than this (relative) mark a kink, where a subgradient is accepted.
KINK = 1e-3
#: The scalar grid: moderate inputs, the region where activations bend, and a few irregular points.
GRID = (-1000.0, -100.0, -30.0, -10.0, -3.0, -2.0, -1.7, -1.0, -0.5, -0.1, -1e-3, 0.0, 1e-3, 0.1, 0.37,
        0.5, 1.0, 2.0, 3.0, 4.2, 10.0, 30.0, 100.0, 1000.0)  # fmt: skip
#: Signed zeros and subnormal numbers: the smallest of float64 (5e-324, 1e-310) and of float32 (1.4e-45, 1e-40).
TINY = (-0.0, 5e-324, -5e-324, 1e-310, -1e-310, 1.401298464324817e-45, -1.401298464324817e-45, 1e-40, -1e-40)
#: The extremes of each dtype: every value whose exact result fits in the dtype must be finite there.
EXTREMES = {
    "float64": (1e10, -1e10, 1e30, -1e30, 1e100, -1e100, 1e200, -1e200, 1e300, -1e300),
    "float32": (1e10, -1e10, 1e20, -1e20, 1e30, -1e30),
}
DTYPES = ("float64", "float32")
EPS = float(np.finfo(np.float64).eps)


class ConformanceError(BpframeError, AssertionError):
    """An activation, loss, optimizer, initializer or plugin fails conformance checks; the message lists each
    failure with the function to blame, its file and line."""


@dataclass(frozen=True)
class SpecResult:
    """The outcome of checking one registered object (or one plugin-level problem)."""

    kind: str  # "activation", "loss", "optimizer", "initializer", "plugin"
    name: str
    problems: tuple[str, ...]
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """True when no check failed."""
        return not self.problems


@dataclass
class PluginReport:
    """Everything one plugin registered and how each object fared."""

    provenance: Provenance
    results: list[SpecResult] = field(default_factory=list)
    hooks: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """True when every object passed and the plugin loaded."""
        return all(r.passed for r in self.results)

    def format(self) -> str:
        """One block: the plugin, then PASS/FAIL per object with its time and failures."""
        lines = [self.provenance.describe()]
        for r in self.results:
            label = f"{r.kind} {r.name}" if r.kind != "plugin" else "load"
            lines.append(f"  {'PASS' if r.passed else 'FAIL'}  {label:<40} {r.seconds:6.2f} s")
            lines += [f"        {p}".replace("\n", "\n          ") for p in r.problems]
        if not self.results:
            lines.append("  PASS  (registers no activations, losses, optimizers or initializers)")
        if self.hooks:
            lines.append(f"  hooks: {', '.join(self.hooks)}")
        return "\n".join(lines)


# -- naming the function to blame --------------------------------------------------------------------------------


def where(fn: Callable[..., Any]) -> str:
    """``module.qualname (file:line)`` of a plugin's function, the way an editor opens it."""
    fn = getattr(fn, "py_func", fn)  # a numba dispatcher: its Python function
    name = f"{getattr(fn, '__module__', None) or '?'}.{getattr(fn, '__qualname__', None) or repr(fn)}"
    code = getattr(fn, "__code__", None)
    if code is None:
        return f"{name} (no Python source)"
    return f"{name} ({code.co_filename}:{code.co_firstlineno})"


def blame(problem: str, functions: Iterable[tuple[str, Callable[..., Any]]]) -> str:
    """``problem`` followed by one line per function involved: ``<role> is <module.name> (<file>:<line>)``."""
    return "\n".join([problem, *(f"{role} is {where(fn)}" for role, fn in functions)])


def message(subject: str, problems: Sequence[str]) -> str:
    """The error text: the subject, then each problem (its continuation lines indented under it)."""
    n = len(problems)
    body = "\n".join("  - " + p.replace("\n", "\n    ") for p in problems)
    return f"{subject} fails {n} conformance check{'s' if n > 1 else ''}:\n{body}"


def raise_if(subject: str, problems: Sequence[str]) -> None:
    """Raise a ConformanceError listing ``problems``, if there are any."""
    if problems:
        raise ConformanceError(message(subject, problems))


def subject(kind: str, spec: Any, provenance: Provenance | None) -> str:
    """``activation 'bent' from bpframe-bent 0.1.0 (plugin 'bent')``, looking the provenance up if not given."""
    if provenance is None:
        provenance = loaded_registry().provenance_of(spec)
    return f"{kind} {spec.name!r}" + (f" from {provenance.describe()}" if provenance else "")


# -- inputs ------------------------------------------------------------------------------------------------------


def fmt(names: Sequence[str], point: Sequence[float], dtype: str = "float64") -> str:
    """``z=1.0, y=-2.5`` for messages (a float32 input as float32 shows it: ``z=1e+30``, not 1.0000000150474662e+30)."""
    if dtype == "float32":
        return ", ".join(f"{n}={np.float32(x)!s}" for n, x in zip(names, point, strict=True))
    return ", ".join(f"{n}={float(x)!r}" for n, x in zip(names, point, strict=True))


def inside(domain: tuple[float, float], values: Iterable[float]) -> list[float]:
    """The values strictly inside the open domain, sorted, each once (-0.0 and 0.0 are different inputs)."""
    lo, hi = domain
    unique = {(x, math.copysign(1.0, x)): x for x in values if lo < x < hi}
    return sorted(unique.values(), key=lambda x: (x, math.copysign(1.0, x)))


def grid(domain: tuple[float, float], dtype: str) -> list[float]:
    """GRID, signed zeros and subnormals, and the dtype's extremes, plus points just inside each finite edge of
    the domain: rounded to ``dtype``, those strictly inside the open domain."""
    lo, hi = domain
    width = hi - lo if math.isfinite(hi - lo) else 1.0
    points = [*GRID, *TINY, *EXTREMES[dtype]]
    if math.isfinite(lo):
        points += [lo + f * width for f in (1e-6, 1e-3, 0.1)]
    if math.isfinite(hi):
        points += [hi - f * width for f in (1e-6, 1e-3, 0.1)]
    cast = np.dtype(dtype).type
    return inside(domain, [float(cast(x)) for x in points])  # as the dtype holds them: 5e-324 is 0 in float32


def targets(target_range: tuple[float, float] | None) -> list[float]:
    """The targets y a loss is checked with."""
    if target_range is None:
        return [-2.5, 0.0, 1.0]
    lo, hi = target_range
    return sorted({lo, 0.5 * (lo + hi), hi})
