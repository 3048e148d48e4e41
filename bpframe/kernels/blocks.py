r"""The blocks: one compiled loop per plugin function, dtype and use, called by the engine through a pointer.

Each template below returns a block as a closure over one plugin function (already compiled by numba, and
inlined into the loop, where it vectorises), exposed with the C signature of :mod:`bpframe.kernels.abi`. The
engine (:mod:`bpframe.kernels.engine`) and the NumPy tier (:mod:`bpframe.kernels.numpy_tier`) call the *same*
compiled block, so both compute every plugin function bit for bit alike. A block is compiled the first time a
network needs it: an evaluation compiles forward and cost blocks only.

What each computes, for a layer of ``rows`` samples and ``cols`` neurons:

.. math::
    \text{forward:}\; z \leftarrow z + b,\; a = \sigma(z) \qquad
    \text{backward:}\; x \leftarrow x \odot \sigma'(z) \qquad
    \text{output:}\; \delta = \nabla_a C \odot \sigma'(z)

    \text{cost:}\; \textstyle\sum_{x,j} c(a_j, y_j) \qquad \text{nabla:}\; \nabla_a C \qquad
    \text{output error:}\; \delta^L_j = e(z_j, a_j, y_j)

and for a non-elementwise activation (softmax) the vector forms, one sample's row at a time, with the
vector-Jacobian product :math:`J_\sigma(z)^\mathsf{T} v` in place of :math:`v \odot \sigma'(z)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .abi import NONFINITE, OK, view
from .interface import BLOCK_KINDS

__all__ = ["TEMPLATES"]

Fn = Callable[..., Any]


def forward(sigma: Fn, dtype: Any) -> Fn:
    """z ← z + b, a = σ(z), elementwise."""

    def block(p0, p1, p2, p3, rows, cols):
        z, b, a = view(p0, (rows, cols), dtype), view(p1, (cols,), dtype), view(p2, (rows, cols), dtype)
        for i in range(rows):
            for j in range(cols):
                zij = z[i, j] + b[j]
                z[i, j] = zij
                a[i, j] = sigma(zij)
        return OK

    return block


def backward(sigma_prime: Fn, dtype: Any) -> Fn:
    """x ← x ⊙ σ′(z): BP2's last step."""

    def block(p0, p1, p2, p3, rows, cols):
        z, x = view(p0, (rows, cols), dtype), view(p2, (rows, cols), dtype)
        for i in range(rows):
            for j in range(cols):
                x[i, j] = x[i, j] * sigma_prime(z[i, j])
        return OK

    return block


def output(sigma_prime: Fn, dtype: Any) -> Fn:
    """δ = ∇ₐC ⊙ σ′(z), from the loss's float64 ∇ₐC, rounded once: BP1."""

    def block(p0, p1, p2, p3, rows, cols):
        z, delta, nabla = (
            view(p0, (rows, cols), dtype),
            view(p2, (rows, cols), dtype),
            view(p3, (rows, cols), np.float64),
        )
        for i in range(rows):
            for j in range(cols):
                delta[i, j] = nabla[i, j] * sigma_prime(z[i, j])
        return OK

    return block


def vector_forward(forward_fn: Fn, dtype: Any) -> Fn:
    """z ← z + b, then the activation's forward(z_row, a_row) for each sample (softmax)."""

    def block(p0, p1, p2, p3, rows, cols):
        z, b, a = view(p0, (rows, cols), dtype), view(p1, (cols,), dtype), view(p2, (rows, cols), dtype)
        for i in range(rows):
            for j in range(cols):
                z[i, j] = z[i, j] + b[j]
            forward_fn(z[i], a[i])
        return OK

    return block


def vector_backward(vjp: Fn, dtype: Any) -> Fn:
    """x_row ← J(z_row)ᵀ x_row for each sample, through a float64 copy of the row: BP2's last step."""

    def block(p0, p1, p2, p3, rows, cols):
        z, a, x, v = (
            view(p0, (rows, cols), dtype),
            view(p1, (rows, cols), dtype),
            view(p2, (rows, cols), dtype),
            view(p3, (cols,), np.float64),
        )
        for i in range(rows):
            for j in range(cols):
                v[j] = x[i, j]
            vjp(z[i], a[i], v, x[i])
        return OK

    return block


def vector_output(vjp: Fn, dtype: Any) -> Fn:
    """δ_row = J(z_row)ᵀ ∇ₐC_row for each sample, from the loss's float64 ∇ₐC: BP1."""

    def block(p0, p1, p2, p3, rows, cols):
        z, a, delta, nabla = (
            view(p0, (rows, cols), dtype),
            view(p1, (rows, cols), dtype),
            view(p2, (rows, cols), dtype),
            view(p3, (rows, cols), np.float64),
        )
        for i in range(rows):
            vjp(z[i], a[i], nabla[i], delta[i])
        return OK

    return block


def cost(cost_fn: Fn, dtype: Any) -> Fn:
    """Σ c(a, y) over the whole batch, in float64."""

    def block(p0, p1, p2, p3, rows, cols):
        a, y, out = view(p0, (rows, cols), dtype), view(p1, (rows, cols), dtype), view(p2, (1,), np.float64)
        total = 0.0
        for i in range(rows):
            for j in range(cols):
                total += cost_fn(a[i, j], y[i, j])
        out[0] = total
        return OK

    return block


def nabla(nabla_a: Fn, dtype: Any) -> Fn:
    """∇ₐC in float64 (BP1 multiplies by σ′ before rounding to the dtype)."""

    def block(p0, p1, p2, p3, rows, cols):
        a, y, grad = view(p0, (rows, cols), dtype), view(p1, (rows, cols), dtype), view(p2, (rows, cols), np.float64)
        for i in range(rows):
            for j in range(cols):
                grad[i, j] = nabla_a(a[i, j], y[i, j])
        return OK

    return block


def output_error(error: Fn, dtype: Any) -> Fn:
    r"""The loss's combined output error for the output activation, e.g. :math:`\delta^L = a - y`."""

    def block(p0, p1, p2, p3, rows, cols):
        z, a, y = view(p0, (rows, cols), dtype), view(p1, (rows, cols), dtype), view(p2, (rows, cols), dtype)
        delta = view(p3, (rows, cols), dtype)
        for i in range(rows):
            for j in range(cols):
                delta[i, j] = error(z[i, j], a[i, j], y[i, j])
        return OK

    return block


def update(update_fn: Fn, dtype: Any) -> Fn:
    """An optimizer's update: new parameters and state go to the ``_out`` buffers, and nothing is committed by
    the engine unless every new parameter is finite."""

    def block(p_theta, p_grad, p_state, p_theta_out, p_state_out, p_hyper, n, n_weights, rows, step):
        theta, grad = view(p_theta, (n,), dtype), view(p_grad, (n,), dtype)
        state, state_out = view(p_state, (rows, n), dtype), view(p_state_out, (rows, n), dtype)
        theta_out, hyper = view(p_theta_out, (n,), dtype), view(p_hyper, (8,), np.float64)
        if update_fn(theta, grad, state, theta_out, state_out, n_weights, hyper, step):
            return OK
        return NONFINITE

    return block


_TEMPLATE_OF: dict[str, Callable[[Fn, Any], Fn]] = {
    "forward": forward, "backward": backward, "output": output, "vector_forward": vector_forward,
    "vector_backward": vector_backward, "vector_output": vector_output, "cost": cost, "nabla": nabla,
    "output_error": output_error, "update": update,
}  # fmt: skip

#: Every kind of block: its template, its C signature (``SIGNATURES`` of :mod:`bpframe.kernels.abi`), and the role
#: of its one plugin function (how error messages name it); the last two from
#: ``bpframe.kernels.interface.BLOCK_KINDS``, which code that must not import numba reads.
TEMPLATES: dict[str, tuple[Callable[[Fn, Any], Fn], str, str]] = {
    kind: (_TEMPLATE_OF[kind], signature, role) for kind, (signature, role) in BLOCK_KINDS.items()
}
