r"""A general matrix product with scale factors, for the kernels: :math:`C \leftarrow \alpha\,op(A)\,op(B) + \beta C`.

The in-place step (:func:`bpframe.kernels.equations.bp3_bp4_step_in_place`) needs both scale factors:
:math:`w \leftarrow k\,w - \tfrac{s}{m}\,\delta^\mathsf{T} a` is one ``gemm`` with :math:`\alpha = -s/m` and
:math:`\beta = k`, which writes the new weights without storing :math:`\partial C/\partial w` or reading the
weights a second time.

Which BLAS: the one NumPy itself links (NumPy's wheels bundle an OpenBLAS whose ``gemm`` is exported as
``scipy_sgemm_64_``, 64-bit integers; other builds export ``sgemm_``, and so on: ``CANDIDATES``). Its address is
registered with LLVM under a fixed symbol name (``SYMBOLS``), so compiled code that calls it can be cached on
disk and linked again in the next process; the NumPy tier calls the very same function through ctypes, so both
tiers get the same bits. Using NumPy's BLAS means a warm start imports no SciPy (measured 0.09 s). Where NumPy's
BLAS cannot be found, SciPy's (the one numba's ``np.dot`` uses) is taken instead:
:func:`~bpframe.kernels.blaslib.flavour` names the one in
use, and it is part of the kernel cache key. SciPy is a dependency only where NumPy's wheels may not export
their BLAS (not on Linux); without either, the first product raises a :class:`~bpframe.errors.KernelError` that
says what was looked for and how to install SciPy. Under ``NUMBA_DISABLE_JIT=1`` the product is computed with
NumPy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from numba import config, njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .blaslib import CANDIDATES, SYMBOLS, Blas, blas, flavour

__all__ = ["CANDIDATES", "SYMBOLS", "Blas", "blas", "flavour", "gemm"]


@intrinsic
def _gemm_call(
    typingctx: Any,
    trans_a: Any,
    trans_b: Any,
    m: Any,
    n: Any,
    k: Any,
    alpha: Any,
    a: Any,
    lda: Any,
    b: Any,
    ldb: Any,
    beta: Any,
    c: Any,
    ldc: Any,
) -> Any:
    """Column-major BLAS ``?gemm`` (Fortran interface: every argument by pointer) on the data of three
    C-contiguous arrays of one float dtype."""
    arrays = (a, b, c)
    if not all(isinstance(x, types.Array) and x.layout == "C" for x in arrays):
        return None
    if c.dtype not in (types.float32, types.float64) or a.dtype != c.dtype or b.dtype != c.dtype:
        return None
    found = blas()  # registers the symbols before any code that calls them is linked
    symbol = SYMBOLS["s" if c.dtype == types.float32 else "d", found.int_bytes]
    signature = types.void(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        from llvmlite import ir

        byte_pointer = ir.IntType(8).as_pointer()
        integer_type = ir.IntType(8 * found.int_bytes)
        function_type = ir.FunctionType(ir.VoidType(), [byte_pointer] * 13)
        function = cgutils.get_or_insert_function(builder.module, function_type, symbol)
        dtype = sig.args[11].dtype

        def on_stack(value: Any) -> Any:
            return builder.bitcast(cgutils.alloca_once_value(builder, value), byte_pointer)

        def integer(i: int) -> Any:
            value = context.cast(builder, args[i], sig.args[i], types.int64)
            return on_stack(builder.trunc(value, integer_type) if found.int_bytes == 4 else value)

        def transpose(i: int) -> Any:
            flag = context.cast(builder, args[i], sig.args[i], types.boolean)
            char = ir.IntType(8)
            return on_stack(builder.select(flag, ir.Constant(char, ord("T")), ir.Constant(char, ord("N"))))

        def scalar(i: int) -> Any:
            return on_stack(context.cast(builder, args[i], sig.args[i], dtype))

        def data(i: int) -> Any:
            return builder.bitcast(context.make_array(sig.args[i])(context, builder, args[i]).data, byte_pointer)

        builder.call(
            function,
            [
                transpose(0), transpose(1), integer(2), integer(3), integer(4), scalar(5), data(6), integer(7),
                data(8), integer(9), scalar(10), data(11), integer(12),
            ],
        )  # fmt: skip
        return context.get_dummy_value()

    return signature, codegen


def _gemm_nojit(a: Any, trans_a: bool, b: Any, trans_b: bool, c: Any, alpha: float, beta: float) -> None:
    """NumPy version for ``NUMBA_DISABLE_JIT=1``; like BLAS, ``beta = 0`` ignores what ``c`` held."""
    product = alpha * ((a.T if trans_a else a) @ (b.T if trans_b else b))
    c[...] = product if beta == 0 else product + beta * c


@njit(inline="always")
def _gemm_jit(a, trans_a, b, trans_b, c, alpha, beta):  # pragma: no cover - compiled
    # Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T; a row-major X is column-major X^T.
    k = a.shape[0] if trans_a else a.shape[1]
    n, m, ldb, lda, ldc = c.shape[1], c.shape[0], b.shape[1], a.shape[1], c.shape[1]
    _gemm_call(trans_b, trans_a, n, m, k, alpha, b, ldb, a, lda, beta, c, ldc)  # type: ignore[call-arg]


#: ``gemm(a, trans_a, b, trans_b, c, alpha, beta)``: ``c = alpha * op(a) @ op(b) + beta * c`` for C-contiguous
#: 2-D arrays of one float dtype, ``op`` transposing when its flag is True. The shapes must agree (not checked:
#: the engine's own buffers always do).
gemm: Callable[..., None] = _gemm_nojit if config.DISABLE_JIT else _gemm_jit  # type: ignore[attr-defined]
