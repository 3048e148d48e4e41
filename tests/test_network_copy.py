"""A Network pickles and deep-copies with its whole trained state (never compiled code), and shows itself in
Jupyter as an HTML table."""

from __future__ import annotations

import copy
import os
import pickle
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import bpframe as bp
from bpframe.display import network_html

FIT = {"epochs": 2, "batch_size": 8, "eta": 0.01, "optimizer": "adam", "verbose": 0}


def problem(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)), rng.integers(0, 3, n)


def trained(activation="tanh", loss="cross_entropy"):
    X, y = problem()
    net = bp.Network([4, 6, 3], [activation, "softmax"], loss, seed=4)
    net.fit(X, y, validation_data=(X[:16], y[:16]), **FIT)
    return net


def whole_state(net):
    snap = net.snapshot()
    history = {k: v for k, v in snap.history.as_dict().items() if k != "seconds"}  # wall times differ, of course
    return (snap.theta, snap.optimizer.state, snap.optimizer.step, snap.optimizer.config, snap.shuffle, history,
            net.sizes, net.dtype, net.seed, [a.name for a in net.activations], net.loss.name)  # fmt: skip


def assert_same_state(a, b):
    for left, right in zip(whole_state(a), whole_state(b), strict=True):
        if isinstance(left, np.ndarray):
            np.testing.assert_array_equal(left, right)
        else:
            assert left == right


@pytest.mark.parametrize("how", ["pickle", "deepcopy", "copy"])
def test_the_copy_has_the_whole_state_and_trains_on_exactly_as_the_original(how):
    net = trained()
    other = {"pickle": lambda n: pickle.loads(pickle.dumps(n)), "deepcopy": copy.deepcopy, "copy": copy.copy}[how](net)
    assert other is not net and other._model._program is None  # compiled code is never copied
    assert_same_state(net, other)
    X, y = problem(seed=1)
    net.fit(X, y, **FIT)
    other.fit(X, y, **FIT)
    assert_same_state(net, other)  # same optimizer state, step and shuffling generator: the same numbers


def test_the_copy_shares_nothing_that_training_changes():
    net = trained()
    other = copy.deepcopy(net)
    before = net.parameters()
    other.fit(*problem(seed=2), **FIT)
    np.testing.assert_array_equal(net.parameters(), before)
    assert len(net.history) == 2 and len(other.history) == 4
    other.weights[1] = np.zeros((6, 4))
    assert np.abs(net.weights[1]).sum() > 0


def test_an_interrupted_run_travels_and_continues_exactly():
    X, y = problem()

    class CtrlCAfterThirdBatch:
        @bp.hookimpl
        def bpframe_batches_end(self, epoch, done):
            if (epoch, done) == (1, 3):
                os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C: the fit stops after this batch

    whole = bp.Network([4, 6, 3], ["tanh", "softmax"], "cross_entropy", seed=4)
    whole.fit(X, y, **FIT)
    net = bp.Network([4, 6, 3], ["tanh", "softmax"], "cross_entropy", seed=4)
    with pytest.raises(bp.TrainingInterrupted):
        net.fit(X, y, callbacks=[CtrlCAfterThirdBatch()], **FIT)
    other = pickle.loads(pickle.dumps(net))
    assert other._model.run is not None and other._model.run.next_batch == net._model.run.next_batch
    other.fit(X, y, **FIT)
    np.testing.assert_array_equal(other.parameters(), whole.parameters())


def test_registered_specs_travel_by_name():
    net = trained()
    data = pickle.dumps(net)
    assert b"tanh" in data and b"bpframe.default_plugins" not in data
    other = pickle.loads(data)
    registry_tanh = bp.Network([1, 1], "tanh").activations[0]
    assert other.activations[0] is registry_tanh


def softsign(z):
    return z / (1.0 + abs(z))


def softsign_prime(z):
    return 1.0 / (1.0 + abs(z)) ** 2


def half_square(a, y):
    return 0.5 * (a - y) ** 2


def half_square_grad(a, y):
    return a - y


def identity_error(z, a, y):
    return a - y


SOFTSIGN = bp.Activation("softsign", softsign, softsign_prime)
MY_LOSS = bp.Loss("my_quadratic", half_square, half_square_grad, output_errors={"identity": identity_error})


def test_user_defined_specs_travel_as_objects_of_module_level_functions():
    """A Loss holds its output errors in a read-only mapping, which pickle cannot store as such."""
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(32, 4)), rng.normal(size=(32, 2))
    net = bp.Network([4, 5, 2], [SOFTSIGN, "identity"], MY_LOSS, seed=1)
    net.fit(X, Y, **FIT)
    other = pickle.loads(pickle.dumps(net))
    assert other.activations[0].sigma is softsign and other.loss.output_errors["identity"] is identity_error
    assert other.activations[0] is not SOFTSIGN  # rebuilt from its fields
    np.testing.assert_array_equal(other.feedforward(X), net.feedforward(X))


def test_a_spec_with_a_lambda_cannot_be_pickled_and_the_message_says_why():
    act = bp.Activation("lambda_act", lambda z: z, lambda z: 1.0)
    net = bp.Network([2, 3, 1], [act, "sigmoid"], seed=0)
    with pytest.raises(bp.ConfigurationError) as info:
        pickle.dumps(net)
    message = str(info.value)
    assert message.startswith(
        "cannot pickle the network: layer 1's activation, Activation('lambda_act', elementwise), is defined in user "
        "code and its sigma ('test_a_spec_with_a_lambda_cannot_be_pickled_and_the_message_says_why.<locals>.<lambda>')"
        " cannot be pickled ("
    )
    assert message.endswith(
        "); define it as a module-level function of an importable module, or register it through a plugin"
    )
    assert copy.deepcopy(net).activations[0] is act  # a copy in the same process shares the object instead


def test_an_unknown_name_when_unpickling_says_what_to_install(monkeypatch):
    data = pickle.dumps(trained())
    registry = bp.Network([1, 1], "tanh").activations  # make sure plugins are loaded
    assert registry
    from bpframe.plugins import get_registry

    entries = dict(get_registry().activations.entries)
    del entries["tanh"]
    monkeypatch.setattr(get_registry().activations, "entries", entries)
    with pytest.raises(bp.UnknownNameError) as info:
        pickle.loads(data)
    assert str(info.value).startswith("cannot unpickle the network: unknown activation 'tanh'; available: ")
    assert str(info.value).endswith("; install the plugin that provides 'tanh' in this process")


def test_a_state_of_another_version_is_refused():
    net = bp.Network([2, 2], seed=0)
    state = net.__getstate__()
    state["version"] = 99
    other = bp.Network.__new__(bp.Network)
    with pytest.raises(bp.ConfigurationError) as info:
        other.__setstate__(state)
    assert str(info.value) == (
        "cannot unpickle the network: its state has version 99; this bpframe reads version 1 (pickle it again with "
        "this bpframe, or save it with Network.save)"
    )


@pytest.mark.jit
@pytest.mark.slow
def test_an_unpickled_network_on_a_warm_cache_compiles_nothing(tmp_path):
    """A new process with the kernel cache warm loads every kernel from disk: zero compilations."""
    net = trained("relu")
    net.feedforward(np.zeros((1, 4)))  # compiles (or loads) this network's kernels into the cache in use
    path = tmp_path / "net.pickle"
    path.write_bytes(pickle.dumps(net))
    script = textwrap.dedent(f"""
        import os, pickle
        import numpy as np
        os.environ["BPFRAME_ENGINE"] = "compiled"
        from bpframe.kernels import cache
        net = pickle.loads(open({str(path)!r}, "rb").read())
        X = np.random.default_rng(0).normal(size=(40, 4))
        net.fit(X, np.arange(40) % 3, epochs=1, batch_size=8, eta=0.01, optimizer="adam", verbose=0)
        net.feedforward(X)
        print("compiled", len(cache.stats().compiled))
    """)
    warm = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, check=True)
    net.fit(*problem(40), epochs=1, batch_size=8, eta=0.01, optimizer="adam", verbose=0)  # same kernels, warm here
    again = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, check=True)
    assert again.stdout.strip() == "compiled 0", (warm.stdout, again.stdout, again.stderr)


def test_html_repr_lists_layers_parameters_and_training():
    net = trained()
    text = net._repr_html_()
    assert text == network_html(net)
    assert "<caption>Network [4, 6, 3]: 51 parameters, float64</caption>" in text
    assert "<tr><td>1</td><td>6</td><td>tanh</td><td>30</td></tr>" in text
    assert "<tr><td>2</td><td>3</td><td>softmax</td><td>21</td></tr>" in text
    last = net.history
    assert f"epoch 2: cost {last.cost[-1]:.4g}, accuracy {last.accuracy[-1]:.4g}" in text
    assert "2 epochs trained" in text and "optimizer adam, step 16" in text and "loss cross_entropy" in text


def lecun_draw(n_in, n_out, rng):
    return rng.standard_normal((n_out, n_in)) / np.sqrt(n_in), np.zeros(n_out)


def test_initializers_travel_too():
    """A registered initializer by name, one built in user code as the object (its draw function by reference)."""
    lecun = bp.Initializer("lecun_test", lecun_draw)
    net = bp.Network([3, 4, 2], ["tanh", "softmax"], "cross_entropy", init=[lecun, "glorot"], seed=0)
    other = pickle.loads(pickle.dumps(net))
    assert other._model.init[0].draw is lecun_draw and other._model.init[1] is net._model.init[1]
    np.testing.assert_array_equal(other.parameters(), net.parameters())
