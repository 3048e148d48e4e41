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

__all__ = ["CANDIDATES", "SMALL_MATRIX_CORES", "SYMBOLS", "Blas", "blas", "flavour"]

#: Where to look for ``?gemm`` in NumPy's BLAS: (symbol prefix, symbol suffix, bytes of an integer argument).
CANDIDATES = (("scipy_", "_64_", 8), ("", "_64_", 8), ("", "64_", 8), ("scipy_", "_", 4), ("", "_", 4))

#: The LLVM symbols compiled code calls, by kind of float: one name per integer width, so that code compiled
#: for one BLAS can never be linked against the other.
SYMBOLS = {("s", 8): "bpframe_sgemm_i64", ("d", 8): "bpframe_dgemm_i64",
           ("s", 4): "bpframe_sgemm_i32", ("d", 4): "bpframe_dgemm_i32"}  # fmt: skip


#: OpenBLAS cores whose ``gemm`` multiplies small matrices directly, without packing them first (its AVX-512
#: "small matrix" kernels): there BLAS is faster than :mod:`bpframe.kernels.products`' kernel, measured on a
#: 2-core AMD EPYC (Zen 4), which OpenBLAS runs as SkylakeX unless ``OPENBLAS_CORETYPE`` says otherwise: W1's first
#: layer (10 × 784 inputs, 30 neurons) 5.3 against 6.8 µs in float32 and 10.0 against 13.8 µs in float64, where
#: the Haswell kernels took 14.3 and 19.7 µs.
SMALL_MATRIX_CORES = frozenset({"SkylakeX", "Cooperlake", "SapphireRapids"})


class Blas:
    """The BLAS ``sgemm`` and ``dgemm`` functions in use, how they take integers, and OpenBLAS's name for the
    kernels it chose for this CPU (``core``, e.g. ``"Haswell"``; empty when the library does not say)."""

    def __init__(self, sgemm: int, dgemm: int, int_bytes: int, name: str, core: str = "") -> None:
        self.sgemm, self.dgemm, self.int_bytes, self.name, self.core = sgemm, dgemm, int_bytes, name, core

    def address(self, kind: str) -> int:
        """The address of ``sgemm`` (kind "s") or ``dgemm`` ("d")."""
        return self.sgemm if kind == "s" else self.dgemm

    @property
    def small_matrix_kernels(self) -> bool:
        """Whether this BLAS multiplies small matrices without packing them (:data:`SMALL_MATRIX_CORES`): then the
        engine leaves small mini-batches' forward products to it too."""
        return self.core in SMALL_MATRIX_CORES


def _core_name(library: ctypes.CDLL) -> str:
    """OpenBLAS's name for the kernels it runs here (``openblas_get_corename``, under any of the candidates'
    prefixes and suffixes), or ``""``."""
    for prefix, suffix, _ in CANDIDATES:
        try:
            function = getattr(library, f"{prefix}openblas_get_corename{suffix.lstrip('_')}")
        except AttributeError:
            continue
        function.restype, function.argtypes = ctypes.c_char_p, []
        name = function()
        return name.decode("ascii", "replace").strip() if name else ""
    return ""


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
        return Blas(addresses[0], addresses[1], int_bytes, f"numpy {prefix}?gemm{suffix}", _core_name(library))
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
    try:
        core = _core_name(ctypes.CDLL(cython_blas.__file__))
    except OSError:
        core = ""
    return Blas(int(sgemm), int(dgemm), 4, "scipy cython_blas", core)


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
