"""Plugin faults and files, the cases the other suites leave out:

* with real installed distributions (tests/test_plugin_packages.py covers an import error, a wrong derivative and a
  non-compilable function that way): a registration hook that raises, a training hook that raises (warning, and
  PluginError in strict mode), two distributions claiming one name, and a model saved with a plugin that is then
  upgraded (a warning naming the file) — all in ONE virtual environment;
* a save into a folder without write permission leaves the previous file intact even when the tests run as root
  (tests/io/test_io.py skips its version as root, who ignores permission bits): the save runs in a child process
  without the capability that lets root write anywhere.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from venvs import make_venv

import bpframe as bp

REPO = Path(bp.__file__).resolve().parents[1]

# -- three small plugin distributions ------------------------------------------------------------------------------

PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "{version}"
dependencies = ["bpframe"]

[project.entry-points.bpframe]
{entry_points}

[tool.setuptools]
py-modules = [{modules}]
"""

RAISER = '''\
"""Registers an activation, then fails: nothing it registered may be used."""

from bpframe import Activation, hookimpl


def half(z):
    return 0.5 * z


def half_prime(z):
    return 0.5


@hookimpl
def bpframe_register_activations(register):
    register(Activation("half_registered", half, half_prime))
    raise RuntimeError("registry backend unavailable")
'''

NOISY = '''\
"""Loads fine; its training hook raises at the end of every epoch."""

from bpframe import hookimpl


@hookimpl
def bpframe_epoch_end(epoch):
    raise ValueError(f"log server down at epoch {epoch}")
'''

TWIN = '''\
"""Registers activation 'twin' ({which})."""

import math

from bpframe import Activation, hookimpl


def twin(z):
    return math.tanh({scale} * z)


def twin_prime(z):
    t = math.tanh({scale} * z)
    return {scale} * (1.0 - t * t)


@hookimpl
def bpframe_register_activations(register):
    register(Activation("twin", twin, twin_prime))
'''


def write_package(root: Path, name: str, version: str, modules: dict[str, str], entry_points: dict[str, str]) -> Path:
    folder = root / f"{name}-{version}"
    folder.mkdir(parents=True)
    folder.joinpath("pyproject.toml").write_text(
        PYPROJECT.format(
            name=name,
            version=version,
            entry_points="\n".join(f'{ep} = "{module}"' for ep, module in entry_points.items()),
            modules=", ".join(f'"{m}"' for m in modules),
        )
    )
    for module, source in modules.items():
        folder.joinpath(f"{module}.py").write_text(source)
    return folder


def run(python: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    quiet = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    return subprocess.run(
        [str(python), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
        env={**os.environ, **quiet, **(env or {})},
    )


def pip_install(python: Path, *sources: Path) -> None:
    result = run(
        python,
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--disable-pip-version-check",
        "-q",
        *map(str, sources),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def json_of(result: subprocess.CompletedProcess[str]) -> dict:
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.splitlines()[-1])


DISCOVER_AND_TRAIN = """
import json, os, sys, warnings
import numpy as np
import bpframe as bp
from bpframe import plugins

out = {}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    out["activations"] = bp.activations()
out["load_warnings"] = [[w.category.__name__, str(w.message)] for w in caught]
out["failures"] = [[f.provenance.distribution, f.provenance.plugin, f.error] for f in plugins.get_registry().failures]
try:
    bp.Network([2, 3, 1], ["twin", "sigmoid"], "binary_cross_entropy")
except bp.DuplicateNameError as exc:
    out["duplicate"] = str(exc)
try:
    plugins.load_registry(strict=True)
except bp.PluginError as exc:
    out["strict_load"] = str(exc)

# only the noisy training hook left in the way: with twin-b and raiser disabled, twin is twin-a's
plugins._registry = plugins.load_registry(disabled=["raiser", "bpframe-fault-twin-b"])
rng = np.random.default_rng(0)
X = rng.normal(size=(32, 2))
Y = (X[:, :1] > 0).astype(float)

def train():
    net = bp.Network([2, 3, 1], ["twin", "sigmoid"], "binary_cross_entropy", seed=0)
    net.fit(X, Y, epochs=3, batch_size=8, eta=0.5, verbose=0)
    return net

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    net = train()
out["training_warnings"] = [[w.category.__name__, str(w.message)] for w in caught]
os.environ["BPFRAME_STRICT_PLUGINS"] = "1"
try:
    train()
except bp.PluginError as exc:
    out["strict_training"] = str(exc)
del os.environ["BPFRAME_STRICT_PLUGINS"]
plugins._registry = plugins.load_registry(disabled=["raiser", "noisy", "bpframe-fault-twin-b"])
with warnings.catch_warnings():
    warnings.simplefilter("error")
    quiet = train()
out["same_parameters"] = net.parameters().tobytes() == quiet.parameters().tobytes()
quiet.save(sys.argv[1])  # built under the registry in use now (see test_a_model_saved_after_reload_plugins...)
out["outputs"] = quiet.feedforward(X[:4]).tolist()
print(json.dumps(out))
"""

LOAD = """
import json, sys, warnings
import numpy as np
import bpframe as bp

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    net = bp.load(sys.argv[1])
X = np.random.default_rng(0).normal(size=(32, 2))
print(json.dumps({
    "warnings": [[w.category.__name__, str(w.message)] for w in caught],
    "outputs": net.feedforward(X[:4]).tolist(),
}))
"""


@pytest.mark.slow
def test_broken_and_clashing_installed_plugins_and_an_upgraded_one(tmp_path):
    sources = tmp_path / "sources"
    raiser = write_package(
        sources,
        "bpframe-fault-raiser",
        "0.1.0",
        {"bpframe_fault_raiser": RAISER, "bpframe_fault_noisy": NOISY},
        {"raiser": "bpframe_fault_raiser", "noisy": "bpframe_fault_noisy"},
    )
    twin_a = write_package(
        sources,
        "bpframe-fault-twin-a",
        "0.1.0",
        {"bpframe_fault_twin_a": TWIN.format(which="a", scale=1.0)},
        {"twin_a": "bpframe_fault_twin_a"},
    )
    twin_b = write_package(
        sources,
        "bpframe-fault-twin-b",
        "0.2.0",
        {"bpframe_fault_twin_b": TWIN.format(which="b", scale=2.0)},
        {"twin_b": "bpframe_fault_twin_b"},
    )
    python = make_venv(tmp_path / "venv", extra_paths=[str(REPO)])
    pip_install(python, raiser, twin_a, twin_b)
    model = tmp_path / "twin.npz"

    found = json_of(run(python, "-c", DISCOVER_AND_TRAIN, str(model)))

    # a registration hook that raises: the plugin is skipped, with a warning naming distribution, version, error
    skipped = [m for c, m in found["load_warnings"] if c == "PluginWarning" and "(plugin 'raiser')" in m]
    assert len(skipped) == 1, found["load_warnings"]
    assert skipped[0].startswith(
        "bpframe plugin bpframe-fault-raiser 0.1.0 (plugin 'raiser') was skipped: hook "
        "bpframe_register_activations raised RuntimeError: registry backend unavailable"
    )
    assert "bpframe_fault_raiser.py:" in skipped[0]
    assert "half_registered" not in found["activations"]
    assert [f[:2] for f in found["failures"]] == [["bpframe-fault-raiser", "raiser"]]

    # two distributions registering one name: a warning naming both, then the name is unusable
    clash = [m for c, m in found["load_warnings"] if c == "PluginWarning" and "'twin'" in m]
    assert len(clash) == 1 and "activation 'twin' is registered by more than one plugin: " in clash[0]
    for owner in ("bpframe-fault-twin-a 0.1.0 (plugin 'twin_a')", "bpframe-fault-twin-b 0.2.0 (plugin 'twin_b')"):
        assert owner in clash[0] and owner in found["duplicate"]
    assert "twin" not in found["activations"] and "sigmoid" in found["activations"]
    assert "BPFRAME_DISABLE_PLUGINS" in found["duplicate"]
    assert "strict_load" in found and (
        "(plugin 'raiser') was skipped" in found["strict_load"] or "'twin' is registered" in found["strict_load"]
    )

    # a training hook that raises: reported once per fit, training goes on with the same results; strict: error
    assert found["training_warnings"] == [[
        "PluginWarning",
        "bpframe-fault-raiser 0.1.0 (plugin 'noisy'): hook bpframe_epoch_end raised ValueError: log server down at "
        "epoch 1; it is skipped for the rest of this training run",
    ]]  # fmt: skip
    assert found["strict_training"].startswith("bpframe-fault-raiser 0.1.0 (plugin 'noisy'): hook bpframe_epoch_end")
    assert found["same_parameters"] is True

    # the model was saved with twin-a 0.1.0; after an upgrade to 0.2.0 it loads, with a warning naming the file
    pip_install(
        python,
        write_package(
            sources,
            "bpframe-fault-twin-a",
            "0.2.0",
            {"bpframe_fault_twin_a": TWIN.format(which="a", scale=1.0)},
            {"twin_a": "bpframe_fault_twin_a"},
        ),
    )
    loaded = json_of(run(python, "-c", LOAD, str(model), env={"BPFRAME_DISABLE_PLUGINS": "raiser,noisy,twin_b"}))
    assert loaded["warnings"] == [[
        "PluginWarning",
        f"{model}: layer 1's activation 'twin' was saved with version 0.1.0 of bpframe-fault-twin-a, but version "
        "0.2.0 is installed; loading with the installed one, whose results may differ",
    ]]  # fmt: skip
    assert loaded["outputs"] == found["outputs"]


# -- a save into a folder without write permission, as root too ----------------------------------------------------

SAVE_INTO = """
import json, sys
import bpframe as bp
try:
    bp.Network([2, 5, 1], "relu", seed=1).save(sys.argv[1])
    print(json.dumps({"saved": True}))
except bp.ModelFileError as exc:
    print(json.dumps({"saved": False, "message": str(exc)}))
"""

_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH, _PR_CAPBSET_DROP = 1, 2, 24


def _without_root_overrides() -> None:
    """In the child, before exec: drop the capabilities that let root ignore permission bits."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def save_in_child(path: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    preexec = _without_root_overrides if os.geteuid() == 0 else None
    result = subprocess.run(
        [sys.executable, "-c", SAVE_INTO, str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env=env,
        preexec_fn=preexec,
    )
    return json_of(result)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="POSIX permissions; capabilities are Linux's")
@pytest.mark.parametrize("existing", [True, False], ids=["over-a-model", "new-file"])
def test_saving_into_a_read_only_folder_fails_naming_the_file_and_keeps_the_old_one(tmp_path, existing):
    folder = tmp_path / "models"
    folder.mkdir()
    path = folder / "model.npz"
    if existing:
        bp.Network([2, 3, 1], "tanh", seed=0).save(path)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    folder.chmod(0o500)
    try:
        outcome = save_in_child(path)
    finally:
        folder.chmod(0o700)
    assert outcome["saved"] is False, "the child could write into a read-only folder"
    assert outcome["message"].startswith(f"{path}: ") and os.strerror(errno.EACCES) in outcome["message"]
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    if existing:
        np.testing.assert_array_equal(bp.load(path).parameters(), bp.Network([2, 3, 1], "tanh", seed=0).parameters())


def test_a_model_saved_after_reload_plugins_keeps_its_provenance(tmp_path, monkeypatch):
    from bpframe import plugins

    monkeypatch.setattr(plugins, "_registry", plugins.get_registry())  # the other tests get this registry back
    net = bp.Network([2, 3, 1], "tanh", "quadratic", seed=0)
    bp.reload_plugins()
    path = net.save(tmp_path / "model.npz")
    from bpframe.io import describe_model

    text = describe_model(path)
    assert "layer 1    tanh (bpframe " in text and "loss       quadratic (bpframe " in text, text
    bp.load(path)  # no PluginWarning (warnings are errors in this suite)
