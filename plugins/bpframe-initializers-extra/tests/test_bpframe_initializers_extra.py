"""bpframe-initializers-extra: the conformance kit, then the distributions and structure each one promises."""

from __future__ import annotations

import bpframe_initializers_extra as X
import numpy as np
import pytest

import bpframe as bp
from bpframe.testing import conformance_tests

# The whole bpframe conformance kit on everything this distribution registers: one test per initializer.
test_conformance = conformance_tests("bpframe-initializers-extra")

NAMES = ["glorot_normal", "he_uniform", "identity", "lecun_normal", "orthogonal"]


def test_every_initializer_is_registered():
    assert set(NAMES) <= set(bp.initializers())


@pytest.mark.parametrize(
    ("draw", "variance"),
    [(X.lecun_normal, 1 / 400), (X.he_uniform, 2 / 400), (X.glorot_normal, 2 / (400 + 300))],
)
def test_weights_have_the_promised_variance_and_zero_biases(draw, variance):
    w, b = draw(400, 300, np.random.default_rng(0))
    # 120,000 draws: the sample variance is within 1 % of the true one with overwhelming probability
    assert w.shape == (300, 400) and abs(w.var() / variance - 1.0) < 0.01 and abs(w.mean()) < 0.01 * variance**0.5
    assert not b.any() and b.shape == (300,)


@pytest.mark.parametrize(("n_in", "n_out"), [(5, 3), (3, 5), (4, 4)])
def test_orthogonal_has_orthonormal_rows_or_columns(n_in, n_out):
    w, _ = X.orthogonal(n_in, n_out, np.random.default_rng(1))
    small = w @ w.T if n_out <= n_in else w.T @ w
    np.testing.assert_allclose(small, np.eye(min(n_in, n_out)), atol=1e-13)


def test_identity_is_the_identity_for_any_shape():
    assert X.identity(3, 2, np.random.default_rng(0))[0].tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    assert X.identity(2, 3, np.random.default_rng(0))[0].tolist() == [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]


def test_a_network_uses_them_by_name_with_its_seed():
    net = bp.Network([4, 4, 3], "relu", init=["identity", "orthogonal"], seed=3)
    again = bp.Network([4, 4, 3], "relu", init=["identity", "orthogonal"], seed=3)
    assert net.weights[1].tolist() == np.eye(4).tolist()
    assert net.parameters().tobytes() == again.parameters().tobytes()
    other = bp.Network([4, 4, 3], "relu", init=["identity", "orthogonal"], seed=4)
    assert not np.array_equal(net.weights[2], other.weights[2])
