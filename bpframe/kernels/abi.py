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

__all__ = ["FAILED", "NONFINITE", "OK", "SIGNATURES", "borrow", "call_block", "view"]

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


@intrinsic
def _borrow(typingctx: Any, buffer: Any, start: Any, rows: Any, cols: Any) -> Any:
    """The ``(rows, cols)`` C-contiguous view of ``buffer[start : start + rows * cols]`` (a 1-D C-contiguous
    array), holding no reference to ``buffer``: numba's own views of a slice count references with atomic
    instructions and reshape through a C call, which the engine paid for every view of every mini-batch."""
    if not (isinstance(buffer, types.Array) and buffer.ndim == 1 and buffer.layout == "C"):
        return None
    if not all(isinstance(ty, types.Integer) for ty in (start, rows, cols)):
        return None
    signature = buffer.copy(ndim=2, layout="C")(buffer, start, rows, cols)

    def codegen(context: Any, builder: Any, sig: Any, llargs: Any) -> Any:
        from numba.core import cgutils
        from numba.np.arrayobj import populate_array

        source = context.make_array(sig.args[0])(context, builder, llargs[0])
        first, n_rows, n_cols = (context.cast(builder, value, ty, types.intp)
                                 for value, ty in zip(llargs[1:], sig.args[1:], strict=True))  # fmt: skip
        element = context.get_data_type(sig.args[0].dtype)
        itemsize = context.get_constant(types.intp, context.get_abi_sizeof(element))
        pack = cgutils.pack_array
        shape = pack(builder, [n_rows, n_cols])  # type: ignore[no-untyped-call]
        strides = pack(builder, [builder.mul(n_cols, itemsize), itemsize])  # type: ignore[no-untyped-call]
        view = context.make_array(sig.return_type)(context, builder)
        data = builder.gep(source.data, [first])
        populate_array(view, data=data, shape=shape, strides=strides, itemsize=itemsize,  # type: ignore[no-untyped-call]
                       meminfo=None)  # fmt: skip
        return view._getvalue()

    return signature, codegen


def _borrow_nojit(buffer: np.ndarray, start: int, rows: int, cols: int) -> np.ndarray:
    """Without the compiler: the same entries as a NumPy view."""
    return buffer[start : start + rows * cols].reshape((rows, cols))


#: ``borrow(buffer, start, rows, cols)``: a ``(rows, cols)`` view of a flat buffer's entries from ``start``, for
#: the engine's views of its flat batch buffers and parameters, which live as long as the call that makes them.
borrow: Callable[..., Any] = _borrow_nojit if config.DISABLE_JIT else _borrow  # type: ignore[attr-defined]
