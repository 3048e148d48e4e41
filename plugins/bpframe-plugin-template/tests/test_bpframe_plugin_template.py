"""The template's tests: the conformance kit in one line, then values worked out by hand."""

from __future__ import annotations

import math

import pytest
from bpframe_plugin_template import arctan, arctan_prime

import bpframe as bp
from bpframe.testing import conformance_tests

# The whole bpframe conformance kit on everything this distribution registers: one test per activation or loss.
test_conformance = conformance_tests("bpframe-plugin-template")


def test_registered_under_its_name():
    assert "arctan" in bp.activations()


def test_known_values():
    assert arctan(1.0) == pytest.approx(math.pi / 4, rel=1e-15)
    assert arctan(math.sqrt(3.0)) == pytest.approx(math.pi / 3, rel=1e-15)
    assert arctan(-1000.0) == pytest.approx(-(math.pi / 2 - 1 / 1000 + 1 / 3e9), rel=1e-15)
    assert arctan_prime(0.0) == 1.0 and arctan_prime(1.0) == 0.5 and arctan_prime(-3.0) == 0.1
