"""Which BLAS the kernels call: NumPy's own, else SciPy's, else a clear error (SciPy is not a dependency on Linux)."""

from __future__ import annotations

import ctypes
import sys

import numpy as np
import pytest

from bpframe.errors import KernelError
from bpframe.kernels import blaslib as blas_module


def test_without_numpys_blas_and_without_scipy_the_error_says_what_was_looked_for_and_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy.linalg", None)  # "import of scipy.linalg halted"
    with pytest.raises(KernelError) as info:
        blas_module._scipy_blas()
    core = getattr(np, "_core", None) or np.core
    assert str(info.value) == (
        "bpframe found no BLAS for its matrix products: NumPy's extension module "
        f"{core._multiarray_umath.__file__} exports none of scipy_sgemm_64_, sgemm_64_, sgemm64_, scipy_sgemm_, "
        f"sgemm_ (NumPy {np.__version__}), and SciPy, whose BLAS bpframe uses instead, cannot be imported "
        "(import of scipy.linalg halted; None in sys.modules). Install SciPy: pip install scipy"
    )
    assert isinstance(info.value.__cause__, ImportError)


def test_scipys_blas_is_found_through_its_capsules_with_32_bit_integers():
    cython_blas = pytest.importorskip("scipy.linalg.cython_blas")
    found = blas_module._scipy_blas()
    pointer = ctypes.pythonapi.PyCapsule_GetPointer
    pointer.restype, pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    name = ctypes.pythonapi.PyCapsule_GetName
    name.restype, name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    capsule = cython_blas.__pyx_capi__["dgemm"]
    assert found.address("d") == pointer(capsule, name(capsule)) != 0
    assert found.address("s") not in (0, found.address("d"))
    assert (found.int_bytes, found.name) == (4, "scipy cython_blas")


def test_on_this_machine_the_kernels_use_numpys_own_blas():
    """NumPy's Linux wheels export their OpenBLAS, so a Linux install needs no SciPy for the kernels."""
    found = blas_module._numpy_blas()
    if sys.platform != "linux" and found is None:
        pytest.skip("NumPy's BLAS is not exported on this platform: SciPy's is used (a dependency here)")
    assert found is not None and found.name.startswith("numpy ")


@pytest.mark.jit_pass
@pytest.mark.jit
def test_a_network_compiles_trains_and_predicts_with_scipy_unimportable():
    """What a Linux install without SciPy does: the blocks compile (numba skips its SciPy BLAS check), the
    NumPy tier and the engine train, and the numbers are the ones this process gets with SciPy importable."""
    import subprocess

    script = (
        "import sys\n"
        "sys.modules['scipy'] = None\n"
        "import numpy as np, bpframe as bp\n"
        "rng = np.random.default_rng(0)\n"
        "X, y = rng.normal(size=(40, 3)), rng.integers(0, 2, 40)\n"
        "net = bp.Network([3, 5, 2], ['tanh', 'softmax'], 'cross_entropy', seed=0)\n"
        "net.fit(X, y, epochs=3, batch_size=8, eta=0.5, verbose=0)\n"
        "print(net.parameters().tobytes().hex())\n"
        "print(sorted(m for m in sys.modules if m.startswith('scipy')))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, check=True)
    theta_hex, modules = done.stdout.splitlines()
    assert modules == "['scipy']"  # only the blocked entry itself
    import bpframe as bp

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 2, 40)
    net = bp.Network([3, 5, 2], ["tanh", "softmax"], "cross_entropy", seed=0)
    net.fit(X, y, epochs=3, batch_size=8, eta=0.5, verbose=0)
    assert theta_hex == net.parameters().tobytes().hex()
