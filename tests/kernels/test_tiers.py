"""The NumPy tier and the compiled engine give bit-identical results for a seed, whichever runs, and a fit that
switches tier between epochs equals one that does not.

Forced with ``BPFRAME_ENGINE`` (read at every engine call). Covers both dtypes, every built-in optimizer (SGD with
its in-place fused step, the two-buffer optimizers), elementwise and vector activations, the combined and the
general BP1, a user-defined activation (third-party functions take the same path as built-ins), evaluation and
backprop.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from kernel_processes import packing_blas

import bpframe as bp

pytestmark = pytest.mark.jit  # without the JIT there is one tier


def bent(z):
    return (math.sqrt(z * z + 1.0) - 1.0) / 2.0 + z


def bent_prime(z):
    return z / (2.0 * math.sqrt(z * z + 1.0)) + 1.0


BENT = bp.Activation("bent_tiers", bent, bent_prime)
CONFIGS = {
    "relu-softmax-ce": ([6, 9, 4], ["relu", "softmax"], "cross_entropy"),
    "plugin-tanh-quadratic": ([6, 7, 5, 3], [BENT, "tanh", "sigmoid"], "quadratic"),
    "softmax-quadratic": ([6, 5, 3], ["softplus", "softmax"], "quadratic"),  # BP1 through the vector-Jacobian
    "sigmoid-bce": ([6, 4, 1], ["leaky_relu", "sigmoid"], "binary_cross_entropy"),
    # 260 inputs and mini-batches of 8: the first layer's product takes bpframe.kernels.products' kernel
    "wide-input-small-batch": ([260, 9, 3], ["sigmoid", "sigmoid"], "quadratic"),
}
OPTIMIZERS = ["sgd", "momentum", "nesterov", "adam"]


def data(loss, n, sizes, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, sizes[0]))
    if loss == "cross_entropy":
        return X, rng.integers(0, sizes[-1], n)
    if loss == "binary_cross_entropy":
        return X, rng.integers(0, 2, (n, 1)).astype(float)
    return X, rng.normal(size=(n, sizes[-1]))


def trained(tier, config, dtype, optimizer, monkeypatch, epochs=3):
    sizes, acts, loss = CONFIGS[config]
    X, Y = data(loss, 53, sizes)
    if config == "wide-input-small-batch":
        packing_blas(monkeypatch)  # the kernel, whatever this machine's BLAS
    net = bp.Network(sizes, acts, loss, dtype=dtype, seed=2)
    monkeypatch.setenv("BPFRAME_ENGINE", tier)
    eta = 0.01 if optimizer == "adam" else 0.1
    history = net.fit(X, Y, epochs=epochs, batch_size=8, eta=eta, lmbda=0.3, optimizer=optimizer,
                      validation_data=(X[:20], Y[:20]), verbose=0)  # fmt: skip
    return net, history


def assert_same(a, b, ha, hb):
    np.testing.assert_array_equal(a.parameters(), b.parameters())
    assert a._model.optimizer.step == b._model.optimizer.step
    np.testing.assert_array_equal(a._model.optimizer.state, b._model.optimizer.state)
    for column in ("cost", "accuracy", "val_cost", "val_accuracy"):
        assert getattr(ha, column) == getattr(hb, column), column


@pytest.mark.jit_pass
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_numpy_tier_and_compiled_engine_agree_bit_for_bit(config, dtype, optimizer, monkeypatch):
    a, ha = trained("numpy", config, dtype, optimizer, monkeypatch)
    b, hb = trained("compiled", config, dtype, optimizer, monkeypatch)
    assert_same(a, b, ha, hb)
    assert np.isfinite(ha.cost).all() and ha.cost[-1] != ha.cost[0]  # it trained


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_switching_tier_between_epochs_changes_nothing(dtype, monkeypatch):
    """Epoch 1 in one tier and the rest in the other equals a run in one tier: the switch point may depend on
    how long a compile took without changing the numbers."""

    class Switch:
        @bp.hookimpl
        def bpframe_epoch_end(self, epoch):
            monkeypatch.setenv("BPFRAME_ENGINE", "compiled" if epoch % 2 else "numpy")

    sizes, acts, loss = CONFIGS["relu-softmax-ce"]
    X, Y = data(loss, 70, sizes, seed=5)
    nets = [bp.Network(sizes, acts, loss, dtype=dtype, seed=4) for _ in range(2)]
    monkeypatch.setenv("BPFRAME_ENGINE", "numpy")
    ha = nets[0].fit(X, Y, epochs=4, batch_size=6, eta=0.2, optimizer="sgd", callbacks=[Switch()], verbose=0)
    monkeypatch.setenv("BPFRAME_ENGINE", "compiled")
    hb = nets[1].fit(X, Y, epochs=4, batch_size=6, eta=0.2, optimizer="sgd", verbose=0)
    np.testing.assert_array_equal(nets[0].parameters(), nets[1].parameters())
    assert ha.cost == hb.cost


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_evaluate_and_backprop_agree_bit_for_bit(config, dtype, monkeypatch):
    sizes, acts, loss = CONFIGS[config]
    X, Y = data(loss, 40, sizes, seed=3)
    net = bp.Network(sizes, acts, loss, dtype=dtype, seed=6)
    results = {}
    for tier in ("numpy", "compiled"):
        monkeypatch.setenv("BPFRAME_ENGINE", tier)
        g = net.backprop(X[:9], Y[:9])
        results[tier] = (
            net.evaluate(X, Y),
            net.feedforward(X),
            g.cost,
            list(g.nabla_w),
            list(g.nabla_b),
            list(g.delta),
        )
    (ev_a, out_a, cost_a, *arrays_a), (ev_b, out_b, cost_b, *arrays_b) = results["numpy"], results["compiled"]
    assert ev_a == ev_b and cost_a == cost_b
    np.testing.assert_array_equal(out_a, out_b)
    for la, lb in zip(arrays_a, arrays_b, strict=True):
        for x, y in zip(la, lb, strict=True):
            np.testing.assert_array_equal(x, y)


def test_the_fused_step_refused_by_its_guard_agrees_too(monkeypatch):
    """Huge inputs make the in-place SGD step unprovable, so batches go through the checked two-buffer path in
    both tiers (and the bound is measured again): still the same numbers."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 4)) * np.array([1e300, 1.0, 1.0, 1.0])
    y = rng.integers(0, 2, 40)
    results = []
    for tier in ("numpy", "compiled"):
        monkeypatch.setenv("BPFRAME_ENGINE", tier)
        net = bp.Network([4, 3, 2], ["tanh", "softmax"], "cross_entropy", seed=0)
        net.fit(X, y, epochs=2, batch_size=5, eta=1e-300, optimizer="sgd", verbose=0)
        results.append(net.parameters())
    np.testing.assert_array_equal(*results)


@pytest.mark.jit_pass
def test_batches_whose_in_place_step_the_guard_refuses_take_the_two_buffer_step_in_both_tiers(monkeypatch):
    """With ReLU the first layer's δ does not vanish, so m · max|δ| · max|x| exceeds the limit for inputs near
    1e306: the guard refuses the in-place step after measuring the parameters again, and the batch takes the
    checked two-buffer step. The NumPy tier's prepared batches do exactly that, with the engine's numbers."""
    from bpframe.kernels import numpy_tier

    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 3)) * np.array([1e306, 1.0, 1.0])
    y = rng.integers(0, 2, 30)
    answers = []
    decide = numpy_tier._Plan.fused_step

    def recorded(self, *args):
        answers.append(decide(self, *args))
        return answers[-1]

    monkeypatch.setattr(numpy_tier._Plan, "fused_step", recorded)
    results = []
    for tier in ("numpy", "compiled"):
        monkeypatch.setenv("BPFRAME_ENGINE", tier)
        net = bp.Network([3, 4, 2], ["relu", "softmax"], "cross_entropy", seed=1)
        history = net.fit(X, y, epochs=2, batch_size=5, eta=1e-310, optimizer="sgd", verbose=0)
        results.append((net, history))
    (a, ha), (b, hb) = results
    assert_same(a, b, ha, hb)
    assert np.isfinite(a.parameters()).all()
    assert False in answers and len(answers) == 12  # refused, and asked for every batch of the NumPy tier


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_column_sums_add_the_rows_in_the_engines_order(dtype):
    """The NumPy tier's bias sums equal the engine's loop bit for bit, single columns and signed zeros included."""
    from bpframe.kernels import equations, numpy_tier

    rng = np.random.default_rng(0)
    shapes = [(1, 1), (2, 1), (9, 1), (100, 1), (7, 2), (64, 3), (300, 17)]
    for m, n in shapes + [(int(rng.integers(1, 300)), int(rng.integers(1, 30))) for _ in range(200)]:
        delta = (rng.normal(size=(m, n)) * 10.0 ** rng.normal(scale=3, size=(m, n))).astype(dtype)
        delta[:, 0] = -0.0 if m % 3 == 0 else delta[:, 0]
        engine_sums = np.empty(n)
        equations.column_sums(delta, engine_sums)
        np.testing.assert_array_equal(numpy_tier.column_sums(delta), engine_sums)
        assert np.array_equal(np.signbit(numpy_tier.column_sums(delta)), np.signbit(engine_sums))


@pytest.mark.jit_pass
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    ("config", "optimizer"),
    [("plugin-tanh-quadratic", "sgd"), ("relu-softmax-ce", "adam"), ("wide-input-small-batch", "momentum")],
)
def test_tiers_agree_with_dropout_l1_and_layer_speed(config, optimizer, dtype, monkeypatch):
    """Dropout's masks, the L1 term and the recorded gradient norms are the same bits in both tiers."""
    sizes, acts, loss = CONFIGS[config]
    X, Y = data(loss, 53, sizes)
    if config == "wide-input-small-batch":
        packing_blas(monkeypatch)
    results = []
    for tier in ("numpy", "compiled"):
        monkeypatch.setenv("BPFRAME_ENGINE", tier)
        net = bp.Network(sizes, acts, loss, dtype=dtype, seed=2)
        history = net.fit(X, Y, epochs=2, batch_size=8, eta=0.05, l1=0.2, dropout=0.3, optimizer=optimizer,
                          layer_speed=True, verbose=0)  # fmt: skip
        g = net.backprop(X[:7], Y[:7], dropout=0.5, step=3)
        results.append((net, history, g))
    (a, ha, ga), (b, hb, gb) = results
    assert_same(a, b, ha, hb)
    assert ha.nabla_b_norm == hb.nabla_b_norm and ha.nabla_w_norm == hb.nabla_w_norm
    for l in range(1, len(sizes)):
        np.testing.assert_array_equal(ga.nabla_w[l], gb.nabla_w[l])
    for l in range(1, len(sizes) - 1):
        np.testing.assert_array_equal(ga.mask[l], gb.mask[l])


@pytest.mark.jit_pass
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_the_numpy_tiers_prepared_batches_agree_with_l1_and_layer_speed(optimizer, dtype, monkeypatch):
    """Without dropout the NumPy tier runs each mini-batch from a plan prepared once per batch size (and buffer
    parity): with the L1 term and the recorded gradient norms, and a last partial batch, still the same bits."""
    from bpframe.kernels import numpy_tier

    made = []
    prepare = numpy_tier._Plan.__init__

    def counted(self, *args):
        made.append(args[4])  # the batch size it serves
        prepare(self, *args)

    sizes, acts, loss = CONFIGS["relu-softmax-ce"]
    X, Y = data(loss, 53, sizes, seed=7)
    results = []
    for tier in ("numpy", "compiled"):
        monkeypatch.setenv("BPFRAME_ENGINE", tier)
        monkeypatch.setattr(numpy_tier._Plan, "__init__", counted)
        net = bp.Network(sizes, acts, loss, dtype=dtype, seed=3)
        history = net.fit(X, Y, epochs=2, batch_size=8, eta=0.05, l1=0.1, optimizer=optimizer, layer_speed=True,
                          verbose=0)  # fmt: skip
        results.append((net, history))
    (a, ha), (b, hb) = results
    assert_same(a, b, ha, hb)
    assert ha.nabla_b_norm == hb.nabla_b_norm and ha.nabla_w_norm == hb.nabla_w_norm
    assert np.isfinite(ha.nabla_w_norm).all() and ha.cost[-1] != ha.cost[0]
    assert set(made) == {8, 5}  # 53 rows: six batches of 8, and one of 5
