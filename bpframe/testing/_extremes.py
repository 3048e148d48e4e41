r"""Whether a non-finite result is allowed: only where the exact value does not fit in the dtype.

A quadratic cost of 1e300 is 5e599: its overflow to inf is right. Naive bent identity,
:math:`(\sqrt{z^2 + 1} - 1)/2 + z`, gives inf at :math:`z = -10^{300}` although the value there is
:math:`-5 \cdot 10^{299}`: an intermediate result (:math:`z^2`) overflowed. To tell the two apart without a
higher-precision oracle, the kit follows the compiled float64 function from the last finite input below the
failing one up to where it stops being finite (by bisection on :math:`\log|x|`), measures how fast
:math:`|f|` grows there (the slope of :math:`\log|f|` against :math:`\log|x|`), and extrapolates that growth to
the failing input. Where :math:`f` itself runs into the dtype's largest number (exp at 709.8, :math:`z^2` past
1.3e154), the estimate is beyond the dtype; where it was still far below it (naive bent identity stops at
:math:`|z| \approx 1.3 \cdot 10^{154}` with :math:`|f| \approx 6.7 \cdot 10^{153}`, growing like :math:`|z|`), it
is not. In float32 the float64 result is the estimate, when it is finite.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Estimate", "estimate", "fits", "legitimately_non_finite"]

_LOWER = (10.0, 1e2, 1e4, 1e8, 1e16, 1e32, 1e64, 1e128, 1e256)
_SMALL = (1.0, 1e-3, 1e-10)  # finite inputs below |x| when dividing by powers of ten does not reach one
_NEAR_ZERO = (1e-300, 1e-100, 1e-30, 1e-10, 1e-3, 1.0)
_STEPS = 200


@dataclass(frozen=True)
class Estimate:
    """``log10`` of the exact value's magnitude (``-inf`` for 0), and how it was found."""

    log10: float
    how: str

    def magnitude(self) -> str:
        """The estimate as a number for messages (it fits in float64 whenever it is shown)."""
        return "0" if self.log10 == -math.inf else f"{10.0**self.log10:.2g}"


def fits(size: Estimate | None, dtype: str) -> bool:
    """True unless the estimate shows the exact value beyond the dtype's largest number."""
    return size is None or size.log10 <= math.log10(float(np.finfo(dtype).max))


def legitimately_non_finite(fn64: Any, point: tuple[float, ...], dtype: str = "float64") -> bool:
    """True when the compiled float64 function is non-finite at ``point`` and its exact value is beyond ``dtype``."""
    return not math.isfinite(_value(fn64, point)) and not fits(estimate(fn64, point, dtype), dtype)


def estimate(fn64: Any, point: tuple[float, ...], dtype: str, name: str = "x") -> Estimate | None:
    """The exact value's magnitude at ``point`` for the first coordinate's growth, or ``None`` if unknown.

    ``fn64`` is the compiled float64 function. For float32, its result at the float32 input is the estimate
    whenever it is finite.
    """
    if dtype == "float32":
        value = _value(fn64, point)
        if math.isfinite(value):
            return Estimate(math.log10(abs(value)) if value else -math.inf, f"{value:.6g} in float64")
    return _extrapolate(fn64, point, name)


def _value(fn: Callable[..., Any], point: tuple[float, ...]) -> float:
    try:
        return float(fn(*(np.float64(x) for x in point)))
    except Exception:  # noqa: BLE001 - a compiled function that raises gives no value here
        return math.nan


def _extrapolate(fn64: Any, point: tuple[float, ...], name: str) -> Estimate | None:
    """Follow f from the nearest finite input below ``|x|`` (or, for a pole, above it) to where it stops being
    finite, then extrapolate its growth there to ``x``."""
    x, rest = point[0], point[1:]
    sign = math.copysign(1.0, x)

    def at(t: float) -> float:
        return _value(fn64, (sign * t, *rest))

    target = abs(x)
    below = [target / f for f in _LOWER if target / f > 0.0] + [t for t in _SMALL if t < target]
    above = [target * f for f in _LOWER if math.isfinite(target * f)] if target > 0.0 else list(_NEAR_ZERO)
    finite = next((t for t in [*below, *above] if math.isfinite(at(t))), None)
    if finite is None:
        return None
    edge = _edge(at, finite, target)
    step = 1.001 if edge > target else 1 / 1.001  # one step further from x, on the finite side
    f2, f1 = abs(at(edge)), abs(at(edge * step))
    if f2 == 0.0:
        return Estimate(-math.inf, f"it is 0 where it stops being finite, at |{name}| = {edge:.3g}")
    slope = math.log(f2 / f1) / math.log(1.0 / step) if math.isfinite(f1) and f1 > 0.0 else 0.0
    if target == 0.0:
        size = math.inf if slope < 0.0 else math.log10(f2)
    else:
        size = math.log10(f2) + slope * math.log10(target / edge)
    how = f"it is non-finite from |{name}| = {edge:.3g} on, where its size {f2:.3g} grows like |{name}|^{slope:.2g}"
    return Estimate(size, how)


def _edge(at: Callable[[float], float], finite: float, target: float) -> float:
    """The last finite input between ``finite`` and ``target`` (bisection on log|x|; to ``target`` = 0 linearly)."""
    good, bad = finite, target
    for _ in range(_STEPS):
        if bad == 0.0:
            mid = 0.5 * good
            if mid == 0.0:
                break
        else:
            if max(good, bad) <= min(good, bad) * (1.0 + 1e-12):
                break
            mid = math.exp(0.5 * (math.log(good) + math.log(bad)))
        good, bad = (mid, bad) if math.isfinite(at(mid)) else (good, mid)
    return good
