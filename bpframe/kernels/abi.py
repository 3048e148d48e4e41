"""The C interface between the engine and the *blocks*: compiled loops specialised on one plugin function.

A block applies one plugin's functions to a whole layer (or a whole parameter vector), so the engine calls it
once per layer and mini-batch through a plain function pointer: the call costs nothing measurable, the plugin
function is inlined *inside* the block where it vectorises, and the engine itself never names a plugin
function. That is what lets the engine be compiled once per dtype, whatever the activations, the depth or the
sizes, and a new activation compile only its own block.

Every block has one C signature per kind (``SIGNATURES``); array arguments are data pointers, sizes are
64-bit integers. A block returns ``OK`` when it finished; numba's C wrapper returns 0 instead when the plugin
function raised, and hands the exception to ``sys.unraisablehook`` (see :mod:`bpframe.kernels.runner`).

A block does one thing, so that only what a network uses is compiled. Arguments of the layer blocks:

=============================  ===================================================================================
forward, vector_forward        ``p0`` = z (in: w a, out: + b), ``p1`` = b, ``p2`` = a = σ(z)
backward, vector_backward      ``p0`` = z, ``p1`` = a, ``p2`` = x (in place: x ⊙ σ′(z), or Jᵀx per row),
                               ``p3`` = float64 work of at least ``cols`` entries
output, vector_output          ``p0`` = z, ``p1`` = a, ``p2`` = δ (out), ``p3`` = ∇ₐC in float64:
                               δ = ∇ₐC ⊙ σ′(z) (or Jᵀ∇ₐC), rounded once to the dtype
cost                           ``p0`` = a, ``p1`` = y, ``p2`` = float64[1] receiving Σ c(a, y) over the batch
nabla                          ``p0`` = a, ``p1`` = y, ``p2`` = ∇ₐC in float64
output_error                   ``p0`` = z, ``p1`` = a, ``p2`` = y, ``p3`` = δᴸ (the combined output error)
=============================  ===================================================================================
"""

from __future__ import annotations

import sys
import types as types_module
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import config, types
from numba.extending import intrinsic
from numba.np.numpy_support import carray

from .interface import FAILED, NONFINITE, OK

__all__ = ["FAILED", "NONFINITE", "OK", "SIGNATURES", "call_block", "view"]

_P = types.voidptr
_I = types.int64

#: The C signature of each kind of block (the NumPy tier's ctypes twins: ``interface.C_SIGNATURES``).
SIGNATURES = {
    # p0, p1, p2, p3, rows, cols
    "layer": types.int64(_P, _P, _P, _P, _I, _I),
    # theta, grad, state, theta_out, state_out, hyper (float64), n, n_weights, state rows, step
    "update": types.int64(_P, _P, _P, _P, _P, _P, _I, _I, _I, _I),
    # a_prev (m, k), w (n, k), z (m, n), m, k, n: the small forward product (bpframe.kernels.products)
    "product": types.int64(_P, _P, _P, _I, _I, _I),
}


@intrinsic
def _call_block(typingctx: Any, address: Any, args: Any) -> Any:
    """Call the C function at ``address`` with ``args`` (arrays as data pointers, integers as int64, floats as
    double); return its int64 result."""
    if not isinstance(address, types.Integer) or not isinstance(args, types.BaseTuple):
        return None
    for ty in args:  # type: ignore[attr-defined]  # numba's tuple types are iterable
        if not isinstance(ty, (types.Array, types.Integer, types.Float)):
            return None
    signature = types.int64(address, args)

    def codegen(context: Any, builder: Any, sig: Any, llargs: Any) -> Any:
        from llvmlite import ir

        i64, byte_pointer = ir.IntType(64), ir.IntType(8).as_pointer()
        values, kinds = [], []
        for i, ty in enumerate(sig.args[1]):
            value = builder.extract_value(llargs[1], i)
            if isinstance(ty, types.Array):
                data = context.make_array(ty)(context, builder, value).data
                values.append(builder.bitcast(data, byte_pointer))
                kinds.append(byte_pointer)
            elif isinstance(ty, types.Integer):
                values.append(context.cast(builder, value, ty, types.int64))
                kinds.append(i64)
            else:
                values.append(context.cast(builder, value, ty, types.float64))
                kinds.append(ir.DoubleType())
        function_type = ir.FunctionType(i64, kinds)
        address_value = context.cast(builder, llargs[0], sig.args[0], types.int64)
        function = builder.inttoptr(address_value, function_type.as_pointer())
        return builder.call(function, values)

    return signature, codegen


def _call_block_nojit(address: Any, args: Any) -> int:
    """Without the compiler, ``address`` is the block's Python function itself. An exception it raises is handed
    to ``sys.unraisablehook`` and reported as ``FAILED``, as numba's C wrapper does for a compiled block."""
    try:
        return int(address(*args))
    except Exception as exc:  # noqa: BLE001 - a plugin function may raise anything; the engine reports it
        report = types_module.SimpleNamespace(
            exc_type=type(exc), exc_value=exc, exc_traceback=exc.__traceback__, err_msg=None, object="<numba.nojit>"
        )
        sys.unraisablehook(report)
        return FAILED


#: ``call_block(address, (arg, ...))``: call the block at ``address``; see the module docstring for the arguments.
call_block: Callable[..., int] = _call_block_nojit if config.DISABLE_JIT else _call_block  # type: ignore[attr-defined]


def _view_nojit(pointer: Any, shape: Any, dtype: Any) -> np.ndarray:
    """Without the compiler a block receives the arrays themselves: the first entries, reshaped (as ``carray``
    reads a pointer's first entries), never a copy."""
    array = np.asarray(pointer)
    assert array.dtype == np.dtype(dtype) and array.flags.c_contiguous
    size = int(np.prod(shape))
    view: np.ndarray = array.reshape(-1)[:size].reshape(shape)
    return view


#: ``view(pointer, shape, dtype)``: the C-contiguous array of ``shape`` at a block argument's data pointer.
view: Callable[..., Any] = _view_nojit if config.DISABLE_JIT else carray  # type: ignore[attr-defined]
