"""The bent identity's tests: the conformance kit in one line, then values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from bpframe_bent_identity import bent_identity, bent_identity_prime

import bpframe as bp
from bpframe.testing import conformance_tests

# The whole bpframe conformance kit on everything this distribution registers: one test per activation or loss.
test_conformance = conformance_tests("bpframe-bent-identity")


def test_registered_under_its_name():
    assert "bent_identity" in bp.activations()


def test_known_values():
    assert bent_identity(0.0) == 0.0 and bent_identity_prime(0.0) == 1.0
    assert bent_identity(1.0) == pytest.approx((math.sqrt(2.0) - 1.0) / 2.0 + 1.0, rel=1e-15)
    assert bent_identity_prime(1.0) == pytest.approx(1.0 + 1.0 / (2.0 * math.sqrt(2.0)), rel=1e-15)
    assert bent_identity(-1e300) == pytest.approx(-0.5e300, rel=1e-15)  # no overflow where z² would


def test_gradient_of_a_network_using_it():
    net = bp.Network([3, 5, 2], ["bent_identity", "softmax"], "cross_entropy", seed=0)
    rng = np.random.default_rng(0)
    assert bp.gradient_check(net, rng.normal(size=(6, 3)), rng.integers(0, 2, size=6)).passed()
