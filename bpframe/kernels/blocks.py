r"""The blocks: one compiled loop per plugin function (pair) and dtype, called by the engine through a pointer.

Each template below returns the Python source of a block as a closure over the plugin's functions, compiled
with numba (the plugin function is inlined into the loop, where it vectorises) and exposed with the C signature
of :mod:`bpframe.kernels.abi`. The engine (:mod:`bpframe.kernels.engine`) and the NumPy tier
(:mod:`bpframe.kernels.numpy_tier`) call the *same* compiled block, so both compute every plugin function bit
for bit alike.

What a block computes, for a layer of ``rows`` samples and ``cols`` neurons:

.. math::
    \text{FORWARD:}\; z \leftarrow z + b,\; a = \sigma(z) \qquad
    \text{BACKWARD:}\; x \leftarrow x \odot \sigma'(z) \;\; (\text{or } J_\sigma(z)^\mathsf{T} x \text{ per row})

    \text{COST:}\; \textstyle\sum_{x,j} c(a_j, y_j) \qquad \text{NABLA:}\; \nabla_a C \qquad
    \text{output error:}\; \delta^L_j = e(z_j, a_j, y_j)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .abi import BACKWARD, COST, FORWARD, NONFINITE, OK, view

__all__ = ["activation_block", "loss_block", "output_error_block", "update_block", "vector_activation_block"]

Fn = Callable[..., Any]


def activation_block(sigma: Fn, sigma_prime: Fn, dtype: Any) -> Fn:
    """The block of an elementwise activation: FORWARD applies σ after adding the bias, BACKWARD multiplies by σ′,
    OUTPUT multiplies the loss's float64 ∇ₐC by σ′ (BP1)."""

    def block(mode, p0, p1, p2, p3, rows, cols):
        z = view(p0, (rows, cols), dtype)
        if mode == FORWARD:
            b = view(p1, (cols,), dtype)
            a = view(p2, (rows, cols), dtype)
            for i in range(rows):
                for j in range(cols):
                    zij = z[i, j] + b[j]
                    z[i, j] = zij
                    a[i, j] = sigma(zij)
        elif mode == BACKWARD:
            x = view(p2, (rows, cols), dtype)
            for i in range(rows):
                for j in range(cols):
                    x[i, j] = x[i, j] * sigma_prime(z[i, j])
        else:
            x = view(p2, (rows, cols), dtype)
            g = view(p3, (rows, cols), np.float64)
            for i in range(rows):
                for j in range(cols):
                    x[i, j] = g[i, j] * sigma_prime(z[i, j])
        return OK

    return block


def vector_activation_block(forward: Fn, vjp: Fn, dtype: Any) -> Fn:
    """The block of a non-elementwise activation (softmax): one sample's vector at a time; BACKWARD applies the
    vector-Jacobian product to a float64 copy of the row, OUTPUT to the loss's float64 ∇ₐC (BP1)."""

    def block(mode, p0, p1, p2, p3, rows, cols):
        z = view(p0, (rows, cols), dtype)
        if mode == FORWARD:
            b = view(p1, (cols,), dtype)
            a = view(p2, (rows, cols), dtype)
            for i in range(rows):
                for j in range(cols):
                    z[i, j] = z[i, j] + b[j]
                forward(z[i], a[i])
        elif mode == BACKWARD:
            a = view(p1, (rows, cols), dtype)
            x = view(p2, (rows, cols), dtype)
            v = view(p3, (cols,), np.float64)
            for i in range(rows):
                for j in range(cols):
                    v[j] = x[i, j]
                vjp(z[i], a[i], v, x[i])
        else:
            a = view(p1, (rows, cols), dtype)
            x = view(p2, (rows, cols), dtype)
            g = view(p3, (rows, cols), np.float64)
            for i in range(rows):
                vjp(z[i], a[i], g[i], x[i])
        return OK

    return block


def loss_block(cost: Fn, nabla_a: Fn, dtype: Any) -> Fn:
    """The block of a loss: COST sums c(a, y) over the batch in float64, NABLA writes ∇ₐC in float64."""

    def block(mode, p0, p1, p2, p3, rows, cols):
        a = view(p0, (rows, cols), dtype)
        y = view(p1, (rows, cols), dtype)
        if mode == COST:
            out = view(p2, (1,), np.float64)
            total = 0.0
            for i in range(rows):
                for j in range(cols):
                    total += cost(a[i, j], y[i, j])
            out[0] = total
        else:
            grad = view(p2, (rows, cols), np.float64)
            for i in range(rows):
                for j in range(cols):
                    grad[i, j] = nabla_a(a[i, j], y[i, j])
        return OK

    return block


def output_error_block(output_error: Fn, dtype: Any) -> Fn:
    r"""The block of a loss's combined output error for one output activation, e.g. :math:`\delta^L = a - y`."""

    def block(mode, p0, p1, p2, p3, rows, cols):
        z = view(p0, (rows, cols), dtype)
        a = view(p1, (rows, cols), dtype)
        y = view(p2, (rows, cols), dtype)
        delta = view(p3, (rows, cols), dtype)
        for i in range(rows):
            for j in range(cols):
                delta[i, j] = output_error(z[i, j], a[i, j], y[i, j])
        return OK

    return block


def update_block(update: Fn, dtype: Any) -> Fn:
    """The block of an optimizer's update: new parameters and state go to the ``_out`` buffers, and nothing is
    committed by the engine unless every new parameter is finite."""

    def block(p_theta, p_grad, p_state, p_theta_out, p_state_out, p_hyper, n, n_weights, rows, step):
        theta = view(p_theta, (n,), dtype)
        grad = view(p_grad, (n,), dtype)
        state = view(p_state, (rows, n), dtype)
        theta_out = view(p_theta_out, (n,), dtype)
        state_out = view(p_state_out, (rows, n), dtype)
        hyper = view(p_hyper, (8,), np.float64)
        if update(theta, grad, state, theta_out, state_out, n_weights, hyper, step):
            return OK
        return NONFINITE

    return block
