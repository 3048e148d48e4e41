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
BLAS cannot be found, SciPy's (the one numba's ``np.dot`` uses) is taken instead: :func:`flavour` names the one in
use, and it is part of the kernel cache key. SciPy is a dependency only where NumPy's wheels may not export
their BLAS (not on Linux); without either, the first product raises a :class:`~bpframe.errors.KernelError` that
says what was looked for and how to install SciPy. Under ``NUMBA_DISABLE_JIT=1`` the product is computed with
NumPy.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
from numba import config, njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from ..errors import KernelError

__all__ = ["CANDIDATES", "SYMBOLS", "Blas", "blas", "flavour", "gemm"]

#: Where to look for ``?gemm`` in NumPy's BLAS: (symbol prefix, symbol suffix, bytes of an integer argument).
CANDIDATES = (("scipy_", "_64_", 8), ("", "_64_", 8), ("", "64_", 8), ("scipy_", "_", 4), ("", "_", 4))

#: The LLVM symbols compiled code calls, by kind of float: one name per integer width, so that code compiled
#: for one BLAS can never be linked against the other.
SYMBOLS = {("s", 8): "bpframe_sgemm_i64", ("d", 8): "bpframe_dgemm_i64",
           ("s", 4): "bpframe_sgemm_i32", ("d", 4): "bpframe_dgemm_i32"}  # fmt: skip


class Blas:
    """The BLAS ``sgemm`` and ``dgemm`` functions in use, and how they take integers."""

    def __init__(self, sgemm: int, dgemm: int, int_bytes: int, name: str) -> None:
        self.sgemm, self.dgemm, self.int_bytes, self.name = sgemm, dgemm, int_bytes, name

    def address(self, kind: str) -> int:
        """The address of ``sgemm`` (kind "s") or ``dgemm`` ("d")."""
        return self.sgemm if kind == "s" else self.dgemm


def _numpy_blas() -> Blas | None:
    """NumPy's own ``gemm``, found through the symbols its extension module links."""
    core = getattr(np, "_core", None) or np.core
    try:
        library = ctypes.CDLL(core._multiarray_umath.__file__)
    except OSError:
        return None
    for prefix, suffix, int_bytes in CANDIDATES:
        try:
            sgemm, dgemm = getattr(library, f"{prefix}sgemm{suffix}"), getattr(library, f"{prefix}dgemm{suffix}")
        except AttributeError:
            continue
        addresses = [ctypes.cast(f, ctypes.c_void_p).value or 0 for f in (sgemm, dgemm)]
        return Blas(addresses[0], addresses[1], int_bytes, f"numpy {prefix}?gemm{suffix}")
    return None


def _scipy_blas() -> Blas:
    """SciPy's ``gemm`` (32-bit integers), from the capsules of ``scipy.linalg.cython_blas``."""
    try:
        from scipy.linalg import cython_blas
    except ImportError as exc:
        core = getattr(np, "_core", None) or np.core
        names = ", ".join(f"{prefix}sgemm{suffix}" for prefix, suffix, _ in CANDIDATES)
        raise KernelError(
            f"bpframe found no BLAS for its matrix products: NumPy's extension module "
            f"{core._multiarray_umath.__file__} exports none of {names} (NumPy {np.__version__}), and SciPy, whose "
            f"BLAS bpframe uses instead, cannot be imported ({exc}). Install SciPy: pip install scipy"
        ) from exc

    pointer = ctypes.pythonapi.PyCapsule_GetPointer
    pointer.restype, pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    capsules = cython_blas.__pyx_capi__
    name = ctypes.pythonapi.PyCapsule_GetName
    name.restype, name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    sgemm, dgemm = (pointer(capsules[f], name(capsules[f])) for f in ("sgemm", "dgemm"))
    return Blas(int(sgemm), int(dgemm), 4, "scipy cython_blas")


@cache
def blas() -> Blas:
    """The BLAS in use (found once per process) with its functions registered under ``SYMBOLS``."""
    found = _numpy_blas() or _scipy_blas()
    if not config.DISABLE_JIT:  # type: ignore[attr-defined]
        import llvmlite.binding as llvm

        for kind in "sd":
            llvm.add_symbol(SYMBOLS[kind, found.int_bytes], found.address(kind))
    return found


def flavour() -> str:
    """Which BLAS compiled code calls, e.g. ``"numpy scipy_?gemm_64_"``; part of the kernel cache key."""
    return blas().name


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
