"""Interrupted training leaves a consistent network, and the same fit call again continues it bit for bit.

"Consistent" means: parameters, optimizer state and step count, the shuffling generator and the history all
describe the same last completed mini-batch. Covered for Ctrl-C (a real SIGINT, in this process and in a child
process), for an exception raised by a plugin function inside the compiled code (activation and optimizer
update), in both tiers of the engine.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import bpframe as bp

TIERS = ["numpy", "compiled"]


def problem(n=120, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 5)), rng.integers(0, 3, n)


def network(dtype="float64"):
    return bp.Network([5, 7, 3], ["tanh", "softmax"], "cross_entropy", dtype=dtype, seed=11)


FIT = {"epochs": 3, "batch_size": 8, "eta": 0.05, "optimizer": "adam", "verbose": 0}  # 15 batches an epoch


class InterruptAt:
    """Sends this process a real SIGINT after batch ``batch`` of epoch ``epoch`` (once)."""

    def __init__(self, epoch, batch):
        self.epoch, self.batch, self.sent = epoch, batch, False

    @bp.hookimpl
    def bpframe_batches_end(self, epoch, done):
        if (epoch, done) == (self.epoch, self.batch) and not self.sent:
            self.sent = True
            os.kill(os.getpid(), signal.SIGINT)


def state_of(net):
    opt = net._model.optimizer
    return net.parameters(), opt.step, opt.state.copy(), net._model.shuffle.bit_generator.state, net.history.as_dict()


def assert_same_run(a, b, history_a, history_b):
    np.testing.assert_array_equal(a.parameters(), b.parameters())
    assert a._model.optimizer.step == b._model.optimizer.step
    np.testing.assert_array_equal(a._model.optimizer.state, b._model.optimizer.state)
    assert a._model.shuffle.bit_generator.state == b._model.shuffle.bit_generator.state
    for column in ("epoch", "cost", "accuracy", "val_cost", "val_accuracy"):
        assert getattr(history_a, column) == getattr(history_b, column), column


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize(("epoch", "batch"), [(1, 1), (1, 7), (2, 14), (3, 3)])
def test_ctrl_c_stops_after_the_batch_and_the_same_fit_continues_exactly(tier, epoch, batch, monkeypatch):
    monkeypatch.setenv("BPFRAME_ENGINE", tier)
    X, y = problem()
    whole = network()
    whole_history = whole.fit(X, y, validation_data=(X[:30], y[:30]), **FIT)
    net = network()
    with pytest.raises(bp.TrainingInterrupted) as info:
        net.fit(X, y, validation_data=(X[:30], y[:30]), callbacks=[InterruptAt(epoch, batch)], **FIT)
    assert isinstance(info.value, KeyboardInterrupt)
    assert (info.value.epoch, info.value.batch) == (epoch, batch)
    assert f"training interrupted in epoch {epoch}, batch {batch + 1} of 15 ({batch} of 15 batches" in str(info.value)
    assert net._model.optimizer.step == (epoch - 1) * 15 + batch  # one update per completed batch
    assert len(net.history) == epoch - 1  # the unfinished epoch is not in the history
    resumed = net.fit(X, y, validation_data=(X[:30], y[:30]), **FIT)
    assert_same_run(net, whole, resumed, whole_history)
    assert net._model.run is None


@pytest.mark.parametrize("tier", TIERS)
def test_a_fit_with_dropout_l1_and_layer_speed_continues_exactly(tier, monkeypatch):
    """The dropout masks come from the update count, the learning speed of the unfinished epoch is kept: the
    resumed fit gives the parameters and the per-layer speeds of the uninterrupted one, bit for bit."""
    monkeypatch.setenv("BPFRAME_ENGINE", tier)
    X, y = problem()
    extra = {"dropout": 0.4, "l1": 0.2, "layer_speed": True}
    whole = network()
    whole_history = whole.fit(X, y, **FIT, **extra)
    net = network()
    with pytest.raises(bp.TrainingInterrupted):
        net.fit(X, y, callbacks=[InterruptAt(2, 6)], **FIT, **extra)
    resumed = net.fit(X, y, **FIT, **extra)
    assert_same_run(net, whole, resumed, whole_history)
    assert resumed.nabla_b_norm == whole_history.nabla_b_norm and resumed.nabla_w_norm == whole_history.nabla_w_norm
    assert len(resumed.nabla_b_norm) == 3


def test_a_different_fit_after_an_interruption_starts_afresh(monkeypatch):
    """Only the same call resumes; another one trains from the parameters as they stand."""
    X, y = problem()
    net = network()
    with pytest.raises(bp.TrainingInterrupted):
        net.fit(X, y, callbacks=[InterruptAt(1, 4)], **FIT)
    history = net.fit(X, y, **{**FIT, "epochs": 1})
    assert history.epoch == [1] and net._model.optimizer.step == 4 + 15


def test_the_call_is_identified_only_to_leave_or_compare_a_run_cursor(monkeypatch):
    """The fingerprint reads the data (a checksum): a fit computes it when it is interrupted (to leave it in the
    cursor), or when a cursor is there to compare with, and else not at all."""
    from bpframe import training

    calls = []
    real = training._fingerprint
    monkeypatch.setattr(training, "_fingerprint", lambda s, data: calls.append(data.x.shape) or real(s, data))
    X, y = problem()
    net = network()
    net.fit(X, y, **FIT)
    net.fit(X, y, **FIT)
    assert calls == []
    with pytest.raises(bp.TrainingInterrupted):
        net.fit(X, y, callbacks=[InterruptAt(2, 5)], **FIT)
    cursor = net._model.run
    assert calls == [(120, 5)] and cursor is not None and cursor.next_batch == 5
    net.fit(X[:60], y[:60], **{**FIT, "epochs": 1})  # another call: compared, so identified, and not resumed
    assert calls == [(120, 5), (60, 5)] and net._model.run is None


def raises_beyond(z):
    if z > 2.5:
        raise ValueError("input too large for this test activation")
    return np.tanh(z)


def raises_beyond_prime(z):
    t = np.tanh(z)
    return 1.0 - t * t


RAISING = bp.Activation("raises_beyond", raises_beyond, raises_beyond_prime)


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("bad_batch", [0, 4, 9])
def test_an_exception_in_a_plugin_function_keeps_the_last_completed_batch(tier, bad_batch, monkeypatch):
    """Batch ``bad_batch`` holds an input that makes the activation raise: the error names the plugin, its
    function and the input, and the network is exactly the network trained on the batches before it."""
    monkeypatch.setenv("BPFRAME_ENGINE", tier)
    rng = np.random.default_rng(2)
    X, y = rng.uniform(-0.2, 0.2, size=(80, 4)), rng.integers(0, 2, 80)
    X[bad_batch * 8 + 3, :] = 100.0  # z of the first layer far above 2.5 for this sample
    sizes, acts = [4, 3, 2], [RAISING, "softmax"]
    net = bp.Network(sizes, acts, "cross_entropy", seed=5)
    net.weights[1] = np.abs(net.weights[1]) + 0.1  # positive weights: a large input gives a large z
    reference = bp.Network(sizes, acts, "cross_entropy", seed=5)
    reference.set_parameters(net.parameters())
    fit = {"epochs": 2, "batch_size": 8, "eta": 0.1, "optimizer": "momentum", "shuffle": False, "verbose": 0}
    with pytest.raises(bp.PluginError) as info:
        net.fit(X, y, **fit)
    message = str(info.value)
    assert message.startswith(f"training stopped in epoch 1, batch {bad_batch + 1} of 10: activation 'raises_beyond'")
    assert "its sigma tests.test_interruptions.raises_beyond raised ValueError: input too large" in message or (
        "its sigma test_interruptions.raises_beyond raised ValueError: input too large" in message
    )
    assert f"(layer 1, sample {3})" in message and "nothing was changed by the failing step" in message
    assert isinstance(info.value.__cause__, ValueError)
    if bad_batch:
        reference.fit(X[: bad_batch * 8], y[: bad_batch * 8], **{**fit, "epochs": 1})
    np.testing.assert_array_equal(net.parameters(), reference.parameters())
    assert net._model.optimizer.step == bad_batch
    assert len(net.history) == 0 and net._model.run is not None and net._model.run.next_batch == bad_batch
    before = state_of(net)
    with pytest.raises(bp.PluginError):
        net.fit(X, y, **fit)  # the same call resumes at the failing batch, fails again, changes nothing
    after = state_of(net)
    np.testing.assert_array_equal(before[0], after[0])
    assert before[1:2] == after[1:2] and before[3:] == after[3:]


def failing_update(theta, grad, state, theta_out, state_out, n_weights, hyper, step):
    if step == 4:
        raise RuntimeError("this optimizer fails on its 4th update")
    for i in range(theta.shape[0]):
        theta_out[i] = theta[i] - hyper[0] * grad[i]
    return True


FAILING = bp.OptimizerSpec("fails_at_4", failing_update, title="FailsAt4")


@pytest.mark.parametrize("tier", TIERS)
def test_an_exception_in_an_optimizer_update_keeps_the_batch_before(tier, monkeypatch):
    from bpframe.plugins import get_registry
    from bpframe.registry import Entry, Provenance

    monkeypatch.setenv("BPFRAME_ENGINE", tier)
    entry = Entry(FAILING, Provenance("test_interruptions", None, None))
    monkeypatch.setitem(get_registry().optimizers.entries, "fails_at_4", entry)
    X, y = problem(60)
    net, reference = network(), network()
    with pytest.raises(bp.PluginError) as info:
        net.fit(X, y, epochs=1, batch_size=8, eta=0.1, optimizer="fails_at_4", shuffle=False, verbose=0)
    message = str(info.value)
    assert message.startswith("training stopped in epoch 1, batch 4 of 8: optimizer 'fails_at_4'")
    assert (
        "its update tests.test_interruptions.failing_update raised RuntimeError: this optimizer fails" in message
        or ("its update test_interruptions.failing_update raised RuntimeError: this optimizer fails" in message)
    )
    reference.fit(X[:24], y[:24], epochs=1, batch_size=8, eta=0.1, optimizer="sgd", shuffle=False, verbose=0)
    np.testing.assert_allclose(net.parameters(), reference.parameters(), rtol=1e-12, atol=1e-14)
    assert net._model.optimizer.step == 3


CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    import bpframe as bp

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(3000, 20)), rng.integers(0, 4, 3000)
    fit = dict(epochs=40, batch_size=4, eta=0.01, optimizer="momentum", verbose=0)

    class Announce:
        @bp.hookimpl
        def bpframe_epoch_end(self, epoch):
            if epoch == 1:
                print("epoch 1 done", flush=True)

    net = bp.Network([20, 16, 4], ["relu", "softmax"], "cross_entropy", seed=3)
    try:
        net.fit(X, y, callbacks=[Announce()], **fit)
        print("not interrupted", flush=True)
        sys.exit(1)
    except bp.TrainingInterrupted as stop:
        print(f"interrupted at epoch {stop.epoch}, batch {stop.batch}", flush=True)
    net.fit(X, y, callbacks=[Announce()], **fit)
    whole = bp.Network([20, 16, 4], ["relu", "softmax"], "cross_entropy", seed=3)
    whole.fit(X, y, **fit)
    same = (net.parameters() == whole.parameters()).all() and net.history.cost == whole.history.cost
    print("resumed identical" if same else "resumed different", flush=True)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("tier", TIERS)
def test_a_real_ctrl_c_to_a_training_process(tier, tmp_path):
    env = {**os.environ, "BPFRAME_ENGINE": tier}
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env)  # fmt: skip
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "epoch 1 done"
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=600)
    lines = out.strip().splitlines()
    assert child.returncode == 0, err
    assert lines[0].startswith("interrupted at epoch ") and lines[-1] == "resumed identical", out
