"""A warm kernel cache, compiled once per test session and copied by the tests that start from one."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NamedTuple

import pytest
from kernel_processes import run, train

from bpframe.kernels import cache


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


@pytest.fixture(scope="session")
def engine_on_disk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder holding at least the float64 engine and the blocks of ``train([6, 5, 3], ["tanh",
    "softmax"])``, for tests that need the engine on disk but not an exact list of files: a copy of this Python's
    folder of the session's own kernel cache (``BPFRAME_CACHE_DIR``, which tox shares between environments) after
    that job ran in it. So the engine is compiled there at most once per Python and cache, not once per session
    as for ``warm_template`` (about 15 s). Tests never write to it; they copy it."""
    own = Path(os.environ["BPFRAME_CACHE_DIR"]) if os.environ.get("BPFRAME_CACHE_DIR") else cache.cache_base()
    job = run(train([6, 5, 3], ["tanh", "softmax"]), own, env={"BPFRAME_ENGINE": "compiled"})
    assert {"engine-train_batches", "engine-evaluate"} <= set(job["loaded"] + job["compiled"])
    folder = tmp_path_factory.mktemp("engine-on-disk")
    versioned = cache._versioned(folder)  # this bpframe, numba and Python: all a process here reads
    shutil.copytree(cache._versioned(own), versioned, ignore=shutil.ignore_patterns("*.tmp"))
    return folder
