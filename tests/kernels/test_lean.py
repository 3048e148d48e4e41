"""Cached blocks linked without numba (bpframe.kernels.lean): the same machine code, and numba wherever in doubt."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from kernel_processes import copy_cache, run, train

from bpframe.kernels import build, cache, lean, store

pytestmark = pytest.mark.jit

NO_NUMBA = "\nimport sys\nRESULT = {'numba': 'numba' in sys.modules, 'numbers': RESULT}\n"


def _relu(z):
    return z if z > 0.0 else 0.0


def _allocating(z):
    return np.zeros(2)[0] + z  # an array inside the function: numba's runtime allocates it


def _fresh(monkeypatch, tmp_path):
    """A fresh cache folder, and no block held by this process or linked by lean."""
    monkeypatch.setenv("BPFRAME_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(build, "_blocks", {})
    monkeypatch.setattr(lean, "_loaded", {})
    monkeypatch.setattr(cache, "_warned", set())


def _file(tmp_path):
    files = list(cache.cache_files(tmp_path))
    assert len(files) == 1
    return files[0]


def _forward(block, rows=7, cols=5, seed=0):
    """z + b and relu(z + b) through the block's C function, on fixed random numbers."""
    rng = np.random.default_rng(seed)
    z, b, a = rng.normal(size=(rows, cols)), rng.normal(size=cols), np.empty((rows, cols))
    status = block.ctypes(z.ctypes.data, b.ctypes.data, a.ctypes.data, a.ctypes.data, rows, cols)
    return status, z, a


def test_the_identity_is_numbas_magic_tuple():
    """The name and identity of a file are computed without numba exactly as numba's JIT computes them."""
    from numba.core.registry import cpu_target

    if lean.host_identity() is None:
        pytest.skip("a NUMBA_* code-generation variable or .numba_config.yaml is set here: numba decides")
    assert lean.host_identity() == repr(cpu_target.target_context.codegen().magic_tuple())


@pytest.mark.jit_pass
def test_a_block_linked_without_numba_runs_the_machine_code_numba_compiled(tmp_path, monkeypatch):
    _fresh(monkeypatch, tmp_path)
    dtype = np.dtype("float64")
    stats = cache.stats()
    compiled = build.block("forward", _relu, dtype, "test")  # compiled by numba, and written
    assert stats.compiled[-1].startswith("block-forward-") and compiled.cached
    monkeypatch.setattr(build, "_blocks", {})
    loaded_before = len(stats.loaded)
    linked = build.block("forward", _relu, dtype, "test")  # linked from the file by lean
    assert stats.loaded[loaded_before:] == [stats.compiled[-1]]
    assert linked.address != compiled.address  # a second copy of the code, in lean's engine
    for seed in range(3):
        first, z1, a1 = _forward(compiled, seed=seed)
        second, z2, a2 = _forward(linked, seed=seed)
        assert first == second == 1
        assert z1.tobytes() == z2.tobytes() and a1.tobytes() == a2.tobytes()
        np.testing.assert_array_equal(a1, np.maximum(z1, 0.0))
    monkeypatch.setattr(build, "_blocks", {})
    assert build.block("forward", _relu, dtype, "test").address == linked.address  # a file is linked once


@pytest.mark.jit_pass
def test_a_symbol_that_cannot_be_resolved_leaves_the_block_to_numba(tmp_path, monkeypatch):
    """Linking code with an unresolved symbol would abort the process: lean checks every symbol first."""
    _fresh(monkeypatch, tmp_path)
    dtype = np.dtype("float64")
    build.block("forward", _relu, dtype, "test")
    path = _file(tmp_path)
    identity, (wrapper, code, needed), serialised = pickle.loads(cache.decode(path.read_bytes()))
    spoiled = (identity, (wrapper, code, (*needed, "bpframe_no_such_symbol")), serialised)
    path.write_bytes(cache.encode(pickle.dumps(spoiled)))
    name, key, label, _ = identity
    assert lean.load(path.parent, name, key, label) is None
    assert path.exists()  # a sound file: only left to numba
    monkeypatch.setattr(build, "_blocks", {})
    stats = cache.stats()
    compiled_before = len(stats.compiled)
    block = build.block("forward", _relu, dtype, "test")  # numba loads the same file
    assert len(stats.compiled) == compiled_before and stats.loaded[-1] == name
    assert _forward(block)[0] == 1


@pytest.mark.jit_pass
def test_a_block_that_allocates_is_left_to_numba(tmp_path, monkeypatch):
    """Code that needs numba's runtime beyond what lean registers is stored without the lean payload."""
    _fresh(monkeypatch, tmp_path)
    block = build.block("forward", _allocating, np.dtype("float64"), "test")
    path = _file(tmp_path)
    identity, linkable, _ = pickle.loads(cache.decode(path.read_bytes()))
    assert linkable is None
    name, key, label, _ = identity
    assert lean.load(path.parent, name, key, label) is None and path.exists()
    status, z, a = _forward(block)
    assert status == 1 and a.tobytes() == z.tobytes()


@pytest.mark.jit_pass
def test_a_damaged_file_met_by_lean_is_removed_with_one_warning(tmp_path, monkeypatch):
    _fresh(monkeypatch, tmp_path)
    build.block("forward", _relu, np.dtype("float64"), "test")
    path = _file(tmp_path)
    identity = pickle.loads(cache.decode(path.read_bytes()))[0]
    path.write_bytes(path.read_bytes()[:-100])  # truncated
    with pytest.warns(UserWarning, match="bpframe removed a damaged kernel cache file"):
        assert lean.load(path.parent, *identity[:3]) is None
    assert not path.exists() and str(path) in cache.stats().removed


@pytest.mark.jit_pass
def test_a_result_loaded_from_one_folder_is_stored_in_another_as_the_same_file(tmp_path, monkeypatch):
    """numba keeps no object code of what it loaded, so ``store`` writes the file it was loaded from."""
    from numba.core import sigutils
    from numba.core.registry import cpu_target

    from bpframe.kernels.abi import SIGNATURES

    _fresh(monkeypatch, tmp_path / "a")
    build.block("forward", _relu, np.dtype("float64"), "test")
    source = _file(tmp_path / "a")
    name, key, label, _ = pickle.loads(cache.decode(source.read_bytes()))[0]
    sig = sigutils.normalize_signature(SIGNATURES[label])
    loaded = store.KernelCache(source.parent, name, key, label).load_overload(sig, cpu_target.target_context)
    assert loaded is not None
    with pytest.raises(RuntimeError, match="no compiled object"):
        loaded.library.serialize_using_object_code()
    target = store.KernelCache(tmp_path / "b", name, key, label)
    assert target.store(sig, loaded) and not target.store(sig, loaded)  # written once
    assert _file(tmp_path / "b").read_bytes() == source.read_bytes()


def test_a_warm_job_in_the_numpy_tier_imports_no_numba_and_gets_the_same_numbers(tmp_path):
    folder = tmp_path / "cache"
    code = train([6, 5, 3], ["relu", "softmax"]) + NO_NUMBA
    first = run(code, folder)  # every cache empty: compiles the blocks (NumPy tier: no engine on disk)
    assert first["result"]["numba"] and first["compiled"] and not first["loaded"]
    again = run(code, folder)
    assert again["result"] == {"numba": False, "numbers": first["result"]["numbers"]}
    assert not again["compiled"] and sorted(again["loaded"]) == sorted(first["compiled"])


def test_with_the_engine_on_disk_a_short_job_stays_in_the_numpy_tier_without_numba(tmp_path, engine_on_disk):
    """Loading the cached engine costs a fresh process about 0.35 s (numba's import included): a job whose NumPy
    tier costs less than that beyond the engine trains there, with its blocks linked by lean."""
    folder = copy_cache(engine_on_disk, tmp_path)
    code = train([6, 5, 3], ["tanh", "softmax"]) + NO_NUMBA + "RESULT['tiers'] = sorted(net._model.program.tiers)\n"
    short = run(code, folder)
    assert short["result"]["numba"] is False and short["result"]["tiers"] == ["numpy"]
    assert not short["compiled"] and not any(name.startswith("engine-") for name in short["loaded"])
    # the same job when loading is cheaper than its NumPy tier: the engine is loaded, and gives the same numbers
    cheap = "import bpframe.kernels.program as _program\n_program.LOAD_SECONDS = 0.0\n"
    loaded = run(cheap + code, folder)
    assert loaded["result"]["numba"] is True and loaded["result"]["tiers"] == ["compiled"]
    assert not loaded["compiled"] and "engine-train_batches" in loaded["loaded"]
    assert loaded["result"]["numbers"] == short["result"]["numbers"]


def test_numbas_jit_switch_is_read_without_importing_numba():
    code = "import sys\nfrom bpframe.kernels import lean\nprint(lean.jit_enabled(), 'numba' in sys.modules)"
    for value, expected in (("1", "False False"), ("0", "True False")):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**os.environ, "NUMBA_DISABLE_JIT": value})  # fmt: skip
        assert done.stdout.split() == expected.split()


@pytest.mark.jit_pass
def test_a_numba_code_generation_setting_leaves_every_file_to_numba(monkeypatch):
    monkeypatch.setattr(lean, "_state", {})
    monkeypatch.setenv("NUMBA_CPU_NAME", "generic")
    assert lean.host_identity() is None


REFUSING = """
def calm(z):
    return z


def calm_prime(z):
    return 1.0


def prime_refusing_negatives(z):
    if z < 0.0:
        raise ValueError("sigma_prime refuses negative z")
    return 1.0
"""

RAISES = """
import sys
import numpy as np
import bpframe as bp
import refusing
linked_before = 'numba' in sys.modules
net = bp.Network([2, 2, 1], [bp.Activation("refusing_prime", refusing.calm, refusing.prime_refusing_negatives),
                             bp.Activation("calm_identity", refusing.calm, refusing.calm_prime)], "quadratic", seed=0)
net.weights[1] = [[1.0, 0.0], [0.0, 1.0]]
before = net.parameters()
try:
    net.fit(np.array([[0.5, -1.0], [1.0, 2.0]]), [[0.0], [1.0]], epochs=1, batch_size=2, verbose=0)
    message = None
except bp.PluginError as exc:
    message = str(exc)
from bpframe.kernels import lean
RESULT = {"message": message, "unchanged": bool((net.parameters() == before).all()), "numba": linked_before,
          "linked": len(lean._loaded)}
"""


def test_a_plugin_function_raising_inside_a_linked_block_is_reported_as_through_numba(tmp_path):
    """Raising from compiled code calls numba's C helpers, which lean registers: the exception reaches the fit
    as a PluginError naming the plugin, exactly as when numba loaded the block."""
    (tmp_path / "refusing.py").write_text(REFUSING)
    folder = tmp_path / "cache"
    first = run(RAISES, folder, cwd=tmp_path)  # compiles and writes the blocks
    again = run(RAISES, folder, cwd=tmp_path)  # links them without numba
    assert first["compiled"] and not again["compiled"] and again["result"]["numba"] is False
    assert again["result"]["linked"] == len(again["loaded"]) > 0  # every block linked by lean
    assert again["result"] == {**first["result"], "numba": False, "linked": len(again["loaded"])}
    message = again["result"]["message"]
    assert "activation 'refusing_prime' (defined in user code, not registered): its sigma_prime" in message
    assert "raised ValueError: sigma_prime refuses negative z" in message and again["result"]["unchanged"]
