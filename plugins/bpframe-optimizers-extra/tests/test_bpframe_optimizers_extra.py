"""bpframe-optimizers-extra: the conformance kit, steps worked out by hand, and the optimizers in fit, saving and
resuming, the command line and ``bpframe plugins``."""

from __future__ import annotations

import bpframe_optimizers_extra as X
import numpy as np
import pytest

import bpframe as bp
from bpframe.cli import main
from bpframe.testing import conformance_tests

# The whole bpframe conformance kit on everything this distribution registers: one test per optimizer.
test_conformance = conformance_tests("bpframe-optimizers-extra")


def python_step(update, theta, grad, state, n_weights, hyper, step):
    """One update run as plain Python (the functions are plain Python too): new theta and state."""
    theta_out, state_out = np.empty_like(theta), np.empty_like(state)
    ok = update(theta, grad, state, theta_out, state_out, n_weights, np.array(hyper + [0.0] * (8 - len(hyper))), step)
    return theta_out, state_out, ok


def test_registered_with_their_hyper_parameters():
    assert {"adamw", "rmsprop"} <= set(bp.optimizers.available())
    assert repr(bp.Optimizer("rmsprop")) == "RMSprop(rho=0.9, epsilon=1e-08)"
    assert bp.Optimizer("adamw", weight_decay=0.1).config() == {
        "name": "adamw", "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-08, "weight_decay": 0.1,
    }  # fmt: skip
    with pytest.raises(bp.ConfigurationError, match=r"RMSprop: rho must be in \[0, 1\), got 1.0"):
        bp.Optimizer("rmsprop", rho=1.0)


def test_rmsprop_first_step_by_hand():
    # theta = (weight 1.0, bias 2.0), grad = (0.5, -0.25), eta 0.01, rho 0.9, no decay:
    # v = 0.1 g² = (0.025, 0.00625), √v = (0.158113883, 0.0790569415): the steps 0.01 · g / (√v + 1e-8) are
    # 0.005 / 0.158113893 = 0.0316227746 and 0.0025 / 0.0790569515 = 0.0316227726 (ε shows in the 9th digit)
    theta, state, ok = python_step(X.rmsprop_update, np.array([1.0, 2.0]), np.array([0.5, -0.25]), np.zeros((1, 2)),
                                   1, [0.01, 0.0, 0.9, 1e-8], 1)  # fmt: skip
    assert ok
    np.testing.assert_allclose(state, [[0.025, 0.00625]], rtol=1e-15)
    np.testing.assert_allclose(theta, [1.0 - 0.03162277460168392, 2.0 + 0.0316227726016843], rtol=1e-15)


def test_adamw_decays_the_weights_apart_from_the_gradient():
    # no gradient: Adam's step is 0, and the weight shrinks by 1 − η λ_w = 1 − 0.1 · 0.5; the bias does not
    theta, state, ok = python_step(X.adamw_update, np.array([2.0, 3.0]), np.zeros(2), np.zeros((2, 2)), 1,
                                   [0.1, 0.0, 0.9, 0.999, 1e-8, 0.5], 1)  # fmt: skip
    assert ok and theta.tolist() == [2.0 * 0.95, 3.0] and not state.any()


def data():
    rng = np.random.default_rng(0)
    X_ = rng.normal(size=(64, 3))
    return X_, (X_.sum(axis=1) > 0).astype(np.int64)


def test_rmsprop_in_fit_is_the_hand_formula():
    """One full batch through the compiled engine: θ − η g / (√((1 − ρ) g²) + ε), g from backprop."""
    X_, y = data()
    net = bp.Network([3, 4, 2], ["tanh", "softmax"], "cross_entropy", seed=1)
    g = net.backprop(X_, y)
    grad = np.concatenate([*(g.nabla_w[l].ravel() for l in (1, 2)), *(g.nabla_b[l] for l in (1, 2))])
    before = net.parameters()
    net.fit(X_, y, epochs=1, batch_size=64, eta=0.01, optimizer=bp.Optimizer("rmsprop", rho=0.8), verbose=0)
    expected = before - 0.01 * grad / (np.sqrt(0.2 * grad * grad) + 1e-8)
    np.testing.assert_allclose(net.parameters(), expected, rtol=1e-12, atol=1e-15)


def test_adamw_without_weight_decay_is_adam():
    X_, y = data()
    runs = []
    for optimizer in (bp.Adam(), bp.Optimizer("adamw", weight_decay=0.0)):
        net = bp.Network([3, 4, 2], ["tanh", "softmax"], "cross_entropy", seed=1)
        net.fit(X_, y, epochs=3, batch_size=16, eta=0.01, lmbda=0.1, optimizer=optimizer, verbose=0)
        runs.append(net.parameters())
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("optimizer", [("rmsprop", {"rho": 0.8}), ("adamw", {"weight_decay": 0.05})])
def test_saving_and_resuming_continues_exactly(tmp_path, optimizer):
    name, values = optimizer
    X_, y = data()
    settings = {"batch_size": 16, "eta": 0.01, "lmbda": 0.1, "optimizer": bp.Optimizer(name, **values), "verbose": 0}
    whole = bp.Network([3, 4, 2], ["tanh", "softmax"], "cross_entropy", seed=2)
    whole.fit(X_, y, epochs=4, shuffle=False, **settings)
    first = bp.Network([3, 4, 2], ["tanh", "softmax"], "cross_entropy", seed=2)
    first.fit(X_, y, epochs=2, shuffle=False, **settings)
    resumed = bp.load(first.save(tmp_path / "model.npz", include_optimizer=True))
    resumed.fit(X_, y, epochs=2, shuffle=False, **settings)
    assert resumed.parameters().tobytes() == whole.parameters().tobytes()


def test_the_command_line_trains_saves_and_lists_them(capsys, tmp_path):
    path = tmp_path / "xor.npz"
    status = main(["train", "--dataset", "xor", "--hidden", "8", "--activation", "tanh,softmax", "--optimizer",
                   "rmsprop", "--rho", "0.8", "--eta", "0.02", "--epochs", "150", "--batch-size", "4", "-q",
                   "--save", str(path)])  # fmt: skip
    out = capsys.readouterr().out
    assert status == 0
    assert "optimizer RMSprop(rho=0.8, epsilon=1e-08), eta 0.02" in out and "test accuracy 1.0000" in out
    assert main(["info", str(path)]) == 0
    assert "  optimizer  rmsprop, step 150, state 1 x 42" in capsys.readouterr().out
    status = main(["train", "--dataset", "xor", "--optimizer", "adamw", "--opt", "weight_decay=0.05", "--eta",
                   "0.01", "--epochs", "1", "-q"])  # fmt: skip
    assert status == 0
    assert "optimizer AdamW(beta1=0.9, beta2=0.999, epsilon=1e-08, weight_decay=0.05)" in capsys.readouterr().out
    assert main(["plugins"]) == 0
    listing = capsys.readouterr().out.partition("optimizers:")[2].partition("initializers:")[0]
    for name in ("adamw", "rmsprop"):
        line = next(line for line in listing.splitlines() if line.strip().startswith(f"{name} "))
        assert f"bpframe-optimizers-extra {X.__version__} (plugin 'optimizers_extra')" in line
