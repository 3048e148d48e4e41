r"""The checks of vector functions: a non-elementwise activation's ``forward`` and ``vjp``, and a loss's combined
output errors (against the general BP1, :math:`\sigma'(z)\,\nabla_a C` or ``vjp(z, a, ∇ₐC)``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..activation import Activation
from ..loss import Loss
from ._common import ATOL32, DTYPES, RTOL, RTOL32, blame, targets
from ._compile import compile_all
from ._scalar import _step, finite

__all__ = ["output_error_problems", "vector_problems"]

#: Pre-activations where a combined output error is compared with the general formula (both accurate there).
OUTPUT_ERROR_Z = (-8.0, -3.0, -1.0, -0.2, 0.0, 0.3, 1.0, 2.5, 8.0)
#: The vector v of vector-Jacobian products.
V = (1.0, -2.0, 0.5, 3.0)
#: One row at each dtype's extremes.
_EXTREME_ROW = {"float64": (1e300, -1e300, 0.0, 1.0), "float32": (1e30, -1e30, 0.0, 1.0)}


def _vectors(domain: tuple[float, float]) -> list[np.ndarray]:
    """Pre-activation rows: random ones, and rows at ±1000."""
    rng = np.random.default_rng(0)
    zs = [rng.normal(scale=3.0, size=4) for _ in range(3)]
    zs += [np.array([1000.0, -1000.0, 0.0, 1.0]), np.full(4, -1000.0), np.array([1000.0, 999.0, -3.0, 0.0])]
    return [_inside(z, domain) for z in zs]


def _inside(z: np.ndarray, domain: tuple[float, float]) -> np.ndarray:
    clipped: np.ndarray = np.clip(z, np.nextafter(domain[0], 0), np.nextafter(domain[1], 0))
    return clipped


def vector_problems(act: Activation) -> list[str]:
    """Every failed check of a non-elementwise activation."""
    assert act.forward is not None and act.vjp is not None  # guaranteed by Activation for non-elementwise
    fns = {"forward": act.forward, "vjp": act.vjp}
    problems, compiled = compile_all(fns)
    zs, v = _vectors(act.domain), np.array(V)
    outputs = {
        dtype: [_vector_outputs(compiled["forward", dtype], compiled["vjp", dtype], z.astype(dtype), v) for z in zs]
        for dtype in DTYPES
        if ("forward", dtype) in compiled and ("vjp", dtype) in compiled
    }
    for dtype in outputs:
        extreme = _inside(np.array(_EXTREME_ROW[dtype]), act.domain)
        rows = [*zs, extreme]
        results = [*outputs[dtype], _vector_outputs(compiled["forward", dtype], compiled["vjp", dtype],
                                                    extreme.astype(dtype), v)]  # fmt: skip
        problems += _vector_finite(dtype, rows, results, fns)
    problems += _vjp_problems(act, zs, v)
    if len(outputs) == 2:
        problems += _vector_float32(zs, outputs["float32"], outputs["float64"], fns)
    return problems


def _vector_finite(dtype: str, rows: list[np.ndarray], results: list[Any], fns: Mapping[str, Any]) -> list[str]:
    """forward and vjp give finite values on every row, the extreme one included (their outputs are bounded)."""
    problems = []
    for i, role in enumerate(("forward", "vjp")):
        for z, pair in zip(rows, results, strict=True):
            if not np.isfinite(pair[i]).all():
                problems.append(blame(f"finite: {role} gives {pair[i].tolist()} at z={z.tolist()} in {dtype}",
                                      [(role, fns[role])]))  # fmt: skip
                break
    return problems


def _vector_outputs(forward: Any, vjp: Any, z: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a = forward(z)`` and ``vjp(z, a, v)`` with compiled functions, in ``z``'s dtype (v in float64, as the
    engine hands it over)."""
    a, out = np.empty_like(z), np.empty_like(z)
    with np.errstate(all="ignore"):
        forward(z, a)
        vjp(z, a, v.astype(np.float64), out)
    return a, out


def _vector_float32(zs: list[np.ndarray], results32: list[Any], results64: list[Any],
                    fns: Mapping[str, Any]) -> list[str]:  # fmt: skip
    """float32 forward and vjp within RTOL32 |f64| + ATOL32 of float64 (first disagreement per function)."""
    problems = []
    for i, role in enumerate(("forward", "vjp")):
        for z, r32, r64 in zip(zs, (r[i] for r in results32), (r[i] for r in results64), strict=True):
            finite_both = np.isfinite(r32).all() and np.isfinite(r64).all()
            if finite_both and (np.abs(r32 - r64) > RTOL32 * np.abs(r64) + ATOL32).any():
                text = (
                    f"float32: {role} gives {r32.tolist()} in float32 but {r64.tolist()} in float64 at "
                    f"z={z.astype(np.float32).tolist()} (tolerance {RTOL32:g} relative, {ATOL32:g} absolute)"
                )
                problems.append(blame(text, [(role, fns[role])]))
                break
    return problems


def _jacobian(act: Activation, z: np.ndarray) -> np.ndarray:
    """J(z) by central differences of ``forward`` (float64, plain Python)."""
    assert act.forward is not None
    jacobian = np.empty((z.size, z.size))
    for k in range(z.size):
        h = _step(float(z[k]), act.domain)
        up, down, plus, minus = z.copy(), z.copy(), np.empty_like(z), np.empty_like(z)
        up[k] += h
        down[k] -= h
        act.forward(up, plus)
        act.forward(down, minus)
        jacobian[:, k] = (plus - minus) / (2 * h)
    return jacobian


def _vjp_problems(act: Activation, zs: list[np.ndarray], v: np.ndarray) -> list[str]:
    """``vjp(z, a, v)`` against Jᵀv with J from central differences of ``forward`` (float64, plain Python)."""
    assert act.forward is not None and act.vjp is not None
    worst: tuple[float, str] | None = None
    culprits = [("vjp", act.vjp), ("forward", act.forward)]
    for z in zs:
        try:
            a, out = np.empty_like(z), np.empty_like(z)
            act.forward(z, a)
            act.vjp(z, a, v, out)
            jacobian = _jacobian(act, z)
        except Exception as exc:  # noqa: BLE001 - report a plugin function's exception with its input
            text = f"vjp: forward or vjp raised {type(exc).__name__}: {exc} at z={z.tolist()} (plain Python)"
            return [blame(text, culprits)]
        expected = jacobian.T @ v
        scale = max(1.0, float(np.abs(expected).max()))
        err = float(np.nan_to_num(np.abs(out - expected), nan=np.inf).max())
        if err > RTOL * scale and (worst is None or err / scale > worst[0]):
            worst = (err / scale, f"vjp: vjp(z, a, v) differs from J(z)ᵀv (J by central differences of forward) "
                                  f"at z={z.tolist()}, v={v.tolist()}: got {out.tolist()}, expected "
                                  f"{expected.tolist()}, error {err:.3g} (tolerance {RTOL * scale:.3g})")  # fmt: skip
    return [] if worst is None else [blame(worst[1], culprits)]


# -- combined output errors --------------------------------------------------------------------------------------


def output_error_problems(loss: Loss, act_name: str, fn: Callable[..., Any], act: Activation | None) -> list[str]:
    """A combined output error compiles, is finite at z = ±1000, and equals the general BP1 where it is accurate."""
    role = f"output_errors[{act_name!r}]"
    problems, compiled = compile_all({role: fn})
    if act is None:
        return problems
    ys = targets(loss.target_range)
    if act.elementwise:
        problems += _elementwise_output_error(loss, act, fn, role, ys)
        assert act.sigma is not None
        inside = [z for z in (-1000.0, 1000.0) if act.domain[0] < z < act.domain[1]]
        extremes: list[tuple[float, ...]] = [(z, float(act.sigma(z)), y) for z in inside for y in ys]
        problems += finite(compiled, dict.fromkeys(DTYPES, extremes), ("z", "a", "y"), {role: fn})
    else:
        problems += _vector_output_error(loss, act, fn, role, compiled)
    return problems


def _elementwise_output_error(
    loss: Loss, act: Activation, fn: Callable[..., Any], role: str, ys: list[float]
) -> list[str]:
    """δᴸ = fn(z, a, y) against σ′(z) ∇ₐC(a, y) on OUTPUT_ERROR_Z (float64, plain Python)."""
    assert act.sigma is not None and act.sigma_prime is not None
    culprits = [(role, fn), ("sigma_prime", act.sigma_prime), ("nabla_a", loss.nabla_a)]
    worst: tuple[float, str] | None = None
    for z in (z for z in OUTPUT_ERROR_Z if act.domain[0] < z < act.domain[1]):
        for y in ys:
            try:
                a = act.sigma(z)
                general = act.sigma_prime(z) * loss.nabla_a(a, y)
                combined = float(fn(z, a, y))
            except Exception as exc:  # noqa: BLE001 - report a plugin function's exception with its input
                raised = f"{type(exc).__name__}: {exc}"
                text = f"output_error: {role} or the general formula raised {raised} at z={z!r}, y={y!r}"
                return [blame(text, culprits)]
            scale = max(1.0, abs(general))
            err = abs(combined - general)
            relative = err / scale if err == err else math.inf
            if not err <= RTOL * scale and (worst is None or relative > worst[0]):
                worst = (relative, f"output_error: {role} gives {combined!r} at z={z!r}, a={a!r}, y={y!r}, but "
                                      f"the general sigma_prime(z) * nabla_a(a, y) = {general!r}, error {err:.3g} "
                                      f"(tolerance {RTOL * scale:.3g})")  # fmt: skip
    return [] if worst is None else [blame(worst[1], culprits)]


def _vector_output_error(
    loss: Loss, act: Activation, fn: Callable[..., Any], role: str, compiled: Mapping[tuple[str, str], Any]
) -> list[str]:
    """δᴸ_j = fn(z_j, a_j, y_j) against vjp(z, a, ∇ₐC), for targets that sum to 1 (one-hot or a distribution)."""
    assert act.forward is not None and act.vjp is not None
    culprits = [(role, fn), ("vjp", act.vjp), ("nabla_a", loss.nabla_a)]
    problems: list[str] = []
    ys = [np.array([0.0, 0.0, 1.0, 0.0]), np.array([0.1, 0.2, 0.3, 0.4])]
    lo, hi = loss.target_range or (-math.inf, math.inf)
    ys = [y for y in ys if (y >= lo).all() and (y <= hi).all()]
    for z in _vectors(act.domain):
        a = np.empty_like(z)
        act.forward(z, a)
        for y in ys:
            combined = np.array([fn(z[j], a[j], y[j]) for j in range(z.size)])
            for dtype in DTYPES:
                if (role, dtype) in compiled:
                    cast = np.dtype(dtype).type
                    values = [cast(compiled[role, dtype](cast(z[j]), cast(a[j]), cast(y[j]))) for j in range(z.size)]
                    if not np.isfinite(values).all():
                        text = f"finite: {role} gives {values} at z={z.tolist()}, y={y.tolist()} in {dtype}"
                        problems.append(blame(text, [(role, fn)]))
            if np.abs(z).max() > 100:
                continue  # the general formula is not accurate there: finiteness only
            nabla = np.array([loss.nabla_a(a[j], y[j]) for j in range(z.size)])
            general = np.empty_like(z)
            act.vjp(z, a, nabla, general)
            scale = max(1.0, float(np.abs(general).max()))
            err = float(np.nan_to_num(np.abs(combined - general), nan=np.inf).max())
            if err > RTOL * scale:
                text = (f"output_error: {role} gives {combined.tolist()} at z={z.tolist()}, y={y.tolist()}, but the "
                        f"general vjp(z, a, nabla_a(a, y)) = {general.tolist()}, error {err:.3g} (tolerance "
                        f"{RTOL * scale:.3g})")  # fmt: skip
                return [*problems, blame(text, culprits)]
    return problems
