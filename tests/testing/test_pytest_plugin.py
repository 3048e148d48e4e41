"""bpframe's pytest plugin in a plugin author's run: strict mode for the project under test only, another installed
plugin's failure one warning and never a collection error (with -W error too), and the fixture's report once.

The "installed" plugins are distributions on PYTHONPATH (a ``*.dist-info`` folder with ``entry_points.txt``), which
importlib.metadata discovers as it discovers pip-installed ones; pytest runs in a subprocess, as an author runs it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import bpframe as bp

pytestmark = pytest.mark.jit

MINE = """
import math
from bpframe import Activation, hookimpl


def softsign(z):
    return z / (1.0 + abs(z))


def softsign_prime(z):
    return 1.0 / ((1.0 + abs(z)) * (1.0 + abs(z)))


@hookimpl
def bpframe_register_activations(register):
    register(Activation("my_softsign", softsign, softsign_prime, bounds=(-1.0, 1.0), monotone="increasing"))
"""

MINE_BROKEN = """
from bpframe import hookimpl


@hookimpl
def bpframe_register_activations(register):
    raise RuntimeError("my own bug")
"""

AUTHOR_TESTS = """
import bpframe as bp
from bpframe.testing import conformance_tests

test_conformance = conformance_tests("bpframe-mine")


def test_my_activation_is_there():
    assert "my_softsign" in bp.activations()


def test_the_fixture_reports_once(bpframe_check):
    def cube(z):
        return z * z * z

    bpframe_check(bp.Activation("cube", cube, cube))
"""


def distribution(site: Path, name: str, module: str, source: str) -> None:
    """A minimal installed distribution: its module and a dist-info folder with one bpframe entry point."""
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{module}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[bpframe]\n{module.removeprefix('bpframe_')} = {module}\n")


def author_run(tmp_path: Path, mine: str, *options: str) -> subprocess.CompletedProcess[str]:
    """``BPFRAME_STRICT_PLUGINS=1 pytest`` in the project of bpframe-mine, with a broken bpframe-other installed."""
    site, project = tmp_path / "site", tmp_path / "bpframe-mine"
    site.mkdir()
    project.mkdir()
    distribution(site, "bpframe-mine", "bpframe_mine", mine)
    distribution(site, "bpframe-other", "bpframe_other", "import bpframe_not_installed_anywhere\n")
    (project / "pyproject.toml").write_text('[project]\nname = "bpframe-mine"\nversion = "0.1"\n')
    (project / "test_mine.py").write_text(textwrap.dedent(AUTHOR_TESTS))
    root = str(Path(bp.__file__).resolve().parents[1])
    env = {
        **os.environ,
        "BPFRAME_STRICT_PLUGINS": "1",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "PYTHONPATH": os.pathsep.join([str(site), root, os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "pytest", "-p", "bpframe.pytest_plugin", "-p", "no:cacheprovider", "-rA",
               *options, "test_mine.py"]  # fmt: skip
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=600, check=False)


def test_another_plugins_failure_is_one_warning_in_the_authors_strict_run(tmp_path):
    result = author_run(tmp_path, MINE)
    out = result.stdout
    assert "BPFRAME_STRICT_PLUGINS=1 applies to the project under test: bpframe-mine" in out
    assert "PASSED test_mine.py::test_conformance[activation:my_softsign]" in out
    assert "PASSED test_mine.py::test_my_activation_is_there" in out
    assert "ERROR" not in out
    assert out.count("bpframe plugin bpframe-other 0.1 (plugin 'other') was skipped: import of 'bpframe_other' "
                     "failed: ModuleNotFoundError: No module named 'bpframe_not_installed_anywhere'") == 1  # fmt: skip
    assert "1 failed, 2 passed, 1 warning" in out, out


def test_with_warnings_as_errors_the_failure_is_reported_once_at_the_end(tmp_path):
    result = author_run(tmp_path, MINE, "-W", "error")
    out = result.stdout
    assert "ERROR" not in out and "1 failed, 2 passed" in out, out
    section = out.split("bpframe plugin warnings")[1]
    assert section.count("bpframe plugin bpframe-other 0.1 (plugin 'other') was skipped") == 1


def test_the_project_under_tests_own_failure_fails_its_tests_without_a_collection_error(tmp_path):
    result = author_run(tmp_path, MINE_BROKEN)
    out = result.stdout
    assert "ERROR" not in out, out
    # the kit's report: the plugin failed to load, with its error and the line that raised
    assert (
        "test_conformance[plugin:mine] _________________________\nbpframe-mine 0.1 (plugin 'mine') fails 1 "
        "conformance check:\n  - load: hook bpframe_register_activations raised RuntimeError: my own bug (at "
    ) in out
    # strict mode for the project under test: using bpframe raises, naming the plugin
    assert (
        "bpframe.errors.PluginError: bpframe plugin bpframe-mine 0.1 (plugin 'mine') was skipped: hook "
        "bpframe_register_activations raised RuntimeError: my own bug"
    ) in out
    assert "bpframe-other 0.1 (plugin 'other') was skipped" in out  # still reported, as a warning


def test_the_fixture_reports_once_without_a_chained_exception(tmp_path):
    out = author_run(tmp_path, MINE).stdout
    failure = out.split("test_the_fixture_reports_once ___")[1].split("=====")[0]
    assert failure.count("activation 'cube' fails 1 conformance check:") == 1
    assert "During handling of the above exception" not in out
    assert "derivative: sigma_prime disagrees with the central difference of sigma" in failure
