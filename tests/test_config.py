"""Every environment variable is read in bpframe.config, parsed strictly, once per operation, and documented in one
table."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

import bpframe as bp
from bpframe import config, plugins
from bpframe.kernels import cache

ROOT = Path(__file__).resolve().parents[1]
FLAG_MESSAGE = (
    "{name} must be 1, true, yes or on to set it, or 0, false, no, off or empty to leave it unset; got {value!r}"
)
FLAGS = {  # variable -> what reads it
    "BPFRAME_NO_KERNEL_CACHE": lambda: config.read().no_kernel_cache,
    "BPFRAME_DISABLE_PLUGIN_AUTOLOAD": lambda: not config.plugin_autoload(),
}


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    for name in (*config.VARIABLES, "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("name", sorted(FLAGS))
@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), ("YES", True), (" On ", True), ("0", False), ("False", False), ("no", False),
     (" OFF ", False), ("", False), ("  ", False), (None, False)],
)  # fmt: skip
def test_flags_accept_the_documented_values(monkeypatch, name, value, expected):
    if value is not None:
        monkeypatch.setenv(name, value)
    assert FLAGS[name]() is expected


@pytest.mark.parametrize("name", sorted(FLAGS))
@pytest.mark.parametrize("value", ["maybe", "2", "y", "enabled", "-1", "nein"])
def test_flags_refuse_anything_else_naming_the_variable_and_the_value(monkeypatch, name, value):
    monkeypatch.setenv(name, f" {value} ")
    with pytest.raises(bp.ConfigurationError) as info:
        FLAGS[name]()
    assert str(info.value) == FLAG_MESSAGE.format(name=name, value=value)


def test_maybe_is_no_longer_true(monkeypatch):
    monkeypatch.setenv("BPFRAME_NO_KERNEL_CACHE", "maybe")
    with pytest.raises(bp.ConfigurationError, match="got 'maybe'"):
        config.env_flag("BPFRAME_NO_KERNEL_CACHE")


@pytest.mark.parametrize(("value", "expected"), [(None, 1), ("", 1), ("1", 1), (" 2 ", 2), ("16", 16)])
def test_num_threads_accepts_whole_numbers_from_one(monkeypatch, value, expected):
    if value is not None:
        monkeypatch.setenv("BPFRAME_NUM_THREADS", value)
    assert config.read().num_threads == expected
    assert bp.get_num_threads() == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "auto"), ("", "auto"), ("auto", "auto"), ("Compiled", "compiled"), (" numpy ", "numpy")],
)
def test_engine_accepts_its_three_values(monkeypatch, value, expected):
    if value is not None:
        monkeypatch.setenv("BPFRAME_ENGINE", value)
    assert config.read().engine == expected


THREADS = "BPFRAME_NUM_THREADS must be an int >= 1, got {value!r}"
ENGINE = "BPFRAME_ENGINE must be one of auto, compiled, numpy, got {value!r}"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [*[("BPFRAME_NUM_THREADS", value, THREADS) for value in ("0", "-1", "two", "1.5", "+2", "1e3")],
     *[("BPFRAME_ENGINE", value, ENGINE) for value in ("fast", "jit", "1")]],
)  # fmt: skip
def test_the_engine_variables_refuse_anything_else(monkeypatch, name, value, message):
    monkeypatch.setenv(name, f" {value}")
    with pytest.raises(bp.ConfigurationError) as info:
        config.read()
    assert str(info.value) == message.format(value=value.lower())


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, set()), ("off", set()), ("TRUE", {"*"}), (" on ", {"*"}), ("bpframe-a,, b ", {"bpframe-a", "b"})],
)
def test_strict_plugins_is_a_flag_or_a_list_of_names(monkeypatch, value, expected):
    if value is not None:
        monkeypatch.setenv("BPFRAME_STRICT_PLUGINS", value)
    assert config.strict_plugins() == expected == plugins.strict_scope()


@pytest.mark.parametrize(("value", "expected"), [(None, []), (" ", []), ("a, bpframe-b ,", ["a", "bpframe-b"])])
def test_disabled_plugins_is_a_list(monkeypatch, value, expected):
    if value is not None:
        monkeypatch.setenv("BPFRAME_DISABLE_PLUGINS", value)
    assert config.disabled_plugins() == expected


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("  ", None), (" /data/fm ", "/data/fm")])
def test_paths_are_stripped_and_empty_means_unset(monkeypatch, value, expected):
    for name in ("BPFRAME_CACHE_DIR", "BPFRAME_FASHION_MNIST_DIR"):
        if value is not None:
            monkeypatch.setenv(name, value)
    assert config.read().cache_dir == expected
    assert config.fashion_mnist_dir() == expected


@pytest.mark.parametrize(("xdg", "expected"), [(None, ".cache"), ("", ".cache"), ("relative/c", ".cache")])
def test_an_empty_or_relative_xdg_cache_home_is_ignored(monkeypatch, tmp_path, xdg, expected):
    if not config.sys.platform.startswith("linux"):
        pytest.skip("XDG_CACHE_HOME is read on Linux")
    monkeypatch.setenv("HOME", str(tmp_path))
    if xdg is not None:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    assert cache.cache_base() == tmp_path / expected / "bpframe"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_base() == tmp_path / "xdg" / "bpframe"
    monkeypatch.setenv("BPFRAME_CACHE_DIR", str(tmp_path / "mine"))
    assert cache.cache_base() == tmp_path / "mine"


def test_an_operation_reads_the_environment_once(monkeypatch):
    monkeypatch.setenv("BPFRAME_NUM_THREADS", "2")
    with config.operation() as outer:
        monkeypatch.setenv("BPFRAME_NUM_THREADS", "garbage")
        monkeypatch.setenv("BPFRAME_ENGINE", "numpy")
        assert config.settings() is outer and outer.num_threads == 2 and outer.engine == "auto"
        with config.operation() as inner:  # nested: the same reading
            assert inner is outer
        assert config.settings() is outer and bp.get_num_threads() == 2
    with pytest.raises(bp.ConfigurationError, match="BPFRAME_NUM_THREADS must be an int >= 1, got 'garbage'"):
        config.settings()  # no operation: a fresh reading


def test_a_bad_value_is_reported_when_the_operation_starts(monkeypatch):
    monkeypatch.setenv("BPFRAME_ENGINE", "fast")
    ran = []
    expected = "BPFRAME_ENGINE must be one of auto, compiled, numpy, got 'fast'"
    with pytest.raises(bp.ConfigurationError, match=expected), config.operation():
        ran.append(True)
    assert ran == []
    monkeypatch.setenv("BPFRAME_ENGINE", "auto")
    with config.operation() as current:  # nothing of the failed operation was kept
        assert current.engine == "auto"


class Recorder:
    def __init__(self, change_to=None):
        self.events, self.change_to = [], change_to

    @bp.hookimpl
    def bpframe_epoch_start(self, epoch):
        self.events.append(epoch)
        if self.change_to is not None:
            self.change_to()


def test_fit_reports_a_bad_thread_count_before_training_and_leaves_the_network_unchanged(monkeypatch):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)), rng.integers(0, 2, 20)
    net = bp.Network([3, 4, 2], ["tanh", "softmax"], "cross_entropy", seed=0)
    before, recorder = net.parameters().copy(), Recorder()
    monkeypatch.setenv("BPFRAME_NUM_THREADS", "many")
    with pytest.raises(bp.ConfigurationError) as info:
        net.fit(X, y, epochs=2, batch_size=5, eta=0.1, callbacks=[recorder], verbose=0)
    assert str(info.value) == "BPFRAME_NUM_THREADS must be an int >= 1, got 'many'"
    np.testing.assert_array_equal(net.parameters(), before)
    assert len(net.history) == 0 and net.fit_settings is None and recorder.events == []


def test_a_variable_changed_during_fit_cannot_stop_it(monkeypatch):
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(20, 3)), rng.integers(0, 2, 20)
    reference = bp.Network([3, 4, 2], ["tanh", "softmax"], "cross_entropy", seed=0)
    reference.fit(X, y, epochs=3, batch_size=5, eta=0.1, verbose=0)
    net = bp.Network([3, 4, 2], ["tanh", "softmax"], "cross_entropy", seed=0)

    def spoil():
        for name, value in (("BPFRAME_NUM_THREADS", "zero"), ("BPFRAME_ENGINE", "fast"),
                            ("BPFRAME_NO_KERNEL_CACHE", "maybe")):  # fmt: skip
            monkeypatch.setenv(name, value)

    recorder = Recorder(change_to=spoil)
    history = net.fit(X, y, epochs=3, batch_size=5, eta=0.1, callbacks=[recorder], verbose=0)
    assert len(history) == 3 and recorder.events == [1, 2, 3]
    np.testing.assert_array_equal(net.parameters(), reference.parameters())


def _environment_reads(path: Path) -> list[int]:
    """Lines of ``path`` that read or write the environment (os.environ, os.getenv, os.putenv)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv", "unsetenv"):
            lines.append(node.lineno)
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            lines += [node.lineno for alias in node.names if alias.name in ("environ", "getenv", "putenv")]
    return lines


def test_only_config_reads_the_environment():
    found = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / "bpframe").rglob("*.py"))
        if path.name != "config.py" and (lines := _environment_reads(path))
    }
    assert found == {}
    assert _environment_reads(ROOT / "bpframe" / "config.py")  # the scan does see a read


def _documented_variables() -> list[str]:
    """The first column of the one table of variables in the configuration guide."""
    text = (ROOT / "docs" / "guide" / "configuration.rst").read_text(encoding="utf-8")
    section = text.split("Environment variables\n---------------------\n", 1)[1]
    rules = [m.start() for m in re.finditer(r"^=+ +=+$", section, flags=re.M)]
    table = section[rules[1] : rules[2]]  # below the heading row, above the closing rule
    return re.findall(r"^``(BPFRAME_[A-Z_]+)(?:=[^`]*)?``", table, flags=re.M)


def test_every_variable_has_one_row_in_the_documented_table():
    assert sorted(_documented_variables()) == sorted(config.VARIABLES)


def test_every_variable_bpframe_names_is_in_the_table():
    named = set()
    for path in (ROOT / "bpframe").rglob("*.py"):
        named |= set(re.findall(r"\bBPFRAME_[A-Z][A-Z_]*[A-Z]\b", path.read_text(encoding="utf-8")))
    assert named == set(config.VARIABLES)
