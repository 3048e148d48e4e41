"""The six plugins the conformance kit must catch (issue 15), each wrong in one plausible way and otherwise right.

Each function is in numba's subset, so every one compiles: what is wrong is the mathematics or the contract.
"""

from __future__ import annotations

import math

import numpy as np

from bpframe import Activation, Initializer, Loss, OptimizerSpec, hookimpl


def sigmoid(z):
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def sigmoid_prime_off(z):
    """σ(1 − σ) times 1.1: a slip in a hand-derived derivative."""
    e = math.exp(-abs(z))
    return 1.1 * e / ((1.0 + e) * (1.0 + e))


def half_square(a, y):
    d = a - y
    return 0.5 * d * d


def half_square_wrong_sign(a, y):
    """∂C/∂a written as y − a: training climbs the cost."""
    return y - a


def bent_naive(z):
    """Bent identity as the formula reads: z * z overflows from |z| ≈ 1.3e154 although the value fits."""
    return (math.sqrt(z * z + 1.0) - 1.0) / 2.0 + z


def bent_naive_prime(z):
    return z / (2.0 * math.sqrt(z * z + 1.0)) + 1.0


def sgd_fixed_step(theta, grad, state, theta_out, state_out, n_weights, hyper, step):
    """SGD that forgets hyper[0]: its step is always 0.01."""
    cast = theta.dtype.type
    decay = cast(hyper[1])
    check = cast(0.0)
    for i in range(theta.shape[0]):
        g = grad[i] + decay * theta[i] if i < n_weights else grad[i]
        new = theta[i] - cast(0.01) * g
        theta_out[i] = new
        check += new * cast(0.0)
    return check == 0.0


def heavy_ball(theta, grad, state, theta_out, state_out, n_weights, hyper, step):
    """θ ← θ − η g + μ (θ − θ_prev), with θ_prev taken from theta_out, which holds it between two steps of one
    run of the engine, but is never saved: no state rows are declared."""
    cast = theta.dtype.type
    eta, decay, mu = cast(hyper[0]), cast(hyper[1]), cast(hyper[2])
    check = cast(0.0)
    for i in range(theta.shape[0]):
        g = grad[i] + decay * theta[i] if i < n_weights else grad[i]
        previous = theta_out[i] if step > 1 else theta[i]
        new = theta[i] - eta * g + mu * (theta[i] - previous)
        theta_out[i] = new
        check += new * cast(0.0)
    return check == 0.0


def normal_fixed_seed(n_in, n_out, rng):
    """N(0, 1/n_in) weights from a generator of its own: every seed gives the same network."""
    own = np.random.default_rng(0)
    return own.standard_normal((n_out, n_in)) / np.sqrt(n_in), np.zeros(n_out)


class PlantedPlugin:
    @hookimpl
    def bpframe_register_activations(self, register):
        register(Activation("sigmoid_off", sigmoid, sigmoid_prime_off))
        register(Activation("bent_naive", bent_naive, bent_naive_prime))

    @hookimpl
    def bpframe_register_losses(self, register):
        register(Loss("half_square_wrong_sign", half_square, half_square_wrong_sign))

    @hookimpl
    def bpframe_register_optimizers(self, register):
        from bpframe import Hyper

        register(OptimizerSpec("sgd_fixed_step", sgd_fixed_step))
        register(OptimizerSpec("heavy_ball", heavy_ball, (Hyper("mu", 0.9, low=0.0, high=1.0),)))

    @hookimpl
    def bpframe_register_initializers(self, register):
        register(Initializer("normal_fixed_seed", normal_fixed_seed))
