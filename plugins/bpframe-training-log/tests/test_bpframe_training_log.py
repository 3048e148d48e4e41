"""bpframe-training-log: a real fit writes one record per epoch, equal to the fit's history."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

import bpframe as bp
from bpframe.testing import conformance_tests

# The kit on this distribution: it registers no math, so this checks that it loads and lists its hooks.
test_conformance = conformance_tests("bpframe-training-log")


def fit(epochs=3):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    Y = (X[:, :1] > 0).astype(float)
    net = bp.Network([2, 3, 1], "sigmoid", "quadratic", seed=0)
    history = net.fit(X, Y, epochs=epochs, batch_size=10, eta=0.5, validation_data=(X[:10], Y[:10]), verbose=0)
    return history


def test_csv_has_one_row_per_epoch_equal_to_the_history(tmp_path, monkeypatch):
    path = tmp_path / "logs" / "train.csv"
    monkeypatch.setenv("BPFRAME_TRAINING_LOG", str(path))
    history = fit(epochs=3)
    fit(epochs=2)  # a second fit appends under its own run id
    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 1, 2]
    assert len({r["run"] for r in rows[:3]}) == 1 and rows[0]["run"] != rows[3]["run"]
    assert [float(r["cost"]) for r in rows[:3]] == pytest.approx(history.cost, rel=1e-12)
    assert [float(r["val_accuracy"]) for r in rows[:3]] == pytest.approx(history.val_accuracy, rel=1e-12)
    assert float(rows[0]["eta"]) == 0.5 and rows[0]["epochs"] == "3"


def test_jsonl_records_the_whole_fit(tmp_path, monkeypatch):
    path = tmp_path / "train.jsonl"
    monkeypatch.setenv("BPFRAME_TRAINING_LOG", str(path))
    history = fit(epochs=2)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["event"] for r in records] == ["fit_start", "epoch", "epoch", "fit_end"]
    assert records[0]["settings"]["epochs"] == 2 and records[0]["settings"]["batch_size"] == 10
    assert [r["cost"] for r in records[1:3]] == pytest.approx(history.cost, rel=1e-12)
    assert records[-1] == {"event": "fit_end", "run": records[0]["run"], "reason": "completed", "epochs": 2}


def test_unset_variable_writes_nothing(monkeypatch):
    import bpframe_training_log

    written = []
    monkeypatch.setattr(bpframe_training_log, "_append", lambda path, record: written.append(record))
    monkeypatch.setenv("BPFRAME_TRAINING_LOG", "")
    fit(epochs=2)
    assert written == []
    monkeypatch.setenv("BPFRAME_TRAINING_LOG", "somewhere.jsonl")
    fit(epochs=2)
    assert [r["event"] for r in written] == ["fit_start", "epoch", "epoch", "fit_end"]


def test_unknown_suffix_is_reported_and_training_goes_on(tmp_path, monkeypatch):
    monkeypatch.setenv("BPFRAME_TRAINING_LOG", str(tmp_path / "train.txt"))
    with pytest.warns(bp.PluginWarning, match=r"bpframe-training-log.*must name a \.csv or \.jsonl file"):
        history = fit(epochs=2)
    assert len(history) == 2 and not (tmp_path / "train.txt").exists()
