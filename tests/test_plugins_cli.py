"""The command line and plugins: every kind listed with its provenance, warnings as one line each, -W error never a
traceback, and --init from the initializer table."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
from fake_plugins import CubePlugin, FakeEntryPoint, HalvesPlugin, failing_import

import bpframe as bp
from bpframe import plugins
from bpframe.cli import main


def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def use_registry(monkeypatch):
    def install(*eps):
        registry = plugins.load_registry(entry_points=list(eps), autoload=True, disabled=(), strict=False)
        monkeypatch.setattr(plugins, "_registry", registry)
        return registry

    return install


def test_plugins_lists_every_kind_with_its_plugin(capsys):
    status, out, _ = run(capsys, "plugins")
    assert status == 0
    sections = [line for line in out.splitlines() if not line.startswith(" ")]
    assert sections == ["activations:", "losses:", "optimizers:", "initializers:"]
    adam = next(line for line in out.splitlines() if line.strip().startswith("adam "))
    he = next(line for line in out.splitlines() if line.strip().startswith("he "))
    assert "bpframe.default_plugins.optimizers" in adam and "Adam (Kingma & Ba)" in adam
    assert "bpframe.default_plugins.initializers" in he and "w ~ N(0, 2/n_in), b = 0" in he


def test_train_takes_a_plugin_initializer(capsys, tmp_path, use_registry):
    use_registry(FakeEntryPoint("halves", HalvesPlugin, "bpframe-halves", "0.2"))
    model = tmp_path / "xor.npz"
    # a learning rate of 1e-300 leaves the parameters as they were drawn: the file holds the initialisation
    status, _, err = run(capsys, "train", "--dataset", "xor", "--hidden", "3", "--init", "halves", "--epochs", "1",
                         "--eta", "1e-300", "--seed", "5", "-q", "--save", str(model))  # fmt: skip
    assert status == 0, err
    expected = bp.Network([2, 3, 2], ["relu", "softmax"], "cross_entropy", init="halves", seed=5)
    np.testing.assert_array_equal(bp.load(model).parameters(), expected.parameters())
    status, _, err = run(capsys, "train", "--dataset", "xor", "--init", "xavier", "--epochs", "1", "-q")
    assert status == 1 and err == "bpframe: error: --init xavier: unknown initializer 'xavier'; available: glorot, " \
        "halves, he, normal, scaled_normal, transposed\n"  # fmt: skip


def test_a_version_change_on_load_is_one_warning_line(capsys, tmp_path, use_registry):
    use_registry(FakeEntryPoint("cube", CubePlugin, "bpframe-cube", "1.0"))
    path = bp.Network([64, 5, 10], ["cube", "softmax"], "cross_entropy", seed=0).save(tmp_path / "digits.npz")
    use_registry(FakeEntryPoint("cube", CubePlugin, "bpframe-cube", "2.0"))
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # as a user's Python shows warnings (this suite makes them errors)
        status, out, err = run(capsys, "evaluate", str(path))
    assert status == 0 and out.startswith("digits test ("), err
    assert err == (
        f"bpframe: warning: {path}: layer 1's activation 'cube' was saved with version 1.0 of bpframe-cube, but "
        "version 2.0 is installed; loading with the installed one, whose results may differ\n"
    )


def test_a_warning_turned_error_is_one_error_line(capsys, tmp_path, use_registry):
    use_registry(FakeEntryPoint("cube", CubePlugin, "bpframe-cube", "1.0"))
    path = bp.Network([64, 5, 10], ["cube", "softmax"], "cross_entropy", seed=0).save(tmp_path / "digits.npz")
    use_registry(FakeEntryPoint("cube", CubePlugin, "bpframe-cube", "2.0"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        status, out, err = run(capsys, "evaluate", str(path))
    assert status == 1 and out == ""
    assert err.startswith(f"bpframe: error: {path}: layer 1's activation 'cube' was saved with version 1.0")
    assert err.count("\n") == 1


BROKEN_SITE = {
    "bpframe_broken.py": "import bpframe_not_installed_anywhere\n",
    "bpframe_broken-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: bpframe-broken\nVersion: 0.1\n",
    "bpframe_broken-0.1.dist-info/entry_points.txt": "[bpframe]\nbroken = bpframe_broken\n",
}


@pytest.mark.parametrize("flags", [[], ["-W", "error"]])
def test_a_broken_plugin_is_one_line_and_the_listing_goes_on(tmp_path, flags):
    """In a fresh process, as a user runs it: with an installed plugin that cannot be imported, ``bpframe plugins``
    prints one warning line (no file path of bpframe's, no traceback, with -W error too) and lists everything."""
    for name, text in BROKEN_SITE.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text))
    root = str(Path(bp.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), root, os.environ.get("PYTHONPATH", "")])}
    env.pop("BPFRAME_STRICT_PLUGINS", None)
    result = subprocess.run([sys.executable, *flags, "-m", "bpframe", "plugins"], env=env, capture_output=True,
                            text=True, timeout=300, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "bpframe: warning: bpframe plugin bpframe-broken 0.1 (plugin 'broken') was skipped: import of "
        "'bpframe_broken' failed: ModuleNotFoundError: No module named 'bpframe_not_installed_anywhere' "
        f"(at {tmp_path / 'bpframe_broken.py'}:1)"
    ]
    assert "initializers:" in result.stdout and "plugins that failed to load:" in result.stdout


def test_the_listing_shows_a_failed_plugin_in_strict_mode_too(capsys, monkeypatch, use_registry):
    with pytest.warns(bp.PluginWarning):
        use_registry(FakeEntryPoint("gone", failing_import, "bpframe-gone", "2.0"))
    monkeypatch.setenv("BPFRAME_STRICT_PLUGINS", "1")
    status, out, _ = run(capsys, "plugins")
    assert status == 0
    assert "plugins that failed to load:\n  bpframe-gone 2.0 (plugin 'gone'): import of 'fake_plugins:plugin'" in out
