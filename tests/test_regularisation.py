"""L1 regularisation, dropout and per-layer learning speed (the book's Chapters 3 and 5) in ``fit``, ``backprop``,
the command line and model files: against an independent per-sample reference, central differences and
hand-computed updates, in both dtypes (and without the JIT, in the ``nojit`` environment)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import bpframe as bp
from bpframe.errors import ConfigurationError, DataError
from tests.helpers import reference

ACTS = ["tanh", "sigmoid", "softmax"]
SIZES = [4, 6, 5, 3]


def data(n=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, SIZES[0])), rng.integers(0, SIZES[-1], n)


def one_hot(y, k=SIZES[-1]):
    return np.eye(k)[y]


# ---------------------------------------------------------------------------------------- the masked reference


def masked_forward(acts, ws, bs, x, masks):
    """One sample: zs, activations, and the inputs each layer reads (the kept activations r ⊙ a where masked)."""
    zs, activations, read = [], [x], [x]
    for l, (act, w, b) in enumerate(zip(acts, ws, bs, strict=True)):
        z = w @ read[-1] + b
        a = reference.activate(act, z)
        zs.append(z)
        activations.append(a)
        read.append(a * masks[l] if l < len(masks) else a)
    return zs, activations, read


def masked_cost(acts, loss, ws, bs, X, Y, masks):
    total = 0.0
    for i, (x, y) in enumerate(zip(X, Y, strict=True)):
        _, activations, _ = masked_forward(acts, ws, bs, x, [m[i] for m in masks])
        total += reference.sample_cost(loss, activations[-1], y)
    return total / len(X)


def masked_backprop(acts, loss, ws, bs, X, Y, masks):
    """BP1-BP4 with the masks, one sample at a time, column vectors as in the book."""
    L = len(ws)
    nabla_b, nabla_w = [np.zeros_like(b) for b in bs], [np.zeros_like(w) for w in ws]
    for i, (x, y) in enumerate(zip(X, Y, strict=True)):
        r = [m[i] for m in masks]
        zs, activations, read = masked_forward(acts, ws, bs, x, r)
        grad_a = np.array([loss.nabla_a(float(aj), float(yj)) for aj, yj in zip(activations[-1], y, strict=True)])
        delta = reference.jacobian_t_times(acts[-1], zs[-1], activations[-1], grad_a)
        for l in range(L - 1, -1, -1):
            nabla_b[l] += delta / len(X)
            nabla_w[l] += np.outer(delta, read[l]) / len(X)
            if l > 0:
                back = r[l - 1] * (ws[l].T @ delta)
                delta = reference.jacobian_t_times(acts[l - 1], zs[l - 1], activations[l], back)
    return nabla_b, nabla_w


def masked_numeric(acts, loss, ws, bs, X, Y, masks, eps=1e-6):
    out = []
    for params in (ws, bs):
        grads = []
        for p in params:
            g = np.zeros_like(p)
            for idx in np.ndindex(p.shape):
                old = p[idx]
                p[idx] = old + eps
                plus = masked_cost(acts, loss, ws, bs, X, Y, masks)
                p[idx] = old - eps
                minus = masked_cost(acts, loss, ws, bs, X, Y, masks)
                p[idx] = old
                g[idx] = (plus - minus) / (2 * eps)
            grads.append(g)
        out.append(grads)
    return out


# ------------------------------------------------------------------------------------------------- dropout


@pytest.mark.parametrize(
    "acts", [ACTS, ["relu", "softmax", "softmax"]], ids=["elementwise", "vector-activation-hidden"]
)
def test_dropout_backprop_matches_the_reference_and_central_differences(acts):
    net = bp.Network(SIZES, acts, "cross_entropy", seed=4)
    X, y = data()
    g = net.backprop(X, y, dropout=[0.3, 0.5], step=7)
    masks = [np.array(g.mask[1]), np.array(g.mask[2])]
    assert set(np.unique(masks[0])) <= {0.0, 1 / 0.7} and set(np.unique(masks[1])) <= {0.0, 2.0}
    assert 0 < np.count_nonzero(masks[1]) < masks[1].size  # something dropped, something kept
    ws, bs = reference.params(net)
    want_b, want_w = masked_backprop(net.activations, net.loss, ws, bs, X, one_hot(y), masks)
    num_w, num_b = masked_numeric(net.activations, net.loss, ws, bs, X, one_hot(y), masks)
    for l in range(1, 4):
        np.testing.assert_allclose(g.nabla_b[l], want_b[l - 1], rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(g.nabla_w[l], want_w[l - 1], rtol=1e-10, atol=1e-13)
        assert reference.relative_error(g.nabla_w[l], num_w[l - 1]) < 1e-7
        assert reference.relative_error(g.nabla_b[l], num_b[l - 1]) < 1e-7
    assert g.cost == pytest.approx(masked_cost(net.activations, net.loss, ws, bs, X, one_hot(y), masks), rel=1e-12)
    # a dropped neuron passes nothing back: its error is 0
    assert (np.asarray(g.delta[1])[masks[0] == 0] == 0).all()


def test_dropout_masks_are_the_ones_fit_uses_at_each_update():
    X, y = data(n=10)
    net, manual = (bp.Network(SIZES, ACTS, "cross_entropy", seed=5) for _ in range(2))
    net.fit(X, y, epochs=3, batch_size=10, eta=0.5, dropout=0.4, shuffle=False, verbose=0)
    for step in range(3):
        g = manual.backprop(X, y, dropout=0.4, step=step)
        theta = manual.parameters() - 0.5 * np.concatenate(
            [*(np.ravel(w) for w in g.nabla_w), *(np.ravel(b) for b in g.nabla_b)]
        )
        manual.set_parameters(theta)
    np.testing.assert_allclose(net.parameters(), manual.parameters(), rtol=1e-12, atol=1e-14)


def test_dropout_is_seeded_reproducible_and_off_at_prediction():
    X, y = data(n=40)
    nets = [bp.Network(SIZES, ACTS, "cross_entropy", seed=s) for s in (1, 1, 2)]
    for net in nets:
        net.fit(X, y, epochs=2, batch_size=8, eta=0.2, dropout=0.5, verbose=0)
    np.testing.assert_array_equal(nets[0].parameters(), nets[1].parameters())
    masks = [bp.Network(SIZES, ACTS, "cross_entropy", seed=s).backprop(X, y, dropout=0.5).mask[1] for s in (1, 2)]
    assert not np.array_equal(masks[0], masks[1])
    ws, bs = reference.params(nets[0])
    want = np.array([reference.forward(nets[0].activations, ws, bs, x)[1][-1] for x in X])
    for _ in range(2):  # predictions never drop: the same numbers every time, the plain forward pass
        np.testing.assert_allclose(nets[0].feedforward(X), want, rtol=1e-12)
    assert nets[0].evaluate(X, y)["cost"] == pytest.approx(reference.cost(nets[0].activations, nets[0].loss, ws, bs,
                                                                          X, one_hot(y)), rel=1e-12)  # fmt: skip


def test_dropout_mask_frequency_and_values():
    net = bp.Network([3, 400, 2], ["relu", "softmax"], "cross_entropy", seed=0, dtype="float32")
    X = np.ones((500, 3))
    mask = np.asarray(net.backprop(X, np.zeros(500, int), dropout=0.25, step=3).mask[1])
    assert mask.dtype == np.float32 and set(np.unique(mask)) == {np.float32(0.0), np.float32(1 / 0.75)}
    dropped = np.count_nonzero(mask == 0) / mask.size
    assert abs(dropped - 0.25) < 4 * math.sqrt(0.25 * 0.75 / mask.size)  # 200,000 draws: within 4 sigma
    other = np.asarray(net.backprop(X, np.zeros(500, int), dropout=0.25, step=4).mask[1])
    assert np.count_nonzero(mask != other) > 0.3 * mask.size  # each update draws afresh


def test_dropout_float32_matches_float64():
    X, y = data()
    g64, g32 = (
        bp.Network(SIZES, ACTS, "cross_entropy", seed=3, dtype=d).backprop(X, y, dropout=0.5, step=1)
        for d in ("float64", "float32")
    )
    np.testing.assert_array_equal(np.asarray(g64.mask[1]) > 0, np.asarray(g32.mask[1]) > 0)
    for l in (1, 2, 3):
        np.testing.assert_allclose(g32.nabla_w[l], g64.nabla_w[l], rtol=2e-3, atol=2e-5)


# ------------------------------------------------------------------------------------------------------ L1


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_l1_update_is_the_books_sgn_w_step(dtype):
    X, y = data(n=9)
    net = bp.Network(SIZES, ACTS, "cross_entropy", seed=6, dtype=dtype)
    net.weights[2] = np.where(np.arange(30).reshape(5, 6) % 7 == 0, 0.0, net.weights[2])  # sgn(0) = 0
    g = net.backprop(X, y)
    before = [np.array(w, np.float64) for w in net.weights], [np.array(b, np.float64) for b in net.biases]
    eta, l1, lmbda = 0.3, 0.8, 0.5
    net.fit(X, y, epochs=1, batch_size=9, eta=eta, l1=l1, lmbda=lmbda, shuffle=False, verbose=0)
    tol = {"rtol": 1e-12, "atol": 1e-14} if dtype == "float64" else {"rtol": 1e-5, "atol": 1e-6}
    for l in (1, 2, 3):
        w, b = before[0][l - 1], before[1][l - 1]
        want_w = w - eta * (g.nabla_w[l] + l1 / 9 * np.sign(w) + lmbda / 9 * w)
        np.testing.assert_allclose(net.weights[l], want_w, **tol)
        np.testing.assert_allclose(net.biases[l], b - eta * g.nabla_b[l], **tol)  # biases are not regularised
    assert (net.weights[2][before[0][1] == 0] != 0).any()  # a zero weight moves by its gradient only


@pytest.mark.jit_coverage
def test_l1_drives_weights_to_zero_and_works_with_every_optimizer():
    X, y = data(n=60, seed=1)
    counts = {}
    for l1 in (0.0, 3.0):
        for optimizer in ("sgd", "momentum", "adam"):
            net = bp.Network(SIZES, ACTS, "cross_entropy", seed=0)
            eta = 0.01 if optimizer == "adam" else 0.1
            net.fit(X, y, epochs=60, batch_size=10, eta=eta, l1=l1, optimizer=optimizer, verbose=0)
            counts[l1, optimizer] = sum(np.count_nonzero(np.abs(w) < 0.02) for w in net.weights)
    for optimizer in ("sgd", "momentum", "adam"):
        assert counts[3.0, optimizer] > counts[0.0, optimizer] + 10, counts


# ------------------------------------------------------------------------------------ per-layer learning speed


def test_layer_speed_is_the_norm_of_each_layers_gradient():
    X, y = data(n=16)
    net = bp.Network(SIZES, ACTS, "cross_entropy", seed=2)
    g = net.backprop(X, y)
    history = net.fit(X, y, epochs=2, batch_size=16, eta=0.1, shuffle=False, layer_speed=True, verbose=0)
    assert len(history.nabla_b_norm) == 2 and len(history.nabla_b_norm[0]) == 3
    for l in (1, 2, 3):
        assert history.nabla_b_norm[0][l - 1] == pytest.approx(np.linalg.norm(g.nabla_b[l]), rel=1e-12)
        assert history.nabla_w_norm[0][l - 1] == pytest.approx(np.linalg.norm(g.nabla_w[l]), rel=1e-12)


def test_layer_speed_is_the_mean_over_the_epochs_batches():
    X, y = data(n=12)
    net, manual = (bp.Network(SIZES, ACTS, "cross_entropy", seed=2) for _ in range(2))
    history = net.fit(X, y, epochs=1, batch_size=4, eta=0.1, shuffle=False, layer_speed=True, verbose=0)
    speeds = np.zeros(3)
    for k in range(3):
        g = manual.backprop(X[4 * k : 4 * k + 4], y[4 * k : 4 * k + 4])
        speeds += [np.linalg.norm(g.nabla_b[l]) for l in (1, 2, 3)]
        step = np.concatenate([*(np.ravel(w) for w in g.nabla_w), *(np.ravel(b) for b in g.nabla_b)])
        manual.set_parameters(manual.parameters() - 0.1 * step)
    np.testing.assert_allclose(history.nabla_b_norm[0], speeds / 3, rtol=1e-12)


def test_vanishing_gradient_in_a_deep_sigmoid_network():
    """Chapter 5's observation: in a deep sigmoid network the early layers learn far more slowly."""
    X, y = data(n=200, seed=3)
    net = bp.Network([4, 20, 20, 20, 20, 3], "sigmoid", "quadratic", seed=0)
    speeds = net.fit(X, one_hot(y), epochs=2, batch_size=10, eta=0.1, layer_speed=True, verbose=0).nabla_b_norm[-1]
    assert speeds[0] < speeds[1] < speeds[2] < speeds[3]
    assert speeds[0] < speeds[3] / 10


def test_layer_speed_rows_for_every_epoch_and_nan_where_not_recorded():
    X, y = data()
    net = bp.Network(SIZES, ACTS, "cross_entropy", seed=2)
    net.fit(X, y, epochs=1, eta=0.1, verbose=0)
    net.fit(X, y, epochs=2, eta=0.1, layer_speed=True, verbose=0)
    net.fit(X, y, epochs=1, eta=0.1, verbose=0)
    rows = np.array(net.history.nabla_b_norm)
    assert rows.shape == (4, 3)
    assert np.isnan(rows[[0, 3]]).all() and np.isfinite(rows[[1, 2]]).all()


def test_layer_speed_off_records_nothing():
    X, y = data()
    history = bp.Network(SIZES, ACTS, "cross_entropy", seed=2).fit(X, y, epochs=2, eta=0.1, verbose=0)
    assert history.nabla_b_norm == [] and history.nabla_w_norm == []


def test_layer_speed_saved_as_array_data_and_plotted(tmp_path):
    X, y = data()
    net = bp.Network(SIZES, ACTS, "cross_entropy", seed=2, dtype="float32")
    net.fit(X, y, epochs=1, eta=0.1, verbose=0)
    net.fit(X, y, epochs=2, eta=0.1, layer_speed=True, verbose=0)
    path = net.save(tmp_path / "m.npz")
    with np.load(path) as members:
        assert members["layer_speed"].shape == (3, 2, 3) and members["layer_speed"].dtype == np.float64
    loaded = bp.load(path)
    np.testing.assert_array_equal(np.array(loaded.history.nabla_b_norm), np.array(net.history.nabla_b_norm))
    np.testing.assert_array_equal(np.array(loaded.history.nabla_w_norm), np.array(net.history.nabla_w_norm))
    plain = bp.Network(SIZES, ACTS, "cross_entropy", seed=2)
    plain.fit(X, y, epochs=1, eta=0.1, verbose=0)
    import json

    with np.load(plain.save(tmp_path / "plain.npz")) as members:
        assert json.loads(members["metadata"].tobytes())["format_version"] == 2  # readable by bpframe 0.1
        assert "layer_speed" not in members
    pytest.importorskip("matplotlib")
    from matplotlib.image import imread

    assert imread(net.history.plot(tmp_path / "curves.png")).shape[1] == 1800  # three panels of 5 inches
    assert imread(plain.history.plot(tmp_path / "plain.png")).shape[1] == 1200


# ---------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dropout": 1.0}, "dropout must be a probability in [0, 1), got 1.0"),
        ({"dropout": -0.1}, "dropout must be a probability in [0, 1), got -0.1"),
        ({"dropout": [0.1, 1.5]}, "dropout[1] (layer 2) must be a probability in [0, 1), got 1.5"),
        (
            {"dropout": [0.1]},
            "dropout must be a probability in [0, 1) for every hidden layer, or a list of 2 (one "
            "per hidden layer, layer 1 first), got [0.1]",
        ),
        ({"dropout": True}, "dropout must be a probability in [0, 1) for every hidden layer, or a list of 2"),
        ({"l1": -1.0}, "l1 must be >= 0, got -1.0"),
        ({"l1": math.nan}, "l1 must be finite, got nan"),
        ({"layer_speed": "yes"}, "layer_speed must be True or False, got 'yes'"),
    ],
)
def test_bad_settings_are_named_before_any_work(kwargs, message):
    X, y = data()
    net = bp.Network(SIZES, ACTS, "cross_entropy", seed=2)
    before = net.parameters().copy()
    with pytest.raises(ConfigurationError) as info:
        net.fit(X, y, epochs=1, verbose=0, **kwargs)
    assert message in str(info.value)
    np.testing.assert_array_equal(net.parameters(), before)
    assert len(net.history) == 0


def test_dropout_needs_a_hidden_layer_and_backprop_checks_step():
    X, y = data()
    net = bp.Network([4, 3], "softmax", "cross_entropy")
    with pytest.raises(ConfigurationError, match="this network has no hidden layer: dropout drops hidden neurons"):
        net.fit(X, y, dropout=0.5, verbose=0)
    assert net.fit(X, y, dropout=0.0, epochs=1, verbose=0).cost  # 0 is no dropout, allowed
    with pytest.raises(ConfigurationError, match=r"step must be an int >= 0 \(an update number\), got -1"):
        bp.Network(SIZES, ACTS, "cross_entropy").backprop(X, y, dropout=0.5, step=-1)


def test_saving_refuses_a_tampered_layer_speed(tmp_path):
    X, y = data()
    net = bp.Network(SIZES, ACTS, "cross_entropy", seed=2)
    net.fit(X, y, epochs=1, eta=0.1, layer_speed=True, verbose=0)
    net.history.nabla_b_norm[0][1] = -1.0
    with pytest.raises(DataError, match="layer speeds hold values that are not norms"):
        net.save(tmp_path / "m.npz")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m.update(layer_speed={"epochs": 1}), "invalid layer_speed in the metadata: expected {'epochs': 2}"),
        (
            lambda m: m.pop("layer_speed"),
            "invalid layer_speed in the metadata: expected {'epochs': 2} (the history's "
            "epochs, at least 1) with a 'layer_speed' entry, got None",
        ),
        (lambda m: m.update(format_version=2), "the file has unexpected entries ['layer_speed.npy']"),
    ],
)
def test_loading_refuses_an_inconsistent_layer_speed(tmp_path, change, message):
    from tests.helpers.io_fixtures import edit_metadata

    X, y = data()
    net = bp.Network(SIZES, ACTS, "cross_entropy", seed=2)
    net.fit(X, y, epochs=2, eta=0.1, layer_speed=True, verbose=0)
    path = net.save(tmp_path / "m.npz")
    edit_metadata(path, change)
    with pytest.raises(bp.ModelFileError) as info:
        bp.load(path)
    assert str(info.value).startswith(f"{path}: ") and message in str(info.value)


def test_layer_speed_of_a_long_epoch_is_measured_on_evenly_spaced_batches():
    """More than SPEED_BATCHES batches: every k-th batch is measured (k = 2 for 250 batches), the others keep SGD's
    in-place step; the result is the mean over the measured batches along the same trajectory."""
    from bpframe.training import SPEED_BATCHES

    assert SPEED_BATCHES == 100
    X, y = data(n=500, seed=5)
    net, manual = (bp.Network(SIZES, ACTS, "cross_entropy", seed=2) for _ in range(2))
    history = net.fit(X, y, epochs=1, batch_size=2, eta=0.05, shuffle=False, layer_speed=True, verbose=0)
    speeds, measured = np.zeros(3), 0
    for k in range(250):
        g = manual.backprop(X[2 * k : 2 * k + 2], y[2 * k : 2 * k + 2])
        if k % 2 == 0:
            speeds += [np.linalg.norm(g.nabla_b[l]) for l in (1, 2, 3)]
            measured += 1
        step = np.concatenate([*(np.ravel(w) for w in g.nabla_w), *(np.ravel(b) for b in g.nabla_b)])
        manual.set_parameters(manual.parameters() - 0.05 * step)
    assert measured == 125
    np.testing.assert_allclose(history.nabla_b_norm[0], speeds / measured, rtol=1e-9)
    np.testing.assert_allclose(net.parameters(), manual.parameters(), rtol=1e-9, atol=1e-12)


def test_the_last_fits_settings_are_kept_by_model_files_pickles_and_bpframe_info(tmp_path, capsys):
    import pickle

    from bpframe.cli import main

    X, y = data()
    net = bp.Network(SIZES, ACTS, "cross_entropy", seed=2)
    assert net.fit_settings is None
    net.fit(X, y, epochs=2, batch_size=4, eta=0.2, lmbda=0.1, l1=0.5, dropout=[0.1, 0.4], verbose=0)
    want = {"optimizer": "sgd", "eta": 0.2, "lmbda": 0.1, "l1": 0.5, "dropout": [0.1, 0.4], "batch_size": 4,
            "epochs": 2}  # fmt: skip
    assert net.fit_settings == want
    path = net.save(tmp_path / "m.npz")
    assert bp.load(path).fit_settings == want
    assert pickle.loads(pickle.dumps(net)).fit_settings == want
    assert main(["info", str(path)]) == 0
    assert "training   last fit: sgd, eta 0.2, lmbda 0.1, l1 0.5, dropout 0.1,0.4, batch size 4, 2 epochs" in (
        capsys.readouterr().out
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.update(l1=-1),
        lambda t: t.update(eta=0),
        lambda t: t.update(dropout=[0.1]),
        lambda t: t.update(dropout=[0.1, 1.0]),
        lambda t: t.update(optimizer="Not A Name"),
        lambda t: t.update(batch_size=True),
        lambda t: t.pop("epochs"),
    ],
)
def test_loading_refuses_a_bad_training_record(tmp_path, change):
    from tests.helpers.io_fixtures import edit_metadata

    X, y = data()
    net = bp.Network(SIZES, ACTS, "cross_entropy", seed=2)
    net.fit(X, y, epochs=1, eta=0.1, dropout=0.2, verbose=0)
    path = net.save(tmp_path / "m.npz")
    edit_metadata(path, lambda m: change(m["training"]))
    with pytest.raises(bp.ModelFileError) as info:
        bp.load(path)
    expected = ("{'optimizer': a name, 'eta': a number > 0, 'lmbda' and 'l1': numbers >= 0, 'dropout': 2 "
                "probabilities in [0, 1), 'batch_size' and 'epochs': ints >= 1}")  # fmt: skip
    assert str(info.value).startswith(f"{path}: invalid training record in the metadata: expected {expected}, got ")
