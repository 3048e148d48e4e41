"""The small forward-product kernel: right products for every shape, a row's result independent of the rest of the
batch, used exactly where the rule says, and compiled once per dtype."""

from __future__ import annotations

import numpy as np
import pytest
from kernel_processes import PACKING_BLAS, copy_cache, packing_blas, run

import bpframe as bp
from bpframe.kernels import blaslib, cache, program
from bpframe.kernels.build import jit_enabled, product_block
from bpframe.kernels.interface import SMALL_DEPTH, SMALL_ROWS, small_product


def product(a, w):
    z = np.full((a.shape[0], w.shape[0]), np.nan, a.dtype)
    kernel = product_block(a.dtype)
    if jit_enabled():
        kernel.ctypes(a.ctypes.data, w.ctypes.data, z.ctypes.data, a.shape[0], a.shape[1], w.shape[0])
    else:
        kernel.address(a, w, z, a.shape[0], a.shape[1], w.shape[0])
    return z


@pytest.mark.jit_pass
@pytest.mark.parametrize(("dtype", "tolerance"), [(np.float32, 2e-6), (np.float64, 1e-14)])
@pytest.mark.parametrize("m", [1, 2, 3, 10, 16])
@pytest.mark.parametrize("n", [1, 3, 4, 5, 30])
def test_the_kernel_computes_a_times_w_transposed(dtype, tolerance, m, n):
    rng = np.random.default_rng(m * 100 + n)
    a, w = rng.normal(size=(m, 300)).astype(dtype), rng.normal(size=(n, 300)).astype(dtype)
    exact = a.astype(np.float64) @ w.astype(np.float64).T
    scale = np.abs(a).astype(np.float64) @ np.abs(w).astype(np.float64).T
    z = product(a, w)
    assert np.all(np.abs(z - exact) <= tolerance * scale)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_rows_product_does_not_depend_on_the_other_rows(dtype):
    """Every row gives the same bits alone as inside a batch (whatever its position, odd or even)."""
    rng = np.random.default_rng(3)
    a, w = rng.normal(size=(11, 257)).astype(dtype), rng.normal(size=(7, 257)).astype(dtype)
    whole = product(a, w)
    for i in range(a.shape[0]):
        np.testing.assert_array_equal(product(np.ascontiguousarray(a[i : i + 1]), w)[0], whole[i])
    np.testing.assert_array_equal(product(np.ascontiguousarray(a[3:8]), w), whole[3:8])


def test_the_rule():
    assert small_product(SMALL_ROWS, SMALL_DEPTH) and small_product(1, 784)
    assert not small_product(SMALL_ROWS + 1, 784) and not small_product(10, SMALL_DEPTH - 1)


@pytest.mark.parametrize(
    ("sizes", "batch_size", "used"),
    [([784, 30, 10], 10, True), ([64, 64, 10], 16, False), ([784, 30, 10], 17, False), ([20, 255, 4], 4, False),
     ([20, 300, 400, 4], 4, True)],
)  # fmt: skip
def test_a_network_asks_for_the_kernel_only_where_a_layer_takes_it(sizes, batch_size, used, monkeypatch):
    packing_blas(monkeypatch)
    net = bp.Network(sizes, "sigmoid", "quadratic")
    assert (net.program.forward_product(batch_size) != 0) is used


@pytest.mark.parametrize(("core", "used"), [("SkylakeX", False), ("Cooperlake", False), ("SapphireRapids", False),
                                            ("Haswell", True), ("Zen", True), ("", True)])  # fmt: skip
def test_a_blas_that_multiplies_small_matrices_without_packing_takes_every_product(core, used, monkeypatch):
    """OpenBLAS's AVX-512 cores have small-matrix kernels, faster than bpframe's (measured on this machine's Zen 4,
    :data:`~bpframe.kernels.blaslib.SMALL_MATRIX_CORES`); other cores, and a BLAS that does not name its core,
    pack the operands first, and the kernel is faster there."""
    real = blaslib.blas()
    monkeypatch.setattr(program, "blas", lambda: blaslib.Blas(real.sgemm, real.dgemm, real.int_bytes, real.name, core))
    net = bp.Network([784, 30, 10], "sigmoid", "quadratic")
    assert (net.program.forward_product(10) != 0) is used


def test_the_blas_names_the_kernels_openblas_runs_here():
    """The core's name is OpenBLAS's own, the one threadpoolctl reports for NumPy's OpenBLAS (and which
    ``OPENBLAS_CORETYPE`` sets)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    found = blaslib.blas()
    if not found.name.startswith("numpy"):
        pytest.skip(f"bpframe uses {found.name} here, not NumPy's OpenBLAS")
    numpy_lib = [info for info in threadpoolctl.threadpool_info() if info["internal_api"] == "openblas"
                 and "numpy" in info["filepath"]]  # fmt: skip
    if not numpy_lib:
        pytest.skip("threadpoolctl finds no OpenBLAS of NumPy's")
    assert found.core == numpy_lib[0]["architecture"] != ""


@pytest.mark.jit_pass
@pytest.mark.jit
def test_training_through_the_kernel_learns(monkeypatch):
    """A W1-shaped network on mini-batches of 10 (the kernel's case) learns a teacher's linear rule in 300
    dimensions: measured 92.4 % on held-out samples (91.4 % with mini-batches of 17, through BLAS)."""
    monkeypatch.setenv("BPFRAME_ENGINE", "compiled")
    packing_blas(monkeypatch)
    rng = np.random.default_rng(0)
    X, teacher = rng.normal(size=(2500, 300)), rng.normal(size=300)
    y = (X @ teacher > 0).astype(int)
    net = bp.Network([300, 16, 2], ["sigmoid", "softmax"], "cross_entropy", seed=0)
    assert net.program.forward_product(10) != 0
    net.fit(X[:2000], y[:2000], epochs=10, batch_size=10, eta=0.5, verbose=0)
    assert net.evaluate(X[2000:], y[2000:])["accuracy"] >= 0.9


@pytest.mark.jit
@pytest.mark.slow
def test_the_kernel_compiles_once_per_dtype_and_is_loaded_after(tmp_path, engine_on_disk):
    code = (
        PACKING_BLAS
        + """
import numpy as np
import bpframe as bp
rng = np.random.default_rng(0)
X, y = rng.normal(size=(40, SIZES[0])), rng.integers(0, 3, 40)
net = bp.Network(SIZES, "sigmoid", "quadratic", seed=1)
net.fit(X, y, epochs=1, batch_size=8, eta=0.1, verbose=0)
RESULT = None
"""
    )
    env, cache_dir = {"BPFRAME_ENGINE": "compiled"}, copy_cache(engine_on_disk, tmp_path)
    for kernel in cache._versioned(cache_dir).glob("product-*"):  # the session's cache may hold it already
        kernel.unlink()
    first = run(code.replace("SIZES", "[300, 5, 3]"), cache_dir, env=env)
    assert "product-forward-float64" in first["compiled"]
    later = run(code.replace("SIZES", "[512, 9, 7, 3]"), cache_dir, env=env)
    assert later["compiled"] == [] and "product-forward-float64" in later["loaded"]
