"""One OptimizerState: what training keeps, what a snapshot copies and what a loaded model file restores."""

from __future__ import annotations

import numpy as np
import pytest

import bpframe as bp
import bpframe.io
import bpframe.io._schema
import bpframe.modelfile  # the old module, kept for a release: its names warn and point to the new place
import bpframe.state


def test_one_class_under_every_name():
    assert bpframe.io.OptimizerState is bpframe.state.OptimizerState
    assert bpframe.io._schema.OptimizerState is bpframe.state.OptimizerState
    with pytest.warns(DeprecationWarning, match=r"bpframe\.modelfile\.OptimizerState moved to bpframe\.io\._schema"):
        assert bpframe.modelfile.OptimizerState is bpframe.state.OptimizerState


def test_a_saved_and_loaded_models_optimizer_state_is_that_class_with_equal_arrays(tmp_path):
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(12, 3)), rng.integers(0, 2, size=12)
    net = bp.Network([3, 4, 2], seed=0)
    net.fit(X, y, epochs=2, batch_size=4, eta=0.01, optimizer=bp.Adam(), verbose=0)
    trained = net.snapshot().optimizer
    assert type(trained) is bpframe.state.OptimizerState and trained.step == 6

    path = net.save(tmp_path / "m.npz", include_optimizer=True)
    read = bpframe.io._schema.read_model(str(path))[1].optimizer
    loaded = bp.load(path).snapshot().optimizer

    assert type(read) is bpframe.state.OptimizerState and type(loaded) is bpframe.state.OptimizerState
    assert np.array_equal(read.state, loaded.state) and (read.config, read.step) == (loaded.config, loaded.step)
    assert loaded.config == trained.config and loaded.config["name"] == "adam"
    assert loaded.step == 6
    assert loaded.state.shape == (2, 26) and np.array_equal(loaded.state, trained.state)
    assert loaded.state.any()  # the moments are real numbers, not a zeroed placeholder


def test_copy_is_deep():
    state = bpframe.state.OptimizerState({"name": "momentum", "mu": 0.9}, np.ones((1, 5)), 4)
    copied = state.copy()
    copied.state[0, 0], copied.config["mu"], copied.step = 7.0, 0.5, 9
    assert state.state[0, 0] == 1.0 and state.config["mu"] == 0.9 and state.step == 4
