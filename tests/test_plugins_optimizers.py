"""An optimizer as a plugin: an OptimizerSpec works in fit by object before anyone registers it, and by name once a
plugin does, with the built-ins' results, its state saved and resumed."""

from __future__ import annotations

import numpy as np
import pytest
from fake_plugins import FakeEntryPoint

import bpframe as bp
from bpframe import plugins
from bpframe.default_plugins import optimizers as builtin

MU = (bp.Hyper("mu", 0.9, low=0.0, high=1.0),)
MY_MOMENTUM = bp.OptimizerSpec("my_momentum", builtin.momentum_update, MU, state_rows=1, title="MyMomentum",
                               reference=builtin.momentum_reference)  # fmt: skip


class MyMomentumPlugin:
    @bp.hookimpl
    def bpframe_register_optimizers(self, register):
        register(MY_MOMENTUM)


def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(48, 3))
    return X, (X[:, 0] > 0).astype(np.int64)


def trained(optimizer, epochs=3, net=None):
    X, y = data()
    net = net or bp.Network([3, 5, 2], ["tanh", "softmax"], "cross_entropy", seed=0)
    net.fit(X, y, epochs=epochs, batch_size=16, eta=0.1, lmbda=0.5, optimizer=optimizer, shuffle=False, verbose=0)
    return net


def test_a_spec_trains_before_it_is_registered_as_the_builtin_with_the_same_update():
    optimizer = bp.Optimizer(MY_MOMENTUM, mu=0.5)
    assert repr(optimizer) == "MyMomentum(mu=0.5)" and optimizer.config() == {"name": "my_momentum", "mu": 0.5}
    assert trained(optimizer).parameters().tobytes() == trained(bp.Momentum(mu=0.5)).parameters().tobytes()
    with pytest.raises(bp.ConfigurationError, match=r"MyMomentum: mu must be in \[0, 1\), got 1.5"):
        bp.Optimizer(MY_MOMENTUM, mu=1.5)


def test_a_registered_plugin_optimizer_works_by_name_and_resumes_from_a_file(tmp_path, monkeypatch):
    registry = plugins.load_registry(
        entry_points=[FakeEntryPoint("mine", MyMomentumPlugin, "bpframe-mine", "1.0")],
        autoload=True, disabled=(), strict=False,
    )  # fmt: skip
    monkeypatch.setattr(plugins, "_registry", registry)
    assert "my_momentum" in bp.optimizers.available()
    assert registry.optimizers.get("my_momentum").provenance.distribution == "bpframe-mine"
    whole = trained("my_momentum", epochs=4)
    first = trained("my_momentum", epochs=2)
    loaded = bp.load(first.save(tmp_path / "m.npz", include_optimizer=True))
    assert trained("my_momentum", epochs=2, net=loaded).parameters().tobytes() == whole.parameters().tobytes()
    assert bp.optimizers.optimizer_from_config({"name": "my_momentum", "mu": 0.7}) == bp.Optimizer("my_momentum", 0.7)


def test_an_optimizer_needs_a_name_or_a_spec():
    with pytest.raises(bp.ConfigurationError, match=r"Optimizer needs a name such as 'momentum' or an OptimizerSpec"):
        bp.Optimizer(3)


def doubled_fused(eta, decay, values):
    """An in-place form that takes twice SGD's step: it shows when the engine takes the fused path."""
    return 1.0 - 2.0 * eta * decay, 1.0, 2.0 * eta


def test_a_plugin_optimizer_gets_the_fused_in_place_step_like_sgd():
    """The engine takes a plugin's fused form inside BP4 as it does SGD's: with the update's step doubled in the
    fused form only, training equals SGD at twice the learning rate (the kit would flag the disagreement)."""
    spec = bp.OptimizerSpec("doubled", builtin.sgd_update, fused=doubled_fused)
    X, y = data()
    runs = []
    for optimizer, eta in ((bp.Optimizer(spec), 0.05), (bp.SGD(), 0.1)):
        net = bp.Network([3, 5, 2], ["tanh", "softmax"], "cross_entropy", seed=0)
        net.fit(X, y, epochs=2, batch_size=16, eta=eta, optimizer=optimizer, shuffle=False, verbose=0)
        runs.append(net.parameters())
    assert runs[0].tobytes() == runs[1].tobytes()
