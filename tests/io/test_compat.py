"""Model files of the released format 1 (written by commit 9409583, kept in tests/data/model_files): they load
exactly as written, describe themselves, resume training where they stopped, and are saved again as format 2.

The oracle is the file itself, read with NumPy and ``json`` alone (``numpy.load(..., allow_pickle=False)``).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from io_fixtures import edit_metadata, read_members, read_metadata

import bpframe as bp
from bpframe.datasets import xor
from bpframe.io import OptimizerState, describe_model, load_network, save_network

SAMPLES = Path(__file__).parents[1] / "data" / "model_files"
#: What each committed file holds: sizes, dtype, seed, the SHA-256 of theta's bytes (first 16 hex digits), the
#: optimizer's name and step, and the epochs trained.
EXPECTED = {
    "v1_adam_float64.npz": ([2, 4, 2], "float64", 7, "b24df1e3f700a3bd", ("adam", 6), [1, 2, 3]),
    "v1_momentum_float32.npz": ([2, 3, 1], "float32", None, "faed85bd003ef99e", ("momentum", 2), [1, 2]),
    "v1_sgd_no_optimizer.npz": ([2, 3, 1], "float64", 1, "0527cc9dd60cc823", None, [1, 2]),
}


def oracle(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """The metadata and arrays of a file, read without bpframe."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    return json.loads(arrays.pop("metadata").tobytes().decode("utf-8")), arrays


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_committed_samples_are_format_1_as_written(name):
    metadata, arrays = oracle(SAMPLES / name)
    sizes, dtype, seed, digest, optimizer, epochs = EXPECTED[name]
    assert (metadata["format_version"], metadata["sizes"], metadata["dtype"], metadata["seed"]) == (
        1,
        sizes,
        dtype,
        seed,
    )
    assert hashlib.sha256(arrays["theta"].tobytes()).hexdigest()[:16] == digest
    assert metadata["history"]["epoch"] == epochs
    if optimizer is None:
        assert metadata["optimizer"] is None and "optimizer_state" not in arrays
    else:
        assert (metadata["optimizer"]["config"]["name"], metadata["optimizer"]["step"]) == optimizer


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_format_1_loads_exactly_as_written(name):
    path = SAMPLES / name
    metadata, arrays = oracle(path)
    net = load_network(path)
    assert list(net.sizes) == metadata["sizes"] and net.dtype.name == metadata["dtype"] and net.seed == metadata["seed"]
    assert [a.name for a in net.activations] == [record["name"] for record in metadata["activations"]]
    assert net.loss.name == metadata["loss"]["name"]
    assert net.parameters().tobytes() == arrays["theta"].tobytes()
    assert net.history.as_dict() == metadata["history"]
    if metadata["optimizer"] is None:
        assert net._model.optimizer is None
    else:
        state = net._model.optimizer
        assert (state.config, state.step) == (metadata["optimizer"]["config"], metadata["optimizer"]["step"])
        assert state.state.dtype == net.dtype and state.state.tobytes() == arrays["optimizer_state"].tobytes()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_format_1_is_described_as_format_1(name):
    text = describe_model(SAMPLES / name)
    assert text.startswith(f"{SAMPLES / name}: bpframe model, format 1, saved by bpframe 0.1.0 at 2026-")
    assert f"  history    {len(EXPECTED[name][5])} epochs; last: cost " in text


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_format_1_saved_again_is_format_2_with_the_same_contents(tmp_path, name):
    loaded = load_network(SAMPLES / name)
    again = save_network(loaded, tmp_path / "again.npz", include_optimizer=True)
    metadata = read_metadata(again)
    assert metadata["format_version"] == 2
    assert metadata["history"]["lengths"][0] == len(EXPECTED[name][5])
    assert "history.npy" in read_members(again)
    reloaded = load_network(again)
    assert reloaded.history == loaded.history
    assert reloaded.parameters().tobytes() == loaded.parameters().tobytes()
    if loaded._model.optimizer is not None:
        assert metadata["optimizer"]["rows"] == loaded._model.optimizer.state.shape[0]
        assert reloaded._model.optimizer.state.tobytes() == loaded._model.optimizer.state.tobytes()
        assert reloaded._model.optimizer.step == loaded._model.optimizer.step


def built_from_the_file(path: Path) -> bp.Network:
    """The network of a sample, assembled by hand from the file's own arrays (not through bpframe.io)."""
    metadata, arrays = oracle(path)
    activations = [record["name"] for record in metadata["activations"]]
    net = bp.Network(metadata["sizes"], activations, metadata["loss"]["name"], dtype=metadata["dtype"],
                     seed=metadata["seed"])  # fmt: skip
    net.set_parameters(arrays["theta"])
    net.history = bp.History(**metadata["history"])
    record = metadata["optimizer"]
    net._model.optimizer = OptimizerState(record["config"], arrays["optimizer_state"].copy(), record["step"])
    return net


@pytest.mark.parametrize(
    ("name", "optimizer", "targets"),
    [("v1_adam_float64.npz", bp.Adam(), "labels"), ("v1_momentum_float32.npz", bp.Momentum(mu=0.9), "columns")],
)
def test_format_1_resumes_training_with_its_optimizer_state(tmp_path, name, optimizer, targets):
    X, Y = xor()
    y = Y[:, 0].astype(np.int64) if targets == "labels" else Y
    path = shutil.copy(SAMPLES / name, tmp_path / name)  # never touch the committed file
    saved_step = load_network(path)._model.optimizer.step
    resumed, by_hand = load_network(path), built_from_the_file(path)
    fresh = load_network(path)
    fresh._model.optimizer = None
    for net in (resumed, by_hand, fresh):  # unshuffled: the float32 sample has no seed to shuffle alike
        net.fit(X, y, epochs=1, batch_size=2, eta=0.01, optimizer=optimizer, shuffle=False, verbose=0)
    assert resumed.parameters().tobytes() == by_hand.parameters().tobytes()
    assert resumed.parameters().tobytes() != fresh.parameters().tobytes()  # the saved state was used
    assert resumed._model.optimizer.step == saved_step + 2 == fresh._model.optimizer.step + saved_step
    assert resumed.history.epoch == [*EXPECTED[name][5], len(EXPECTED[name][5]) + 1]


def test_a_format_1_history_with_shorter_validation_columns_loads(tmp_path):
    """bpframe 0.1.0 wrote such files (a fit without validation data after one with it) but refused to read them."""
    path = shutil.copy(SAMPLES / "v1_sgd_no_optimizer.npz", tmp_path / "m.npz")
    edit_metadata(path, lambda m: m["history"].update(val_cost=[0.75], val_accuracy=[0.5]))
    history = load_network(path).history
    assert (history.epoch, history.val_cost, history.val_accuracy) == ([1, 2], [0.75], [0.5])
    edit_metadata(path, lambda m: m["history"].update(val_cost=[0.75, 0.5, 0.25]))
    with pytest.raises(bp.ModelFileError) as info:
        load_network(path)
    assert str(info.value) == f"{path}: invalid history in the metadata: 'val_cost' has 3 values for 2 epochs"
