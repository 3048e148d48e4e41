"""The pytest plugin for bpframe plugin authors, loaded through bpframe's ``pytest11`` entry point.

It adds the :func:`bpframe_check` fixture and a report-header line naming bpframe and the installed bpframe
plugins. Loading it costs nothing: the kit (and numba) are imported when a check runs.

The one line that runs the whole kit over a package needs no fixture (it also works where this plugin is not
loaded, e.g. with bpframe on ``PYTHONPATH``)::

    test_conformance = bpframe.testing.conformance_tests("bpframe-my-plugin")

The fixture is for the other cases: checking objects your tests build, or a plugin chosen at run time::

    def test_my_factory(bpframe_check):
        bpframe_check(my_plugin.make_huber(2.0, "huber_2"))
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata
from typing import Any

import pytest

__all__ = ["bpframe_check", "pytest_report_header"]


def pytest_report_header(config: pytest.Config) -> str:
    """``bpframe <version>; plugins installed: <distributions>`` (entry points only; nothing is imported)."""
    from ._version import __version__

    dists = set()
    for ep in metadata.entry_points(group="bpframe"):
        dist = getattr(ep, "dist", None)
        dists.add(f"{dist.metadata['Name']} {dist.version}" if dist is not None else ep.name)
    return f"bpframe {__version__}; plugins installed: {', '.join(sorted(dists)) or 'none'}"


@pytest.fixture
def bpframe_check() -> Callable[[Any], None]:
    """Run the bpframe conformance kit on an ``Activation``, a ``Loss``, or a plugin or distribution name.

    A failure fails the test with the kit's report (which check, at which input, by how much) and no traceback.

    Examples
    --------
    .. code-block:: python

        def test_conformance(bpframe_check):
            bpframe_check("bpframe-my-plugin")
    """

    def check(target: Any) -> None:
        from .activation import Activation
        from .loss import Loss
        from .testing import ConformanceError, check_activation, check_loss, check_plugin

        __tracebackhide__ = True
        try:
            if isinstance(target, Activation):
                check_activation(target)
            elif isinstance(target, Loss):
                check_loss(target)
            elif isinstance(target, str):
                check_plugin(target)
            else:
                raise TypeError(
                    f"bpframe_check expects a bpframe.Activation, a bpframe.Loss or a plugin or distribution name, "
                    f"got {type(target).__name__}"
                )
        except ConformanceError as exc:
            pytest.fail(str(exc), pytrace=False)

    return check
