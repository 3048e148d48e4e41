"""End to end: a plugin package built in a temporary folder, pip-installed into a real virtual environment beside
bpframe, is discovered by a fresh Python process, trains a network, and disappears when uninstalled."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest
from venvs import make_venv

pytestmark = pytest.mark.slow

PYPROJECT = """\
[build-system]
requires = ["setuptools>=70"]
build-backend = "setuptools.build_meta"

[project]
name = "bpframe-cubic"
version = "0.1.0"
dependencies = ["bpframe"]

[project.entry-points.bpframe]
cubic = "bpframe_cubic"
"""

MODULE = '''\
"""A third-party activation: z + z**3 / 3, derivative 1 + z**2."""

from bpframe import Activation, hookimpl


def cubic(z):
    return z + z * z * z / 3.0


def cubic_prime(z):
    return 1.0 + z * z


@hookimpl
def bpframe_register_activations(register):
    register(Activation("cubic", cubic, cubic_prime))
'''

CHECK = """
import json, numpy as np, bpframe as bp
from bpframe.plugins import get_registry
names = bp.activations()
out = {"names": names}
if "cubic" in names:
    prov = get_registry().activations.get("cubic").provenance
    out["provenance"] = [prov.plugin, prov.distribution, prov.version]
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3)); Y = (X.sum(axis=1, keepdims=True) > 0).astype(float)
    net = bp.Network([3, 6, 1], ["cubic", "sigmoid"], "binary_cross_entropy", seed=0)
    out["gradcheck"] = bp.gradient_check(net, X[:8], Y[:8]).max_error
    history = net.fit(X, Y, epochs=60, batch_size=8, eta=0.2, verbose=0)
    out["accuracy"] = net.evaluate(X, Y)["accuracy"]
    out["first_cost"], out["last_cost"] = history.cost[0], history.cost[-1]
print(json.dumps(out))
"""


def run(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python), *args], capture_output=True, text=True, check=False, timeout=600)


def test_installed_plugin_is_discovered_trains_and_uninstalls(tmp_path):
    source = tmp_path / "bpframe-cubic"
    source.mkdir()
    (source / "pyproject.toml").write_text(PYPROJECT)
    (source / "bpframe_cubic.py").write_text(MODULE)
    python = make_venv(tmp_path / "venv")

    installed = run(python, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", str(source))
    assert installed.returncode == 0, installed.stdout + installed.stderr

    result = run(python, "-c", textwrap.dedent(CHECK))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert "cubic" in out["names"] and "sigmoid" in out["names"]
    assert out["provenance"] == ["cubic", "bpframe-cubic", "0.1.0"]
    assert out["gradcheck"] < 1e-6
    assert out["accuracy"] >= 0.9 and out["last_cost"] < out["first_cost"]

    removed = run(python, "-m", "pip", "uninstall", "-y", "bpframe-cubic")
    assert removed.returncode == 0, removed.stderr
    after = json.loads(run(python, "-c", textwrap.dedent(CHECK)).stdout)
    assert "cubic" not in after["names"] and "sigmoid" in after["names"]
