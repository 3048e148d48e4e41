"""Issue 13, warnings: every warning bpframe issues points at the caller's line (the innermost frame outside
bpframe), whichever public call it travels up from, and names the plugin when a plugin is the cause.

A fixed ``stacklevel`` is right for one path only: plugins load lazily on the first call that needs them, so the
same warning starts a different number of frames below the user's line depending on that call.
"""

from __future__ import annotations

import importlib
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from fake_plugins import CubeClashPlugin, CubePlugin, FakeEntryPoint, failing_import

import bpframe as bp
from bpframe import plugins
from bpframe.io import save_network

PACKAGE = Path(bp.__file__).resolve().parent
#: Warnings still issued with a fixed stacklevel, in files being rewritten elsewhere (issue 13's closing note).
FIXED_STACKLEVEL_ELSEWHERE: set[str] = set()


def here() -> int:
    """The line number of the caller's next line."""
    return sys._getframe(1).f_lineno + 1


@pytest.fixture
def lazy_plugins(monkeypatch):
    """Plugins discovered on first use, from the given fake entry points, as in a fresh process."""

    def install(*eps):
        monkeypatch.setattr(plugins, "_registry", None)
        monkeypatch.setattr(plugins.metadata, "entry_points", lambda group: list(eps))

    return install


def caught_at(record: list[warnings.WarningMessage]) -> list[tuple[str, int, str]]:
    return [(w.filename, w.lineno, str(w.message)) for w in record]


BROKEN = FakeEntryPoint("broken", failing_import, "bpframe-broken", "0.3")
SKIPPED = (
    "bpframe plugin bpframe-broken 0.3 (plugin 'broken') was skipped: import of 'fake_plugins:plugin' failed: "
    "ImportError: No module named 'bpframe_missing_dependency'"
)


@pytest.mark.parametrize(
    ("first_use", "args"),
    [
        pytest.param(bp.Network, ([2, 2], "tanh"), id="Network"),
        pytest.param(bp.activations, (), id="activations"),
        pytest.param(bp.losses, (), id="losses"),
        pytest.param(plugins.get_registry, (), id="get_registry"),
    ],
)
def test_a_plugin_skipped_at_discovery_is_reported_at_the_call_that_loaded_plugins(lazy_plugins, first_use, args):
    lazy_plugins(BROKEN)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        line = here()
        first_use(*args)  # each reaches the plugin loader through a different number of bpframe frames
    assert len(record) == 1 and record[0].category is bp.PluginWarning
    (filename, lineno, message) = caught_at(record)[0]
    assert (filename, lineno) == (__file__, line)
    assert message.startswith(SKIPPED)


def test_a_name_registered_twice_is_reported_at_the_users_line(lazy_plugins):
    lazy_plugins(FakeEntryPoint("cube", CubePlugin, "bpframe-cube", "0.4.0"),
                 FakeEntryPoint("clash", CubeClashPlugin, "bpframe-clash", "1.0"))  # fmt: skip
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        line = here()
        bp.Network([2, 2], "tanh")
    assert [(w.filename, w.lineno) for w in record] == [(__file__, line)]
    assert "'cube'" in str(record[0].message) and "bpframe-clash 1.0 (plugin 'clash')" in str(record[0].message)


@pytest.mark.parametrize(
    "load",
    [pytest.param(bp.load, id="bp.load"), pytest.param(bp.io.load_network, id="io.load_network")],
)
def test_a_plugin_version_change_is_reported_at_the_load_call(tmp_path, monkeypatch, load):
    registry = plugins.load_registry(entry_points=[FakeEntryPoint("cube", CubePlugin, "bpframe-cube", "0.4.0")],
                                     strict=False, disabled=(), autoload=True)  # fmt: skip
    monkeypatch.setattr(plugins, "_registry", registry)
    path = save_network(bp.Network([2, 2], "cube", seed=0), tmp_path / "m.npz")
    newer = plugins.load_registry(entry_points=[FakeEntryPoint("cube", CubePlugin, "bpframe-cube", "0.5.0")],
                                  strict=False, disabled=(), autoload=True)  # fmt: skip
    monkeypatch.setattr(plugins, "_registry", newer)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        line = here()
        load(path)
    assert caught_at(record) == [
        (
            __file__,
            line,
            f"{path}: layer 1's activation 'cube' was saved with version 0.4.0 of bpframe-cube, but version 0.5.0 is "
            "installed; loading with the installed one, whose results may differ",
        )
    ]


class RaisingCallback:
    @bp.hookimpl
    def bpframe_epoch_end(self, epoch):
        raise RuntimeError("callback bug")


@pytest.mark.jit
def test_a_failing_training_hook_is_reported_at_the_fit_call_naming_the_callback():
    net = bp.Network([2, 2], "sigmoid", seed=0)
    X, y = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([0, 1])
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        line = here()
        net.fit(X, y, epochs=2, batch_size=2, callbacks=[RaisingCallback()], verbose=0)
    assert [(w.filename, w.lineno) for w in record] == [(__file__, line)]  # reported once, then skipped
    assert str(record[0].message) == (
        "callback RaisingCallback: hook bpframe_epoch_end raised RuntimeError: callback bug; it is skipped for the "
        "rest of this training run"
    )


def test_every_warning_of_bpframe_goes_through_bpframe_warn():
    """Only bpframe/warn.py calls warnings.warn, except files listed in FIXED_STACKLEVEL_ELSEWHERE."""
    callers = {
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if "warnings.warn(" in path.read_text(encoding="utf-8")
    }
    assert callers == {"warn.py", *FIXED_STACKLEVEL_ELSEWHERE}


@pytest.mark.parametrize(("old", "new"), [("modelfile", "_schema"), ("container", "_container")])
def test_a_moved_module_gives_each_name_from_its_new_place_with_a_deprecation_warning(old, new):
    module = importlib.import_module(f"bpframe.{old}")
    target = importlib.import_module(f"bpframe.io.{new}")
    name = target.__all__[0]
    expected = f"bpframe.{old}.{name} moved to bpframe.io.{new}.{name}; bpframe.{old} will be removed"
    with pytest.warns(DeprecationWarning, match=re.escape(expected)) as caught:
        assert getattr(module, name) is getattr(target, name)
    assert str(caught[0].message) == expected
    with pytest.raises(AttributeError, match="no_such_name"):
        module.no_such_name  # the lookup is the test
