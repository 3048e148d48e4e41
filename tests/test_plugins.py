"""Plugin discovery: isolation of broken plugins, duplicates, unknown names, environment switches."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from fake_plugins import (
    AbsolutePlugin,
    CubeClashPlugin,
    CubePlugin,
    FakeEntryPoint,
    HalvesPlugin,
    MisspelledHookPlugin,
    RaisingPlugin,
    SigmoidClashPlugin,
    UncompilablePlugin,
    WrongTypePlugin,
    failing_import,
)
from fake_plugins import halves as halves_draw

import bpframe as bp
from bpframe import plugins


def load(*eps, **kwargs):
    kwargs.setdefault("strict", False)
    kwargs.setdefault("disabled", ())
    kwargs.setdefault("autoload", True)
    return plugins.load_registry(entry_points=list(eps), **kwargs)


@pytest.fixture
def use_registry(monkeypatch):
    """Make a registry built from fake entry points the process-wide one for the test."""

    def install(*eps):
        registry = load(*eps)
        monkeypatch.setattr(plugins, "_registry", registry)
        return registry

    return install


def test_builtins_are_registered_through_the_plugin_path():
    registry = load()
    assert registry.activations.names() == [
        "identity", "leaky_relu", "relu", "sigmoid", "softmax", "softplus", "tanh",
    ]  # fmt: skip
    assert registry.losses.names() == ["binary_cross_entropy", "cross_entropy", "quadratic"]
    entry = registry.activations.get("sigmoid")
    assert entry.provenance.distribution == "bpframe" and entry.provenance.version == bp.__version__
    assert entry.provenance.plugin == "bpframe.default_plugins.activations"


def test_third_party_plugin_adds_names_with_provenance():
    registry = load(FakeEntryPoint("cube", CubePlugin, "bpframe-cube", "0.4.0"), FakeEntryPoint("abs", AbsolutePlugin))
    assert "cube" in registry.activations.names() and "absolute" in registry.losses.names()
    prov = registry.activations.get("cube").provenance
    assert (prov.plugin, prov.distribution, prov.version) == ("cube", "bpframe-cube", "0.4.0")
    assert registry.failures == []


def test_import_error_skips_the_plugin_with_a_warning_naming_it():
    with pytest.warns(bp.PluginWarning) as caught:
        registry = load(
            FakeEntryPoint("gone", failing_import, "bpframe-gone", "2.0"), FakeEntryPoint("cube", CubePlugin)
        )
    message = str(caught[0].message)
    assert message.startswith("bpframe plugin bpframe-gone 2.0 (plugin 'gone') was skipped: import of")
    assert "ImportError: No module named 'bpframe_missing_dependency'" in message
    assert "cube" in registry.activations.names()
    assert [f.provenance.distribution for f in registry.failures] == ["bpframe-gone"]


def test_raising_hook_registers_nothing_from_that_plugin():
    with pytest.warns(bp.PluginWarning, match=r"hook bpframe_register_activations raised ValueError: plugin bug"):
        registry = load(FakeEntryPoint("raiser", RaisingPlugin, "bpframe-raiser"))
    assert "half_done" not in registry.activations.names()


def test_register_rejects_objects_that_are_not_specs():
    with pytest.warns(bp.PluginWarning, match=r"expects a bpframe.Activation, got str"):
        load(FakeEntryPoint("wrong", WrongTypePlugin))


def test_misspelled_hook_is_reported():
    with pytest.warns(bp.PluginWarning, match=r"invalid hook implementation: .*bpframe_register_activation"):
        registry = load(FakeEntryPoint("typo", MisspelledHookPlugin))
    assert "never" not in registry.activations.names()


def test_strict_mode_raises_instead_of_warning():
    with pytest.raises(bp.PluginError, match=r"bpframe plugin bpframe-gone 2.0 \(plugin 'gone'\) was skipped"):
        load(FakeEntryPoint("gone", failing_import, "bpframe-gone", "2.0"), strict=True)


def test_strict_mode_from_the_environment(monkeypatch):
    monkeypatch.setenv("BPFRAME_STRICT_PLUGINS", "1")
    with pytest.raises(bp.PluginError):
        plugins.load_registry(entry_points=[FakeEntryPoint("gone", failing_import)], disabled=())


def test_duplicate_names_are_an_error_naming_both_distributions():
    with pytest.warns(bp.PluginWarning, match="registered by more than one plugin"):
        registry = load(
            FakeEntryPoint("a", CubePlugin, "bpframe-a", "1.0"),
            FakeEntryPoint("b", CubeClashPlugin, "bpframe-b", "2.0"),
        )
    with pytest.raises(bp.DuplicateNameError) as info:
        registry.activation("cube")
    assert "bpframe-a 1.0 (plugin 'a') and bpframe-b 2.0 (plugin 'b')" in str(info.value)
    assert "BPFRAME_DISABLE_PLUGINS" in str(info.value)
    assert "cube" not in registry.activations.names()


def test_nobody_silently_replaces_a_builtin():
    with pytest.warns(bp.PluginWarning, match="'sigmoid' is registered by more than one plugin"):
        registry = load(FakeEntryPoint("clash", SigmoidClashPlugin, "bpframe-clash", "0.1"))
    with pytest.raises(
        bp.DuplicateNameError,
        match=r"bpframe \S+ \(plugin 'bpframe.default_plugins.activations'\) and bpframe-clash 0.1",
    ):
        registry.activation("sigmoid")
    assert registry.activation("cube_too").name == "cube_too"
    assert registry.activation("tanh").name == "tanh"


def test_strict_mode_makes_a_duplicate_fatal():
    with pytest.raises(bp.PluginError, match="registered by more than one plugin"):
        load(FakeEntryPoint("clash", SigmoidClashPlugin), strict=True)


def test_unknown_name_lists_what_is_available():
    with pytest.raises(bp.UnknownNameError) as info:
        bp.Network([2, 1], "sigmod")
    assert str(info.value) == (
        "unknown activation 'sigmod'; available: identity, leaky_relu, relu, sigmoid, softmax, softplus, tanh"
    )
    with pytest.raises(
        LookupError, match="unknown loss 'hinge'; available: binary_cross_entropy, cross_entropy, quadratic"
    ):
        bp.Network([2, 1], "sigmoid", "hinge")


@pytest.mark.parametrize("blocked", ["cube", "bpframe-cube"])
def test_disable_plugins_by_entry_point_or_distribution(monkeypatch, blocked):
    monkeypatch.setenv("BPFRAME_DISABLE_PLUGINS", f" other , {blocked}")
    registry = plugins.load_registry(entry_points=[FakeEntryPoint("cube", CubePlugin, "bpframe-cube")], strict=False)
    assert "cube" not in registry.activations.names()
    assert "sigmoid" in registry.activations.names()


def test_disable_autoload_keeps_builtins_only(monkeypatch):
    monkeypatch.setenv("BPFRAME_DISABLE_PLUGIN_AUTOLOAD", "1")
    registry = plugins.load_registry(entry_points=[FakeEntryPoint("cube", CubePlugin)], strict=False, disabled=())
    assert "cube" not in registry.activations.names()
    assert len(registry.activations.names()) == 7


def test_names_from_plugins_work_in_networks(use_registry):
    use_registry(FakeEntryPoint("cube", CubePlugin, "bpframe-cube"), FakeEntryPoint("abs", AbsolutePlugin))
    assert "cube" in bp.activations() and "absolute" in bp.losses()
    net = bp.Network([2, 3, 1], ["cube", "identity"], "absolute", seed=0)
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(4, 2)), rng.normal(size=(4, 1))
    assert net.feedforward(X).shape == (4, 1)
    assert bp.gradient_check(net, X, Y).passed(1e-6)


def test_builtin_initializers_and_optimizers_are_registered_through_the_plugin_path():
    registry = load()
    assert registry.initializers.names() == ["glorot", "he", "normal", "scaled_normal"]
    assert registry.optimizers.names() == ["adam", "momentum", "nesterov", "sgd"]
    entry = registry.initializers.get("he")
    assert entry.provenance.plugin == "bpframe.default_plugins.initializers"
    assert entry.provenance.distribution == "bpframe"
    assert bp.initializers() == registry.initializers.names()
    assert bp.optimizers.available() == registry.optimizers.names()


def test_a_plugin_initializer_works_by_name_by_default_and_as_an_object(use_registry):
    use_registry(FakeEntryPoint("halves", HalvesPlugin, "bpframe-halves", "0.2"))
    assert "halves" in bp.initializers()
    by_name = bp.Network([3, 2, 2], "sigmoid", init="halves", seed=4)
    by_default = bp.Network([3, 2, 2], ["cube_halves", "cube_halves"], seed=4)
    as_object = bp.Network([3, 2, 2], "sigmoid", init=bp.Initializer("mine", halves_draw), seed=4)
    rng = np.random.default_rng(np.random.SeedSequence(4).spawn(2)[0])  # the network's initialisation stream
    w1, b1 = halves_draw(3, 2, rng)
    for net in (by_name, by_default, as_object):
        np.testing.assert_array_equal(net.weights[1], w1)
        np.testing.assert_array_equal(net.biases[1], b1)
    mixed = bp.Network([3, 2, 2], "sigmoid", init=["halves", "glorot"], seed=4)
    np.testing.assert_array_equal(mixed.weights[1], w1)
    assert np.abs(mixed.weights[2]).max() <= np.sqrt(6.0 / 4) and not mixed.biases[2].any()


def test_an_initializer_returning_the_wrong_shape_is_named_with_its_plugin(use_registry):
    use_registry(FakeEntryPoint("halves", HalvesPlugin, "bpframe-halves", "0.2"))
    with pytest.raises(bp.PluginError) as info:
        bp.Network([3, 2], init="transposed", seed=0)
    assert str(info.value) == (
        "initializer 'transposed' (from bpframe-halves 0.2 (plugin 'halves')): its draw function "
        "fake_plugins.transposed returned w of shape (3, 2); expected (n_out, n_in) = (2, 3)"
    )


@pytest.mark.jit
def test_uncompilable_plugin_function_is_attributed_to_its_plugin(use_registry):
    use_registry(FakeEntryPoint("uncompilable", UncompilablePlugin, "bpframe-uncompilable", "0.3"))
    net = bp.Network([2, 2], "uncompilable", "quadratic")
    with pytest.raises(bp.PluginError) as info:
        net.feedforward(np.ones((1, 2)))
    message = str(info.value)
    assert message.startswith(
        "activation 'uncompilable' (from bpframe-uncompilable 0.3 (plugin 'uncompilable')): its sigma function "
        "fake_plugins.uncompilable cannot be compiled by numba for float64 inputs."
    )
    assert "_helper" in message


def test_plugins_load_lazily_and_once():
    code = (
        "import sys, bpframe, bpframe.plugins as p\n"
        "assert p._registry is None, 'loaded at import'\n"
        "assert 'numba' not in sys.modules, 'numba imported at import'\n"
        "r = p.get_registry(); assert p.get_registry() is r\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.stdout.strip() == "ok", out.stderr


def test_reload_plugins_rediscovers(monkeypatch):
    first = plugins.get_registry()
    bp.reload_plugins()
    assert plugins.get_registry() is not first
