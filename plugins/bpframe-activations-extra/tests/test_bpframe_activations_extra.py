"""bpframe-activations-extra: the conformance kit, then values against independent formulas and hand-worked numbers."""

from __future__ import annotations

import math

import bpframe_activations_extra as X
import numpy as np
import pytest

import bpframe as bp
from bpframe.testing import conformance_tests

# The whole bpframe conformance kit on everything this distribution registers: one test per activation.
test_conformance = conformance_tests("bpframe-activations-extra")

NAMES = ["elu", "gelu", "gelu_tanh", "hard_sigmoid", "mish", "selu", "silu", "softsign", "swish"]
MODERATE = np.linspace(-12.0, 12.0, 97)


def test_every_activation_is_registered_with_provenance():
    assert set(NAMES) <= set(bp.activations())
    for name in NAMES:
        provenance = bp.provenance(bp.get_activation(name))
        assert (provenance.distribution, provenance.version) == ("bpframe-activations-extra", X.__version__)


@pytest.mark.parametrize(
    ("fn", "naive"),
    [
        (X.silu, lambda z: z / (1.0 + math.exp(-z))),
        (X.gelu, lambda z: 0.5 * z * (1.0 + math.erf(z / math.sqrt(2.0)))),
        (X.gelu_tanh, lambda z: 0.5 * z * (1.0 + math.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z**3)))),
        (X.mish, lambda z: z * math.tanh(math.log1p(math.exp(z)))),
        (X.elu, lambda z: z if z > 0 else math.exp(z) - 1.0),
        (X.softsign, lambda z: z / (1.0 + abs(z))),
    ],
    ids=lambda f: getattr(f, "__name__", ""),
)
def test_stable_forms_equal_the_textbook_formulas(fn, naive):
    """Where the textbook formula is accurate (|z| ≤ 12), the rewritten one agrees with it."""
    for z in MODERATE:
        assert fn(float(z)) == pytest.approx(naive(float(z)), rel=1e-12, abs=1e-15)


def test_hand_worked_values():
    assert X.silu(1.0) == pytest.approx(0.7310585786300049, rel=1e-15)  # 1 / (1 + e^-1)
    assert X.gelu(1.0) == pytest.approx(0.8413447460685429, rel=1e-15)  # Φ(1)
    assert X.gelu_prime(0.0) == 0.5 and X.gelu_tanh_prime(0.0) == 0.5 and X.silu_prime(0.0) == 0.5
    assert X.mish(0.0) == 0.0 and X.mish_prime(0.0) == pytest.approx(math.tanh(math.log(2.0)), rel=1e-15)
    assert X.selu(1.0) == X.SELU_LAMBDA and X.selu(-1000.0) == pytest.approx(-1.7580993408473766, rel=1e-15)
    assert X.elu(-1000.0) == -1.0 and X.elu_prime(-1.0) == pytest.approx(math.exp(-1.0), rel=1e-15)
    assert [X.hard_sigmoid(z) for z in (-4.0, -3.0, 0.0, 1.5, 3.0)] == [0.0, 0.0, 0.5, 0.75, 1.0]
    assert [X.hard_sigmoid_prime(z) for z in (-3.0, 0.0, 2.9, 3.0)] == [0.0, 1 / 6, 1 / 6, 0.0]
    assert X.softsign(3.0) == 0.75 and X.softsign_prime(-3.0) == 1 / 16


@pytest.mark.parametrize("fn", [X.silu, X.gelu, X.gelu_tanh, X.mish])
def test_smooth_relus_saturate_exactly(fn):
    """z σ(z)-like functions are exactly z at +1000 and exactly 0 at −1000 (no overflow, no NaN)."""
    assert fn(1000.0) == 1000.0
    assert fn(-1000.0) == 0.0


def test_selu_keeps_unit_variance():
    """SELU's fixed point: standard normal inputs give outputs of mean ≈ 0 and variance ≈ 1."""
    z = np.random.default_rng(0).standard_normal(200_000)
    out = np.array([X.selu(float(v)) for v in z])
    assert abs(out.mean()) < 0.01 and abs(out.var() - 1.0) < 0.01


def test_gelu_tanh_derivative_saturates_instead_of_nan():
    # beyond |z| ≈ 22.4 the second term underflows; past |z| ≈ 5.6e102, z³ overflows and it would be 0 · inf
    assert X.gelu_tanh_prime(-1e300) == 0.0 and X.gelu_tanh_prime(1e300) == 1.0
    assert X.gelu_tanh_prime(-30.0) == 0.0 and X.gelu_tanh_prime(30.0) == 1.0
