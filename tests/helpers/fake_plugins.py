"""Plugins for the discovery tests: good ones, broken ones, and ones that clash."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from bpframe import Activation, Initializer, Loss, hookimpl


@dataclass
class FakeEntryPoint:
    """Quacks like importlib.metadata.EntryPoint, with a distribution attached."""

    name: str
    target: Callable[[], Any]
    distribution: str = "bpframe-fake"
    version: str = "1.2.3"
    group: str = "bpframe"
    value: str = field(default="fake_plugins:plugin")

    @property
    def dist(self):
        return SimpleNamespace(metadata={"Name": self.distribution}, version=self.version)

    def load(self):
        return self.target()


def cube(z):
    return z * z * z


def cube_prime(z):
    return 3.0 * z * z


def absolute(a, y):
    return abs(a - y)


def absolute_grad(a, y):
    return 1.0 if a > y else (-1.0 if a < y else 0.0)


class CubePlugin:
    @hookimpl
    def bpframe_register_activations(self, register):
        register(Activation("cube", cube, cube_prime))


class AbsolutePlugin:
    @hookimpl
    def bpframe_register_losses(self, register):
        register(Loss("absolute", absolute, absolute_grad))


class RaisingPlugin:
    """Registers one activation, then fails: nothing it registered may survive."""

    @hookimpl
    def bpframe_register_activations(self, register):
        register(Activation("half_done", cube, cube_prime))
        raise ValueError("plugin bug")


class WrongTypePlugin:
    @hookimpl
    def bpframe_register_activations(self, register):
        register("sigmoid")


class MisspelledHookPlugin:
    @hookimpl
    def bpframe_register_activation(self, register):  # missing final "s"
        register(Activation("never", cube, cube_prime))


class SigmoidClashPlugin:
    @hookimpl
    def bpframe_register_activations(self, register):
        register(Activation("sigmoid", cube, cube_prime))
        register(Activation("cube_too", cube, cube_prime))


class CubeClashPlugin:
    @hookimpl
    def bpframe_register_activations(self, register):
        register(Activation("cube", cube, cube_prime))


def _helper(z):
    return z


def uncompilable(z):
    return _helper(z) + 1.0


def uncompilable_prime(z):
    return 1.0


class UncompilablePlugin:
    @hookimpl
    def bpframe_register_activations(self, register):
        register(Activation("uncompilable", uncompilable, uncompilable_prime))


def failing_import():
    raise ImportError("No module named 'bpframe_missing_dependency'")


def swish(z):
    if z >= 0.0:
        return z / (1.0 + math.exp(-z))
    e = math.exp(z)
    return z * e / (1.0 + e)


def halves(n_in, n_out, rng):
    """w = 0.5 everywhere plus a draw, b = the draw: seeded, easy to recognise."""
    return 0.5 + rng.uniform(-0.01, 0.01, (n_out, n_in)), rng.uniform(-0.01, 0.01, n_out)


def transposed(n_in, n_out, rng):
    """A plugin bug: w has shape (n_in, n_out)."""
    return rng.standard_normal((n_in, n_out)), np.zeros(n_out)


class HalvesPlugin:
    """An initializer, and an activation whose layers use it by default."""

    @hookimpl
    def bpframe_register_initializers(self, register):
        register(Initializer("halves", halves, description="0.5 ± 0.01"))
        register(Initializer("transposed", transposed))

    @hookimpl
    def bpframe_register_activations(self, register):
        register(Activation("cube_halves", cube, cube_prime, default_init="halves"))
