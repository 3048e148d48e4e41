"""bpframe train never loses work: every argument is checked before training, a validation split is held out
from the training data, early stopping restores and names the best epoch, Ctrl-C saves the model as it stands,
the test split is scored once, and every failure is one line with an exit status."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import bpframe as bp
from bpframe.cli import main
from bpframe.plugins import get_registry
from bpframe.registry import Provenance

XOR = ["train", "--dataset", "xor", "--hidden", "4", "--epochs", "2", "-q"]
DIGITS = ["train", "--hidden", "16", "--epochs", "3", "-q"]


def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def no_training(monkeypatch):
    """Make any training attempt fail the test: the argument checks must come first."""

    def fit(*args, **kwargs):
        raise AssertionError("training started before the arguments were checked")

    monkeypatch.setattr(bp.Network, "fit", fit)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--save", "/nonexistent-folder/m.npz"],
         "--save /nonexistent-folder/m.npz: the folder /nonexistent-folder does not exist; create it first"),
        (["--plot", "/nonexistent-folder/c.png"],
         "--plot /nonexistent-folder/c.png: the folder /nonexistent-folder does not exist; create it first"),
        (["--epochs", "0"], "--epochs must be an int >= 1, got 0"),
        (["--batch-size", "0"], "--batch-size must be an int >= 1, got 0"),
        (["--patience", "-1"], "--patience must be an int >= 0, got -1"),
        (["--validation-split", "1"],
         "--validation-split must be a fraction in [0, 1) (0 validates on the training data), got 1"),
        (["--monitor", "loss"], "--monitor loss: not a metric; use one of val_cost, val_accuracy, cost, accuracy"),
    ],
)  # fmt: skip
def test_arguments_are_checked_before_training(capsys, monkeypatch, extra, message):
    no_training(monkeypatch)
    status, out, err = run(capsys, *DIGITS, *extra)
    assert status == 1 and err == f"bpframe: error: {message}\n" and out == ""


def test_output_paths_that_are_folders_or_unwritable_are_refused(capsys, monkeypatch, tmp_path):
    no_training(monkeypatch)
    status, _, err = run(capsys, *DIGITS, "--save", str(tmp_path))
    assert status == 1 and err == f"bpframe: error: --save {tmp_path}: that is a folder; give a file name in it\n"
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.access(locked, os.W_OK):  # root can write anywhere: nothing to refuse
        pytest.skip("running as root")
    status, _, err = run(capsys, *DIGITS, "--save", str(locked / "m.npz"))
    assert (
        err == f"bpframe: error: --save {locked / 'm.npz'}: cannot write in the folder {locked} (permission denied)\n"
    )


@pytest.mark.parametrize("name", ["curves.xyz", "curves"])
def test_the_plot_format_is_checked_before_training(capsys, monkeypatch, tmp_path, name):
    pytest.importorskip("matplotlib")
    no_training(monkeypatch)
    target = tmp_path / name
    status, _, err = run(capsys, *DIGITS, "--plot", str(target))
    what = "matplotlib cannot write format 'xyz'" if name.endswith("xyz") else "no file extension to name the format"
    assert status == 1 and err.startswith(
        f"bpframe: error: --plot {target}: {what}; give a file name ending in one of "
    )
    assert ".png" in err and ".svg" in err and len(err.splitlines()) == 1


def test_a_validation_split_is_held_out_and_the_test_split_scored_once(capsys, monkeypatch, tmp_path):
    scored = []
    evaluate = bp.Network.evaluate

    def counting(self, X, Y):
        scored.append(len(X))
        return evaluate(self, X, Y)

    monkeypatch.setattr(bp.Network, "evaluate", counting)
    status, out, _ = run(capsys, *DIGITS, "--save", str(tmp_path / "m.npz"))
    assert status == 0
    assert "on digits (1437 training / 360 test samples)" in out
    assert "holding out 144 of 1437 training samples for validation (0.1, stratified, seed 0)" in out
    assert scored == [360]  # the test split, once, at the end
    net = bp.load(tmp_path / "m.npz")
    assert len(net.history.val_cost) == 3  # validation on the held-out rows every epoch


def test_a_problem_too_small_for_a_split_says_so(capsys):
    status, out, _ = run(capsys, *XOR)
    assert status == 0
    assert (
        "xor: 4 training samples are too few to hold out a validation split of 0.1 (every class on both sides); "
        "validating on the training data"
    ) in out
    status, out, _ = run(capsys, *XOR, "--validation-split", "0")
    assert "no validation split (--validation-split 0): validating on the training data" in out


@pytest.mark.jit_coverage
def test_early_stopping_names_the_epoch_it_restored(capsys, tmp_path):
    status, out, _ = run(capsys, "train", "--hidden", "16", "--epochs", "200", "--eta", "0.05", "--patience", "2",
                         "-q", "--save", str(tmp_path / "m.npz"))  # fmt: skip
    assert status == 0
    line = next(line for line in out.splitlines() if line.startswith("early stopping: "))
    best = int(line.split("after epoch ")[1].split(";")[0])
    assert line.startswith("early stopping: val_cost did not improve for 2 epochs after epoch ")
    assert f"; restored the whole state of epoch {best} (val_cost " in line
    net = bp.load(tmp_path / "m.npz")
    assert len(net.history) == best + 2 and min(net.history.val_cost) == net.history.val_cost[best - 1]
    assert f"done: {best + 2} epochs in " in out


class CtrlCAt:
    """A plugin that sends this process a real SIGINT after batch ``batch`` of epoch ``epoch``."""

    def __init__(self, epoch, batch):
        self.epoch, self.batch = epoch, batch

    @bp.hookimpl
    def bpframe_batches_end(self, epoch, done):
        if (epoch, done) == (self.epoch, self.batch):
            os.kill(os.getpid(), signal.SIGINT)


def interrupt_at(monkeypatch, epoch, batch):
    registry = get_registry()
    plugin = (CtrlCAt(epoch, batch), Provenance("ctrl-c-test", None, None))
    monkeypatch.setattr(registry, "plugin_objects", [*registry.plugin_objects, plugin])


def test_ctrl_c_saves_the_best_state_when_early_stopping_is_on(capsys, monkeypatch, tmp_path):
    interrupt_at(monkeypatch, epoch=4, batch=5)
    status, out, _ = run(capsys, *DIGITS[:-3], "--epochs", "50", "-q", "--save", str(tmp_path / "m.npz"))
    assert status == 130
    last = out.strip().splitlines()[-1]
    best = int(last.split("the whole state of epoch ")[1].split(",")[0])
    assert last == (
        f"interrupted in epoch 4 after 5 batches: saved the model with the whole state of epoch {best}, the best "
        f"val_cost so far to {tmp_path / 'm.npz'}"
    )
    net = bp.load(tmp_path / "m.npz")
    assert len(net.history) == 3 and net.history.val_cost[best - 1] == min(net.history.val_cost)


def test_ctrl_c_without_early_stopping_saves_the_model_as_it_stands(capsys, monkeypatch, tmp_path):
    interrupt_at(monkeypatch, epoch=2, batch=7)
    status, out, _ = run(capsys, *DIGITS[:-3], "--epochs", "50", "--patience", "0", "-q",
                         "--save", str(tmp_path / "m.npz"))  # fmt: skip
    assert status == 130
    assert out.strip().splitlines()[-1] == (
        f"interrupted in epoch 2 after 7 batches: saved the model as it stands to {tmp_path / 'm.npz'}"
    )
    net = bp.load(tmp_path / "m.npz")
    assert len(net.history) == 1 and net._model.optimizer.step == 41 + 7  # 41 batches an epoch, then 7 more


def test_ctrl_c_without_save_says_nothing_was_saved(capsys, monkeypatch):
    interrupt_at(monkeypatch, epoch=1, batch=2)
    status, out, _ = run(capsys, *DIGITS)
    assert status == 130 and out.strip().splitlines()[-1] == (
        "interrupted in epoch 1 after 2 batches; nothing saved (give --save PATH to keep the model when interrupted)"
    )


@pytest.mark.slow
def test_a_real_ctrl_c_in_a_real_process_saves_the_model(tmp_path):
    target = tmp_path / "m.npz"
    process = subprocess.Popen(
        [sys.executable, "-m", "bpframe", "train", "--epochs", "100000", "--patience", "0", "--save", str(target)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    for line in process.stdout:
        if line.startswith("epoch 2/"):  # training is under way
            process.send_signal(signal.SIGINT)
            break
    out, err = process.communicate(timeout=300)
    assert process.returncode == 130, err
    assert f"saved the model as it stands to {target}" in out.strip().splitlines()[-1]
    assert len(bp.load(target).history) >= 2


def test_an_unexpected_error_is_one_line_too(capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("something\nunexpected")

    monkeypatch.setattr(bp.Network, "fit", broken)
    status, _, err = run(capsys, *XOR)
    assert status == 1 and err == "bpframe: error: unexpected RuntimeError: something unexpected\n"


def test_defaults_chosen_on_validation_data():
    from bpframe.cli import build_parser

    args = build_parser().parse_args(["train"])
    assert (args.hidden, args.optimizer, args.eta, args.batch_size, args.epochs) == ([128], "adam", 0.001, 32, 100)
    assert (args.validation_split, args.patience, args.monitor) == (0.1, 10, "val_cost")
    assert np.isclose(args.lmbda, 0.0)
