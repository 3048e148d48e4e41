"""The bpframe command: every subcommand, its output, and one-line errors with a non-zero status."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from bpframe.cli import main


def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# 62 s in pure Python (CI's nojit coverage run, 1.5 s compiled); every py3.x environment runs it compiled
@pytest.mark.jit
def test_train_defaults_reach_96_percent_on_the_digits(tmp_path):
    """The README's main job, as a user runs it: a fresh process, the console entry point, no arguments."""
    out = subprocess.run([sys.executable, "-m", "bpframe", "train", "--save", str(tmp_path / "m.npz")],
                         capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert out.returncode == 0, out.stderr
    last = out.stdout.strip().splitlines()
    summary = next(line for line in last if line.startswith("done: "))
    accuracy = float(summary.split("test accuracy ")[1].split(",")[0])
    assert accuracy >= 0.96
    assert "epoch 1/100: cost " in out.stdout and "val_accuracy" in out.stdout
    assert (tmp_path / "m.npz").exists()


def test_train_options(capsys, tmp_path):
    status, out, _ = run(
        capsys, "train", "--dataset", "xor", "--hidden", "8", "--activation", "tanh,softmax", "--optimizer", "adam",
        "--eta", "0.05", "--epochs", "200", "--batch-size", "4", "--dtype", "float32", "--seed", "3", "-q",
        "--save", str(tmp_path / "xor.npz"),
    )  # fmt: skip
    assert status == 0
    assert "Network([2, 8, 2], activation=['tanh', 'softmax'], loss='cross_entropy', dtype='float32')" in out
    assert "done: 200 epochs" in out and "test accuracy 1.0000" in out
    status, out, _ = run(capsys, "info", str(tmp_path / "xor.npz"))
    assert status == 0 and "[2, 8, 2] (42 parameters, float32)" in out and "optimizer  adam, step 200" in out
    status, out, _ = run(capsys, "evaluate", str(tmp_path / "xor.npz"), "--dataset", "xor")
    assert status == 0 and "accuracy 1.0000" in out


@pytest.mark.jit_coverage
def test_early_stopping_and_schedule_options(capsys):
    status, out, _ = run(capsys, "train", "--epochs", "100", "--patience", "2", "--schedule", "step:5:0.5", "-q",
                         "--optimizer", "momentum", "--eta", "0.05")  # fmt: skip
    assert status == 0
    epochs = int(out.split("done: ")[1].split(" epochs")[0])
    assert epochs < 100


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--loss", "nope", "-q"], "bpframe: error: unknown loss 'nope'; available: binary_cross_entropy"),
        (["train", "--eta", "-1", "-q"], "bpframe: error: eta must be > 0, got -1.0"),
        (["train", "--activation", "relu,relu,softmax", "-q"], "bpframe: error: activation lists 3 activations"),
        (["evaluate", "/nonexistent/model.npz"], "bpframe: error: /nonexistent/model.npz"),
        (["train", "--dataset", "fashion-mnist", "--data-dir", "/nonexistent", "-q"], "bpframe: error: "),
    ],
)
def test_errors_are_one_line_with_status_1(capsys, argv, message):
    status, _, err = run(capsys, *argv)
    assert status == 1
    assert err.startswith(message)
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_optimizer_options_come_from_the_optimizer_table(capsys):
    """--optimizer takes any registered name; --opt KEY=VALUE and the per-name aliases (--mu, --beta1, ...) set
    its hyper-parameters with the table's validation, before any data is loaded."""
    argv = ["train", "--dataset", "xor", "--hidden", "4", "--epochs", "1", "-q"]
    status, out, _ = run(capsys, *argv, "--optimizer", "adam", "--beta1", "0.8", "--opt", "epsilon=1e-6")
    assert status == 0 and "optimizer Adam(beta1=0.8, beta2=0.999, epsilon=1e-06), eta 0.001" in out
    status, out, _ = run(capsys, *argv, "--optimizer", "nesterov", "--opt", "mu=0.5")
    assert status == 0 and "optimizer Nesterov(mu=0.5)" in out
    cases = [
        (["--optimizer", "momentum", "--beta1", "0.8"], "Momentum config has unknown key(s) 'beta1'; allowed: mu"),
        (["--optimizer", "rmsprop"], "unknown optimizer 'rmsprop'; available: adam, momentum, nesterov, sgd"),
        (
            ["--optimizer", "adam", "--beta2", "1.5"],
            "Adam: beta2 must be in [0, 1), got 1.5 (typical: 0.999; decay of the running mean of the squared "
            "gradient)",
        ),
        (["--opt", "mu=0.5", "--mu", "0.6"], "--opt mu=0.6 contradicts another value for mu: 0.5"),
    ]
    for extra, message in cases:
        status, out, err = run(capsys, *argv, *extra)
        assert status == 1 and err == f"bpframe: error: {message}\n" and out == "", extra


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--hidden", "a,b"])
    assert info.value.code == 2
    assert "expected comma-separated integers such as 64,32, got 'a,b'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["train", "--schedule", "linear"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["train", "--opt", "mu"])
    assert info.value.code == 2
    assert "argument --opt: expected KEY=NUMBER such as mu=0.8, got 'mu'" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["train", "evaluate", "info", "plugins", "gradcheck", "cache"])
def test_help_everywhere(capsys, command):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert "usage: bpframe " + command in capsys.readouterr().out


def test_plugins_lists_names_with_their_distribution(capsys):
    status, out, _ = run(capsys, "plugins")
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "activations:"
    sigmoid = next(line for line in lines if line.strip().startswith("sigmoid "))
    assert "bpframe 0." in sigmoid and "bpframe.default_plugins.activations" in sigmoid
    assert any(line.strip().startswith("cross_entropy ") for line in lines)


def test_gradcheck_passes_and_fails(capsys):
    status, out, _ = run(
        capsys, "gradcheck", "--sizes", "3,4,2", "--activation", "tanh,softmax", "--loss", "cross_entropy"
    )
    assert status == 0 and out.strip().endswith("PASS (tolerance 1e-06)")
    status, out, _ = run(capsys, "gradcheck", "--tolerance", "1e-30")
    assert status == 1 and "FAIL" in out


def test_cache_info_and_clear(capsys, tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("BPFRAME_CACHE_DIR", str(folder))
    status, out, _ = run(capsys, "cache", "info")
    assert status == 0 and out == f"kernel cache: {folder} (0 compiled kernels, 0.0 MiB)\n"
    ours = folder / "bpframe-0.0.0" / "numba-0.0-py3.0" / "block-activation-x-0123.bpk"
    ours.parent.mkdir(parents=True)
    ours.write_bytes(b"x" * 1000)
    (folder / "notes.txt").write_text("not bpframe's")
    status, out, _ = run(capsys, "cache", "info")
    assert status == 0 and out == f"kernel cache: {folder} (1 compiled kernels, 0.0 MiB)\n"
    status, out, _ = run(capsys, "cache", "clear")
    assert status == 0 and out == f"removed 1 kernel cache files (0.0 MiB) from {folder}\n"
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]  # our empty folders go, the foreign file stays


@pytest.mark.jit_coverage
def test_train_with_l1_dropout_init_and_layer_speed(capsys, tmp_path):
    """The book's Chapter 3 and 5 options on the command line: they reach fit, and the model file keeps the
    learning speed of each layer."""
    import bpframe as bp

    status, out, _ = run(
        capsys, "train", "--hidden", "32,16", "--activation", "sigmoid,sigmoid,softmax", "--epochs", "4",
        "--l1", "0.5", "--dropout", "0.2,0.1", "--init", "normal", "--layer-speed", "--patience", "0", "-q",
        "--save", str(tmp_path / "m.npz"),
    )  # fmt: skip
    assert status == 0, out
    assert "l1 0.5, dropout [0.2, 0.1]" in out and "done: 4 epochs" in out
    net = bp.load(tmp_path / "m.npz")
    assert len(net.history.nabla_b_norm) == 4 and len(net.history.nabla_b_norm[0]) == 3
    assert net.history.nabla_b_norm[-1][0] < net.history.nabla_b_norm[-1][2]  # sigmoid: the first layer is slowest


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--dropout", "0.2,0.3"], "--dropout 0.2,0.3: dropout must be a probability in [0, 1) for every hidden "
                                   "layer, or a list of 1 (one per hidden layer, layer 1 first), got [0.2, 0.3]"),
        (["--dropout", "1"], "--dropout 1: dropout must be a probability in [0, 1), got 1.0"),
        (["--hidden", "8,8", "--activation", "relu,relu,softmax", "--dropout", "0.1,-1"],
         "--dropout 0.1,-1: dropout[1] (layer 2) must be a probability in [0, 1), got -1.0"),
        (["--l1", "-0.5"], "--l1 must be a number >= 0, got -0.5"),
    ],
)  # fmt: skip
def test_train_refuses_bad_regularisation_before_loading_data(capsys, argv, message):
    status, out, err = run(capsys, "train", "--epochs", "1", "-q", *argv)
    assert status == 1
    assert err.strip() == f"bpframe: error: {message}"
    assert "training" not in out


def test_init_takes_one_initializer_per_layer(capsys, tmp_path):
    import bpframe as bp

    # a learning rate of 1e-300 moves no parameter measurably: the file holds the initialisation
    status, _, err = run(capsys, "train", "--dataset", "xor", "--hidden", "4", "--init", "glorot,normal", "--epochs",
                         "1", "--eta", "1e-300", "--seed", "2", "-q", "--save", str(tmp_path / "m.npz"))  # fmt: skip
    assert status == 0, err
    expected = bp.Network([2, 4, 2], ["relu", "softmax"], "cross_entropy", init=["glorot", "normal"], seed=2)
    default = bp.Network([2, 4, 2], ["relu", "softmax"], "cross_entropy", seed=2)
    assert not np.allclose(default.parameters(), expected.parameters())  # the option changes something
    np.testing.assert_allclose(bp.load(tmp_path / "m.npz").parameters(), expected.parameters(), rtol=1e-15,
                               atol=1e-290)  # fmt: skip
    assert bp.load(tmp_path / "m.npz").fit_settings["epochs"] == 1
    status, _, err = run(capsys, "train", "--hidden", "8,8", "--init", "he,glorot", "--epochs", "1", "-q")
    assert status == 1
    assert err == "bpframe: error: --init he,glorot: give one initializer for every layer, or one per layer (3 with " \
        "--hidden 8,8)\n"  # fmt: skip
