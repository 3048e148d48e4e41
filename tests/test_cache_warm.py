"""``bpframe cache warm``: compile ahead of use, so that later networks compile nothing; broken plugins reported."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from fake_plugins import FakeEntryPoint

import bpframe as bp
from bpframe import plugins, warm
from bpframe.cli import main
from bpframe.errors import ConfigurationError, UnknownNameError

pytestmark = pytest.mark.jit

#: A fresh process: fits networks of the given activations, loss and optimizer in both dtypes with the given
#: engine setting, and prints what it compiled and which tiers trained.
CHILD = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import bpframe as bp
    spec = json.loads(sys.argv[1])
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 3)), rng.integers(0, 2, 30)
    tiers = set()
    for dtype in spec["dtypes"]:
        for acts in spec["networks"]:
            net = bp.Network([3, *[4] * (len(acts) - 1), 2], acts, spec["loss"], dtype=dtype, seed=0)
            net.fit(X, y, epochs=2, batch_size=8, eta=0.1, optimizer=spec["optimizer"], verbose=0)
            net.evaluate(X, y)
            tiers |= net._model.program.tiers
    print(json.dumps({"compiled": bp.compiled_kernels(), "tiers": sorted(tiers)}))
    """
)


def child(env: dict[str, str], **spec: object) -> dict[str, list[str]]:
    """Run CHILD in a fresh process that imports the very bpframe this one did (the cache key includes the files'
    paths: ``python -c`` from a source checkout would otherwise import the checkout, not the installed copy)."""
    home = Path(bp.__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(spec)], env=env, capture_output=True, text=True,
                          timeout=900, check=True, cwd=home)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty kernel cache for this process and its children."""
    import os

    monkeypatch.setenv("BPFRAME_CACHE_DIR", str(tmp_path / "cache"))
    return {**os.environ, "BPFRAME_CACHE_DIR": str(tmp_path / "cache")}


def test_after_warming_the_blocks_networks_of_those_functions_compile_nothing(fresh_cache):
    report = warm.warm_cache(["float32"], engine=False, activations=["tanh", "sigmoid", "softmax"],
                             losses=["cross_entropy"], optimizers=["adam"])  # fmt: skip
    assert report.failures == []
    assert [item.what.split(" (")[0] for item in report.items] == [
        "activation 'tanh'", "activation 'sigmoid'", "activation 'softmax'", "loss 'cross_entropy'",
        "optimizer 'adam'", "the small forward product",
    ]  # fmt: skip
    assert [item.compiled + item.loaded for item in report.items] == [3, 3, 3, 3, 1, 1]
    again = warm.warm_cache(["float32"], engine=False, activations=["tanh"], losses=[], optimizers=[])
    assert [(item.compiled, item.loaded) for item in again.items] == [(0, 3), (0, 1)]  # read back, not recompiled
    out = child(fresh_cache, dtypes=["float32"], networks=[["tanh", "softmax"], ["sigmoid", "tanh", "softmax"]],
                loss="cross_entropy", optimizer="adam")  # fmt: skip
    assert out == {"compiled": [], "tiers": ["numpy"]}
    cold = child(fresh_cache, dtypes=["float64"], networks=[["tanh", "softmax"]], loss="cross_entropy",
                 optimizer="adam")  # fmt: skip
    assert len(cold["compiled"]) == 6, "float64 was not warmed: its blocks compile (the test's control)"


@pytest.mark.slow
@pytest.mark.one_python
def test_the_command_warms_every_installed_function_and_the_engine(fresh_cache, capsys):
    """One dtype (float64), to keep the suite short: the first test shows float32's blocks warm alike."""
    assert main(["cache", "warm", "--dtype", "float64", "-q"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("warmed ") and "failed" not in out[0]
    registry = bp.plugins.get_registry()
    expected = (len(registry.activations.names()) + len(registry.losses.names())
                + len(registry.optimizers.names()) + 2)  # fmt: skip
    assert out[0].startswith(f"warmed {expected} of {expected}: ")
    names = registry.activations.names()
    networks = [[name, "softmax"] for name in names if name != "softmax"]
    env = {**fresh_cache, "BPFRAME_ENGINE": "compiled"}
    for optimizer in registry.optimizers.names():
        assert child(env, dtypes=["float64"], networks=networks[:3], loss="cross_entropy",
                     optimizer=optimizer) == {"compiled": [], "tiers": ["compiled"]}  # fmt: skip
    assert child(env, dtypes=["float64"], networks=networks, loss="quadratic", optimizer="sgd") == {
        "compiled": [], "tiers": ["compiled"]}  # fmt: skip


class _NotCompilable:
    """Plain Python that numba cannot type."""


def broken_sigma(z):
    return _NotCompilable() and z


def broken_sigma_prime(z):
    return 1.0


class BrokenPlugin:
    @bp.hookimpl
    def bpframe_register_activations(self, register):
        register(bp.Activation("broken_warm", broken_sigma, broken_sigma_prime))


def test_a_function_numba_cannot_compile_is_reported_with_its_plugin_and_the_others_are_warmed(
    fresh_cache, capsys, monkeypatch
):
    # the built-in losses and optimizers are left out: the command below warms every installed function
    quieter = ("bpframe.default_plugins.losses", "bpframe.default_plugins.optimizers")
    registry = plugins.load_registry(entry_points=[FakeEntryPoint("broken", BrokenPlugin, "bpframe-broken", "1.0")],
                                     autoload=True, disabled=quieter, strict=False)  # fmt: skip
    monkeypatch.setattr(plugins, "_registry", registry)
    report = warm.warm_cache(["float64"], engine=False, activations=["broken_warm", "tanh"], losses=[], optimizers=[])
    code = main(["cache", "warm", "--dtype", "float64", "--no-engine", "-q"])
    [failed] = report.failures
    assert failed.what == "activation 'broken_warm' (from bpframe-broken 1.0 (plugin 'broken'))"
    assert failed.error.startswith("PluginError: activation 'broken_warm' (")
    assert "cannot be compiled by numba for float64 inputs" in failed.error
    assert [item.error for item in report.items[1:]] == [None, None]
    assert code == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("float64  activation 'broken_warm' (") and ": FAILED: PluginError: " in lines[0]
    assert lines[-1].startswith("warmed ") and lines[-1].endswith(
        "; 1 failed; cache: " + str(warm.cache.cache_dir()))  # fmt: skip


def raising_sigma(z):
    if z == z:  # compiles; raises on every number
        raise ValueError("refuses every input")
    return z


def raising_sigma_prime(z):
    return 1.0


class RaisingPlugin:
    @bp.hookimpl
    def bpframe_register_activations(self, register):
        register(bp.Activation("aaa_raises", raising_sigma, raising_sigma_prime))


def test_the_engine_is_warmed_with_the_next_activation_when_the_first_raises_on_the_tiny_job(fresh_cache, monkeypatch):
    registry = plugins.load_registry(entry_points=[FakeEntryPoint("raising", RaisingPlugin, "bpframe-raising", "1.0")],
                                     autoload=True, strict=False)  # fmt: skip
    monkeypatch.setattr(plugins, "_registry", registry)
    with pytest.raises(bp.PluginError, match="refuses every input"):  # what a fit with it meets
        bp.Network([2, 3, 2], "aaa_raises", "quadratic", seed=0).fit(
            np.ones((4, 2)), np.ones((4, 2)), epochs=1, verbose=0
        )
    report = warm.warm_cache(["float64"], activations=["aaa_raises", "tanh"], losses=["quadratic"], optimizers=[])
    # two activations, a loss, the small product, the engine: its blocks compile, and the engine took tanh
    assert [item.error for item in report.items] == [None] * 5
    assert report.items[-1].what == "the engine (train, evaluate, backprop)"
    files = warm.cache.cache_files(warm.cache.cache_dir())
    # (one file per signature: earlier tests in this process may have compiled the engine for float32 too)
    engine_files = {path.name.split("-")[1] for path in files if path.name.startswith("engine-")}
    assert engine_files == {"backprop", "evaluate", "input_bound", "train_batches"}
    # when every pair tried raises (here: only one is tried), the first pair's error is reported
    monkeypatch.setattr(warm, "_ENGINE_TRIES", 1)
    report = warm.warm_cache(["float64"], activations=["aaa_raises"], losses=["quadratic"], optimizers=[])
    engine_item = report.items[-1]
    assert engine_item.error is not None and engine_item.error.startswith("PluginError: ")
    assert "refuses every input" in engine_item.error


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["cache", "warm", "--dtype", "float16"], "dtype must be one of float32, float64, got 'float16'"),
        (["cache", "info", "--dtype", "float32"], "--dtype: only for `bpframe cache warm`, not `cache info`"),
        (
            ["cache", "clear", "--no-engine", "-q"],
            "--no-engine, --quiet: only for `bpframe cache warm`, not `cache clear`",
        ),
    ],
)
def test_bad_arguments_are_named(fresh_cache, capsys, argv, message):
    assert main(argv) == 1
    assert capsys.readouterr().err.strip() == f"bpframe: error: {message}"


def test_the_api_refuses_what_it_cannot_do(fresh_cache, monkeypatch):
    with pytest.raises(ConfigurationError, match=r"^no dtype to warm the cache for; give float32, float64 or both$"):
        warm.warm_cache([])
    with pytest.raises(UnknownNameError, match=r"^unknown activation 'nope'; available: "):
        warm.warm_cache(["float64"], activations=["nope"])
    monkeypatch.setenv("BPFRAME_NO_KERNEL_CACHE", "1")
    with pytest.raises(ConfigurationError, match=r"^the kernel cache is off \(BPFRAME_NO_KERNEL_CACHE=1\): nothing "):
        warm.warm_cache(["float64"], engine=False, activations=[], losses=[], optimizers=[])


def test_blocks_of_lists_what_a_program_can_ask_for():
    registry = bp.plugins.get_registry()
    tanh, softmax, ce = registry.activation("tanh"), registry.activation("softmax"), registry.loss("cross_entropy")
    assert warm.blocks_of(tanh) == [("forward", tanh.sigma), ("backward", tanh.sigma_prime),
                                    ("output", tanh.sigma_prime)]  # fmt: skip
    assert warm.blocks_of(softmax) == [("vector_forward", softmax.forward), ("vector_backward", softmax.vjp),
                                       ("vector_output", softmax.vjp)]  # fmt: skip
    assert warm.blocks_of(ce)[:2] == [("cost", ce.cost), ("nabla", ce.nabla_a)]
    assert warm.blocks_of(ce)[2:] == [("output_error", fn) for fn in ce.output_errors.values()] != []
    assert np.dtype(warm.DTYPES[0]) == np.float32


@pytest.mark.slow
@pytest.mark.one_python
def test_warming_writes_what_this_process_compiled_before_the_cache_folder_changed(tmp_path, monkeypatch):
    """A notebook that trained, then cleared the cache (or moved it), then warms: the engine it holds in memory is
    written to the cache in use now, and a fresh process loads it instead of compiling."""
    X, y = np.random.default_rng(0).normal(size=(30, 3)), np.arange(30) % 2
    monkeypatch.setenv("BPFRAME_CACHE_DIR", str(tmp_path / "before"))
    monkeypatch.setenv("BPFRAME_ENGINE", "compiled")
    bp.Network([3, 4, 2], ["tanh", "softmax"], "cross_entropy", seed=0).fit(X, y, epochs=1, verbose=0)
    monkeypatch.setenv("BPFRAME_CACHE_DIR", str(tmp_path / "after"))
    report = warm.warm_cache(["float64"], activations=["tanh", "softmax"], losses=["cross_entropy"],
                             optimizers=["adam"])  # fmt: skip
    assert report.failures == []
    assert report.items[-1].what == "the engine (train, evaluate, backprop)" and report.items[-1].compiled >= 1
    import os

    env = {**os.environ, "BPFRAME_CACHE_DIR": str(tmp_path / "after"), "BPFRAME_ENGINE": "compiled"}
    assert child(env, dtypes=["float64"], networks=[["tanh", "softmax"]], loss="cross_entropy", optimizer="adam") == {
        "compiled": [], "tiers": ["compiled"]}  # fmt: skip
