"""Find the plugin function behind a non-finite value or an exception, so the error names it and its input.

The compiled kernels do not stop at the first NaN (that would cost a check per element); when a result is not
finite, the public method that sees it re-runs the batch and calls each plugin function, as plain Python, where
its output is not finite although its input is. When a plugin function *raised* inside the engine, the engine
stops before any parameter changes and reports the layer and role; :func:`plugin_raised` then evaluates that
function on the batch's values, one by one, to name the input that raises.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import compute
from .errors import PluginError
from .kernels.alone import jit_alone
from .kernels.interface import FAILED_PLUGIN, LAYER, OUTCOME, ROLE, ROLES
from .results import BackpropResult
from .specs import describe
from .state import ModelState

__all__ = ["check_backprop", "find_plugin_fault", "plugin_raised", "raise_if_plugin_raised", "raise_plugin_fault"]


def _call(fn: Callable[..., Any], *args: float) -> str:
    """What ``fn(*args)`` gives in Python: ``'returned nan'``, or ``'raised ZeroDivisionError: ...'``."""
    try:
        value = fn(*[float(arg) for arg in args])
    except Exception as exc:  # noqa: BLE001 - any exception of a plugin function is the finding
        return f"raised {type(exc).__name__}: {exc}"
    return f"returned {float(value)!r}"


def _jit(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The function as the kernels run it (compiled alone), or the plain function if numba rejects it."""
    compiled = jit_alone(fn)
    return lambda *args: compiled(*args)


def _values(fn: Callable[..., Any], dtype: np.dtype, *arrays: np.ndarray) -> np.ndarray:
    """``fn`` applied entry by entry to arguments of the network's dtype, as compiled; errors give NaN."""
    compiled, cast = _jit(fn), dtype.type
    out = np.empty(arrays[0].shape)
    for index in np.ndindex(arrays[0].shape):
        try:
            out[index] = compiled(*[cast(a[index]) for a in arrays])
        except Exception:  # noqa: BLE001 - a failing call is a non-finite result for this search
            out[index] = math.nan
    return out


def _compiled(fn: Callable[..., Any], dtype: np.dtype, *args: float) -> str:
    """What the compiled ``fn(*args)`` gives in the network's dtype, and what plain Python says when it differs."""
    python = _call(fn, *args)
    try:
        value = float(_jit(fn)(*[dtype.type(arg) for arg in args]))
    except Exception:  # noqa: BLE001 - a function numba rejects: report what Python does
        return python
    compiled = f"returned {value!r}"
    return compiled if python == compiled else f"{compiled} (as plain Python it {python})"


def _first_bad(output: np.ndarray, inputs_ok: np.ndarray) -> tuple[int, int] | None:
    """Index of the first entry whose output is not finite while its inputs are."""
    bad = np.argwhere(~np.isfinite(output) & inputs_ok)
    return None if bad.size == 0 else (int(bad[0][0]), int(bad[0][1]))


def _forward_fault(state: ModelState, g: BackpropResult) -> str | None:
    for l, act in enumerate(state.activations, start=1):
        z, a = g.z[l], g.a[l]
        if act.elementwise:
            where = _first_bad(a, np.isfinite(z))
            if where is not None:
                zv, compiled = float(z[where]), float(a[where])
                assert act.sigma is not None
                python = _call(act.sigma, zv)
                also = "" if python == f"returned {compiled!r}" else f"; as plain Python it {python}"
                where_text = f"layer {l}, sample {where[0]}{also}"
                return f"{describe(act)}: its sigma returned {compiled!r} at z={zv!r} ({where_text})"
        else:
            rows = np.isfinite(z).all(axis=1) & ~np.isfinite(a).all(axis=1)
            if rows.any():
                i = int(np.argmax(rows))
                return f"{describe(act)}: its forward returned non-finite values at z={z[i].tolist()!r} (layer {l})"
    return None


def _backward_fault(state: ModelState, g: BackpropResult, y: np.ndarray) -> str | None:
    L, loss, dtype = state.num_layers, state.loss, state.dtype
    a = g.a[L]
    finite_ay = np.isfinite(a) & np.isfinite(y)
    for role in ("cost", "nabla_a"):
        fn = getattr(loss, role)
        where = _first_bad(_values(fn, dtype, a, y), finite_ay)
        if where is not None:
            av, yv = float(a[where]), float(y[where])
            outcome = _compiled(fn, dtype, av, yv)
            return f"{describe(loss)}: its {role} {outcome} at a={av!r}, y={yv!r} (sample {where[0]})"
    for l, act in enumerate(state.activations, start=1):
        if act.elementwise and act.sigma_prime is not None:
            zl = g.z[l]
            where = _first_bad(_values(act.sigma_prime, dtype, zl), np.isfinite(zl))
            if where is not None:
                zv = float(zl[where])
                outcome = _compiled(act.sigma_prime, dtype, zv)
                return f"{describe(act)}: its sigma_prime {outcome} at z={zv!r} (layer {l})"
    return None


def find_plugin_fault(state: ModelState, x: np.ndarray, y: np.ndarray | None = None) -> str | None:
    """Describe the first plugin function that turns finite inputs into a non-finite value on this batch, or
    ``None`` when every non-finite value has another cause (e.g. weights so large that a product overflows)."""
    targets = np.zeros((x.shape[0], state.sizes[-1]), dtype=state.dtype) if y is None else y
    with np.errstate(all="ignore"):
        g, _ = compute.backprop(state, x, targets)
        fault = _forward_fault(state, g)
        if fault is None and y is not None:
            fault = _backward_fault(state, g, y)
    return fault


def _first_raise(fn: Callable[..., Any], dtype: np.dtype, *arrays: np.ndarray) -> tuple[tuple[int, ...], str] | None:
    """The first entry where the compiled ``fn`` raises, and the exception, or ``None``."""
    compiled, cast = _jit(fn), dtype.type
    for index in np.ndindex(arrays[0].shape):
        try:
            compiled(*[cast(a[index]) for a in arrays])
        except Exception as exc:  # noqa: BLE001 - the exception is what we are looking for
            return index, f"{type(exc).__name__}: {exc}"
    return None


def _rows_raise(fn: Callable[..., Any], *rows: np.ndarray) -> tuple[int, str] | None:
    """The first row where a vector function raises (called as plain Python on copies), or ``None``."""
    for i in range(rows[0].shape[0]):
        try:
            fn(*[np.array(r[i], dtype=np.float64 if r.dtype == np.float64 else r.dtype) for r in rows])
        except Exception as exc:  # noqa: BLE001 - the exception is what we are looking for
            return i, f"{type(exc).__name__}: {exc}"
    return None


def _pre_activations(state: ModelState, x: np.ndarray, layer: int) -> tuple[np.ndarray, np.ndarray]:
    """z and a of ``layer`` for the rows x, computed with NumPy and the compiled plugin functions (the layers
    before it ran without error in the engine)."""
    a = x.astype(state.dtype)
    z = a
    for l in range(1, layer + 1):
        z = a @ state.w[l - 1].T + state.b[l - 1]
        act = state.activations[l - 1]
        if l == layer:
            break
        if act.elementwise:
            assert act.sigma is not None
            a = _values(act.sigma, state.dtype, z).astype(state.dtype)
        else:
            a = np.empty_like(z)
            assert act.forward is not None
            for i in range(z.shape[0]):
                act.forward(z[i].copy(), a[i])
    return z, a


def _describe_raise(state: ModelState, x: np.ndarray, y: np.ndarray | None, layer: int, role: str) -> str:
    """Which plugin function raised at ``layer`` in ``role``, and at which input."""
    z, _ = _pre_activations(state, x, layer)
    act = state.activations[layer - 1]
    if role == "forward" and act.elementwise:
        assert act.sigma is not None
        found = _first_raise(act.sigma, state.dtype, z)
        if found is not None:
            (i, j), error = found
            where = f"z={float(z[i, j])!r} (layer {layer}, sample {i})"
            return f"{describe(act)}: its sigma {_name(act.sigma)} raised {error} at {where}"
    if role == "forward":
        assert act.forward is not None
        a = np.empty_like(z)
        found_row = _rows_raise(act.forward, z, a)
        if found_row is not None:
            i, error = found_row
            where = f"z={z[i].tolist()!r} (layer {layer})"
            return f"{describe(act)}: its forward {_name(act.forward)} raised {error} at {where}"
    if role in ("backward", "nabla_a", "output_error", "cost"):
        return _describe_backward_raise(state, x, y, layer, role)
    return f"a plugin function of layer {layer} raised during the {role} step"


def _describe_backward_raise(state: ModelState, x: np.ndarray, y: np.ndarray | None, layer: int, role: str) -> str:
    _L, loss = state.num_layers, state.loss
    z_out, a_out = _output(state, x)
    if y is not None and role in ("cost", "nabla_a", "output_error"):
        combined = loss.output_errors.get(state.activations[-1].name)
        candidates = [("cost", loss.cost), ("nabla_a", loss.nabla_a)]
        if combined is not None:
            candidates.append(("output_error", combined))
        for name, fn in candidates:
            args = (z_out, a_out, y) if name == "output_error" else (a_out, y)
            found = _first_raise(fn, state.dtype, *args)
            if found is not None:
                (i, j), error = found
                values = ", ".join(
                    f"{k}={float(v[i, j])!r}" for k, v in zip(("z", "a", "y")[-len(args) :], args, strict=True)
                )
                return f"{describe(loss)}: its {name} {_name(fn)} raised {error} at {values} (sample {i})"
    act = state.activations[layer - 1]
    if act.elementwise and act.sigma_prime is not None:
        z, _ = _pre_activations(state, x, layer)
        found = _first_raise(act.sigma_prime, state.dtype, z)
        if found is not None:
            (i, j), error = found
            where = f"z={float(z[i, j])!r} (layer {layer}, sample {i})"
            return f"{describe(act)}: its sigma_prime {_name(act.sigma_prime)} raised {error} at {where}"
    return f"a plugin function of layer {layer} raised during back-propagation ({role})"


def _output(state: ModelState, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """z and a of the output layer, computed as in :func:`_pre_activations`."""
    z, _a = _pre_activations(state, x, state.num_layers)
    act = state.activations[-1]
    if act.elementwise:
        assert act.sigma is not None
        return z, _values(act.sigma, state.dtype, z).astype(state.dtype)
    out = np.empty_like(z)
    assert act.forward is not None
    for i in range(z.shape[0]):
        act.forward(z[i].copy(), out[i])
    return z, out


def _name(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', '?')}"


def plugin_raised(state: ModelState, status: np.ndarray, x: np.ndarray, y: np.ndarray | None) -> PluginError | None:
    """The error to raise when the engine's ``status`` says a plugin function raised on the rows ``x`` (``y``),
    naming the plugin, its distribution, the function and the input; ``None`` when no plugin raised."""
    if status[OUTCOME] != FAILED_PLUGIN:
        return None
    raised = state.program.caught.raised
    cause = raised[0] if raised else None
    layer, role = int(status[LAYER]), ROLES[int(status[ROLE])]
    with np.errstate(all="ignore"):
        where = _describe_raise(state, x, y, layer, role) if layer >= 1 else f"the {role} step raised"
    if cause is not None and type(cause).__name__ not in where:
        where += f" ({type(cause).__name__}: {cause})"
    error = PluginError(f"{where}; nothing was changed by the failing step")
    error.__cause__ = cause
    return error


def raise_if_plugin_raised(state: ModelState, status: np.ndarray, x: np.ndarray, y: np.ndarray | None = None) -> None:
    """Raise the :func:`plugin_raised` error when the engine's ``status`` says a plugin function raised."""
    error = plugin_raised(state, status, x, y)
    if error is not None:
        raise error


def raise_plugin_fault(state: ModelState, x: np.ndarray, y: np.ndarray | None = None) -> None:
    """Raise PluginError when a plugin function caused the non-finite values computed from these rows."""
    fault = find_plugin_fault(state, x, y)
    if fault is not None:
        raise PluginError(f"{fault}; finite inputs gave a non-finite result")


def check_backprop(state: ModelState, g: BackpropResult, status: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
    """Raise PluginError when a plugin function raised in back-propagation, or turned finite values non-finite."""
    raise_if_plugin_raised(state, status, x, y)
    if not (np.isfinite(g.cost) and all(np.isfinite(w).all() for w in g.nabla_w)):
        raise_plugin_fault(state, x, y)
