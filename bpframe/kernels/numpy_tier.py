"""The NumPy tier: the engine's loops in Python, for the moments when compiling the engine is not worth it.

The compiled engine (:mod:`bpframe.kernels.engine`) takes seconds to compile the first time it meets a dtype on a
machine; a small job is over sooner than that. This tier runs the very same computation with nothing of the engine
compiled: the same blocks (so every plugin function runs the same machine code), the same BLAS function called
with the same arguments (numba's ``numba_xxgemm`` helper, through ctypes), and every other floating-point
operation of the engine repeated in the same order and precision (the engine is compiled without fastmath for
that reason). So a seed gives bit-identical results whichever tier trained; ``tests/kernels/test_tiers.py`` checks
it for every optimizer, both dtypes, fused and two-buffer steps.

Each function here mirrors the compiled function of the same name, line for line where it matters.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np

from ..validation import max_abs
from . import dropout
from .blaslib import blas
from .interface import (
    BACKWARD_ROLE,
    BATCH,
    C_SIGNATURES,
    COST_ROLE,
    DONE,
    FAILED_PLUGIN,
    FORWARD_ROLE,
    INTERRUPTED,
    LAYER,
    NABLA_ROLE,
    NONFINITE_COST,
    NONFINITE_INPUT,
    NONFINITE_UPDATE,
    OK,
    OUTCOME,
    OUTPUT_ERROR_ROLE,
    ROLE,
    UPDATE_ROLE,
    Layout,
    Training,
    small_product,
)
from .lean import jit_enabled

__all__ = ["backprop", "evaluate", "train_batches"]

_LAYER_BLOCK, _UPDATE_BLOCK, _PRODUCT = C_SIGNATURES["layer"], C_SIGNATURES["update"], C_SIGNATURES["product"]
_GEMM = ctypes.CFUNCTYPE(None, *[ctypes.c_void_p] * 13)


def call_block(address: Any, args: tuple[Any, ...]) -> int:
    """Without the JIT a block is its Python function: :mod:`bpframe.kernels.abi`'s ``call_block`` calls it (that
    module imports numba, which this tier otherwise never needs)."""
    from .abi import call_block as call

    return int(call(address, args))


@cache
def _layer_function(address: int) -> Callable[..., int]:
    function: Callable[..., int] = _LAYER_BLOCK(address)
    return function


@cache
def _update_function(address: int) -> Callable[..., int]:
    function: Callable[..., int] = _UPDATE_BLOCK(address)
    return function


def _pointer(array: np.ndarray) -> int:
    return int(array.__array_interface__["data"][0])


def _call_layer(address: Any, p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, p3: np.ndarray, rows: int,
                cols: int) -> int:  # fmt: skip
    """A layer block, as the engine's ``call_block`` calls it."""
    if not jit_enabled():
        return call_block(address, (p0, p1, p2, p3, rows, cols))
    return int(_layer_function(int(address))(_pointer(p0), _pointer(p1), _pointer(p2), _pointer(p3), rows, cols))


@cache
def _product_function(address: int) -> Callable[..., int]:
    function: Callable[..., int] = _PRODUCT(address)
    return function


def _call_product(address: Any, a_prev: np.ndarray, w: np.ndarray, z: np.ndarray) -> None:
    """The small-product kernel, as the engine's ``forward_layer`` calls it."""
    m, k = a_prev.shape
    if not jit_enabled():
        call_block(address, (a_prev, w, z, m, k, w.shape[0]))
        return
    _product_function(int(address))(_pointer(a_prev), _pointer(w), _pointer(z), m, k, w.shape[0])


@cache
def _gemm_function(kind: str) -> Callable[..., None]:
    """The BLAS ``?gemm`` the compiled :func:`~bpframe.kernels.blas.gemm` calls, as a ctypes function."""
    return _GEMM(blas().address(kind))


def gemm(a: np.ndarray, trans_a: bool, b: np.ndarray, trans_b: bool, c: np.ndarray, alpha: float, beta: float) -> None:
    """``c = alpha op(a) op(b) + beta c`` through the same BLAS call as :func:`bpframe.kernels.blas.gemm`."""
    if not jit_enabled():
        product = alpha * ((a.T if trans_a else a) @ (b.T if trans_b else b))
        c[...] = product if beta == 0 else product + beta * c
        return
    function, arguments, _ = _gemm_call(a, trans_a, b, trans_b, c, alpha, beta)
    function(*arguments)


def _gemm_call(a: np.ndarray, trans_a: bool, b: np.ndarray, trans_b: bool, c: np.ndarray, alpha: float,
               beta: float) -> tuple[Callable[..., None], tuple[int, ...], list[Any]]:  # fmt: skip
    """The ctypes function and arguments of :func:`gemm`'s BLAS call, and the ctypes values they point at (which
    must stay alive as long as the arguments are used)."""
    integer = ctypes.c_int64 if blas().int_bytes == 8 else ctypes.c_int32
    scalar = ctypes.c_float if c.dtype == np.float32 else ctypes.c_double
    k = a.shape[0] if trans_a else a.shape[1]
    values = [ctypes.c_char(b"T" if trans_b else b"N"), ctypes.c_char(b"T" if trans_a else b"N"),
              integer(c.shape[1]), integer(c.shape[0]), integer(k), scalar(c.dtype.type(alpha))]  # fmt: skip
    tail = [integer(b.shape[1]), integer(a.shape[1]), scalar(c.dtype.type(beta)), integer(c.shape[1])]
    refs = [ctypes.addressof(v) for v in values + tail]
    arguments = (*refs[:6], _pointer(b), refs[6], _pointer(a), refs[7], refs[8], _pointer(c), refs[9])
    return _gemm_function("s" if c.dtype == np.float32 else "d"), arguments, values + tail


# ------------------------------------------------------------------------------------- one call's views


class Views:
    """One call's views of its flat buffers, their addresses, and the ctypes arguments of its calls, each made once.

    A short job's time in this tier is Python's, not arithmetic's: a mini-batch of a small network makes some
    twenty calls of blocks and BLAS, and building their views, addresses and ctypes arguments every time cost
    more than the calls themselves (measured: a 30-epoch digits job spent 0.12 s in address lookups alone).
    Within one call of :func:`train_batches`, :func:`evaluate` or :func:`backprop` the buffers do not move, so
    each view and each argument list is made the first time and looked up after. Every array a cached entry
    refers to is kept alive by the entry, so no ``id`` is reused while the cache holds it.
    """

    __slots__ = ("_calls", "_layout", "_views")

    def __init__(self, layout: Layout) -> None:
        self._layout = layout
        self._views: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]] = {}
        self._calls: dict[tuple[Any, ...], tuple[Callable[..., Any], tuple[Any, ...], tuple[Any, ...]]] = {}

    def _view(self, kind: int, buffer: np.ndarray, l: int, m: int) -> np.ndarray:
        key = (kind, id(buffer), l, m)
        found = self._views.get(key)
        if found is None:
            made = (layer(buffer, self._layout, l, m) if kind == 0 else weights(buffer, self._layout, l) if kind == 1
                    else biases(buffer, self._layout, l))  # fmt: skip
            found = self._views[key] = (made, buffer)
        return found[0]

    def layer(self, buffer: np.ndarray, l: int, m: int) -> np.ndarray:
        """:func:`layer`, made once."""
        return self._view(0, buffer, l, m)

    def weights(self, theta: np.ndarray, l: int) -> np.ndarray:
        """:func:`weights`, made once."""
        return self._view(1, theta, l, 0)

    def biases(self, theta: np.ndarray, l: int) -> np.ndarray:
        """:func:`biases`, made once."""
        return self._view(2, theta, l, 0)

    def pointers(self, arrays: tuple[np.ndarray, ...]) -> tuple[int, ...]:
        """The addresses of ``arrays``, found once."""
        key = (2, *map(id, arrays))
        found = self._calls.get(key)
        if found is None:
            found = self._calls[key] = (_pointer, tuple(map(_pointer, arrays)), arrays)
        return found[1]

    def head(self, buffer: np.ndarray, rows: int) -> np.ndarray:
        """``buffer[:rows]``, made once."""
        key = (3, id(buffer), rows, 0)
        found = self._views.get(key)
        if found is None:
            found = self._views[key] = (buffer[:rows], buffer)
        return found[0]

    def inputs(self, acts: np.ndarray, kept: np.ndarray, drop: np.ndarray, l: int, m: int) -> np.ndarray:
        """:func:`inputs`, made once."""
        return self.layer(kept, l, m) if drops(drop, l) else self.layer(acts, l, m)

    def gemm(self, a: np.ndarray, trans_a: bool, b: np.ndarray, trans_b: bool, c: np.ndarray, alpha: float,
             beta: float) -> None:  # fmt: skip
        """:func:`gemm`, its ctypes arguments made once."""
        if not jit_enabled():
            gemm(a, trans_a, b, trans_b, c, alpha, beta)
            return
        key = (0, id(a), trans_a, id(b), trans_b, id(c), alpha, beta)
        found = self._calls.get(key)
        if found is None:
            function, arguments, kept = _gemm_call(a, trans_a, b, trans_b, c, alpha, beta)
            found = self._calls[key] = (function, arguments, (a, b, c, kept))
        found[0](*found[1])

    def call_layer(self, address: Any, p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, p3: np.ndarray, rows: int,
                   cols: int) -> int:  # fmt: skip
        """:func:`_call_layer`, its arguments made once."""
        if not jit_enabled():
            return _call_layer(address, p0, p1, p2, p3, rows, cols)
        key = (1, int(address), id(p0), id(p1), id(p2), id(p3), rows, cols)
        found = self._calls.get(key)
        if found is None:
            arguments = (_pointer(p0), _pointer(p1), _pointer(p2), _pointer(p3), rows, cols)
            found = self._calls[key] = (_layer_function(int(address)), arguments, (p0, p1, p2, p3))
        return int(found[0](*found[1]))


# ---------------------------------------------------------------------------------------------- the kernels


def layer(buffer: np.ndarray, layout: Layout, l: int, m: int) -> np.ndarray:
    start = m * int(layout.units[l])
    view: np.ndarray = buffer[start : start + m * int(layout.sizes[l])].reshape(m, int(layout.sizes[l]))
    return view


def weights(theta: np.ndarray, layout: Layout, l: int) -> np.ndarray:
    rows, cols = int(layout.sizes[l]), int(layout.sizes[l - 1])
    start = int(layout.w_off[l])
    view: np.ndarray = theta[start : start + rows * cols].reshape(rows, cols)
    return view


def biases(theta: np.ndarray, layout: Layout, l: int) -> np.ndarray:
    start = int(layout.b_off[l])
    view: np.ndarray = theta[start : start + int(layout.sizes[l])]
    return view


def column_sums(delta: np.ndarray) -> np.ndarray:
    """Σ_i delta[i, j] in float64, the rows added in order from 0.0, exactly as the engine's
    :func:`~bpframe.kernels.equations.column_sums` loop adds them.

    NumPy's sum over axis 0 of a C-contiguous array adds row after row, except for a single float64
    column, which it sums pairwise: that case takes the running sum (a sequential accumulation) instead. Both
    start from the first row where the loop starts from 0.0, which differs only in the sign of a zero sum:
    adding 0.0 settles it (measured equal to the loop on 3,000 random shapes and both dtypes).
    """
    if delta.shape[1] == 1 and delta.shape[0] > 1:
        running: np.ndarray = np.cumsum(delta[:, 0], dtype=np.float64)[-1:] + 0.0
        return running
    sums: np.ndarray = delta.sum(axis=0, dtype=np.float64) + 0.0
    return sums


def count_correct(a: np.ndarray, y: np.ndarray) -> int:
    """The engine's :func:`~bpframe.kernels.metrics.count_correct`, NaN handled as its loop handles it."""
    if a.shape[1] == 1:
        return int(np.count_nonzero((a[:, 0] > 0.5) == (y[:, 0] > 0.5)))
    return int(np.count_nonzero(_first_max(a) == _first_max(y)))


def _first_max(a: np.ndarray) -> np.ndarray:
    """The index the loop ``if a[i, j] > a[i, best]: best = j`` ends with: NaN is never chosen, and a NaN in
    column 0 keeps 0."""
    nan = np.isnan(a)
    if not nan.any():
        first: np.ndarray = np.argmax(a, axis=1)  # NumPy's argmax also keeps the first of equal maxima
        return first
    best: np.ndarray = np.argmax(np.where(nan, -np.inf, a), axis=1)
    best[nan[:, 0]] = 0
    return best


def drops(drop: np.ndarray, l: int) -> bool:
    return bool(drop.shape[0] > l and drop[l] > 0.0)


_NONE = np.empty(0, np.float64)


def forward(v: Views, theta: np.ndarray, layout: Layout, zs: np.ndarray, acts: np.ndarray, m: int, product: Any,
            drop: np.ndarray = _NONE, key: int = 0, step: int = 0, masks: np.ndarray = _NONE,
            kept: np.ndarray = _NONE) -> int:  # fmt: skip
    for l in range(1, len(layout.sizes)):
        z, a, a_prev = v.layer(zs, l, m), v.layer(acts, l, m), v.inputs(acts, kept, drop, l - 1, m)
        w = v.weights(theta, l)
        if product != 0 and small_product(m, a_prev.shape[1]):
            _call_product(product, a_prev, w, z)
        else:
            v.gemm(a_prev, False, w, True, z, 1.0, 0.0)
        if v.call_layer(layout.forward[l], z, v.biases(theta, l), a, a, m, z.shape[1]) != OK:
            return l
        if drops(drop, l):
            start, size = m * int(layout.units[l]), m * int(layout.sizes[l])
            dropout.draw_mask(masks[start : start + size], key, step, l, float(drop[l]))
            dropout.apply_mask(acts[start : start + size], masks[start : start + size], kept[start : start + size])
    return 0


def _failed(status: np.ndarray, l: int, role: int) -> bool:
    status[OUTCOME], status[LAYER], status[ROLE] = FAILED_PLUGIN, l, role
    return False


def errors(v: Views, theta: np.ndarray, layout: Layout, zs: np.ndarray, acts: np.ndarray, deltas: np.ndarray,
           y: np.ndarray, m: int, work: np.ndarray, status: np.ndarray, drop: np.ndarray = _NONE,
           masks: np.ndarray = _NONE) -> bool:  # fmt: skip
    L = len(layout.sizes) - 1
    z, a, delta = v.layer(zs, L, m), v.layer(acts, L, m), v.layer(deltas, L, m)
    n = z.shape[1]
    if layout.output_error != 0:
        if v.call_layer(layout.output_error, z, a, y, delta, m, n) != OK:
            return _failed(status, L, OUTPUT_ERROR_ROLE)
    else:
        nabla = v.head(work, m * n)
        if (v.call_layer(layout.nabla, a, y, nabla, nabla, m, n) != OK
                or v.call_layer(layout.output, z, a, delta, nabla, m, n) != OK):  # fmt: skip
            return _failed(status, L, NABLA_ROLE)
    for l in range(L - 1, 0, -1):
        z, a, delta = v.layer(zs, l, m), v.layer(acts, l, m), v.layer(deltas, l, m)
        v.gemm(v.layer(deltas, l + 1, m), False, v.weights(theta, l + 1), False, delta, 1.0, 0.0)
        if drops(drop, l):
            np.multiply(delta, v.layer(masks, l, m), out=delta)
        if v.call_layer(layout.backward[l], z, a, delta, work, m, z.shape[1]) != OK:
            return _failed(status, l, BACKWARD_ROLE)
    return True


def _gradient(v: Views, layout: Layout, acts: np.ndarray, deltas: np.ndarray, grad: np.ndarray, m: int,
              kept: np.ndarray = _NONE, drop: np.ndarray = _NONE) -> None:  # fmt: skip
    dtype = grad.dtype.type
    for l in range(1, len(layout.sizes)):
        delta = v.layer(deltas, l, m)
        v.biases(grad, l)[...] = (column_sums(delta) / m).astype(dtype)
        v.gemm(delta, True, v.inputs(acts, kept, drop, l - 1, m), False, v.weights(grad, l), 1.0 / m, 0.0)


def _record_speeds(v: Views, layout: Layout, grad: np.ndarray, speeds: np.ndarray) -> None:
    for l in range(1, len(layout.sizes)):
        speeds[0, l] += dropout.norm(v.biases(grad, l))
        speeds[1, l] += dropout.norm(v.weights(grad, l).reshape(-1))


def step_bound(bound: float, delta_max: float, a_max: float, m: int, step: float, keep: float, limit: float) -> float:
    a_term = max(a_max, 1.0)
    if not m * delta_max * a_term <= limit:
        return math.inf
    new = max(abs(keep), 1.0) * bound + step * delta_max * a_term
    return new if new <= limit else math.inf


def _bound_after_step(layers: list[tuple[np.ndarray, np.ndarray]], theta: np.ndarray, fused: np.ndarray,
                      x_max: float, bound: list[float], limit: float, m: int) -> float | None:  # fmt: skip
    """The engine's guard of the in-place step (``fused_step``'s first loop) over each layer's (δ, inputs): the
    bound on |θ| after the step, or None when no bound under ``limit`` can be proved (``bound[0]`` is measured
    again before giving up)."""
    step, keep = float(fused[2]), max(abs(float(fused[0])), abs(float(fused[1])))
    new = 0.0
    for l, (delta, a_in) in enumerate(layers, 1):
        delta_max = max_abs(delta)
        a_max = x_max if l == 1 else max_abs(a_in)
        after = step_bound(bound[0], delta_max, a_max, m, step, keep, limit)
        if after == math.inf:
            bound[0] = min(bound[0], max_abs(theta))
            after = step_bound(bound[0], delta_max, a_max, m, step, keep, limit)
            if after == math.inf:
                return None
        new = max(new, after)
    return new


def _fused_step(v: Views, theta: np.ndarray, layout: Layout, acts: np.ndarray, kept: np.ndarray, drop: np.ndarray,
                deltas: np.ndarray, m: int, fused: np.ndarray, x_max: float, bound: list[float],
                limit: float) -> bool:  # fmt: skip
    L = len(layout.sizes) - 1
    layers = [(v.layer(deltas, l, m), v.inputs(acts, kept, drop, l - 1, m)) for l in range(1, L + 1)]
    new = _bound_after_step(layers, theta, fused, x_max, bound, limit, m)
    if new is None:
        return False
    step = float(fused[2])
    rate = step / m
    for l in range(1, L + 1):
        delta, w, b = v.layer(deltas, l, m), v.weights(theta, l), v.biases(theta, l)
        sums = column_sums(delta)
        b[...] = (float(fused[1]) * b.astype(np.float64) - rate * sums).astype(b.dtype)
        v.gemm(delta, True, v.inputs(acts, kept, drop, l - 1, m), False, w, -rate, float(fused[0]))
    bound[0] = new
    return True


def _update(t: Training, current: np.ndarray, state_now: np.ndarray, spare: np.ndarray, state_spare: np.ndarray,
            n_weights: int, v: Views | None = None) -> int:  # fmt: skip
    args = (current, t.grad, state_now, spare, state_spare, t.hyper)
    sizes = (current.shape[0], n_weights, t.state.shape[0], int(t.counter[0]) + 1)
    if not jit_enabled():
        return call_block(t.update, (*args, *sizes))
    pointers = v.pointers(args) if v is not None else tuple(_pointer(a) for a in args)
    return int(_update_function(int(t.update))(*pointers, *sizes))


def _quiet(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run with NumPy's floating-point warnings off: the compiled engine does not warn either, and reports
    non-finite values through its status."""

    def quiet(*args: Any) -> Any:
        with np.errstate(all="ignore"):
            return fn(*args)

    quiet.__doc__, quiet.__name__, quiet.__qualname__ = fn.__doc__, fn.__name__, fn.__qualname__
    return quiet


# ------------------------------------------------------------------------------------- one batch size's plan


class _Plan:
    """Every call of one mini-batch of ``m`` rows, prepared once: the views, and each block's and each BLAS call's
    ctypes function with its arguments, for one pair of parameter and state buffers (the two-buffer step swaps
    them, so a call of :func:`train_batches` makes at most two plans a batch size).

    :class:`Views` makes each call's arguments once but still looks them up, one dictionary key built per call;
    with some twenty calls a mini-batch that look-up was most of this tier's time on a small network (measured on
    the first-result job: 146 µs a mini-batch in all). A plan runs the same calls, with the same arguments, in
    the same order, so the numbers are those of :class:`Views` and of the engine, bit for bit. It serves the
    batches without dropout and only with the JIT on (it calls machine code through ctypes).
    """

    __slots__ = ("_kept", "a", "cost", "errors_out", "forward", "grad_weights", "guarded", "hidden", "layers",
                 "n_weights", "total", "update", "xb", "yb")  # fmt: skip

    def __init__(self, v: Views, layout: Layout, t: Training, buffers: tuple[np.ndarray, ...], m: int,
                 current: np.ndarray, spare: np.ndarray, state_now: np.ndarray,
                 state_spare: np.ndarray) -> None:  # fmt: skip
        zs, acts, deltas, ybuf, work, total = buffers
        L = len(layout.sizes) - 1
        kept: list[Any] = []  # what the prepared arguments point at, alive as long as the plan
        self.xb, self.yb, self.total, self.n_weights = v.layer(acts, 0, m), v.head(ybuf, m), total, layout.n_weights
        self.grad_weights = [v.weights(t.grad, l).reshape(-1) for l in range(1, L + 1)]

        def blas(a: np.ndarray, trans_a: bool, b: np.ndarray, trans_b: bool, c: np.ndarray, alpha: float,
                 beta: float) -> tuple[Callable[..., Any], tuple[Any, ...]]:  # fmt: skip
            function, arguments, values = _gemm_call(a, trans_a, b, trans_b, c, alpha, beta)
            kept.append((a, b, c, values))
            return function, arguments

        def block(address: Any, *arrays: np.ndarray, cols: int) -> tuple[Callable[..., int], tuple[Any, ...]]:
            kept.append(arrays)
            return _layer_function(int(address)), (*map(_pointer, arrays), m, cols)

        self.forward = []
        for l in range(1, L + 1):
            z, a, a_prev, w = v.layer(zs, l, m), v.layer(acts, l, m), v.layer(acts, l - 1, m), v.weights(current, l)
            if t.product != 0 and small_product(m, a_prev.shape[1]):
                kept.append((a_prev, w, z))
                product = (_product_function(int(t.product)),
                           (_pointer(a_prev), _pointer(w), _pointer(z), m, a_prev.shape[1], w.shape[0]))  # fmt: skip
            else:
                product = blas(a_prev, False, w, True, z, 1.0, 0.0)
            self.forward.append((*product, *block(layout.forward[l], z, v.biases(current, l), a, a, cols=z.shape[1])))
        self.a = v.layer(acts, L, m)
        n = self.a.shape[1]
        self.cost = block(layout.cost, self.a, self.yb, total, total, cols=n)
        z, delta = v.layer(zs, L, m), v.layer(deltas, L, m)
        if layout.output_error != 0:
            self.errors_out = [(*block(layout.output_error, z, self.a, self.yb, delta, cols=n), OUTPUT_ERROR_ROLE)]
        else:
            nabla = v.head(work, m * n)
            self.errors_out = [(*block(layout.nabla, self.a, self.yb, nabla, nabla, cols=n), NABLA_ROLE),
                           (*block(layout.output, z, self.a, delta, nabla, cols=n), NABLA_ROLE)]  # fmt: skip
        self.hidden = []
        for l in range(L - 1, 0, -1):
            z, a, delta = v.layer(zs, l, m), v.layer(acts, l, m), v.layer(deltas, l, m)
            product = blas(v.layer(deltas, l + 1, m), False, v.weights(current, l + 1), False, delta, 1.0, 0.0)
            self.hidden.append((l, *product, *block(layout.backward[l], z, a, delta, work, cols=z.shape[1])))
        # per layer: δ, its inputs, b, BP3/BP4's in-place step (fused optimizers only), ∂C/∂b, BP4's product into ∂C/∂w
        fused0, rate = float(t.fused[0]), float(t.fused[2]) / m
        self.layers = []
        for l in range(1, L + 1):
            delta, a_in = v.layer(deltas, l, m), v.layer(acts, l - 1, m)
            step = (
                blas(delta, True, a_in, False, v.weights(current, l), -rate, fused0) if not math.isnan(fused0) else None
            )
            gradient = blas(delta, True, a_in, False, v.weights(t.grad, l), 1.0 / m, 0.0)
            self.layers.append((delta, a_in, v.biases(current, l), step, v.biases(t.grad, l), gradient))
        self.guarded = [(delta, a_in) for delta, a_in, *_ in self.layers]
        arrays = (current, t.grad, state_now, spare, state_spare, t.hyper)
        kept.append(arrays)
        self.update = (_update_function(int(t.update)), (*map(_pointer, arrays), current.shape[0], layout.n_weights,
                       t.state.shape[0]))  # fmt: skip
        self._kept = kept

    def forward_pass(self) -> int:
        """:func:`forward`: the first layer whose block failed, or 0."""
        for l, (product, product_args, function, args) in enumerate(self.forward, 1):
            product(*product_args)
            if function(*args) != OK:
                return l
        return 0

    def errors(self, status: np.ndarray) -> bool:
        """:func:`errors`, BP1 and BP2."""
        L = len(self.forward)
        for function, args, role in self.errors_out:
            if function(*args) != OK:
                return _failed(status, L, role)
        for l, product, product_args, function, args in self.hidden:
            product(*product_args)
            if function(*args) != OK:
                return _failed(status, l, BACKWARD_ROLE)
        return True

    def fused_step(self, theta: np.ndarray, fused: np.ndarray, x_max: float, bound: list[float], limit: float,
                   m: int) -> bool:  # fmt: skip
        """:func:`_fused_step`."""
        new = _bound_after_step(self.guarded, theta, fused, x_max, bound, limit, m)
        if new is None:
            return False
        rate, decay = float(fused[2]) / m, float(fused[1])
        for delta, _a_in, b, product, _grad_b, _gradient in self.layers:
            assert product is not None  # a fused step is only tried when the optimizer has one
            sums = column_sums(delta)
            b[...] = (decay * b.astype(np.float64) - rate * sums).astype(b.dtype)
            product[0](*product[1])
        bound[0] = new
        return True

    def gradient(self, m: int) -> None:
        """:func:`_gradient`."""
        for delta, _a_in, _b, _step, grad_b, (product, args) in self.layers:
            grad_b[...] = (column_sums(delta) / m).astype(grad_b.dtype.type)
            product(*args)


def _checked_rows(t: Training, xb: np.ndarray) -> float | None:
    """The bound of batch ``xb``'s inputs for the in-place step: with ``t.check_rows`` its own largest :math:`|x|`
    (None, with ``NONFINITE_INPUT`` in the status, when one is NaN or inf), else ``t.x_max``; as the engine's
    :func:`~bpframe.kernels.equations.gather_checked_batch` measures it, so both tiers take the same steps."""
    if not t.check_rows:
        return t.x_max
    top = max_abs(xb)
    if top == math.inf:
        t.status[OUTCOME] = NONFINITE_INPUT
        return None
    t.x_seen[0] = max(t.x_seen[0], top)
    return top


_STEPPED, _SWAPPED, _STOPPED = range(3)  # what a planned batch did: stepped in place, stepped into the spare, stopped


def _planned_batch(plan: _Plan, t: Training, k: int, m: int, current: np.ndarray, fused: bool, bound: list[float],
                   limit: float) -> int:  # fmt: skip
    """Batch ``k`` of :func:`train_batches` by its plan (the same steps as the loop there)."""
    rows = t.order[k * t.batch_size : k * t.batch_size + m]
    np.take(t.x, rows, axis=0, out=plan.xb)
    np.take(t.y, rows, axis=0, out=plan.yb)
    x_max = _checked_rows(t, plan.xb)
    if x_max is None:
        return _STOPPED
    failed_layer = plan.forward_pass()
    if failed_layer != 0:
        _failed(t.status, failed_layer, FORWARD_ROLE)
        return _STOPPED
    if plan.cost[0](*plan.cost[1]) != OK:
        _failed(t.status, len(plan.forward), COST_ROLE)
        return _STOPPED
    t.costs[k] = plan.total[0] / m
    t.correct[k] = count_correct(plan.a, plan.yb)
    if not math.isfinite(t.costs[k]):
        t.status[OUTCOME] = NONFINITE_COST
        return _STOPPED
    if not plan.errors(t.status):
        return _STOPPED
    record = t.speeds.shape[0] != 0 and k % t.speed_every == 0
    if fused and not record and plan.fused_step(current, t.fused, x_max, bound, limit, m):
        return _STEPPED
    plan.gradient(m)
    if record:
        for l, (_delta, _a_in, _b, _step, grad_b, _gradient) in enumerate(plan.layers, 1):
            t.speeds[0, l] += dropout.norm(grad_b)
            t.speeds[1, l] += dropout.norm(plan.grad_weights[l - 1])
    if t.l1 != 0.0:
        dropout.add_l1(t.grad, current, plan.n_weights, t.l1)
    outcome = int(plan.update[0](*plan.update[1], int(t.counter[0]) + 1))
    if outcome != OK:
        if outcome == 0:
            _failed(t.status, 0, UPDATE_ROLE)
        else:
            t.status[OUTCOME] = NONFINITE_UPDATE
        return _STOPPED
    return _SWAPPED


@_quiet
def train_batches(layout: Layout, t: Training, first: int, stop: int) -> None:
    """:func:`bpframe.kernels.engine.train_batches`, with NumPy and ctypes."""
    L = len(layout.sizes) - 1
    n, bs = t.order.shape[0], t.batch_size
    m = min(bs, n - first * bs)
    total_units = int(layout.units[-1])
    zs, acts, deltas = (np.empty(m * total_units, t.theta.dtype) for _ in range(3))
    ybuf = np.empty((m, int(layout.sizes[L])), t.y.dtype)
    work = np.empty(max(layout.widest, m * int(layout.sizes[L])), np.float64)
    total = np.empty(1, np.float64)
    limit = 2.0e37 if t.theta.itemsize == 4 else 1.0e307
    fused = not math.isnan(t.fused[0]) and t.l1 == 0.0
    bound = [max_abs(t.theta) if fused else 0.0]
    dropping = bool((t.drop > 0.0).any())
    masks, kept = (np.empty(m * total_units if dropping else 0, t.theta.dtype) for _ in range(2))
    current, spare, state_now, state_spare = t.theta, t.spare, t.state, t.state_spare
    v = Views(layout)
    plans: dict[tuple[int, int], _Plan] | None = {} if jit_enabled() and not dropping else None
    swapped = False
    t.status[OUTCOME] = DONE
    t.status[BATCH] = stop
    for k in range(first, stop):
        t.status[BATCH] = k
        if t.control[0] != 0:
            t.status[OUTCOME] = INTERRUPTED
            break
        start = k * bs
        m = min(bs, n - start)
        if plans is not None:
            plan = plans.get((m, swapped))
            if plan is None:
                plan = plans[(m, swapped)] = _Plan(v, layout, t, (zs, acts, deltas, ybuf, work, total), m, current,
                                                   spare, state_now, state_spare)  # fmt: skip
            outcome = _planned_batch(plan, t, k, m, current, fused, bound, limit)
            if outcome == _STEPPED:
                t.counter[0] += 1
                continue
            if outcome == _STOPPED:
                break
            t.counter[0] += 1
            current, spare = spare, current
            state_now, state_spare = state_spare, state_now
            swapped = not swapped
            bound[0] = max_abs(current) if fused else 0.0
            continue
        xb, yb = v.layer(acts, 0, m), v.head(ybuf, m)
        rows = t.order[start : start + m]
        np.take(t.x, rows, axis=0, out=xb)
        np.take(t.y, rows, axis=0, out=yb)
        x_max = _checked_rows(t, xb)
        if x_max is None:
            break
        failed_layer = forward(
            v, current, layout, zs, acts, m, t.product, t.drop, t.key, int(t.counter[0]), masks, kept
        )
        if failed_layer != 0:
            _failed(t.status, failed_layer, FORWARD_ROLE)
            break
        a = v.layer(acts, L, m)
        if v.call_layer(layout.cost, a, yb, total, total, m, a.shape[1]) != OK:
            _failed(t.status, L, COST_ROLE)
            break
        t.costs[k] = total[0] / m
        t.correct[k] = count_correct(a, yb)
        if not math.isfinite(t.costs[k]):
            t.status[OUTCOME] = NONFINITE_COST
            break
        if not errors(v, current, layout, zs, acts, deltas, yb, m, work, t.status, t.drop, masks):
            break
        record = t.speeds.shape[0] != 0 and k % t.speed_every == 0
        in_place = fused and not record
        if in_place and _fused_step(v, current, layout, acts, kept, t.drop, deltas, m, t.fused, x_max, bound,
                                    limit):  # fmt: skip
            t.counter[0] += 1
            continue
        _gradient(v, layout, acts, deltas, t.grad, m, kept, t.drop)
        if record:
            _record_speeds(v, layout, t.grad, t.speeds)
        if t.l1 != 0.0:
            dropout.add_l1(t.grad, current, layout.n_weights, t.l1)
        outcome = _update(t, current, state_now, spare, state_spare, layout.n_weights, v)
        if outcome != OK:
            if outcome == 0:
                _failed(t.status, 0, UPDATE_ROLE)
            else:
                t.status[OUTCOME] = NONFINITE_UPDATE
            break
        t.counter[0] += 1
        current, spare = spare, current
        state_now, state_spare = state_spare, state_now
        swapped = not swapped
        bound[0] = max_abs(current) if fused else 0.0
    else:
        t.status[BATCH] = stop
    if swapped:
        t.theta[...] = current
        t.state[...] = state_now


@_quiet
def evaluate(theta: np.ndarray, layout: Layout, x: np.ndarray, y: np.ndarray, out: np.ndarray, chunk: int,
             status: np.ndarray) -> tuple[float, int]:  # fmt: skip
    """:func:`bpframe.kernels.engine.evaluate`, with NumPy and ctypes."""
    L = len(layout.sizes) - 1
    n = x.shape[0]
    m = min(chunk, n)
    total_units = int(layout.units[-1])
    zs, acts = np.empty(m * total_units, theta.dtype), np.empty(m * total_units, theta.dtype)
    total = np.empty(1, np.float64)
    cost, correct = 0.0, 0
    status[OUTCOME] = DONE
    v = Views(layout)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        v.layer(acts, 0, m)[...] = x[start : start + m]
        failed_layer = forward(v, theta, layout, zs, acts, m, 0)
        if failed_layer != 0:
            _failed(status, failed_layer, FORWARD_ROLE)
            status[BATCH] = start
            break
        a = v.layer(acts, L, m)
        if y.shape[1] != 0:
            yb = np.ascontiguousarray(y[start : start + m])
            if _call_layer(layout.cost, a, yb, total, total, m, a.shape[1]) != OK:
                _failed(status, L, COST_ROLE)
                status[BATCH] = start
                break
            cost += float(total[0])
            correct += count_correct(a, yb)
        out[start : start + m] = a
    return cost, correct


@_quiet
def backprop(theta: np.ndarray, layout: Layout, zs: np.ndarray, acts: np.ndarray, deltas: np.ndarray, y: np.ndarray,
             grad: np.ndarray, status: np.ndarray, drop: np.ndarray, key: int, step: int, masks: np.ndarray,
             kept: np.ndarray) -> float:  # fmt: skip
    """:func:`bpframe.kernels.engine.backprop`, with NumPy and ctypes."""
    L = len(layout.sizes) - 1
    m = y.shape[0]
    work = np.empty(max(layout.widest, m * int(layout.sizes[L])), np.float64)
    total = np.zeros(1, np.float64)
    status[OUTCOME] = DONE
    v = Views(layout)
    failed_layer = forward(v, theta, layout, zs, acts, m, 0, drop, key, step, masks, kept)
    if failed_layer != 0:
        _failed(status, failed_layer, FORWARD_ROLE)
        return math.nan
    a = v.layer(acts, L, m)
    if v.call_layer(layout.cost, a, y, total, total, m, a.shape[1]) != OK:
        _failed(status, L, COST_ROLE)
        return math.nan
    if not errors(v, theta, layout, zs, acts, deltas, y, m, work, status, drop, masks):
        return math.nan
    _gradient(v, layout, acts, deltas, grad, m, kept, drop)
    return float(total[0])
