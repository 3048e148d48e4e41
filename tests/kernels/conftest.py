"""A warm kernel cache, compiled once per test session and copied by the tests that start from one."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest
from kernel_processes import run, train


class WarmCache(NamedTuple):
    folder: Path
    compiled: list[str]  # what the first run compiled, every cache empty


@pytest.fixture(scope="session")
def warm_template(tmp_path_factory: pytest.TempPathFactory) -> WarmCache:
    """A cache folder holding the float64 engine and the blocks of a [6, 5, 3] tanh/softmax network trained with
    cross-entropy and momentum (``train([6, 5, 3], ["tanh", "softmax"])``): what a user's first run leaves.
    Tests never write to it; they copy it (``kernel_processes.copy_cache``). Also what that first run compiled."""
    folder = tmp_path_factory.mktemp("warm-kernels")
    first = run(train([6, 5, 3], ["tanh", "softmax"]), folder, env={"BPFRAME_ENGINE": "compiled"})
    assert "engine-train_batches" in first["compiled"]
    return WarmCache(folder, first["compiled"])
