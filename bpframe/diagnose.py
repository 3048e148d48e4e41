"""Find the plugin function behind a non-finite value, so the error names it and the input that caused it.

The compiled kernels do not stop at the first NaN (that would cost a check per element); when a result is not
finite, the public method that sees it re-runs the batch and calls each plugin function, as plain Python, where
its output is not finite although its input is.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .specs import describe

if TYPE_CHECKING:
    from .network import Network
    from .results import BackpropResult

__all__ = ["find_plugin_fault"]


def _call(fn: Callable[..., Any], *args: float) -> str:
    """What ``fn(*args)`` gives in Python: ``'returned nan'``, or ``'raised ZeroDivisionError: ...'``."""
    try:
        value = fn(*[float(arg) for arg in args])
    except Exception as exc:  # noqa: BLE001 - any exception of a plugin function is the finding
        return f"raised {type(exc).__name__}: {exc}"
    return f"returned {float(value)!r}"


def _jit(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The function as the kernels run it (compiled alone), or the plain function if numba rejects it."""
    from numba import njit

    from .kernels.options import PLUGIN_OPTIONS

    compiled = njit(**PLUGIN_OPTIONS)(fn)
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


def _forward_fault(net: Network, g: BackpropResult) -> str | None:
    for l, act in enumerate(net.activations, start=1):
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


def _backward_fault(net: Network, g: BackpropResult, y: np.ndarray) -> str | None:
    L, loss, dtype = net.num_layers, net.loss, net.dtype
    a = g.a[L]
    finite_ay = np.isfinite(a) & np.isfinite(y)
    for role in ("cost", "nabla_a"):
        fn = getattr(loss, role)
        where = _first_bad(_values(fn, dtype, a, y), finite_ay)
        if where is not None:
            av, yv = float(a[where]), float(y[where])
            outcome = _compiled(fn, dtype, av, yv)
            return f"{describe(loss)}: its {role} {outcome} at a={av!r}, y={yv!r} (sample {where[0]})"
    for l, act in enumerate(net.activations, start=1):
        if act.elementwise and act.sigma_prime is not None:
            zl = g.z[l]
            where = _first_bad(_values(act.sigma_prime, dtype, zl), np.isfinite(zl))
            if where is not None:
                zv = float(zl[where])
                outcome = _compiled(act.sigma_prime, dtype, zv)
                return f"{describe(act)}: its sigma_prime {outcome} at z={zv!r} (layer {l})"
    return None


def find_plugin_fault(net: Network, x: np.ndarray, y: np.ndarray | None = None) -> str | None:
    """Describe the first plugin function that turns finite inputs into a non-finite value on this batch, or
    ``None`` when every non-finite value has another cause (e.g. weights so large that a product overflows)."""
    targets = np.zeros((x.shape[0], net.sizes[-1]), dtype=net.dtype) if y is None else y
    with np.errstate(all="ignore"):
        g = net._backprop_arrays(x, targets)
        fault = _forward_fault(net, g)
        if fault is None and y is not None:
            fault = _backward_fault(net, g, y)
    return fault
