"""The compiled epoch (gathered mini-batches, in-place batch means, fused updates) computes what the step-by-step
reference path computes: the same parameters after an epoch, to rounding, in both dtypes, with built-in and
user-defined activations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import reference

import bpframe as bp


def softsign(z):
    return z / (1.0 + abs(z))


def softsign_prime(z):
    return 1.0 / ((1.0 + abs(z)) * (1.0 + abs(z)))


def bent(z):
    return (math.sqrt(z * z + 1.0) - 1.0) / 2.0 + z


def bent_prime(z):
    return z / (2.0 * math.sqrt(z * z + 1.0)) + 1.0


SOFTSIGN = bp.Activation("softsign_fast_path", softsign, softsign_prime)
BENT = bp.Activation("bent_fast_path", bent, bent_prime)
CONFIGS = [
    ([5, 6, 3], ["sigmoid", "softmax"], "cross_entropy"),
    ([5, 6, 4, 2], [SOFTSIGN, "relu", "identity"], "quadratic"),
    ([5, 3, 1], [BENT, "sigmoid"], "binary_cross_entropy"),
]


def targets(rng, loss, n, k):
    if loss == "cross_entropy":
        return np.eye(k)[rng.integers(0, k, n)]
    if loss == "binary_cross_entropy":
        return rng.integers(0, 2, (n, k)).astype(float)
    return rng.normal(size=(n, k))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("sizes", "acts", "loss"), CONFIGS, ids=["sigmoid-softmax", "plugin-relu", "plugin-bce"])
def test_one_epoch_equals_the_reference_steps(sizes, acts, loss, dtype):
    rng = np.random.default_rng(7)
    n, batch, eta = 30, 7, 0.3
    X, Y = rng.normal(size=(n, sizes[0])), targets(rng, loss, n, sizes[-1])
    net = bp.Network(sizes, acts, loss, seed=3, dtype=dtype)
    ws, bs = reference.params(net)
    net.fit(X, Y, epochs=1, batch_size=batch, eta=eta, lmbda=0.5, shuffle=False, verbose=0)
    x64 = X.astype(dtype).astype(np.float64)
    for start in range(0, n, batch):
        xb, yb = x64[start : start + batch], Y[start : start + batch]
        _, _, _, nabla_b, nabla_w = reference.backprop(net.activations, net.loss, ws, bs, xb, yb)
        ws = [w - eta * (g + 0.5 / n * w) for w, g in zip(ws, nabla_w, strict=True)]
        bs = [b - eta * g for b, g in zip(bs, nabla_b, strict=True)]
    rtol, atol = (1e-11, 1e-13) if dtype == "float64" else (5e-4, 5e-5)
    for l in range(1, net.num_layers + 1):
        np.testing.assert_allclose(net.weights[l], ws[l - 1], rtol=rtol, atol=atol, err_msg=f"w[{l}]")
        np.testing.assert_allclose(net.biases[l], bs[l - 1], rtol=rtol, atol=atol, err_msg=f"b[{l}]")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_batch_events_do_not_change_the_result(dtype):
    """Training in runs of batches (when a hook listens) or in one call gives identical parameters."""

    class Listener:
        @bp.hookimpl
        def bpframe_batches_end(self, done):
            pass

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(500, 8)), rng.integers(0, 3, 500)
    a = bp.Network([8, 5, 3], ["tanh", "softmax"], "cross_entropy", seed=1, dtype=dtype)
    b = bp.Network([8, 5, 3], ["tanh", "softmax"], "cross_entropy", seed=1, dtype=dtype)
    a.fit(X, y, epochs=2, batch_size=3, eta=0.05, optimizer="adam", verbose=0)
    b.fit(X, y, epochs=2, batch_size=3, eta=0.05, optimizer="adam", callbacks=[Listener()], verbose=0)
    np.testing.assert_array_equal(a.parameters(), b.parameters())
