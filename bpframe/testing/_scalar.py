"""The checks of scalar functions: an elementwise activation's σ and σ′, a loss's c and ∂c/∂a.

Inputs are :func:`~bpframe.testing._common.grid` for each dtype: moderate values to ±1000, signed zeros and
subnormals, and the dtype's extremes (±1e300 in float64, ±1e30 in float32).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..activation import Activation
from ..loss import Loss
from ._common import ATOL32, DTYPES, EPS, KINK, RTOL, RTOL32, blame, fmt, grid, targets
from ._compile import compile_all
from ._extremes import estimate, fits, legitimately_non_finite

__all__ = ["elementwise_problems", "scalar_loss_problems"]

Points = dict[str, list[tuple[float, ...]]]  # dtype -> inputs
Compiled = Mapping[tuple[str, str], Any]  # (role, dtype) -> compiled function


def elementwise_problems(act: Activation) -> list[str]:
    """Every failed check of an elementwise activation."""
    assert act.sigma is not None and act.sigma_prime is not None  # guaranteed by Activation for elementwise
    fns = {"sigma": act.sigma, "sigma_prime": act.sigma_prime}
    points: Points = {dtype: [(z,) for z in grid(act.domain, dtype)] for dtype in DTYPES}
    problems, compiled = compile_all(fns)
    problems += finite(compiled, points, ("z",), fns)
    problems += derivative(fns, ("sigma", "sigma_prime"), compiled, points["float64"], ("z",), act.domain)
    problems += float32(compiled, points["float32"], ("z",), fns)
    problems += bounds(act.bounds, "sigma", compiled, points, ("z",), fns)
    if act.monotone is not None:
        problems += monotone(act.monotone, compiled, points, fns)
    return problems


def scalar_loss_problems(loss: Loss) -> list[str]:
    """Every failed check of a loss's cost and gradient (not its combined output errors)."""
    fns: dict[str, Callable[..., Any]] = {"cost": loss.cost, "nabla_a": loss.nabla_a}
    ys = targets(loss.target_range)
    points: Points = {dtype: [(a, y) for y in ys for a in grid(loss.domain, dtype)] for dtype in DTYPES}
    problems, compiled = compile_all(fns)
    problems += finite(compiled, points, ("a", "y"), fns)
    problems += derivative(fns, ("cost", "nabla_a"), compiled, points["float64"], ("a", "y"), loss.domain)
    problems += float32(compiled, points["float32"], ("a", "y"), fns)
    problems += bounds(loss.bounds, "cost", compiled, points, ("a", "y"), fns)
    return problems


# -- finite where the value fits ---------------------------------------------------------------------------------


def finite(compiled: Compiled, points: Points, names: Sequence[str], fns: Mapping[str, Any]) -> list[str]:
    """Compiled results, stored in their dtype, are finite wherever the exact value fits in the dtype."""
    problems = []
    for (role, dtype), fn in compiled.items():
        fn64 = compiled.get((role, "float64"))
        cast = np.dtype(dtype).type
        bad = []
        for point in points[dtype]:
            value = cast(fn(*(cast(x) for x in point)))
            if np.isfinite(value):
                continue
            rounded = tuple(float(cast(x)) for x in point)
            size = estimate(fn64, rounded, dtype, names[0]) if fn64 is not None else None
            if fits(size, dtype):
                bad.append((rounded, float(value), size))
        if bad:
            point, value, size = max(bad, key=lambda b: abs(b[0][0]))
            problems.append(blame(_finite_message(role, dtype, names, point, value, size, len(bad), len(points[dtype])),
                                  [(role, fns[role])]))  # fmt: skip
    return problems


def _finite_message(role: str, dtype: str, names: Sequence[str], point: tuple[float, ...], value: float,
                    size: Any, n_bad: int, n_points: int) -> str:  # fmt: skip
    if size is None:
        why = f"no smaller input of the same sign gives a finite value, so nothing shows its value beyond {dtype}"
    else:
        why = f"its value there, about {size.magnitude()} in size, fits in {dtype} ({size.how})"
    return (f"finite: {role} gives {value!r} at {fmt(names, point, dtype)} in {dtype}, but {why}; "
            f"{n_bad} of {n_points} inputs give non-finite values where the value fits")  # fmt: skip


# -- derivatives -------------------------------------------------------------------------------------------------


def _step(x: float, domain: tuple[float, float]) -> float:
    """The central-difference step: 1e-6 of the input's scale, and never across the domain's edge."""
    room = min(x - domain[0], domain[1] - x)
    return 1e-6 * min(max(1.0, abs(x)), room)


def derivative(fns: Mapping[str, Callable[..., Any]], roles: tuple[str, str], compiled: Compiled,
               points: Sequence[tuple[float, ...]], names: Sequence[str],
               domain: tuple[float, float]) -> list[str]:  # fmt: skip
    """The derivative against central differences of the function in the first argument (float64, plain
    Python), in relative terms; skipped where the function's exact value is beyond float64 (its overflow is
    right there, and the finite check covers the rest)."""
    f, fprime = fns[roles[0]], fns[roles[1]]
    f64, fprime64 = compiled.get((roles[0], "float64")), compiled.get((roles[1], "float64"))
    failures: list[tuple[float, tuple[float, ...], str]] = []
    for point in points:
        x, rest = point[0], point[1:]
        h = _step(x, domain)
        up, down = (x + h) - x, x - (x - h)  # the steps actually taken, after rounding x ± h
        around = [(x - down, *rest), point, (x + up, *rest)]
        if up <= 0.0 or down <= 0.0 or _beyond_float64(f64, fprime64, around):
            continue  # too close to the domain's edge for a difference, or a value is beyond float64
        try:
            fm, f0, fp = (float(f(*p)) for p in around)
            d = float(fprime(*point))
        except Exception as exc:  # noqa: BLE001 - report a plugin function's exception with its input
            failures.append((math.inf, point, f"raised {type(exc).__name__}: {exc}"))
            continue
        if not all(map(math.isfinite, (fm, f0, fp))):
            continue  # no difference quotient: the finite check reports the function there
        failure = _compare(d, fm, f0, fp, up, down, x, roles[1])
        if failure is not None:
            failures.append((failure[0], point, failure[1]))
    if not failures:
        return []
    worst = max(failures, key=lambda item: item[0] if item[0] == item[0] else math.inf)
    text = (f"derivative: {roles[1]} disagrees with the central difference of {roles[0]} at {len(failures)} of "
            f"{len(points)} inputs; worst at {fmt(names, worst[1])}: {worst[2]}")  # fmt: skip
    return [blame(text, [(roles[1], fprime), (roles[0], f)])]


def _beyond_float64(f64: Any, fprime64: Any, around: Sequence[tuple[float, ...]]) -> bool:
    """True when the function near the point, or the derivative at it, has a value beyond float64."""
    if f64 is not None and any(legitimately_non_finite(f64, p) for p in around):
        return True
    return fprime64 is not None and legitimately_non_finite(fprime64, around[1])


def _compare(d: float, fm: float, f0: float, fp: float, up: float, down: float, x: float,
             role: str) -> tuple[float, str] | None:  # fmt: skip
    """(relative error, description) when ``d`` is not the slope of f at x, else ``None``."""
    central, left, right = (fp - fm) / (up + down), (f0 - fm) / down, (fp - f0) / up
    scale = max(1.0, abs(central))
    # rounding in the function values, with inputs known to about eps * max(1, |x|), divided by the step
    noise = 2 * EPS * max(abs(fm), abs(f0), abs(fp), abs(d) * max(1.0, abs(x))) / min(up, down)
    tol = RTOL * scale + noise
    if abs(left - right) > KINK * max(1.0, abs(left), abs(right)):
        low, high = min(left, right), max(left, right)
        err = max(low - d, d - high, 0.0)
        expected = f"one-sided slopes {low:.7g} .. {high:.7g} (a kink: any value between is a subgradient)"
    else:
        err, expected = abs(d - central), f"difference quotient={central:.7g}"
    if err <= tol:  # False for NaN too
        return None
    return (
        err / scale,
        f"{role}={d!r}, {expected}, error {err:.3g} (relative {err / scale:.3g}, tolerance {tol / scale:.3g})",
    )


# -- float32 against float64 -------------------------------------------------------------------------------------


def float32(compiled: Compiled, points: Sequence[tuple[float, ...]], names: Sequence[str],
            fns: Mapping[str, Any]) -> list[str]:  # fmt: skip
    """float32 results within RTOL32 |f64| + ATOL32 of float64 results on the same (float32) inputs."""
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
            text = (f"float32: {role} gives {r32!r} in float32 but {r64!r} in float64 at {fmt(names, point, dtype)}, "
                    f"a difference of {abs(r32 - r64):.3g} (tolerance {RTOL32 * abs(r64) + ATOL32:.3g})")  # fmt: skip
            problems.append(blame(text, [(role, fns[role])]))
    return problems


# -- declared properties -----------------------------------------------------------------------------------------


def bounds(declared: tuple[float, float] | None, role: str, compiled: Compiled, points: Points,
           names: Sequence[str], fns: Mapping[str, Any]) -> list[str]:  # fmt: skip
    """Every finite value of ``role`` lies in the declared ``[low, high]``, in both dtypes."""
    if declared is None:
        return []
    lo, hi = declared
    problems = []
    for dtype in DTYPES:
        fn = compiled.get((role, dtype))
        if fn is None:
            continue
        cast = np.dtype(dtype).type
        outside = [(p, float(v)) for p in points[dtype] for v in [cast(fn(*(cast(x) for x in p)))]
                   if np.isfinite(v) and not lo <= v <= hi]  # fmt: skip
        if outside:
            point, value = max(outside, key=lambda o: max(lo - o[1], o[1] - hi))
            text = (f"bounds: {role} gives {value!r} at {fmt(names, point, dtype)} in {dtype}, outside the declared "
                    f"bounds [{lo:g}, {hi:g}] ({len(outside)} of {len(points[dtype])} inputs)")  # fmt: skip
            problems.append(blame(text, [(role, fns[role])]))
    return problems


def monotone(direction: str, compiled: Compiled, points: Points, fns: Mapping[str, Any]) -> list[str]:
    """σ never decreases (or never increases) along the sorted inputs, and σ′ never has the wrong sign."""
    sign = 1.0 if direction == "increasing" else -1.0
    problems = []
    for dtype in DTYPES:
        cast = np.dtype(dtype).type
        sigma, prime = compiled.get(("sigma", dtype)), compiled.get(("sigma_prime", dtype))
        zs = [p[0] for p in points[dtype]]
        if sigma is not None:
            values = [float(cast(sigma(cast(z)))) for z in zs]
            steps = [(zs[i], zs[i + 1], values[i], values[i + 1]) for i in range(len(zs) - 1)
                     if sign * (values[i + 1] - values[i]) < 0]  # fmt: skip
            if steps:
                z0, z1, v0, v1 = steps[0]
                text = (
                    f"monotone: sigma is declared {direction} but gives {v0!r} at z={z0!r} and {v1!r} at "
                    f"z={z1!r} in {dtype}"
                )
                problems.append(blame(text, [("sigma", fns["sigma"])]))
        if prime is not None:
            wrong = [(z, float(cast(prime(cast(z))))) for z in zs]
            wrong = [(z, d) for z, d in wrong if sign * d < 0]
            if wrong:
                z, d = wrong[0]
                expected = ">= 0" if sign > 0 else "<= 0"
                text = (f"monotone: sigma is declared {direction}, so sigma_prime must be {expected}, but it gives "
                        f"{d!r} at z={z!r} in {dtype} ({len(wrong)} of {len(zs)} inputs)")  # fmt: skip
                problems.append(blame(text, [("sigma_prime", fns["sigma_prime"])]))
    return problems
