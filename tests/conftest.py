"""Test-suite wide settings: the ``jit`` marker skips tests that need numba's compiler under NUMBA_DISABLE_JIT."""

from __future__ import annotations

import os

import pytest

JIT_DISABLED = os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not JIT_DISABLED:
        return
    skip = pytest.mark.skip(reason="needs numba's compiler (NUMBA_DISABLE_JIT is set)")
    for item in items:
        # the conformance kit's doctests compile plugin functions, like its tests
        if "jit" in item.keywords or item.name.startswith("bpframe.testing."):
            item.add_marker(skip)


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
