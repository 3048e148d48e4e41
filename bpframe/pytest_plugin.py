"""The pytest plugin for bpframe plugin authors, loaded through bpframe's ``pytest11`` entry point.

It adds the :func:`bpframe_check` fixture, a report-header line naming bpframe and the installed bpframe plugins,
and makes strict mode fair: under pytest, ``BPFRAME_STRICT_PLUGINS=1`` applies to the project under test only
(the ``[project] name`` of the ``pyproject.toml`` in pytest's root folder), so that another installed plugin that
fails to load is one warning in your run, never an error in your tests. A list of names
(``BPFRAME_STRICT_PLUGINS=bpframe-bent``) is used as given. Loading this plugin costs nothing: the kit (and
numba) are imported when a check runs.

The one line that runs the whole kit over a package needs no fixture (it also works where this plugin is not
loaded, e.g. with bpframe on ``PYTHONPATH``)::

    test_conformance = bpframe.testing.conformance_tests("bpframe-my-plugin")

The fixture is for the other cases: checking objects your tests build, or a plugin chosen at run time::

    def test_my_factory(bpframe_check):
        bpframe_check(my_plugin.make_huber(2.0, "huber_2"))
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from . import config as settings
from ._version import __version__
from .plugins import unshown_warnings
from .testing import ConformanceError
from .testing import check as run_check

__all__ = ["bpframe_check", "pytest_configure", "pytest_report_header", "pytest_terminal_summary"]

_STRICT = "BPFRAME_STRICT_PLUGINS"
_NARROWED = pytest.StashKey[tuple[str | None, str]]()


def pytest_configure(config: pytest.Config) -> None:
    """Narrow ``BPFRAME_STRICT_PLUGINS=1`` to the project under test (restored when pytest ends)."""
    if settings.strict_plugins() != {settings.EVERY_PLUGIN}:
        return
    project = project_name(config.rootpath)
    config.stash[_NARROWED] = (settings.narrow_strict_plugins(project or "0"), project or "")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Give ``BPFRAME_STRICT_PLUGINS`` back its value from before the run."""
    narrowed = config.stash.get(_NARROWED, None)
    if narrowed is not None:
        settings.restore_strict_plugins(narrowed[0])


def project_name(root: Path) -> str | None:
    """The ``[project] name`` of ``root/pyproject.toml``, or ``None`` when there is none."""
    try:
        text = (root / "pyproject.toml").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if sys.version_info >= (3, 11):
        import tomllib

        try:
            name = tomllib.loads(text).get("project", {}).get("name")
        except tomllib.TOMLDecodeError:
            return None
        return name if isinstance(name, str) else None
    table = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, flags=re.M | re.S)  # Python 3.10: no tomllib
    found = re.search(r"""^name\s*=\s*["']([^"']+)["']""", table.group(1), flags=re.M) if table else None
    return found.group(1) if found else None


def pytest_report_header(config: pytest.Config) -> str:
    """``bpframe <version>; plugins installed: <distributions>`` (entry points only; nothing is imported), and
    which plugins strict mode covers."""
    dists = set()
    for ep in metadata.entry_points(group="bpframe"):
        dist = getattr(ep, "dist", None)
        dists.add(f"{dist.metadata['Name']} {dist.version}" if dist is not None else ep.name)
    header = f"bpframe {__version__}; plugins installed: {', '.join(sorted(dists)) or 'none'}"
    narrowed = config.stash.get(_NARROWED, None)
    if narrowed is not None:
        covered = narrowed[1] or "none (no [project] name in pyproject.toml)"
        header += f"; {_STRICT}=1 applies to the project under test: {covered}"
    return header


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The plugin problems that could not be shown as warnings (warnings were errors), once, at the end."""
    unshown = unshown_warnings()
    if unshown:
        terminalreporter.section("bpframe plugin warnings")
        for message in dict.fromkeys(unshown):
            terminalreporter.write_line(message)


@pytest.fixture
def bpframe_check() -> Callable[[Any], None]:
    """Run the bpframe conformance kit on an ``Activation``, a ``Loss``, an ``OptimizerSpec``, an ``Initializer``,
    a plugin module, or a plugin or distribution name.

    A failure fails the test with the kit's report (which check, at which input, by how much, in which function,
    file and line), once, and no traceback.

    Examples
    --------
    .. code-block:: python

        def test_conformance(bpframe_check):
            bpframe_check("bpframe-my-plugin")
    """

    def check(target: Any) -> None:
        __tracebackhide__ = True
        try:
            run_check(target)
            failure = None
        except ConformanceError as exc:
            failure = str(exc)
        if failure is not None:  # outside the except block: the report, once, with no chained exception
            pytest.fail(failure, pytrace=False)

    return check
