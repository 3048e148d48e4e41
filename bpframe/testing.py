r"""The conformance kit: does an activation or loss give bpframe what its kernels need?

Every check runs on the plugin's own functions, in the way the compiled engine will use them:

=================  =============================================================================================
check              what it asks
=================  =============================================================================================
``compiles``       each function compiles with numba on its own, for float32 and for float64 inputs (with the
                   engine's options), and a scalar function returns a number on every path
``finite``         the compiled functions give finite results (stored in the dtype) over a grid that reaches
                   ±1000, or the inside of the declared ``domain``, in both dtypes
``derivative``     σ′ and ∇ₐC agree with central differences of σ and C (float64, plain Python); at a kink the
                   value must lie between the one-sided slopes (a subgradient)
``vjp``            a non-elementwise activation's ``vjp`` equals :math:`J^\mathsf{T} v`, J by central differences
``float32``        float32 results agree with float64 results on the same (float32) inputs
``output_error``   a declared combined output error equals the general :math:`\sigma'(z)\,\nabla_a C` (or
                   ``vjp(z, a, ∇ₐC)``) where both are accurate, and is finite at z = ±1000
=================  =============================================================================================

:func:`check_activation` and :func:`check_loss` raise :class:`ConformanceError` listing every failed check with
the input and the size of the error; :func:`check_plugin` runs them over everything one plugin or distribution
registered; :func:`check_registry` prints a report per plugin (``bpframe plugins --check``);
:func:`conformance_tests` turns the kit into pytest tests in one line. numba is imported on the first check.
"""

from __future__ import annotations

import math
import re
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO, cast

import numpy as np

from .activation import Activation
from .errors import BpframeError
from .loss import Loss

if TYPE_CHECKING:
    from .registry import Provenance, Registry

__all__ = [
    "ConformanceError",
    "PluginReport",
    "SpecResult",
    "check_activation",
    "check_loss",
    "check_plugin",
    "check_registry",
    "conformance_tests",
]

#: Relative tolerance of derivatives against central differences, relative to max(1, |difference quotient|).
RTOL = 1e-6
#: float32 against float64 results: |f32 − f64| ≤ RTOL32 |f64| + ATOL32 (JAX uses 2e-3 for float32).
RTOL32, ATOL32 = 2e-3, 1e-5
#: One-sided slopes that differ by more than this (relative) mark a kink, where a subgradient is accepted.
KINK = 1e-3
#: The scalar grid: extremes, the region where activations bend, and a few irregular points.
GRID = (-1000.0, -100.0, -30.0, -10.0, -3.0, -2.0, -1.7, -1.0, -0.5, -0.1, -1e-3, 0.0, 1e-3, 0.1, 0.37,
        0.5, 1.0, 2.0, 3.0, 4.2, 10.0, 30.0, 100.0, 1000.0)  # fmt: skip
#: Pre-activations where a combined output error is compared with the general formula (both accurate there).
OUTPUT_ERROR_Z = (-8.0, -3.0, -1.0, -0.2, 0.0, 0.3, 1.0, 2.5, 8.0)
_EDGE_OFFSETS = (1e-6, 1e-3, 0.1)
_DTYPES = ("float64", "float32")
_EPS = float(np.finfo(np.float64).eps)
_ARITY = {"sigma": 1, "sigma_prime": 1, "cost": 2, "nabla_a": 2, "output_error": 3, "forward": 2, "vjp": 4}
_VECTOR_ROLES = ("forward", "vjp")
_V = (1.0, -2.0, 0.5, 3.0)


class ConformanceError(BpframeError, AssertionError):
    """An activation, loss or plugin fails conformance checks; the message lists each failure."""


@dataclass(frozen=True)
class SpecResult:
    """The outcome of checking one registered object (or one plugin-level problem)."""

    kind: str  # "activation", "loss", "plugin"
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
            lines.append("  PASS  (registers no activations or losses)")
        if self.hooks:
            lines.append(f"  hooks: {', '.join(self.hooks)}")
        return "\n".join(lines)


# -- public checks -----------------------------------------------------------------------------------------------


def check_activation(act: Activation, *, provenance: Provenance | None = None) -> None:
    """Run every conformance check on an activation; raise if any fails.

    Parameters
    ----------
    act : Activation
    provenance : Provenance, optional
        Where it comes from, for the message; looked up in the loaded plugins when omitted.

    Raises
    ------
    ConformanceError
        Listing each failed check (``compiles``, ``finite``, ``derivative``, ``vjp``, ``float32``), the input
        where it failed and by how much.

    Examples
    --------
    >>> from bpframe import Activation
    >>> def square(z):
    ...     return z * z
    >>> def square_prime(z):
    ...     return 2.0 * z
    >>> check_activation(Activation("square", square, square_prime))
    >>> import math
    >>> def tanh(z):
    ...     return math.tanh(z)
    >>> def wrong_prime(z):
    ...     return 1.0 - math.tanh(z)
    >>> check_activation(Activation("my_tanh", tanh, wrong_prime))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    bpframe.testing.ConformanceError: activation 'my_tanh' fails 1 conformance check:
      - derivative: sigma_prime disagrees with ... at 19 of 24 inputs; worst at z=-1000.0: sigma_prime=2.0, ...
    """
    _raise(_subject("activation", act, provenance), _activation_problems(act))


def check_loss(
    loss: Loss, *, provenance: Provenance | None = None, activations: Mapping[str, Activation] | None = None
) -> None:
    """Run every conformance check on a loss; raise if any fails.

    Parameters
    ----------
    loss : Loss
    provenance : Provenance, optional
        Where it comes from, for the message; looked up in the loaded plugins when omitted.
    activations : mapping of name to Activation, optional
        Where the activations named in ``loss.output_errors`` are found; default: the loaded plugins. A combined
        output error for an activation that is not available is compiled and checked for finiteness only.

    Raises
    ------
    ConformanceError
        Listing each failed check (``compiles``, ``finite``, ``derivative``, ``float32``, ``output_error``).

    Examples
    --------
    >>> from bpframe import Loss
    >>> def half_square(a, y):
    ...     return 0.5 * (a - y) ** 2
    >>> def difference(a, y):
    ...     return a - y
    >>> check_loss(Loss("half_square", half_square, difference))
    """
    if activations is None:
        from .plugins import get_registry

        activations = {name: get_registry().activation(name) for name in get_registry().activations.names()}
    _raise(_subject("loss", loss, provenance), _loss_problems(loss, activations))


def check_plugin(name: str, *, registry: Registry | None = None) -> list[PluginReport]:
    """Run the kit on everything a plugin (entry-point name) or distribution registered.

    Parameters
    ----------
    name : str
        A distribution name (``"bpframe-activations-extra"``, compared after normalising case and ``-_.``) or a
        plugin's entry-point name.
    registry : Registry, optional
        Default: the loaded plugins (``bpframe.plugins.get_registry()``).

    Returns
    -------
    list of PluginReport
        One per matching plugin, every object passed.

    Raises
    ------
    ConformanceError
        When nothing by that name is loaded, a matching plugin failed to load, or any object fails; the
        message is the report of each failing plugin.

    Examples
    --------
    >>> [report.passed for report in check_plugin("bpframe.default_plugins.losses")]
    [True]
    """
    registry = _registry(registry)
    reports = _reports(registry, name)
    if not reports:
        raise ConformanceError(_nothing_named(registry, name))
    failed = [r for r in reports if not r.passed]
    if failed:
        raise ConformanceError("\n".join(r.format() for r in failed))
    return reports


def check_registry(registry: Registry | None = None, out: TextIO | None = None) -> int:
    """Run the kit over every loaded plugin and print one block per plugin; return the exit status.

    Parameters
    ----------
    registry : Registry, optional
        Default: the loaded plugins.
    out : text stream, optional
        Default: ``sys.stdout``.

    Returns
    -------
    int
        0 when everything passed, 1 when an object failed, a plugin failed to load or a name is claimed twice.

    Examples
    --------
    >>> import io
    >>> from bpframe.plugins import load_registry
    >>> out = io.StringIO()
    >>> check_registry(load_registry(autoload=False), out=out)
    0
    >>> print(out.getvalue())  # doctest: +ELLIPSIS
    conformance checks:
    bpframe ... (plugin 'bpframe.default_plugins.activations')
      PASS  activation identity ...
    ...
    10 objects from 3 plugins checked in ... s: all passed
    <BLANKLINE>
    """
    registry, out = _registry(registry), out or sys.stdout
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


def conformance_tests(name: str) -> Callable[..., None]:
    """A pytest test function running the kit on everything ``name`` registers, one test per object.

    Write one line in a test module of your plugin package:

    .. code-block:: python

        test_conformance = bpframe.testing.conformance_tests("bpframe-my-plugin")

    Parameters
    ----------
    name : str
        Your distribution name (or entry-point name), as for :func:`check_plugin`. The package must be installed
        (``pip install -e .``) so that bpframe discovers it.

    Returns
    -------
    callable
        A test parametrized over ``activation:<name>`` / ``loss:<name>`` ids; a plugin that fails to load, or a
        name that matches nothing, gives one failing test that says why.

    Examples
    --------
    >>> test_conformance = conformance_tests("bpframe.default_plugins.losses")
    >>> [case.id for case in test_conformance.pytestmark[0].args[1]]
    ['loss:binary_cross_entropy', 'loss:cross_entropy', 'loss:quadratic']
    """
    import pytest

    from .plugins import get_registry

    registry = get_registry()
    cases = [
        (report.provenance, spec)
        for report in _reports(registry, name, run=False)
        for spec in report.results or [SpecResult("plugin", report.provenance.plugin, ())]
    ]
    params = [pytest.param(case, id=f"{case[1].kind}:{case[1].name}") for case in cases]
    if not params:
        params = [pytest.param(None, id=name)]

    @pytest.mark.parametrize("bpframe_case", params)
    def test_bpframe_conformance(bpframe_case: tuple[Provenance, SpecResult] | None) -> None:
        if bpframe_case is None:
            pytest.fail(_nothing_named(registry, name), pytrace=False)
        provenance, pending = bpframe_case
        result = _run(registry, provenance, pending)
        if not result.passed:
            subject = f"{result.kind} {result.name!r} from {provenance.describe()}"
            pytest.fail(_message(subject, result.problems), pytrace=False)

    test_bpframe_conformance.__doc__ = f"The bpframe conformance kit on everything {name} registers."
    return cast(Callable[..., None], test_bpframe_conformance)


# -- selection and reports ---------------------------------------------------------------------------------------


def _registry(registry: Registry | None) -> Registry:
    if registry is not None:
        return registry
    from .plugins import get_registry

    return get_registry()


def _normal(name: str | None) -> str:
    return re.sub(r"[-_.]+", "-", name or "").lower()


def _matches(provenance: Provenance, name: str) -> bool:
    return provenance.plugin == name or (
        provenance.distribution is not None and _normal(provenance.distribution) == _normal(name)
    )


def _reports(registry: Registry, name: str, *, run: bool = True) -> list[PluginReport]:
    loaded = [_report(registry, p, run=run) for p in registry.plugins if _matches(p, name)]
    return loaded + [_failure_report(f) for f in registry.failures if _matches(f.provenance, name)]


def _report(registry: Registry, provenance: Provenance, *, run: bool = True) -> PluginReport:
    """Check (or, with ``run=False``, list unchecked) everything ``provenance`` registered."""
    report = PluginReport(provenance, hooks=_hooks(registry, provenance))
    for kind, table in (("activation", registry.activations), ("loss", registry.losses)):
        for spec_name in table.names():
            if table.entries[spec_name].provenance == provenance:
                pending = SpecResult(kind, spec_name, ())
                report.results.append(_run(registry, provenance, pending) if run else pending)
        for spec_name, owners in sorted(table.conflicts.items()):
            if provenance in owners:
                owners_text = " and ".join(p.describe() for p in owners)
                problem = f"conflict: the name is registered by {owners_text}, so it cannot be used"
                report.results.append(SpecResult(kind, spec_name, (problem,)))
    return report


def _failure_report(failure: Any) -> PluginReport:
    problem = f"load: {failure.error}"
    return PluginReport(failure.provenance, [SpecResult("plugin", failure.provenance.plugin, (problem,))])


def _run(registry: Registry, provenance: Provenance, pending: SpecResult) -> SpecResult:
    """Check one registered object by kind and name; a crash of the kit itself is reported, not raised."""
    if pending.problems or pending.kind == "plugin":
        return pending
    started = time.perf_counter()
    try:
        if pending.kind == "activation":
            problems = _activation_problems(registry.activation(pending.name))
        else:
            acts = {n: registry.activation(n) for n in registry.activations.names()}
            problems = _loss_problems(registry.loss(pending.name), acts)
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


def _nothing_named(registry: Registry, name: str) -> str:
    known = sorted({p.distribution or p.plugin for p in registry.plugins} | {p.plugin for p in registry.plugins})
    return (
        f"no bpframe plugin or distribution named {name!r} is loaded; loaded: {', '.join(known)}. "
        "Install the package (pip install -e .) so that its 'bpframe' entry point is discovered."
    )


def _subject(kind: str, spec: Activation | Loss, provenance: Provenance | None) -> str:
    if provenance is None:
        from .plugins import get_registry

        provenance = get_registry().provenance_of(spec)
    return f"{kind} {spec.name!r}" + (f" from {provenance.describe()}" if provenance else "")


def _message(subject: str, problems: Sequence[str]) -> str:
    n = len(problems)
    body = "\n".join(f"  - {p}" for p in problems)
    return f"{subject} fails {n} conformance check{'s' if n > 1 else ''}:\n{body}"


def _raise(subject: str, problems: Sequence[str]) -> None:
    if problems:
        raise ConformanceError(_message(subject, problems))


# -- the checks of one object ------------------------------------------------------------------------------------


def _activation_problems(act: Activation) -> list[str]:
    """Every failed check of ``act``, as messages (empty when it conforms)."""
    with np.errstate(all="ignore"):  # overflow to inf and NaN are what the checks look for, not warnings
        return _elementwise_problems(act) if act.elementwise else _vector_problems(act)


def _elementwise_problems(act: Activation) -> list[str]:
    assert act.sigma is not None and act.sigma_prime is not None  # guaranteed by Activation for elementwise
    fns = {"sigma": act.sigma, "sigma_prime": act.sigma_prime}
    points: list[tuple[float, ...]] = [(z,) for z in _grid(act.domain)]
    problems, compiled = _compile_all(fns)
    problems += _finite(compiled, points, ("z",))
    problems += _derivative(act.sigma, act.sigma_prime, ("sigma", "sigma_prime"), points, ("z",), act.domain)
    problems += _float32(compiled, points, ("z",))
    return problems


def _loss_problems(loss: Loss, activations: Mapping[str, Activation]) -> list[str]:
    """Every failed check of ``loss``, its combined output errors included (empty when it conforms)."""
    with np.errstate(all="ignore"):
        return _scalar_loss_problems(loss, activations)


def _scalar_loss_problems(loss: Loss, activations: Mapping[str, Activation]) -> list[str]:
    fns: dict[str, Callable[..., Any]] = {"cost": loss.cost, "nabla_a": loss.nabla_a}
    points: list[tuple[float, ...]] = [(a, y) for y in _targets(loss.target_range) for a in _grid(loss.domain)]
    problems, compiled = _compile_all(fns)
    problems += _finite(compiled, points, ("a", "y"))
    problems += _derivative(loss.cost, loss.nabla_a, ("cost", "nabla_a"), points, ("a", "y"), loss.domain)
    problems += _float32(compiled, points, ("a", "y"))
    for act_name, fn in loss.output_errors.items():
        problems += _output_error_problems(loss, act_name, fn, activations.get(act_name))
    return problems


def _grid(domain: tuple[float, float]) -> list[float]:
    """GRID inside the open domain, plus points just inside each finite edge."""
    lo, hi = domain
    width = hi - lo if math.isfinite(hi - lo) else 1.0
    points = {x for x in GRID if lo < x < hi}
    if math.isfinite(lo):
        points |= {lo + f * width for f in _EDGE_OFFSETS}
    if math.isfinite(hi):
        points |= {hi - f * width for f in _EDGE_OFFSETS}
    return sorted(x for x in points if lo < x < hi)


def _targets(target_range: tuple[float, float] | None) -> list[float]:
    if target_range is None:
        return [-2.5, 0.0, 1.0]
    lo, hi = target_range
    return sorted({lo, 0.5 * (lo + hi), hi})


def _fmt(names: Sequence[str], point: Sequence[float]) -> str:
    return ", ".join(f"{n}={float(x)!r}" for n, x in zip(names, point, strict=True))


# -- compilation -------------------------------------------------------------------------------------------------

_compiled: dict[tuple[Callable[..., Any], str, str], tuple[Any, str | None]] = {}


def _compile_all(fns: Mapping[str, Callable[..., Any]]) -> tuple[list[str], dict[tuple[str, str], Any]]:
    """Compile each function alone per dtype; return the problems and ``{(role, dtype): dispatcher}``."""
    problems: list[str] = []
    compiled: dict[tuple[str, str], Any] = {}
    for role, fn in fns.items():
        for dtype in _DTYPES:
            dispatcher, error = _compile(fn, "output_error" if role.startswith("output_errors") else role, dtype)
            if error is not None:
                problems.append(f"compiles: {role} function {_qualname(fn)} {error}")
                break  # the other dtype fails the same way, as a rule
            compiled[role, dtype] = dispatcher
    return problems, compiled


def _qualname(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def _compile(fn: Callable[..., Any], role: str, dtype: str) -> tuple[Any, str | None]:
    """``njit`` with the engine's plugin options, for one signature only; memoised per function and dtype."""
    key = (fn, role, dtype)
    if key not in _compiled:
        _compiled[key] = _compile_uncached(fn, role, dtype)
    return _compiled[key]


def _compile_uncached(fn: Callable[..., Any], role: str, dtype: str) -> tuple[Any, str | None]:
    from numba import njit, types

    from .kernels.options import PLUGIN_OPTIONS

    scalar = getattr(types, dtype)
    arg = types.Array(scalar, 1, "C") if role in _VECTOR_ROLES else scalar
    try:
        with warnings.catch_warnings():
            # numba's performance and deprecation notes are not conformance failures (and -W error must not
            # turn them into "cannot be compiled"); the engine shows them when it compiles the kernels
            warnings.simplefilter("ignore")
            dispatcher = njit(**PLUGIN_OPTIONS)(fn)
            dispatcher.compile((arg,) * _ARITY[role])
    except Exception as exc:  # noqa: BLE001 - numba raises many kinds, not all NumbaError
        lines = [
            ln for ln in str(exc).strip().splitlines() if ln.strip() and not ln.startswith(("Failed in", "During:"))
        ]
        detail = "\n".join(lines[:8])
        return None, (
            f"cannot be compiled by numba for {dtype} inputs. Plugin functions must use only numba's subset "
            f"(math, scalar numpy, arithmetic, if/for) and call no plain Python functions:\n{detail}"
        )
    dispatcher.disable_compile()
    returned = dispatcher.nopython_signatures[0].return_type
    if role not in _VECTOR_ROLES and not isinstance(returned, types.Number):
        return None, f"returns {returned} for {dtype} inputs; it must return a number on every path"
    return dispatcher, None


# -- scalar checks -----------------------------------------------------------------------------------------------


def _finite(
    compiled: Mapping[tuple[str, str], Any], points: Sequence[tuple[float, ...]], names: Sequence[str]
) -> list[str]:
    """Compiled results, stored in their dtype, are finite everywhere on the grid."""
    problems = []
    for (role, dtype), fn in compiled.items():
        cast = np.dtype(dtype).type
        bad = []
        for point in points:
            value = cast(fn(*(cast(x) for x in point)))
            if not np.isfinite(value):
                bad.append((point, value))
        if bad:
            point, value = max(bad, key=lambda b: max(abs(x) for x in b[0]))
            problems.append(f"finite: {role} gives {float(value)!r} at {_fmt(names, point)} in {dtype} "
                            f"({len(bad)} of {len(points)} inputs give non-finite values)")  # fmt: skip
    return problems


def _step(x: float, domain: tuple[float, float]) -> float:
    """The central-difference step: 1e-6 of the input's scale, and never across the domain's edge."""
    room = min(x - domain[0], domain[1] - x)
    return 1e-6 * min(max(1.0, abs(x)), room)


def _derivative(
    f: Callable[..., Any], fprime: Callable[..., Any], roles: tuple[str, str],
    points: Sequence[tuple[float, ...]], names: Sequence[str], domain: tuple[float, float],
) -> list[str]:  # fmt: skip
    """``fprime`` against central differences of ``f`` in the first argument (float64, plain Python)."""
    failures: list[tuple[float, tuple[float, ...], str]] = []
    for point in points:
        x, rest = point[0], point[1:]
        h = _step(x, domain)
        up, down = (x + h) - x, x - (x - h)  # the steps actually taken, after rounding x ± h
        try:
            fm, f0, fp = float(f(x - down, *rest)), float(f(x, *rest)), float(f(x + up, *rest))
            d = float(fprime(x, *rest))
        except Exception as exc:  # noqa: BLE001 - report a plugin function's exception with its input
            failures.append((math.inf, point, f"raised {type(exc).__name__}: {exc}"))
            continue
        central, left, right = (fp - fm) / (up + down), (f0 - fm) / down, (fp - f0) / up
        scale = max(1.0, abs(central))
        # rounding in the function values, with inputs known to about eps * max(1, |x|), divided by the step
        noise = 2 * _EPS * max(abs(fm), abs(f0), abs(fp), abs(d) * max(1.0, abs(x))) / min(up, down)
        tol = RTOL * scale + noise
        if abs(left - right) > KINK * max(1.0, abs(left), abs(right)):
            low, high = min(left, right), max(left, right)
            err = max(low - d, d - high, 0.0)
            expected = f"one-sided slopes {low:.7g} .. {high:.7g} (a kink: any value between is a subgradient)"
        else:
            err, expected = abs(d - central), f"difference quotient={central:.7g}"
        if not err <= tol:  # also catches NaN
            detail = f"{roles[1]}={d!r}, {expected}, error {err:.3g}"
            failures.append((err / scale, point, f"{detail} (relative {err / scale:.3g}, tolerance {tol / scale:.3g})"))
    if not failures:
        return []
    worst = max(failures, key=lambda item: item[0] if item[0] == item[0] else math.inf)
    return [f"derivative: {roles[1]} disagrees with the central difference of {roles[0]} at {len(failures)} of "
            f"{len(points)} inputs; worst at {_fmt(names, worst[1])}: {worst[2]}"]  # fmt: skip


def _float32(
    compiled: Mapping[tuple[str, str], Any], points: Sequence[tuple[float, ...]], names: Sequence[str]
) -> list[str]:
    """float32 results within RTOL32 |f64| + ATOL32 of float64 results on the same float32 inputs."""
    problems = []
    for (role, dtype), fn32 in compiled.items():
        fn64 = compiled.get((role, "float64"))
        if dtype != "float32" or fn64 is None:
            continue
        worst: tuple[float, tuple[float, ...], float, float] | None = None
        for point in points:
            p32 = [np.float32(x) for x in point]
            r32, r64 = float(np.float32(fn32(*p32))), float(fn64(*(np.float64(x) for x in p32)))
            if not (math.isfinite(r32) and math.isfinite(r64)):
                continue  # the finite check reports these
            excess = abs(r32 - r64) / (RTOL32 * abs(r64) + ATOL32)
            if excess > 1 and (worst is None or excess > worst[0]):
                worst = (excess, tuple(float(x) for x in p32), r32, r64)
        if worst is not None:
            _, point, r32, r64 = worst
            tol = RTOL32 * abs(r64) + ATOL32
            problems.append(
                f"float32: {role} gives {r32!r} in float32 but {r64!r} in float64 at {_fmt(names, point)}, "
                f"a difference of {abs(r32 - r64):.3g} (tolerance {tol:.3g})"
            )
    return problems


# -- non-elementwise activations ---------------------------------------------------------------------------------


def _vectors(domain: tuple[float, float]) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    zs = [rng.normal(scale=3.0, size=4) for _ in range(3)]
    zs += [np.array([1000.0, -1000.0, 0.0, 1.0]), np.full(4, -1000.0), np.array([1000.0, 999.0, -3.0, 0.0])]
    return [np.clip(z, np.nextafter(domain[0], 0), np.nextafter(domain[1], 0)) for z in zs]


def _vector_problems(act: Activation) -> list[str]:
    assert act.forward is not None and act.vjp is not None  # guaranteed by Activation for non-elementwise
    problems, compiled = _compile_all({"forward": act.forward, "vjp": act.vjp})
    zs, v = _vectors(act.domain), np.array(_V)
    outputs = {
        dtype: [_vector_outputs(compiled["forward", dtype], compiled["vjp", dtype], z.astype(dtype), v) for z in zs]
        for dtype in _DTYPES
        if ("forward", dtype) in compiled and ("vjp", dtype) in compiled
    }
    for dtype, results in outputs.items():
        for z, pair in zip(zs, results, strict=True):
            for role, values in zip(("forward", "vjp"), pair, strict=True):
                if not np.isfinite(values).all():
                    problems.append(f"finite: {role} gives {values.tolist()} at z={z.tolist()} in {dtype}")
    problems += _vjp_problems(act, zs, v)
    if len(outputs) == 2:
        problems += _vector_float32(zs, outputs["float32"], outputs["float64"])
    return problems


def _vector_outputs(forward: Any, vjp: Any, z: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a = forward(z)`` and ``vjp(z, a, v)`` with compiled functions, in ``z``'s dtype."""
    a, out = np.empty_like(z), np.empty_like(z)
    forward(z, a)
    vjp(z, a, v.astype(z.dtype), out)
    return a, out


def _vector_float32(zs: list[np.ndarray], results32: list[Any], results64: list[Any]) -> list[str]:
    """float32 forward and vjp within RTOL32 |f64| + ATOL32 of float64 (first disagreement per function)."""
    problems = []
    for i, role in enumerate(("forward", "vjp")):
        for z, r32, r64 in zip(zs, (r[i] for r in results32), (r[i] for r in results64), strict=True):
            finite = np.isfinite(r32).all() and np.isfinite(r64).all()
            if finite and (np.abs(r32 - r64) > RTOL32 * np.abs(r64) + ATOL32).any():
                problems.append(
                    f"float32: {role} gives {r32.tolist()} in float32 but {r64.tolist()} in float64 "
                    f"at z={z.astype(np.float32).tolist()} (tolerance {RTOL32:g} relative, {ATOL32:g} absolute)"
                )
                break
    return problems


def _vjp_problems(act: Activation, zs: list[np.ndarray], v: np.ndarray) -> list[str]:
    """``vjp(z, a, v)`` against Jᵀv with J from central differences of ``forward`` (float64, plain Python)."""
    assert act.forward is not None and act.vjp is not None
    worst: tuple[float, str] | None = None
    for z in zs:
        try:
            a, out = np.empty_like(z), np.empty_like(z)
            act.forward(z, a)
            act.vjp(z, a, v, out)
            jacobian = np.empty((z.size, z.size))
            for k in range(z.size):
                h = _step(float(z[k]), act.domain)
                up, down, plus, minus = z.copy(), z.copy(), np.empty_like(z), np.empty_like(z)
                up[k] += h
                down[k] -= h
                act.forward(up, plus)
                act.forward(down, minus)
                jacobian[:, k] = (plus - minus) / (2 * h)
        except Exception as exc:  # noqa: BLE001 - report a plugin function's exception with its input
            return [f"vjp: forward or vjp raised {type(exc).__name__}: {exc} at z={z.tolist()} (plain Python)"]
        expected = jacobian.T @ v
        scale = max(1.0, float(np.abs(expected).max()))
        err = float(np.nan_to_num(np.abs(out - expected), nan=np.inf).max())
        if err > RTOL * scale and (worst is None or err / scale > worst[0]):
            worst = (err / scale, f"vjp: vjp(z, a, v) differs from J(z)ᵀv (J by central differences of forward) "
                                  f"at z={z.tolist()}, v={v.tolist()}: got {out.tolist()}, expected "
                                  f"{expected.tolist()}, error {err:.3g} (tolerance {RTOL * scale:.3g})")  # fmt: skip
    return [] if worst is None else [worst[1]]


# -- combined output errors --------------------------------------------------------------------------------------


def _output_error_problems(loss: Loss, act_name: str, fn: Callable[..., Any], act: Activation | None) -> list[str]:
    role = f"output_errors[{act_name!r}]"
    problems, compiled = _compile_all({role: fn})
    if act is None:
        return problems
    ys = _targets(loss.target_range)
    if act.elementwise:
        problems += _elementwise_output_error(loss, act, fn, role, ys)
        assert act.sigma is not None
        inside = [z for z in (-1000.0, 1000.0) if act.domain[0] < z < act.domain[1]]
        extremes: list[tuple[float, ...]] = [(z, float(act.sigma(z)), y) for z in inside for y in ys]
        problems += _finite(compiled, extremes, ("z", "a", "y"))
    else:
        problems += _vector_output_error(loss, act, fn, role, compiled)
    return problems


def _elementwise_output_error(
    loss: Loss, act: Activation, fn: Callable[..., Any], role: str, ys: list[float]
) -> list[str]:
    """δᴸ = fn(z, a, y) against σ′(z) ∇ₐC(a, y) on OUTPUT_ERROR_Z (float64, plain Python)."""
    assert act.sigma is not None and act.sigma_prime is not None
    worst: tuple[float, str] | None = None
    for z in (z for z in OUTPUT_ERROR_Z if act.domain[0] < z < act.domain[1]):
        for y in ys:
            try:
                a = act.sigma(z)
                general = act.sigma_prime(z) * loss.nabla_a(a, y)
                combined = float(fn(z, a, y))
            except Exception as exc:  # noqa: BLE001 - report a plugin function's exception with its input
                raised = f"{type(exc).__name__}: {exc}"
                return [f"output_error: {role} or the general formula raised {raised} at z={z!r}, y={y!r}"]
            scale = max(1.0, abs(general))
            err = abs(combined - general)
            relative = err / scale if err == err else math.inf
            if not err <= RTOL * scale and (worst is None or relative > worst[0]):
                worst = (relative, f"output_error: {role} gives {combined!r} at z={z!r}, a={a!r}, y={y!r}, but "
                                      f"the general sigma_prime(z) * nabla_a(a, y) = {general!r}, error {err:.3g} "
                                      f"(tolerance {RTOL * scale:.3g})")  # fmt: skip
    return [] if worst is None else [worst[1]]


def _vector_output_error(
    loss: Loss, act: Activation, fn: Callable[..., Any], role: str, compiled: Mapping[tuple[str, str], Any]
) -> list[str]:
    """δᴸ_j = fn(z_j, a_j, y_j) against vjp(z, a, ∇ₐC), for targets that sum to 1 (one-hot or a distribution)."""
    assert act.forward is not None and act.vjp is not None
    problems: list[str] = []
    targets = [np.array([0.0, 0.0, 1.0, 0.0]), np.array([0.1, 0.2, 0.3, 0.4])]
    lo, hi = loss.target_range or (-math.inf, math.inf)
    targets = [y for y in targets if (y >= lo).all() and (y <= hi).all()]
    for z in _vectors(act.domain):
        a = np.empty_like(z)
        act.forward(z, a)
        for y in targets:
            combined = np.array([fn(z[j], a[j], y[j]) for j in range(z.size)])
            for dtype in _DTYPES:
                if (role, dtype) in compiled:
                    cast = np.dtype(dtype).type
                    values = [cast(compiled[role, dtype](cast(z[j]), cast(a[j]), cast(y[j]))) for j in range(z.size)]
                    if not np.isfinite(values).all():
                        problems.append(f"finite: {role} gives {values} at z={z.tolist()}, y={y.tolist()} in {dtype}")
            if np.abs(z).max() > 100:
                continue  # the general formula is not accurate there: finiteness only
            nabla = np.array([loss.nabla_a(a[j], y[j]) for j in range(z.size)])
            general = np.empty_like(z)
            act.vjp(z, a, nabla, general)
            scale = max(1.0, float(np.abs(general).max()))
            err = float(np.nan_to_num(np.abs(combined - general), nan=np.inf).max())
            if err > RTOL * scale:
                problems.append(f"output_error: {role} gives {combined.tolist()} at z={z.tolist()}, y={y.tolist()}, "
                                f"but the general vjp(z, a, nabla_a(a, y)) = {general.tolist()}, error {err:.3g} "
                                f"(tolerance {RTOL * scale:.3g})")  # fmt: skip
                return problems
    return problems
