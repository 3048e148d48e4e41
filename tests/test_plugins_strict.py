"""Strict mode is fair: it applies to the plugins it names, another plugin's failure stays one warning, warnings as
errors never make the built-ins unavailable, and the registry is built once per process whatever fails."""

from __future__ import annotations

import warnings

import pytest
from fake_plugins import CubePlugin, FakeEntryPoint, RaisingPlugin, SigmoidClashPlugin, failing_import

import bpframe as bp
from bpframe import plugins

GONE = "bpframe plugin bpframe-gone 2.0 (plugin 'gone') was skipped: import of 'fake_plugins:plugin' failed: "


class CountingEntryPoint(FakeEntryPoint):
    """Counts how often discovery loads it."""

    loads = 0

    def load(self):
        CountingEntryPoint.loads += 1
        return super().load()


def load(*eps, strict):
    return plugins.load_registry(entry_points=list(eps), autoload=True, disabled=(), strict=strict)


@pytest.fixture
def process_registry(monkeypatch):
    """Make the process-wide registry unloaded, discovering these entry points on first use."""

    discover = plugins._discover

    def install(*eps):
        monkeypatch.setattr(plugins, "_registry", None)
        monkeypatch.setattr(plugins, "_discover", lambda: discover(entry_points=list(eps), autoload=True, disabled=()))

    return install


def test_strict_for_one_plugin_keeps_another_plugins_failure_a_warning():
    with pytest.warns(bp.PluginWarning) as caught:
        registry = load(
            FakeEntryPoint("gone", failing_import, "bpframe-gone", "2.0"),
            FakeEntryPoint("cube", CubePlugin, "bpframe-cube", "1.0"),
            strict=["bpframe-cube"],
        )
    assert len(caught) == 1
    assert str(caught[0].message).startswith(GONE + "ImportError: No module named 'bpframe_missing_dependency'")
    assert "cube" in registry.activations.names()


def test_strict_for_a_plugin_raises_for_its_own_failure_and_names_it():
    with pytest.raises(bp.PluginError) as info:
        load(FakeEntryPoint("raiser", RaisingPlugin, "bpframe-raiser", "0.3"), strict=["bpframe_Raiser"])
    assert str(info.value).startswith(
        "bpframe plugin bpframe-raiser 0.3 (plugin 'raiser') was skipped: hook bpframe_register_activations raised "
        "ValueError: plugin bug"
    )


def test_a_name_clash_is_strict_for_the_plugins_involved_only():
    clash = FakeEntryPoint("clash", SigmoidClashPlugin, "bpframe-clash", "0.1")
    with pytest.raises(bp.PluginError, match="'sigmoid' is registered by more than one plugin"):
        load(clash, strict=["bpframe-clash"])
    with pytest.warns(bp.PluginWarning, match="'sigmoid' is registered by more than one plugin"):
        load(clash, FakeEntryPoint("cube", CubePlugin, "bpframe-cube", "1.0"), strict=["bpframe-cube"])


@pytest.mark.parametrize(("value", "scope"), [("1", {"*"}), ("yes", {"*"}), ("0", set()), ("", set()),
                                              (" bpframe-a, b ", {"bpframe-a", "b"})])  # fmt: skip
def test_the_environment_names_the_scope(monkeypatch, value, scope):
    monkeypatch.setenv("BPFRAME_STRICT_PLUGINS", value)
    assert plugins.strict_scope() == scope


def test_the_registry_is_built_once_and_warns_once_whatever_fails(process_registry, monkeypatch):
    monkeypatch.setenv("BPFRAME_STRICT_PLUGINS", "bpframe-cube")
    CountingEntryPoint.loads = 0
    process_registry(CountingEntryPoint("gone", failing_import, "bpframe-gone", "2.0"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = plugins.get_registry()
        assert bp.Network([2, 1], "sigmoid", seed=0).loss.name == "quadratic"
        assert plugins.get_registry() is first and bp.activations()
    assert CountingEntryPoint.loads == 1
    assert [str(w.message).split(": import")[0] for w in caught] == [GONE.split(": import")[0]]


def test_strict_failure_raises_on_every_use_but_discovers_once(process_registry, monkeypatch):
    monkeypatch.setenv("BPFRAME_STRICT_PLUGINS", "bpframe-gone")
    CountingEntryPoint.loads = 0
    process_registry(CountingEntryPoint("gone", failing_import, "bpframe-gone", "2.0"))
    for _ in range(3):
        with pytest.raises(bp.PluginError, match=r"bpframe-gone 2\.0"):
            bp.Network([2, 1])
    assert CountingEntryPoint.loads == 1
    monkeypatch.setenv("BPFRAME_STRICT_PLUGINS", "0")  # the same registry, now usable: nothing was rebuilt
    assert bp.Network([2, 1], seed=0).sizes == (2, 1) and CountingEntryPoint.loads == 1


def test_warnings_as_errors_never_make_the_builtins_unavailable(process_registry, monkeypatch, capsys):
    monkeypatch.delenv("BPFRAME_STRICT_PLUGINS", raising=False)
    monkeypatch.setattr(plugins, "_unshown", [])
    process_registry(FakeEntryPoint("gone", failing_import, "bpframe-gone", "2.0"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # -W error, or a plugin that sets it
        net = bp.Network([2, 3, 1], "tanh", seed=0)
        assert plugins.get_registry() is plugins.get_registry()
    assert net.activations[0].name == "tanh"
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("bpframe: warning: " + GONE)
    assert plugins.unshown_warnings() == [err[0].removeprefix("bpframe: warning: ")]


def test_a_training_hook_of_a_plugin_outside_the_scope_is_a_warning(process_registry, monkeypatch):
    class Noisy:
        @bp.hookimpl
        def bpframe_epoch_end(self, net, epoch, epochs, logs):
            raise RuntimeError("noisy")

    process_registry(FakeEntryPoint("noisy", Noisy, "bpframe-noisy", "0.1"))
    net = bp.Network([2, 1], "sigmoid", seed=0)
    X, Y = [[0.0, 1.0], [1.0, 0.0]], [[1.0], [0.0]]
    monkeypatch.setenv("BPFRAME_STRICT_PLUGINS", "bpframe-other")
    with pytest.warns(bp.PluginWarning, match=r"bpframe-noisy 0.1 \(plugin 'noisy'\): hook bpframe_epoch_end raised"):
        net.fit(X, Y, epochs=1, verbose=0)
    monkeypatch.setenv("BPFRAME_STRICT_PLUGINS", "bpframe-noisy")
    with pytest.raises(bp.PluginError, match="hook bpframe_epoch_end raised RuntimeError: noisy"):
        net.fit(X, Y, epochs=1, verbose=0)
