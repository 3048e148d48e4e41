"""The configuration guide's table lists every environment variable bpframe reads, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import bpframe.config

ROOT = Path(__file__).resolve().parents[1]
VARIABLE = re.compile(r"BPFRAME_[A-Z_]*[A-Z]")


def _table() -> list[str]:
    guide = (ROOT / "docs" / "guide" / "configuration.rst").read_text(encoding="utf-8")
    return sorted(set(re.findall(r"^``(BPFRAME_[A-Z_]*[A-Z])", guide, re.M)))


def test_the_table_lists_every_variable_named_in_the_source():
    in_source = {name for path in (ROOT / "bpframe").rglob("*.py") for name in VARIABLE.findall(path.read_text())}
    assert _table() == sorted(in_source)


def test_the_table_lists_every_variable_the_configuration_module_documents():
    assert _table() == sorted(set(VARIABLE.findall(bpframe.config.__doc__ or "")))
    assert _table() == [
        "BPFRAME_CACHE_DIR",
        "BPFRAME_DISABLE_PLUGINS",
        "BPFRAME_DISABLE_PLUGIN_AUTOLOAD",
        "BPFRAME_ENGINE",
        "BPFRAME_FASHION_MNIST_DIR",
        "BPFRAME_NO_KERNEL_CACHE",
        "BPFRAME_NUM_THREADS",
        "BPFRAME_STRICT_PLUGINS",
    ]
