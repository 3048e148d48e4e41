"""The packages in plugins/, built as wheels and pip-installed into one real virtual environment: discovered by a
fresh process with their provenance, passing their own tests and ``bpframe plugins --check``, usable in training;
a broken sample package is reported by name; uninstalling removes the names and a saved model then says what to
install.

One venv and few subprocesses: the venv sees this environment (bpframe, numpy, pytest, pip, setuptools) through a
.pth file, as in test_plugin_install.py, and gets only the packages under test installed into it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from venvs import make_venv

pytestmark = [pytest.mark.slow, pytest.mark.one_python]

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "bpframe-activations-extra": [
        "elu", "gelu", "gelu_tanh", "hard_sigmoid", "mish", "selu", "silu", "softsign", "swish",
    ],
    "bpframe-losses-extra": ["hinge", "huber", "log_cosh", "mae", "squared_hinge"],
    "bpframe-training-log": [],
    "bpframe-plugin-template": ["arctan"],
    "bpframe-optimizers-extra": ["adamw", "rmsprop"],
    "bpframe-initializers-extra": ["glorot_normal", "he_uniform", "identity", "lecun_normal", "orthogonal"],
}  # fmt: skip
#: the version of each package (as its pyproject.toml states it), and the kind of object it registers
VERSIONS = {
    name: re.search(r'^version = "([^"]+)"', (ROOT / "plugins" / name / "pyproject.toml").read_text(), re.M).group(1)
    for name in PACKAGES
}
KINDS = {
    "bpframe-activations-extra": "activation", "bpframe-losses-extra": "loss", "bpframe-training-log": "plugin",
    "bpframe-plugin-template": "activation", "bpframe-optimizers-extra": "optimizer",
    "bpframe-initializers-extra": "initializer",
}  # fmt: skip

OFFLINE = ("--no-deps", "--no-build-isolation", "--no-index")

BROKEN_PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "bpframe-broken-sample"
version = "0.1.0"
dependencies = ["bpframe"]

[project.entry-points.bpframe]
badmath = "bpframe_broken_math"
missing = "bpframe_broken_import"

[tool.setuptools]
py-modules = ["bpframe_broken_math", "bpframe_broken_import"]
"""

BROKEN_MATH = '''\
"""Imports fine; one activation has a wrong derivative, one cannot be compiled."""

import math

from bpframe import Activation, hookimpl


def wrong_slope(z):
    return math.tanh(z)


def wrong_slope_prime(z):
    return 1.0 - math.tanh(z)


def _double(z):
    return 2.0 * z


def not_compiled(z):
    return _double(z)


def not_compiled_prime(z):
    return 2.0


@hookimpl
def bpframe_register_activations(register):
    register(Activation("wrong_slope", wrong_slope, wrong_slope_prime))
    register(Activation("not_compiled", not_compiled, not_compiled_prime))
'''

BROKEN_IMPORT = "import bpframe_missing_dependency  # not installed anywhere\n"

DISCOVER = """
import json, sys
import numpy as np
import bpframe as bp
from bpframe.io import load_network, save_network
from bpframe.plugins import get_registry

registry = get_registry()
out = {"activations": bp.activations(), "losses": bp.losses()}
out["provenance"] = {
    entry.spec.name: [entry.provenance.plugin, entry.provenance.distribution, entry.provenance.version]
    for table in registry.tables() for entry in table.entries.values()
    if entry.provenance.distribution != "bpframe"
}
out["plugins"] = [p.distribution for p in registry.plugins]
out["failures"] = [[f.provenance.distribution, f.error] for f in registry.failures]
model = sys.argv[1]
if "gelu" in out["activations"]:  # train with an activation, a loss, an optimizer and initializers from plugins
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(128, 2))
    Y = np.sin(X[:, :1]) + 0.5 * X[:, 1:]
    net = bp.Network([2, 8, 1], ["gelu", "identity"], "huber", init=["orthogonal", "lecun_normal"], seed=0)
    out["gradcheck"] = bp.gradient_check(net, X[:8], Y[:8]).max_error
    history = net.fit(X, Y, epochs=40, batch_size=16, eta=0.01, optimizer="rmsprop", verbose=0)
    out["cost"] = [history.cost[0], history.cost[-1]]
    save_network(net, model, include_optimizer=True)
else:
    try:
        load_network(model)
    except bp.ModelFileError as exc:
        out["load_error"] = str(exc)
print(json.dumps(out))
"""


def run(python: Path, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None):
    """Run the venv's python; ``env`` adds variables to this environment's."""
    env = {**os.environ, **(env or {})}
    return subprocess.run([str(python), *args], capture_output=True, text=True, timeout=900, cwd=cwd, env=env)


def pip(python: Path, *args: str) -> None:
    result = run(python, "-m", "pip", "--disable-pip-version-check", "-q", *args)
    assert result.returncode == 0, f"pip {' '.join(args)}:\n{result.stdout}{result.stderr}"


def discover(python: Path, model: Path, env: dict[str, str] | None = None) -> dict:
    """What a fresh process sees (and, with the extras installed, trains and saves)."""
    result = run(python, "-c", DISCOVER, str(model), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def blocks(report: str) -> dict[str, list[str]]:
    """``bpframe plugins --check`` output after its listing, as {plugin header: its indented lines}."""
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for line in report.partition("conformance checks:\n")[2].splitlines()[:-1]:
        if line.startswith(" "):
            current.append(line)
        else:
            current = found.setdefault(line, [])
    return found


def object_names(lines: list[str]) -> list[str]:
    """The names on the PASS/FAIL lines of one plugin's block."""
    kinds = (["activation"], ["loss"], ["optimizer"], ["initializer"])
    return [line.split()[2] for line in lines if line.split()[1:2] in kinds]


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """Copies of plugins/*, so that building never writes into the source tree, and the broken sample."""
    base = tmp_path_factory.mktemp("plugin-sources")
    skip = shutil.ignore_patterns("build", "*.egg-info", "__pycache__", ".pytest_cache")
    for name in PACKAGES:
        shutil.copytree(ROOT / "plugins" / name, base / name, ignore=skip)
    broken = base / "bpframe-broken-sample"
    broken.mkdir()
    (broken / "pyproject.toml").write_text(BROKEN_PYPROJECT)
    (broken / "bpframe_broken_math.py").write_text(BROKEN_MATH)
    (broken / "bpframe_broken_import.py").write_text(BROKEN_IMPORT)
    return base


def test_plugin_packages_install_work_and_uninstall(sources, tmp_path):
    python = make_venv(tmp_path / "venv")
    wheels = tmp_path / "wheels"
    pip(python, "wheel", *OFFLINE, "-w", str(wheels), *[str(sources / name) for name in PACKAGES])
    built = sorted(p.name for p in wheels.glob("*.whl"))
    assert built == sorted(f"{name.replace('-', '_')}-{VERSIONS[name]}-py3-none-any.whl" for name in PACKAGES)
    pip(python, "install", *OFFLINE, *[str(wheels / name) for name in built])

    # a fresh process discovers every name with its distribution, and trains with an extra activation and loss
    log = tmp_path / "train.csv"
    model = tmp_path / "gelu-huber.npz"
    found = discover(python, model, env={"BPFRAME_TRAINING_LOG": str(log)})
    assert found["failures"] == []
    for dist, names in PACKAGES.items():
        assert dist in found["plugins"]
        for name in names:
            assert found["provenance"][name][1:] == [dist, VERSIONS[dist]], name
    assert {"sigmoid", "softmax"} <= set(found["activations"]) and "quadratic" in found["losses"]
    assert found["gradcheck"] < 1e-6
    first, last = found["cost"]
    assert last < 0.2 * first, found["cost"]
    rows = log.read_text().splitlines()
    assert rows[0] == "run,epoch,epochs,eta,cost,accuracy,val_cost,val_accuracy,seconds" and len(rows) == 1 + 40

    # each package's own tests, with the venv's python: the kit in one line, plus their own checks
    package_tests = [str(sources / name / "tests") for name in PACKAGES]
    tests = run(python, "-m", "pytest", "-p", "no:cacheprovider", "-rA", "-q", *package_tests, cwd=tmp_path)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    passed = {line.rsplit("/", 1)[-1] for line in tests.stdout.splitlines() if line.startswith("PASSED ")}
    for dist, names in PACKAGES.items():
        module = f"test_{dist.replace('-', '_')}.py"
        expected = {f"{module}::test_conformance[{KINDS[dist]}:{name}]" for name in names}
        # a plugin that registers no math has one case: that it loaded
        expected = expected or {f"{module}::test_conformance[plugin:{dist.removeprefix('bpframe-').replace('-', '_')}]"}
        assert expected <= passed, sorted(expected - passed)
        assert len([p for p in passed if p.startswith(module)]) > len(expected), f"{dist} has tests beyond the kit"
    assert " failed" not in tests.stdout

    # a broken sample: the plugin that cannot import is reported by name; the other's math fails the kit
    pip(python, "install", *OFFLINE, str(sources / "bpframe-broken-sample"))
    check = run(python, "-m", "bpframe", "plugins", "--check")
    assert check.returncode == 1, check.stdout + check.stderr
    assert (
        "bpframe-broken-sample 0.1.0 (plugin 'missing'): import of 'bpframe_broken_import' failed: "
        "ModuleNotFoundError: No module named 'bpframe_missing_dependency'"
    ) in check.stdout
    report = blocks(check.stdout)
    missing = report["bpframe-broken-sample 0.1.0 (plugin 'missing')"]
    assert missing[0].startswith("  FAIL  load") and "No module named 'bpframe_missing_dependency'" in missing[1]
    badmath = "\n".join(report["bpframe-broken-sample 0.1.0 (plugin 'badmath')"])
    assert "  FAIL  activation not_compiled" in badmath and "  FAIL  activation wrong_slope" in badmath
    assert "compiles: sigma cannot be compiled by numba for float64 inputs" in badmath
    assert "Untyped global name '_double'" in badmath and "sigma is bpframe_broken_math.not_compiled (" in badmath
    assert (
        "derivative: sigma_prime disagrees with the central difference of sigma at 24 of 43 inputs; "
        "worst at z=-1e+300: sigma_prime=2.0, difference quotient=0, error 2"
    ) in badmath
    assert "sigma_prime is bpframe_broken_math.wrong_slope_prime (" in badmath  # with its installed file and line
    for dist, names in PACKAGES.items():
        lines = next(lines for header, lines in report.items() if header.startswith(f"{dist} {VERSIONS[dist]} "))
        assert all(line.startswith(("  PASS", "  hooks:")) for line in lines), lines
        assert object_names(lines) == names
    assert "  hooks: bpframe_epoch_end, bpframe_epoch_start, bpframe_fit_end, bpframe_fit_start" in check.stdout
    assert check.stdout.rstrip().endswith("3 failed, in 2 plugins")

    # uninstalled: the names disappear, and the saved model names both packages to install, one line each
    pip(python, "uninstall", "-y", "bpframe-activations-extra", "bpframe-losses-extra", "bpframe-broken-sample")
    after = discover(python, model)
    assert not set(PACKAGES["bpframe-activations-extra"]) & set(after["activations"])
    assert "huber" not in after["losses"] and "arctan" in after["activations"] and after["failures"] == []
    assert "2 objects the model needs are not registered by any installed plugin:" in after["load_error"]
    assert "  activation 'gelu' (layer 1): it came from bpframe-activations-extra 0.2.0" in after["load_error"]
    assert '  pip install "bpframe-activations-extra==0.2.0"    # gelu' in after["load_error"]
    assert '  pip install "bpframe-losses-extra==0.1.0"    # huber' in after["load_error"]
