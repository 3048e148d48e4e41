"""Training features around the compiled epoch: optimizers in fit, schedules, events, early stopping, progress."""

from __future__ import annotations

import io

import numpy as np
import pytest

import bpframe as bp
from bpframe.datasets import load_digits
from bpframe.progress import EpochLines, ProgressBar, progress_plugin


def small_problem(seed=0, n=12):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)), rng.normal(size=(n, 2))


class Recorder:
    """A callback that writes down every event it sees."""

    def __init__(self, stop_at=None):
        self.events = []
        self.stop_at = stop_at

    @bp.hookimpl
    def bpframe_fit_start(self, settings):
        self.events.append(("fit_start", settings["num_batches"], settings["optimizer"]["name"]))

    @bp.hookimpl
    def bpframe_epoch_start(self, epoch, epochs, eta):
        self.events.append(("epoch_start", epoch, epochs, eta))

    @bp.hookimpl
    def bpframe_batches_end(self, epoch, done, total, cost):
        self.events.append(("batches_end", epoch, done, total))

    @bp.hookimpl
    def bpframe_epoch_end(self, epoch, logs):
        self.events.append(("epoch_end", epoch, sorted(logs)))
        return epoch == self.stop_at

    @bp.hookimpl
    def bpframe_fit_end(self, history, reason):
        self.events.append(("fit_end", len(history), reason))


@pytest.mark.parametrize(
    ("optimizer", "expected"),
    [
        (bp.Momentum(mu=0.5), "momentum"),
        (bp.Nesterov(mu=0.5), "nesterov"),
        (bp.Adam(beta1=0.8, beta2=0.9, epsilon=1e-6), "adam"),
    ],
)
def test_two_full_batch_steps_match_the_update_rules(optimizer, expected):
    """Two epochs of one full batch each equal two hand-applied updates with the backprop gradients."""
    X, Y = small_problem()
    net = bp.Network([3, 4, 2], ["tanh", "identity"], "quadratic", seed=1)
    ref = bp.Network([3, 4, 2], ["tanh", "identity"], "quadratic", seed=1)
    net.fit(X, Y, epochs=2, batch_size=12, eta=0.1, lmbda=0.6, optimizer=optimizer, shuffle=False, verbose=0)
    theta = ref.parameters()
    n_w = sum(w.size for w in ref.weights)
    v = np.zeros_like(theta)
    m = np.zeros_like(theta)
    for t in (1, 2):
        ref.set_parameters(theta)
        g = ref.backprop(X, Y)
        grad = np.concatenate([g.nabla_w[1].ravel(), g.nabla_w[2].ravel(), g.nabla_b[1], g.nabla_b[2]])
        grad[:n_w] += 0.6 / 12 * theta[:n_w]
        if expected == "momentum":
            v = 0.5 * v + grad
            theta = theta - 0.1 * v
        elif expected == "nesterov":
            v = 0.5 * v + grad
            theta = theta - 0.1 * (grad + 0.5 * v)
        else:
            m = 0.8 * m + 0.2 * grad
            v = 0.9 * v + 0.1 * grad**2
            theta = theta - 0.1 * (m / (1 - 0.8**t)) / (np.sqrt(v / (1 - 0.9**t)) + 1e-6)
    np.testing.assert_allclose(net.parameters(), theta, rtol=1e-10, atol=1e-13)


def test_optimizer_state_carries_over_between_fits_with_the_same_optimizer():
    X, Y = small_problem()
    once = bp.Network([3, 4, 2], ["tanh", "identity"], "quadratic", seed=1)
    twice = bp.Network([3, 4, 2], ["tanh", "identity"], "quadratic", seed=1)
    once.fit(X, Y, epochs=2, batch_size=4, eta=0.05, optimizer="adam", shuffle=False, verbose=0)
    for _ in range(2):
        twice.fit(X, Y, epochs=1, batch_size=4, eta=0.05, optimizer="adam", shuffle=False, verbose=0)
    np.testing.assert_array_equal(once.parameters(), twice.parameters())
    assert twice._model.optimizer.step == 6
    twice.fit(X, Y, epochs=1, batch_size=4, eta=0.05, optimizer="momentum", shuffle=False, verbose=0)
    assert twice._model.optimizer.step == 3 and twice._model.optimizer.config["name"] == "momentum"
    assert twice.history.epoch == [1, 2, 3] and len(twice.history) == 3


def test_schedules_set_each_epochs_learning_rate():
    X, Y = small_problem()
    rec = Recorder()
    net = bp.Network([3, 2], "identity", "quadratic", seed=0)
    net.fit(
        X, Y, epochs=5, batch_size=12, eta=0.4, schedule=bp.StepDecay(step=2, factor=0.5), callbacks=[rec], verbose=0
    )
    assert [e[3] for e in rec.events if e[0] == "epoch_start"] == [0.4, 0.4, 0.2, 0.2, 0.1]
    rec = Recorder()
    net.fit(X, Y, epochs=3, batch_size=12, eta=1.0, schedule=bp.ExponentialDecay(rate=0.5), callbacks=[rec], verbose=0)
    assert [e[3] for e in rec.events if e[0] == "epoch_start"] == [1.0, 0.5, 0.25]


def test_events_arrive_in_order_and_a_hook_can_stop_training():
    X, Y = small_problem(n=40)
    rec = Recorder(stop_at=2)
    net = bp.Network([3, 4, 2], ["relu", "identity"], "quadratic", seed=0)
    history = net.fit(X, Y, epochs=5, batch_size=4, eta=0.01, callbacks=[rec], verbose=0)
    kinds = [e[0] for e in rec.events]
    assert kinds[0] == "fit_start" and rec.events[0][1:] == (10, "sgd")
    assert rec.events[-1] == ("fit_end", 2, "stopped")
    assert len(history) == 2
    first_epoch = [e for e in rec.events if e[0] == "batches_end" and e[1] == 1]
    assert [e[2] for e in first_epoch] == list(range(1, 11)) and all(e[3] == 10 for e in first_epoch)
    assert ("epoch_end", 1, ["accuracy", "cost", "seconds"]) in rec.events


def test_batch_events_come_in_runs_and_do_not_change_results():
    X, y = load_digits("train")
    plain = bp.Network([64, 8, 10], ["relu", "softmax"], "cross_entropy", seed=0)
    watched = bp.Network([64, 8, 10], ["relu", "softmax"], "cross_entropy", seed=0)
    rec = Recorder()
    plain.fit(X, y, epochs=2, batch_size=5, eta=0.1, verbose=0)
    watched.fit(X, y, epochs=2, batch_size=5, eta=0.1, callbacks=[rec], verbose=0)
    np.testing.assert_array_equal(plain.parameters(), watched.parameters())
    runs = [e for e in rec.events if e[0] == "batches_end" and e[1] == 1]
    assert len(runs) <= 100 and runs[-1][2] == runs[-1][3] == 288


class Broken:
    @bp.hookimpl
    def bpframe_epoch_end(self, epoch):
        raise RuntimeError("logging backend down")


def test_a_raising_hook_is_reported_and_training_goes_on():
    X, Y = small_problem()
    net = bp.Network([3, 2], "identity", "quadratic", seed=0)
    with pytest.warns(
        bp.PluginWarning, match=r"callback Broken: hook bpframe_epoch_end raised RuntimeError: logging backend down"
    ):
        history = net.fit(X, Y, epochs=3, batch_size=4, eta=0.01, callbacks=[Broken()], verbose=0)
    assert len(history) == 3


@pytest.mark.jit_coverage
def test_early_stopping_restores_the_best_parameters():
    X, y = load_digits("train")
    Xv, yv = X[1200:], y[1200:]

    class Snapshots:
        def __init__(self):
            self.params = {}

        @bp.hookimpl
        def bpframe_epoch_end(self, net, epoch):
            self.params[epoch] = net.parameters()

    stop, snaps = bp.EarlyStopping(monitor="val_cost", patience=3), Snapshots()
    net = bp.Network([64, 32, 10], ["relu", "softmax"], "cross_entropy", seed=0)
    history = net.fit(X[:1200], y[:1200], epochs=300, batch_size=10, eta=0.8, validation_data=(Xv, yv),
                      callbacks=[stop, snaps], verbose=0)  # fmt: skip
    assert stop.stopped_epoch == len(history) < 300
    assert stop.best_epoch == int(np.argmin(history.val_cost)) + 1
    assert stop.stopped_epoch - stop.best_epoch == 3
    np.testing.assert_array_equal(net.parameters(), snaps.params[stop.best_epoch])


def test_early_stopping_checks_its_settings():
    with pytest.raises(bp.ConfigurationError, match="EarlyStopping: patience must be an int >= 1, got 0"):
        bp.EarlyStopping(patience=0)
    with pytest.raises(bp.ConfigurationError, match="monitor must be one of cost, accuracy, val_cost, val_accuracy"):
        bp.EarlyStopping(monitor="loss")
    net = bp.Network([3, 2], "identity", "quadratic")
    with pytest.raises(bp.ConfigurationError, match="EarlyStopping monitors 'val_cost', which needs validation_data"):
        net.fit(*small_problem(), callbacks=[bp.EarlyStopping()], verbose=0)


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_display_choice():
    assert progress_plugin(0) is None
    assert isinstance(progress_plugin(1, FakeTerminal()), ProgressBar)
    assert isinstance(progress_plugin(1, io.StringIO()), EpochLines)
    assert isinstance(progress_plugin(2, FakeTerminal()), EpochLines)


def test_progress_bar_shows_batches_then_the_epoch_line(monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr("sys.stdout", terminal)
    X, Y = small_problem(n=40)
    bp.Network([3, 2], "identity", "quadratic", seed=0).fit(X, Y, epochs=2, batch_size=4, eta=0.01, verbose=1)
    text = terminal.getvalue()
    assert "epoch 1/2" in text and "10/10" in text and "batch" in text
    assert "epoch 2/2: cost " in text


def test_lines_when_output_is_not_a_terminal(capsys):
    X, Y = small_problem(n=40)
    bp.Network([3, 2], "identity", "quadratic", seed=0).fit(X, Y, epochs=2, batch_size=4, eta=0.01, verbose=1)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[0].startswith("epoch 1/2: cost ")


def test_history_plot_writes_an_image(tmp_path):
    pytest.importorskip("matplotlib")
    X, y = load_digits("train")
    net = bp.Network([64, 8, 10], ["relu", "softmax"], "cross_entropy", seed=0)
    history = net.fit(
        X[:500], y[:500], epochs=3, batch_size=10, eta=0.1, validation_data=(X[500:700], y[500:700]), verbose=0
    )
    path = history.plot(tmp_path / "curves.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


def test_history_plot_without_matplotlib_says_what_to_install(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "matplotlib", None)
    history = bp.History()
    history.append(1, {"cost": 1.0, "accuracy": 0.5, "seconds": 0.1})
    with pytest.raises(bp.MissingDependencyError, match=r'pip install "bpframe\[plot\]"'):
        history.plot("x.png")


def test_a_saved_optimizer_state_resumes_exactly_after_loading(tmp_path):
    X, y = load_digits("train")
    X, y = X[:200], y[:200]
    net = bp.Network([64, 8, 10], ["relu", "softmax"], "cross_entropy", seed=0)
    net.fit(X, y, epochs=2, batch_size=20, eta=0.01, optimizer="adam", shuffle=False, verbose=0)
    loaded = bp.load(net.save(tmp_path / "adam.npz", include_optimizer=True))
    for model in (net, loaded):
        model.fit(X, y, epochs=1, batch_size=20, eta=0.01, optimizer="adam", shuffle=False, verbose=0)
    np.testing.assert_array_equal(loaded.parameters(), net.parameters())
    assert loaded._model.optimizer.step == net._model.optimizer.step == 30
