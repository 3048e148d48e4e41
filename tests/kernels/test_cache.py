"""The kernel cache is never stale, survives damaged files and concurrent writers, and compiles only what is new.

Most tests run small programs in fresh processes sharing one cache folder, as users and tox environments do.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kernel_processes import copy_cache, run, train

from bpframe.kernels import cache

KERNELS = Path(cache.__file__).resolve().parent


# -- the key -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("module", sorted(p.name for p in KERNELS.glob("*.py")))
def test_editing_any_kernel_module_changes_the_key(module, tmp_path, monkeypatch):
    """Every file matched by bpframe/kernels/*.py, found by a glob: a comment added to it gives a new key."""
    copy = tmp_path / "kernels"
    shutil.copytree(KERNELS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache, "_KERNELS", copy)
    monkeypatch.setattr(cache, "_kernels_digest", [])
    before = cache.kernels_digest()
    monkeypatch.setattr(cache, "_kernels_digest", [])
    with (copy / module).open("a") as f:
        f.write("\n# an edit\n")
    assert cache.kernels_digest() != before


PLUGIN = {
    "helper.py": "import numba\nSCALE = {scale}\n\n@numba.njit\ndef scale(z):\n    return SCALE * z\n",
    "myact.py": textwrap.dedent(
        """
        import math
        from helper import scale

        def sigma(z):
            return math.tanh(scale(z))

        def sigma_prime(z):
            t = math.tanh(scale(z))
            return (1.0 - t * t) * scale(1.0)
        """
    ),
}
USE_PLUGIN = """
import numpy as np
import bpframe as bp
from myact import sigma, sigma_prime
act = bp.Activation("helped", sigma, sigma_prime)
net = bp.Network([3, 2, 2], [act, "softmax"], "cross_entropy", seed=0)
X = np.array([[0.1, 0.2, 0.3]])
g = net.backprop(X, [1])
RESULT = [float(v) for v in net.feedforward(X).ravel()] + [float(v) for v in g.nabla_w[1].ravel()]
"""


@pytest.mark.jit
@pytest.mark.slow
@pytest.mark.one_python
def test_editing_a_helper_module_of_a_plugin_gives_the_new_numbers(tmp_path):
    """A plugin function calls a numba helper from a second module, which changes (a new release at the same
    version, an edited file): the new process computes with the new helper, activations and gradients alike."""
    plugin, cache_dir = tmp_path / "plugin", tmp_path / "cache"
    plugin.mkdir()
    (plugin / "myact.py").write_text(PLUGIN["myact.py"])
    (plugin / "helper.py").write_text(PLUGIN["helper.py"].format(scale=2.0))
    env = {"PYTHONPATH": os.pathsep.join([str(plugin), os.environ.get("PYTHONPATH", "")])}
    first = run(USE_PLUGIN, cache_dir, env=env)
    again = run(USE_PLUGIN, cache_dir, env=env)
    assert again["result"] == first["result"] and not any("helped" in n or "myact" in n for n in again["compiled"])
    (plugin / "helper.py").write_text(PLUGIN["helper.py"].format(scale=3.0))
    changed = run(USE_PLUGIN, cache_dir, env=env)
    assert changed["result"] != first["result"]
    assert any("myact" in name for name in changed["compiled"])  # compiled anew, not loaded
    fresh = run(USE_PLUGIN, tmp_path / "empty-cache", env=env)
    assert changed["result"] == fresh["result"]  # exactly what an empty cache computes


def _import_written(tmp_path, monkeypatch, sources: dict[str, str], name: str):
    """Write ``sources`` (paths relative to ``tmp_path``) and import the module ``name`` from them, afresh; the
    modules they define leave ``sys.modules`` when the test ends."""
    for file, text in sources.items():
        path = tmp_path / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        module = file.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        monkeypatch.setitem(sys.modules, module, None)  # monkeypatch restores the entry as it was: absent
        del sys.modules[module]
    monkeypatch.syspath_prepend(str(tmp_path))
    return importlib.import_module(name)


@pytest.mark.parametrize("scale", ["2.0", "3.0"])
def test_the_function_digest_covers_helpers_and_frozen_globals(tmp_path, scale, monkeypatch):
    """The digest of a plugin function changes with the source of a helper module it calls and with the
    values of the scalar globals numba freezes into it."""
    uses = "from helper_digest import scale\nOFFSET = 1.5\n\n\ndef f(z):\n    return scale(z) + OFFSET\n"
    sources = {"helper_digest.py": PLUGIN["helper.py"].format(scale=scale), "uses_digest.py": uses}
    uses_digest = _import_written(tmp_path, monkeypatch, sources, "uses_digest")

    digest = cache.function_digest(uses_digest.f)
    monkeypatch.setattr(uses_digest, "OFFSET", 2.5)
    assert cache.function_digest(uses_digest.f) != digest
    (tmp_path / "helper_digest.py").write_text(PLUGIN["helper.py"].format(scale="9.0"))
    monkeypatch.setattr(uses_digest, "OFFSET", 1.5)
    assert cache.function_digest(uses_digest.f) != digest  # the helper's file changed


def test_the_function_digest_follows_what_it_reads_through_a_module(tmp_path, monkeypatch):
    """``pkg.scale(z)``, where the package re-exports ``scale`` from a submodule: numba compiles the submodule's
    function and freezes the submodule's constant, so an edit of the submodule alone is a new digest, and so is a
    constant read as ``pkg.OFFSET``."""
    package = tmp_path / "pkg_digest"
    uses = "import pkg_digest\n\n\ndef f(z):\n    return pkg_digest.scale(z) + pkg_digest.OFFSET\n"
    sources = {
        "pkg_digest/__init__.py": "from ._impl import scale\n\nOFFSET = 1.5\n",
        "pkg_digest/_impl.py": PLUGIN["helper.py"].format(scale="2.0"),
        "uses_pkg_digest.py": uses,
    }
    uses_pkg_digest = _import_written(tmp_path, monkeypatch, sources, "uses_pkg_digest")

    digest = cache.function_digest(uses_pkg_digest.f)
    (package / "_impl.py").write_text(PLUGIN["helper.py"].format(scale="3.0"))  # __init__.py unchanged
    assert cache.function_digest(uses_pkg_digest.f) != digest
    (package / "_impl.py").write_text(PLUGIN["helper.py"].format(scale="2.0"))
    assert cache.function_digest(uses_pkg_digest.f) == digest
    monkeypatch.setattr(sys.modules["pkg_digest"], "OFFSET", 2.5)  # a value set at import time, say
    assert cache.function_digest(uses_pkg_digest.f) != digest


JITCLASS = """
from numba import float64
from numba.experimental import jitclass


@jitclass([("k", float64)])
class Slope:
    def __init__(self, k):
        self.k = k

    def times(self, z):
        return {k} * z
"""


def test_the_function_digest_covers_the_module_of_a_jitclass_it_uses(tmp_path, monkeypatch):
    """A jitclass has no Python code of its own to follow, but numba compiles its methods from its module."""
    uses = "from slope_digest import Slope\n\n\ndef f(z):\n    return Slope(2.0).times(z)\n"
    sources = {"slope_digest.py": JITCLASS.format(k="self.k"), "uses_slope.py": uses}
    uses_slope = _import_written(tmp_path, monkeypatch, sources, "uses_slope")

    digest = cache.function_digest(uses_slope.f)
    (tmp_path / "slope_digest.py").write_text(JITCLASS.format(k="-self.k"))
    assert cache.function_digest(uses_slope.f) != digest


def _leaky(alpha):
    """A factory, as a plugin offering one activation per slope would write it: numba freezes ``alpha``."""

    def sigma(z):
        return z if z > 0.0 else alpha * z

    return sigma


def _default_scale(z, k=2.0):
    return k * z


TABLE = np.array([2.0, 0.5])


def _uses_table(z):
    return TABLE[0] * z + TABLE[1]


def test_the_function_digest_covers_what_a_closure_captured_defaults_and_global_arrays(monkeypatch):
    """numba freezes a closure's captured values, default arguments and global arrays into the code it compiles:
    one source file, one function name, different values are different compiled code, and different digests."""
    digest = cache.function_digest
    assert digest(_leaky(0.1)) == digest(_leaky(0.1)) != digest(_leaky(0.5))
    assert digest(_leaky(np.float32(0.1))) not in (digest(_leaky(0.1)), digest(_leaky(np.float32(0.5))))
    assert digest(_leaky(np.array([0.1]))) != digest(_leaky(np.array([0.5]))) != digest(_leaky((0.5, 1.0)))
    other_default = type(_default_scale)(_default_scale.__code__, _default_scale.__globals__, "_default_scale", (3.0,))
    assert digest(other_default) != digest(_default_scale)
    before = digest(_uses_table)
    monkeypatch.setattr(sys.modules[__name__], "TABLE", np.array([2.0, 0.25]))
    assert digest(_uses_table) != before


LEAKY = """
import sys
import numpy as np
import bpframe as bp
from leaky_factory import make
sigma, sigma_prime = make(ALPHA)
net = bp.Network([2, 3, 2], [bp.Activation("leaky", sigma, sigma_prime), "softmax"], "cross_entropy", seed=0)
X = np.array([[-1.0, -2.0], [0.5, -0.25]])
RESULT = [float(v) for v in net.feedforward(X).ravel()] + [float(v) for v in net.backprop(X, [1, 0]).nabla_w[1].ravel()]
"""
LEAKY_FACTORY = """
def make(alpha):
    def sigma(z):
        return z if z > 0.0 else alpha * z

    def sigma_prime(z):
        return 1.0 if z > 0.0 else alpha + 0.0 * z

    return sigma, sigma_prime
"""


@pytest.mark.jit
@pytest.mark.slow
@pytest.mark.one_python
def test_two_activations_made_by_one_factory_never_share_compiled_code(tmp_path):
    """The same function of the same file, capturing another slope: the second process must not load the first's
    blocks (it did until the key covered captured values: its activations and gradients were the first's)."""
    plugin, cache_dir = tmp_path / "plugin", tmp_path / "cache"
    plugin.mkdir()
    (plugin / "leaky_factory.py").write_text(LEAKY_FACTORY)
    env = {"PYTHONPATH": os.pathsep.join([str(plugin), os.environ.get("PYTHONPATH", "")])}
    gentle = run(LEAKY.replace("ALPHA", "0.1"), cache_dir, env=env)
    steep = run(LEAKY.replace("ALPHA", "0.5"), cache_dir, env=env)
    alone = run(LEAKY.replace("ALPHA", "0.5"), tmp_path / "empty-cache", env=env)
    assert steep["result"] == alone["result"] != gentle["result"]
    assert "block-forward-leaky_factory_make__locals__sigma" in steep["compiled"]


def test_the_function_digest_does_not_depend_on_where_the_files_are_installed(tmp_path, monkeypatch):
    """The same plugin files in two places (two tox environments' site-packages) are the same compiled code: one
    digest, so one cache folder serves both; a different file in the second place is a different digest."""
    uses = "from helper_where import scale\n\n\ndef f(z):\n    return scale(z) + 1.0\n"
    digests = []
    for place, scale in (("one", "2.0"), ("two", "2.0"), ("three", "3.0")):
        folder = tmp_path / place
        folder.mkdir()
        (folder / "helper_where.py").write_text(PLUGIN["helper.py"].format(scale=scale))
        (folder / "uses_where.py").write_text(uses)
        monkeypatch.syspath_prepend(str(folder))
        for name in ("helper_where", "uses_where"):
            sys.modules.pop(name, None)
        import uses_where

        assert Path(uses_where.__file__).parent == folder
        digests.append(cache.function_digest(uses_where.f))
    for name in ("helper_where", "uses_where"):
        sys.modules.pop(name, None)
    assert digests[0] == digests[1] != digests[2]


def test_functions_of_main_or_without_a_source_file_are_not_cached():
    def local(z):
        return z

    local.__module__ = "__main__"
    assert cache.function_digest(local) is None
    assert cache.function_digest(eval("lambda z: z", {"__name__": "not_a_module"})) is None


# -- damaged files -------------------------------------------------------------------------------------------------
@pytest.mark.jit
@pytest.mark.slow
@pytest.mark.one_python
@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "other kernel"])
def test_a_damaged_cache_file_is_removed_and_recompiled_with_one_warning(damage, tmp_path, warm_template):
    cache_dir = copy_cache(warm_template.folder, tmp_path)
    code = train([6, 5, 3], ["tanh", "softmax"])
    good = run(code, cache_dir, env={"BPFRAME_ENGINE": "compiled"})
    assert good["compiled"] == []
    files = sorted(cache.cache_files(cache_dir))
    assert len(files) >= 6  # engine entry points and blocks
    if damage != "truncated":  # the training loop's file is no different in kind, and the slowest to compile
        files = [path for path in files if "engine-train_batches" not in path.name]
    for i, path in enumerate(files):
        data = path.read_bytes()
        if damage == "truncated":
            path.write_bytes(data[: len(data) // 2])
        elif damage == "garbage":
            path.write_bytes(os.urandom(len(data)))
        elif damage == "empty":
            path.write_bytes(b"")
        else:
            path.write_bytes(files[(i + 1) % len(files)].read_bytes())
    after = run(code, cache_dir, env={"BPFRAME_ENGINE": "compiled"})
    assert after["result"] == good["result"]
    assert sorted(after["removed"]) == sorted(map(str, files))
    assert after["stderr"].count("bpframe removed a damaged kernel cache file") == 1
    again = run(code, cache_dir, env={"BPFRAME_ENGINE": "compiled"})
    assert again["compiled"] == [] and again["removed"] == [] and again["result"] == good["result"]


@pytest.mark.jit
def test_a_damaged_block_file_is_replaced_in_process(tmp_path, monkeypatch):
    """The same recovery without a subprocess: a garbled block file is removed, recompiled and written again."""
    import numpy as np

    from bpframe.kernels import build

    monkeypatch.setenv("BPFRAME_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(cache, "_warned", set())
    first = build.block("forward", _erf_activation, np.dtype("float64"), "test")
    files = list(cache.cache_files(tmp_path))
    assert first.cached and len(files) == 1
    files[0].write_bytes(b"bpframe-kernel-cache 2\n" + b"0" * 64 + b"\ngarbage")
    monkeypatch.setattr(build, "_blocks", {})
    stats = cache.stats()
    removed_before, compiled_before = len(stats.removed), len(stats.compiled)
    with pytest.warns(UserWarning, match="bpframe removed a damaged kernel cache file"):
        again = build.block("forward", _erf_activation, np.dtype("float64"), "test")
    assert len(stats.removed) == removed_before + 1 and len(stats.compiled) == compiled_before + 1
    assert cache.decode(files[0].read_bytes())  # written again, sound
    assert again.address != 0


def _erf_activation(z):
    return z * 0.5


def test_decode_refuses_what_it_did_not_write():
    payload = b"some bytes"
    assert cache.decode(cache.encode(payload)) == payload
    for bad in (b"", b"bpframe-kernel-cache 2\n", cache.encode(payload)[:-1], b"x" + cache.encode(payload)[1:]):
        with pytest.raises(ValueError, match=r"not a bpframe kernel cache file|checksum mismatch"):
            cache.decode(bad)


# -- several processes at once -------------------------------------------------------------------------------------
@pytest.mark.jit
@pytest.mark.slow
@pytest.mark.one_python
def test_processes_compiling_into_one_cache_at_once_all_get_correct_results(tmp_path, warm_template):
    cache_dir = tmp_path / "cache"
    code = train([6, 4, 4, 3], ["softplus", "relu", "softmax"])
    program = textwrap.dedent(code) + "\nimport json\nprint(json.dumps(RESULT))\n"
    env = {**os.environ, "BPFRAME_CACHE_DIR": str(cache_dir), "BPFRAME_ENGINE": "compiled"}
    children = [subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, env=env) for _ in range(3)]  # fmt: skip
    results = []
    for child in children:
        out, err = child.communicate(timeout=600)
        assert child.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    alone = copy_cache(warm_template.folder, tmp_path, "alone")  # the engine compiled by one process
    reference = run(code, alone, env={"BPFRAME_ENGINE": "compiled"})["result"]
    assert all(result == reference for result in results)
    after = run(code, cache_dir, env={"BPFRAME_ENGINE": "compiled"})
    assert after["result"] == reference and after["compiled"] == [] and after["removed"] == []


# -- what compiles ---------------------------------------------------------------------------------------------------
@pytest.mark.jit
@pytest.mark.slow
@pytest.mark.one_python
def test_new_sizes_depth_or_layer_order_compile_nothing(tmp_path, warm_template):
    """With the functions and the dtype compiled once, any sizes, depth or order of layers loads everything."""
    cache_dir = copy_cache(warm_template.folder, tmp_path)  # the engine and tanh/softmax, compiled for [6, 5, 3]
    run(train([6, 5, 3], ["relu", "softmax"]), cache_dir, env={"BPFRAME_ENGINE": "compiled"})
    for sizes, acts in [([6, 40, 3], ["tanh", "softmax"]), ([6, 3, 9, 4, 3], ["tanh", "relu", "tanh", "softmax"]),
                        ([6, 9, 7, 3], ["relu", "tanh", "softmax"])]:  # fmt: skip
        later = run(train(sizes, acts), cache_dir, env={"BPFRAME_ENGINE": "compiled"})
        assert later["compiled"] == [], (sizes, acts)
        assert {"engine-train_batches", "engine-evaluate"} <= set(later["loaded"])


@pytest.mark.jit
@pytest.mark.slow
@pytest.mark.one_python
def test_a_new_activation_compiles_only_its_block(tmp_path, warm_template):
    cache_dir = copy_cache(warm_template.folder, tmp_path)  # what a tanh/softmax network compiled
    later = run(train([6, 5, 3], ["softplus", "softmax"]), cache_dir, env={"BPFRAME_ENGINE": "compiled"})
    assert sorted(later["compiled"]) == [  # its forward pass and, as a hidden layer, its derivative for BP2
        "block-backward-bpframe_default_plugins_activations_softplus_prime",
        "block-forward-bpframe_default_plugins_activations_softplus",
    ]


@pytest.mark.jit
@pytest.mark.slow
@pytest.mark.one_python
def test_compiling_does_not_depend_on_depth(tmp_path, warm_template):
    """A 400-layer network compiles exactly what a 2-layer one with the same functions compiles (counted, so
    this holds on any machine; the time follows): both from an empty cache (the 2-layer one is the session's
    warm template), and nothing at all once the 2-layer one's kernels are cached."""
    deep = train([6, *[5] * 399, 3], ["tanh"] * 399 + ["softmax"])
    cold = run(deep, tmp_path / "empty", env={"BPFRAME_ENGINE": "compiled"})
    assert sorted(cold["compiled"]) == sorted(warm_template.compiled)
    warm = run(deep, copy_cache(warm_template.folder, tmp_path), env={"BPFRAME_ENGINE": "compiled"})
    assert warm["compiled"] == []


# -- where it lives, and clearing ------------------------------------------------------------------------------------
@pytest.mark.jit
def test_no_writable_cache_folder_compiles_in_memory_with_one_warning(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out = run(train([6, 5, 3], ["tanh", "softmax"]), blocker / "cache")
    assert out["stderr"].count("bpframe cannot write its kernel cache") == 1
    assert out["result"] == run(train([6, 5, 3], ["tanh", "softmax"]), tmp_path / "ok")["result"]


def test_clear_removes_only_what_bpframe_wrote(tmp_path, monkeypatch):
    monkeypatch.setenv("BPFRAME_CACHE_DIR", str(tmp_path))
    ours = [
        tmp_path / "bpframe-0.2.0" / "numba-0.68.1-py3.11" / "engine-evaluate-00ff.bpk",
        tmp_path / "bpframe-0.2.0" / "numba-0.68.1-py3.11" / ".engine-x-1234.bpk.tmp",
        tmp_path / "bpframe-0.1.0" / "numba-0.68.1" / "py3.11" / "k_0123abcd.py",  # 0.1's generated modules
        tmp_path / "bpframe-0.1.0" / "numba-0.68.1" / "py3.11" / "__pycache__" / "k_0123abcd.f-1.py311.nbi",
    ]
    foreign = [tmp_path / "notes.txt", tmp_path / "bpframe-0.2.0" / "mine.dat", tmp_path / "other" / "x.bpk.txt"]
    for path in ours + foreign:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"12345")
    report = cache.clear_cache()
    assert (report.files, report.bytes, report.folder) == (len(ours), 5 * len(ours), tmp_path)
    assert all(p.exists() for p in foreign) and not any(p.exists() for p in ours)
    assert not (tmp_path / "bpframe-0.1.0").exists()  # folders emptied by the clear go too
    assert (tmp_path / "bpframe-0.2.0").exists()  # it still holds a foreign file


# -- names are data, never code ---------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(module=st.text(), qualname=st.text())
def test_any_function_name_gives_a_safe_cache_file_name(module, qualname):
    from bpframe.kernels.alone import label

    def fn(z):
        return z

    fn.__module__, fn.__qualname__ = module, qualname
    text = label(fn)
    assert text and len(text) <= 60 and all(ch.isalnum() or ch == "_" for ch in text)
    assert text.isascii() or all(ch.isalnum() or ch == "_" for ch in text)


@pytest.mark.jit_pass
@pytest.mark.jit
def test_a_hostile_function_name_runs_no_code(tmp_path):
    """v1 pasted names into generated source; v2 generates none: a name holding code is only ever a label."""
    import numpy as np

    import bpframe as bp

    marker = tmp_path / "ran"

    def sigma(z):
        return z

    def sigma_prime(z):
        return 1.0

    hostile = f"x\nimport pathlib; pathlib.Path({str(marker)!r}).write_text('oops')\n"
    for fn in (sigma, sigma_prime):
        fn.__name__ = fn.__qualname__ = hostile
    net = bp.Network([2, 2], bp.Activation("hostile_name", sigma, sigma_prime), "quadratic", seed=0)
    out = net.feedforward(np.ones((1, 2)))
    assert np.isfinite(out).all() and not marker.exists()
