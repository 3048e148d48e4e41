"""Which BLAS the kernels call, found without numba: NumPy's own ``gemm`` (or SciPy's), by address.

:mod:`bpframe.kernels.blas` explains the choice; this module only finds the functions and registers them with
LLVM under fixed names (``SYMBOLS``), so that compiled code can call them and cached code can be linked again.
The NumPy tier and the blocks loaded by :mod:`bpframe.kernels.lean` need nothing more, so this module imports
no numba.
"""

from __future__ import annotations

import ctypes
from functools import cache

import numpy as np

from ..errors import KernelError
from .lean import jit_enabled

__all__ = ["CANDIDATES", "SYMBOLS", "Blas", "blas", "flavour"]

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
    if jit_enabled():
        import llvmlite.binding as llvm

        for kind in "sd":
            llvm.add_symbol(SYMBOLS[kind, found.int_bytes], found.address(kind))
    return found


def flavour() -> str:
    """Which BLAS compiled code calls, e.g. ``"numpy scipy_?gemm_64_"``; part of the kernel cache key."""
    return blas().name
