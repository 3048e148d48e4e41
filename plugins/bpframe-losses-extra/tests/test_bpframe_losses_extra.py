"""bpframe-losses-extra: the conformance kit, then hand-worked values and the documented subgradients."""

from __future__ import annotations

import math

import bpframe_losses_extra as L
import pytest

import bpframe as bp
from bpframe.testing import check_loss, conformance_tests

# The whole bpframe conformance kit on everything this distribution registers: one test per loss.
test_conformance = conformance_tests("bpframe-losses-extra")


def test_every_loss_is_registered():
    assert {"hinge", "huber", "log_cosh", "mae", "squared_hinge"} <= set(bp.losses())


def test_huber_is_quadratic_within_delta_and_linear_beyond():
    assert L.huber(0.5, 0.0) == 0.125 and L.huber_nabla_a(0.5, 0.0) == 0.5
    assert L.huber(3.0, 0.0) == 2.5 and L.huber_nabla_a(3.0, 0.0) == 1.0
    assert L.huber(-1000.0, 0.0) == 999.5 and L.huber_nabla_a(-1000.0, 0.0) == -1.0


def test_make_huber_uses_its_delta_and_conforms():
    loss = L.make_huber(2.0, "huber_2")
    assert loss.cost(1.0, 0.0) == 0.5 and loss.cost(5.0, 0.0) == 8.0 and loss.nabla_a(-5.0, 0.0) == -2.0
    check_loss(loss, activations={})
    with pytest.raises(ValueError, match=r"delta must be a positive finite number, got -1\.0"):
        L.make_huber(-1.0, "bad")


def test_log_cosh_matches_its_definition_and_does_not_overflow():
    for d in (-5.0, -0.3, 0.0, 1e-4, 2.0, 20.0):
        assert L.log_cosh(d, 0.0) == pytest.approx(math.log(math.cosh(d)), rel=1e-12, abs=1e-15)
    assert L.log_cosh(1000.0, 0.0) == pytest.approx(1000.0 - math.log(2.0), rel=1e-15)
    assert L.log_cosh_nabla_a(1000.0, 0.0) == 1.0


def test_mae_subgradient_is_zero_at_the_corner():
    assert [L.mae_nabla_a(a, 0.5) for a in (0.0, 0.5, 1.0)] == [-1.0, 0.0, 1.0]
    assert L.mae(-2.0, 0.5) == 2.5


def test_hinges_for_plus_minus_one_targets():
    assert [L.hinge(a, 1.0) for a in (-1.0, 0.0, 1.0, 2.0)] == [2.0, 1.0, 0.0, 0.0]
    assert [L.hinge_nabla_a(a, -1.0) for a in (-2.0, -1.0, 0.0)] == [0.0, 0.0, 1.0]
    assert [L.squared_hinge(a, -1.0) for a in (1.0, 0.0, -1.0)] == [4.0, 1.0, 0.0]
    assert L.squared_hinge_nabla_a(0.0, 1.0) == -2.0 and L.squared_hinge_nabla_a(1000.0, -1.0) == 2002.0
