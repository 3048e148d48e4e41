"""Concurrency: networks trained in parallel threads give exactly what they give one after the other;
one network refuses a second ``fit`` while one runs (from another thread or from inside its own hook) with a
ConcurrencyError, does no work for it, and releases the guard however the first fit ends; reading calls
(feedforward, predict, backprop, evaluate) run concurrently on one network with correct results.

Nothing here depends on timing: threads meet at barriers and events, and every result is compared bit for bit
with a sequential run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import bpframe as bp

TIMEOUT = 120  # seconds; only reached if the code under test deadlocks

CONFIGS = {
    "tanh-softmax-sgd": ([4, 6, 3], ["tanh", "softmax"], "cross_entropy", {"optimizer": "sgd"}),
    "relu-identity-momentum": ([4, 5, 2], ["relu", "identity"], "quadratic", {"optimizer": "momentum", "lmbda": 0.5}),
    "tanh-sigmoid-adam": (
        [4, 5, 1],
        ["tanh", "sigmoid"],
        "binary_cross_entropy",
        {"optimizer": "adam", "validate": True},
    ),
}


def problem(config: str, seed: int, n: int = 120) -> tuple[np.ndarray, np.ndarray]:
    sizes, _, loss, _ = CONFIGS[config]
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, sizes[0]))
    if loss == "cross_entropy":
        return X, rng.integers(0, sizes[-1], n)
    if loss == "binary_cross_entropy":
        return X, (X[:, :1] + X[:, 1:2] > 0).astype(float)
    return X, rng.normal(size=(n, sizes[-1]))


class Yielding:
    """Listens to batch events (the engine then trains in runs of ~1 % of an epoch) and yields the GIL there."""

    @bp.hookimpl
    def bpframe_batches_end(self, done):
        threading.Event().wait(0)


def train(config: str, seed: int, dtype: str, barrier: threading.Barrier | None = None) -> tuple[bytes, list[float]]:
    """Build, (wait for the other thread,) train; return the parameters' bytes and the epoch costs."""
    sizes, activations, loss, options = CONFIGS[config]
    options = dict(options)
    X, Y = problem(config, seed)
    if options.pop("validate", False):
        options["validation_data"] = problem(config, seed + 100, n=40)
    net = bp.Network(sizes, activations, loss, dtype=dtype, seed=seed)
    if barrier is not None:
        barrier.wait(TIMEOUT)
    history = net.fit(X, Y, epochs=4, batch_size=5, eta=0.05, callbacks=[Yielding()], verbose=0, **options)
    return net.parameters().tobytes(), history.cost + history.val_cost


def in_threads(*jobs: Callable[[], Any]) -> list[Any]:
    """Run each job in its own thread; return the results in order, re-raising the first exception."""
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            results[i] = jobs[i]()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
        assert not thread.is_alive(), "a thread did not finish: deadlock?"
    if errors:
        raise errors[0]
    return results


# -- different networks in different threads --------------------------------------------------------------------


@pytest.mark.jit_coverage
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("config", CONFIGS)
def test_two_networks_of_one_configuration_train_in_parallel_exactly_as_in_sequence(config, dtype):
    """Same compiled engine, different seeds and data, at the same time."""
    sequential = [train(config, seed, dtype) for seed in (1, 2)]
    barrier = threading.Barrier(2)
    parallel = in_threads(*[lambda s=seed: train(config, s, dtype, barrier) for seed in (1, 2)])
    assert parallel == sequential
    assert sequential[0] != sequential[1]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_networks_of_different_configurations_train_in_parallel_exactly_as_in_sequence(dtype):
    configs = list(CONFIGS)
    sequential = [train(config, 7, dtype) for config in configs]
    barrier = threading.Barrier(len(configs))
    parallel = in_threads(*[lambda c=config: train(c, 7, dtype, barrier) for config in configs])
    assert parallel == sequential


def concurrency_softsign(z):
    return z / (1.0 + abs(z))


def concurrency_softsign_prime(z):
    return 1.0 / ((1.0 + abs(z)) * (1.0 + abs(z)))


def test_the_first_use_of_a_configuration_from_four_threads_builds_one_set_of_blocks():
    """A configuration no other test uses: its blocks are built while four threads ask for them at once."""
    act = bp.Activation("concurrency_softsign", concurrency_softsign, concurrency_softsign_prime)
    nets = [bp.Network([3, 4, 2], [act, "softplus"], "quadratic", seed=s) for s in range(4)]
    X = np.random.default_rng(0).normal(size=(6, 3))
    barrier = threading.Barrier(4)

    def first_use(net):
        barrier.wait(TIMEOUT)
        return net.feedforward(X)

    outputs = in_threads(*[lambda n=net: first_use(n) for net in nets])
    assert len({tuple(net.program.layout("evaluate").forward) for net in nets}) == 1
    for net, out in zip(nets, outputs, strict=True):
        assert out.tobytes() == net.feedforward(X).tobytes()


# -- one network, two fits ----------------------------------------------------------------------------------------

X1, Y1 = problem("tanh-softmax-sgd", 3)


def fresh() -> bp.Network:
    sizes, activations, loss, _ = CONFIGS["tanh-softmax-sgd"]
    return bp.Network(sizes, activations, loss, seed=5)


def plain_fit(net: bp.Network, epochs: int = 3, callbacks: list[object] | None = None) -> bp.History:
    return net.fit(X1, Y1, epochs=epochs, batch_size=10, eta=0.1, callbacks=callbacks or [], verbose=0)


def reference_parameters(epochs: int = 3) -> bytes:
    net = fresh()
    plain_fit(net, epochs)
    return net.parameters().tobytes()


class Gate:
    """Holds a fit at the start of its first epoch until released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    @bp.hookimpl
    def bpframe_epoch_start(self, epoch):
        if epoch == 1:
            self.entered.set()
            self.release.wait(TIMEOUT)


def test_a_second_fit_from_another_thread_is_refused_and_does_no_work():
    net, gate = fresh(), Gate()
    outcome: list[BaseException | None] = []
    first = threading.Thread(target=lambda: outcome.append(_error_of(lambda: plain_fit(net, 3, [gate]))))
    first.start()
    try:
        assert gate.entered.wait(TIMEOUT)
        theta, history, state = net.parameters().tobytes(), net.history.as_dict(), net._model.optimizer
        refused = in_threads(*[lambda: _error_of(lambda: plain_fit(net)) for _ in range(2)])
        refused.append(_error_of(lambda: plain_fit(net)))  # and from the test's own thread
        assert net.parameters().tobytes() == theta and net.history.as_dict() == history
        assert net._model.optimizer is state
    finally:
        gate.release.set()
        first.join(TIMEOUT)
    assert outcome == [None], outcome
    for error in refused:
        assert isinstance(error, bp.ConcurrencyError) and isinstance(error, RuntimeError)
        assert str(error).startswith("this Network is already being trained")
    assert len(net.history) == 3
    assert net.parameters().tobytes() == reference_parameters()


def _error_of(call: Callable[[], Any]) -> BaseException | None:
    try:
        call()
    except BaseException as exc:  # noqa: BLE001 - returned for inspection
        return exc
    return None


class Reentrant:
    """Calls fit on the network it is training from inside a hook, and keeps what that raised."""

    def __init__(self, catch: bool) -> None:
        self.catch = catch
        self.errors: list[Exception] = []

    @bp.hookimpl
    def bpframe_epoch_end(self, net):
        if not self.catch:
            plain_fit(net)
        try:
            plain_fit(net)
        except bp.ConcurrencyError as exc:
            self.errors.append(exc)


def test_fit_called_from_inside_a_hook_of_the_same_network_is_refused():
    net, hook = fresh(), Reentrant(catch=True)
    plain_fit(net, 3, [hook])
    assert len(hook.errors) == 3
    assert all(str(e).startswith("this Network is already being trained") for e in hook.errors)
    assert net.parameters().tobytes() == reference_parameters()
    assert len(net.history) == 3


def test_an_uncaught_refusal_inside_a_hook_is_reported_and_training_goes_on():
    net = fresh()
    with pytest.warns(
        bp.PluginWarning,
        match=r"callback Reentrant: hook bpframe_epoch_end raised ConcurrencyError: this Network is already being",
    ):
        plain_fit(net, 3, [Reentrant(catch=False)])
    assert net.parameters().tobytes() == reference_parameters()


def test_a_hook_may_train_another_network():
    class TrainOther:
        def __init__(self):
            self.other = fresh()

        @bp.hookimpl
        def bpframe_epoch_end(self, epoch):
            if epoch == 1:
                plain_fit(self.other)

    net, hook = fresh(), TrainOther()
    plain_fit(net, 3, [hook])
    assert net.parameters().tobytes() == hook.other.parameters().tobytes() == reference_parameters()


class Abort(BaseException):
    """Not an Exception: the event bus does not catch it, so it ends the fit."""


class Aborting:
    @bp.hookimpl
    def bpframe_epoch_end(self, epoch):
        raise Abort


def exploding() -> tuple[bp.Network, Callable[[bp.Network], Any]]:
    """z = 3w + b, w = 1, eta = 1: the error grows tenfold per step until the cost overflows."""
    net = bp.Network([1, 1], "identity", "quadratic")
    net.weights[1] = [[1.0]]
    return net, lambda n: n.fit([[3.0]], [[0.0]], epochs=1000, batch_size=1, eta=1.0, verbose=0)


def with_fresh(first_fit: Callable[[bp.Network], Any]) -> Callable[[], tuple[bp.Network, Callable[..., Any]]]:
    return lambda: (fresh(), first_fit)


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (with_fresh(lambda net: net.fit(X1[:, :2], Y1, verbose=0)), bp.DataError),
        (with_fresh(lambda net: net.fit(X1, Y1, eta=-1.0, verbose=0)), bp.ConfigurationError),
        (exploding, bp.DivergenceError),
        (with_fresh(lambda net: plain_fit(net, 3, [Aborting()])), Abort),
    ],
    ids=["data-error", "configuration-error", "divergence", "base-exception-in-a-hook"],
)
def test_the_guard_is_released_however_a_fit_ends(make, error):
    net, first_fit = make()
    with pytest.raises(error):
        first_fit(net)
    net.set_parameters(np.zeros_like(net.parameters()))  # the diverged one is far from any minimum
    X = np.ones((4, net.sizes[0]))
    Y = np.eye(net.sizes[-1])[np.zeros(4, dtype=int)]  # one-hot rows suit every loss used here
    again = net.fit(X, Y, epochs=1, eta=1e-3, verbose=0)
    assert len(again) == 1
    in_threads(lambda: net.fit(X, Y, epochs=1, eta=1e-3, verbose=0))  # and from another thread


# -- reading from many threads ----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_reading_calls_from_eight_threads_give_the_sequential_results(dtype):
    sizes, activations, loss, _ = CONFIGS["tanh-softmax-sgd"]
    net = bp.Network(sizes, activations, loss, dtype=dtype, seed=11)
    rng = np.random.default_rng(1)
    batches = [(rng.normal(size=(int(rng.integers(1, 300)), 4)), None) for _ in range(48)]
    batches = [(X, rng.integers(0, 3, len(X))) for X, _ in batches]

    def read(i: int) -> tuple[bytes, ...]:
        X, y = batches[i]
        kind = i % 4
        if kind == 0:
            return (net.feedforward(X).tobytes(),)
        if kind == 1:
            return (net.predict(X).tobytes(),)
        if kind == 2:
            g = net.backprop(X, y)
            return (*(a.tobytes() for a in (*g.nabla_w, *g.nabla_b)), repr(g.cost).encode())
        return (repr(net.evaluate(X, y)).encode(),)

    net.feedforward(batches[0][0])  # build the engine first: this test is about running, not building
    sequential = [read(i) for i in range(len(batches))]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(read, range(len(batches))))
    assert parallel == sequential


# -- documented ---------------------------------------------------------------------------------------------------


def test_the_user_guide_says_one_fit_per_network_at_a_time():
    guide = Path(__file__).resolve().parents[1] / "docs" / "guide" / "training.rst"
    text = " ".join(guide.read_text(encoding="utf-8").split())
    assert "a second ``fit`` on the same network from another thread, while the first runs, raises a" in text
    assert "Different networks can train in different threads." in text


def test_fit_documents_the_concurrency_error_it_raises():
    raises = bp.Network.fit.__doc__.split("Raises\n")[1]
    assert "ConcurrencyError" in raises
