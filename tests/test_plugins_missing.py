"""A model that needs several objects nothing registers now: every one listed, one install line per distribution."""

from __future__ import annotations

import pytest
from fake_plugins import AbsolutePlugin, CubePlugin, FakeEntryPoint, HalvesPlugin, failing_import

import bpframe as bp
from bpframe import plugins
from bpframe.io import load_network


@pytest.fixture
def use_registry(monkeypatch):
    def install(*eps):
        registry = plugins.load_registry(entry_points=list(eps), autoload=True, disabled=(), strict=False)
        monkeypatch.setattr(plugins, "_registry", registry)
        return registry

    return install


def load_error(path):
    with pytest.raises(bp.ModelFileError) as info:
        load_network(path)
    return str(info.value)


def softsign(z):
    return z / (1.0 + abs(z))


def softsign_prime(z):
    return 1.0 / ((1.0 + abs(z)) * (1.0 + abs(z)))


def test_every_missing_object_is_listed_with_one_install_line_per_distribution(tmp_path, use_registry):
    use_registry(
        FakeEntryPoint("cube", CubePlugin, "bpframe-cube", "0.4.0"),
        FakeEntryPoint("halves", HalvesPlugin, "bpframe-halves", "0.2"),
        FakeEntryPoint("absolute", AbsolutePlugin, "bpframe-absolute", "2.1"),
    )
    user = bp.Activation("my_softsign", softsign, softsign_prime)
    net = bp.Network([3, 4, 4, 4, 2], ["cube", "cube_halves", user, "cube"], "absolute", seed=0)
    path = net.save(tmp_path / "m.npz")
    use_registry()
    assert load_error(path) == "\n".join([
        f"{path}: 4 objects the model needs are not registered by any installed plugin:",
        "  activation 'cube' (layers 1, 4): it came from bpframe-cube 0.4.0 (plugin 'cube')",
        "  activation 'cube_halves' (layer 2): it came from bpframe-halves 0.2 (plugin 'halves')",
        "  activation 'my_softsign' (layer 3): defined in user code when the model was saved (no plugin registered it)",
        "  loss 'absolute': it came from bpframe-absolute 2.1 (plugin 'absolute')",
        "Install them with:",
        '  pip install "bpframe-cube==0.4.0"    # cube',
        '  pip install "bpframe-halves==0.2"    # cube_halves',
        '  pip install "bpframe-absolute==2.1"    # absolute',
        "then call bpframe.reload_plugins() in a running session.",
        'Or pass your own definitions: custom_objects={"cube": bpframe.Activation("cube", ...), "cube_halves": '
        'bpframe.Activation("cube_halves", ...), "my_softsign": bpframe.Activation("my_softsign", ...), '
        '"absolute": bpframe.Loss("absolute", ...)}',
    ])  # fmt: skip


def test_a_plugin_that_failed_to_load_gets_no_install_line(tmp_path, use_registry):
    use_registry(
        FakeEntryPoint("cube", CubePlugin, "bpframe-cube", "0.4.0"),
        FakeEntryPoint("absolute", AbsolutePlugin, "bpframe-absolute", "2.1"),
    )
    path = bp.Network([3, 2], "cube", "absolute", seed=0).save(tmp_path / "m.npz")
    with pytest.warns(bp.PluginWarning):
        use_registry(FakeEntryPoint("cube", failing_import, "bpframe-cube", "0.4.0"))
    lines = load_error(path).splitlines()
    assert lines[1].startswith(
        "  activation 'cube' (layer 1): it came from bpframe-cube 0.4.0 (plugin 'cube'), which is installed but was "
        "skipped when plugins loaded: import of 'fake_plugins:plugin' failed: ImportError: No module named "
    )
    assert lines[2:5] == [
        "  loss 'absolute': it came from bpframe-absolute 2.1 (plugin 'absolute')",
        "Install them with:",
        '  pip install "bpframe-absolute==2.1"    # absolute',
    ]


def test_one_missing_object_in_several_layers_keeps_the_single_message(tmp_path, use_registry):
    use_registry(FakeEntryPoint("cube", CubePlugin, "bpframe-cube", "0.4.0"))
    path = bp.Network([3, 4, 2], "cube", seed=0).save(tmp_path / "m.npz")
    use_registry()
    assert load_error(path).startswith(f"{path}: layer 1's activation 'cube' is not registered by any installed plugin")
