"""Test-suite wide settings: under NUMBA_DISABLE_JIT the ``jit`` marker skips tests that need numba's compiler, the
``jit_coverage`` marker tests that are slow as plain Python (the nojit environment runs those with the JIT on), and
the scikit-learn estimators' doctests (slow as plain Python) are skipped."""

from __future__ import annotations

import os

import pytest

JIT_DISABLED = os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not JIT_DISABLED:
        return
    skip = pytest.mark.skip(reason="needs numba's compiler (NUMBA_DISABLE_JIT is set)")
    slow = pytest.mark.skip(
        reason="fits real data sets as plain Python without the JIT (70-80 s for the three in CI); the py3xx "
        "environments run it, and tests/sklearn covers the same lines here"
    )
    later = pytest.mark.skip(
        reason="slow as plain Python: the nojit environment runs it with the JIT on (pytest -m jit_coverage)"
    )
    for item in items:
        # the conformance kit's doctests compile plugin functions, like its tests
        if "jit" in item.keywords or item.name.startswith("bpframe.testing."):
            item.add_marker(skip)
        elif "jit_coverage" in item.keywords:
            item.add_marker(later)
        # the package's and the estimators' doctests fit real data sets: 70-80 s of the nojit environment in CI
        elif item.name == "bpframe.sklearn" or item.name.startswith("bpframe.sklearn."):
            item.add_marker(slow)


@pytest.fixture(autouse=True)
def _numpy_error_model():
    """Compiled kernels use numba's NumPy error model: inf and nan without warnings. Without the compiler the
    same code runs as NumPy, whose warnings pytest would turn into errors; silence them the same way."""
    if not JIT_DISABLED:
        yield
        return
    import numpy as np

    with np.errstate(all="ignore"):
        yield
