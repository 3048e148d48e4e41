r"""A general matrix product with scale factors, for the kernels: :math:`C \leftarrow \alpha\,op(A)\,op(B) + \beta C`.

numba's ``np.dot(a, b, out)`` calls BLAS's ``gemm`` with :math:`\alpha = 1, \beta = 0`. The in-place SGD step
(:func:`bpframe.kernels.equations.bp3_bp4_sgd_in_place`) needs the other two arguments:
:math:`w \leftarrow (1 - \eta\lambda')\,w - \tfrac{\eta}{n}\,\delta^\mathsf{T} a` is one ``gemm`` with
:math:`\alpha = -\eta/n` and :math:`\beta = 1 - \eta\lambda'`, which writes the new weights without ever
storing :math:`\partial C/\partial w` or reading the weights a second time.

:func:`gemm` calls the same BLAS as ``np.dot`` (SciPy's, through numba's ``numba_xxgemm`` helper, which
finds it when first called), so a kernel that uses it can be cached on disk like any other. Under
``NUMBA_DISABLE_JIT=1`` it is computed with NumPy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from numba import config, njit, types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["gemm"]


@intrinsic
def _xxgemm(
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
    """Column-major BLAS ``?gemm`` on the data of three C-contiguous arrays of one float dtype."""
    from numba.np import linalg

    arrays = (a, b, c)
    if not all(isinstance(x, types.Array) and x.layout == "C" for x in arrays):
        return None
    if c.dtype not in (types.float32, types.float64) or a.dtype != c.dtype or b.dtype != c.dtype:
        return None
    linalg.ensure_blas()
    signature = types.void(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        from llvmlite import ir

        char, void_p = ir.IntType(8), ir.IntType(8).as_pointer()
        intp = context.get_value_type(types.intp)
        function_type = ir.FunctionType(
            ir.IntType(32),
            [char, char, char, intp, intp, intp, void_p, void_p, intp, void_p, intp, void_p, void_p, intp],
        )
        function = cgutils.get_or_insert_function(builder.module, function_type, "numba_xxgemm")
        dtype = sig.args[11].dtype

        def integer(i: int) -> Any:
            return context.cast(builder, args[i], sig.args[i], types.intp)

        def transpose(i: int) -> Any:
            flag = context.cast(builder, args[i], sig.args[i], types.boolean)
            return builder.select(flag, ir.Constant(char, ord("t")), ir.Constant(char, ord("n")))

        def scalar(i: int) -> Any:
            slot = cgutils.alloca_once_value(builder, context.cast(builder, args[i], sig.args[i], dtype))
            return builder.bitcast(slot, void_p)

        def data(i: int) -> Any:
            return builder.bitcast(context.make_array(sig.args[i])(context, builder, args[i]).data, void_p)

        kind = ir.Constant(char, ord(linalg.get_blas_kind(dtype)))
        status = builder.call(
            function,
            [
                kind, transpose(0), transpose(1), integer(2), integer(3), integer(4), scalar(5), data(6),
                integer(7), data(8), integer(9), scalar(10), data(11), integer(12),
            ],
        )  # fmt: skip
        linalg.check_blas_return(context, builder, status)
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
    _xxgemm(trans_b, trans_a, n, m, k, alpha, b, ldb, a, lda, beta, c, ldc)  # type: ignore[call-arg]


#: ``gemm(a, trans_a, b, trans_b, c, alpha, beta)``: ``c = alpha * op(a) @ op(b) + beta * c`` for C-contiguous
#: 2-D arrays of one float dtype, ``op`` transposing when its flag is True. The shapes must agree (not checked:
#: the engine's own buffers always do).
gemm: Callable[..., None] = _gemm_nojit if config.DISABLE_JIT else _gemm_jit  # type: ignore[attr-defined]
