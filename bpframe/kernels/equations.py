r"""The four equations of back-propagation, and the forward pass, for a mini-batch.

Notation (rows are samples): ``a_prev`` is :math:`a^{l-1}` with shape ``(n, sizes[l-1])``; ``w`` is
:math:`w^l` with shape ``(sizes[l], sizes[l-1])`` so that ``w[j, k]`` connects neuron k of layer l−1 to
neuron j of layer l; ``b`` is :math:`b^l`; ``z``, ``a`` and ``delta`` are :math:`z^l`, :math:`a^l` and
:math:`\delta^l`, each ``(n, sizes[l])``. A row of these matrices is the book's column vector for one sample.

Every function here takes the activation's or loss's functions as arguments and is inlined
(``inline="always"``) into a kernel generated for one network configuration, which names those functions
as its own globals: that is what lets numba cache the generated kernel on disk.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .blas import gemm
from .memory import CACHE_LINE_BYTES, PREFETCH_ROWS_AHEAD, prefetch
from .options import INLINE_OPTIONS, SHARED_OPTIONS

__all__ = [
    "batch_cost",
    "bp1_combined",
    "bp1_output_error",
    "bp1_output_error_vector",
    "bp2_hidden_error",
    "bp2_hidden_error_vector",
    "bp3_bias_gradient",
    "bp3_bp4_mean_in_place",
    "bp3_bp4_sgd_in_place",
    "bp4_weight_gradient",
    "forward_elementwise",
    "forward_vector",
    "gather_batch",
    "layer_params",
    "put_rows",
]


@njit(**SHARED_OPTIONS)
def layer_params(theta, sizes, l):
    """Views of ``w[l]`` (sizes[l], sizes[l-1]) and ``b[l]`` (sizes[l],) in the flat parameter vector.

    ``theta`` holds every weight matrix, layer 1 first, then every bias vector.
    """
    num_layers = sizes.shape[0] - 1
    w_start = 0
    for k in range(1, l):
        w_start += sizes[k] * sizes[k - 1]
    b_start = 0
    for k in range(1, num_layers + 1):
        b_start += sizes[k] * sizes[k - 1]
    for k in range(1, l):
        b_start += sizes[k]
    w = theta[w_start : w_start + sizes[l] * sizes[l - 1]].reshape((sizes[l], sizes[l - 1]))
    b = theta[b_start : b_start + sizes[l]]
    return w, b


@njit(**INLINE_OPTIONS)
def forward_elementwise(a_prev, w, b, z, a, sigma):
    r"""Forward pass of one layer with an elementwise activation.

    .. math:: z^l = w^l a^{l-1} + b^l, \qquad a^l = \sigma(z^l)
    """
    np.dot(a_prev, w.T, z)
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            zij = z[i, j] + b[j]
            z[i, j] = zij
            a[i, j] = sigma(zij)


@njit(**INLINE_OPTIONS)
def forward_vector(a_prev, w, b, z, a, forward):
    r"""Forward pass of one layer with a non-elementwise activation (softmax), one sample's vector at a time.

    .. math:: z^l = w^l a^{l-1} + b^l, \qquad a^l = \sigma(z^l)
    """
    np.dot(a_prev, w.T, z)
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            z[i, j] += b[j]
        forward(z[i], a[i])


@njit(**INLINE_OPTIONS)
def batch_cost(a, y, cost):
    r"""The summed cost of a batch, :math:`\sum_x C_x` with :math:`C_x = \sum_j c(a_j, y_j)`."""
    total = 0.0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            total += cost(a[i, j], y[i, j])
    return total


@njit(**INLINE_OPTIONS)
def bp1_output_error(z, a, y, delta, nabla_a, sigma_prime):
    r"""BP1, the error of the output layer, for an elementwise activation.

    .. math:: \delta^L = \nabla_a C \odot \sigma'(z^L)
    """
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            delta[i, j] = nabla_a(a[i, j], y[i, j]) * sigma_prime(z[i, j])


@njit(**INLINE_OPTIONS)
def bp1_output_error_vector(z, a, y, delta, nabla_a, vjp, work):
    r"""BP1 for a non-elementwise output activation: the Jacobian's transpose applied to the cost gradient.

    .. math:: \delta^L = J_\sigma(z^L)^\mathsf{T} \, \nabla_a C
    """
    v = work[: z.shape[1]]
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            v[j] = nabla_a(a[i, j], y[i, j])
        vjp(z[i], a[i], v, delta[i])


@njit(**INLINE_OPTIONS)
def bp1_combined(z, a, y, delta, output_error):
    r"""BP1 through a loss's combined output error for this output activation, e.g.

    .. math:: \delta^L = a^L - y

    which is what :math:`\nabla_a C \odot \sigma'(z^L)` simplifies to for sigmoid with binary
    cross-entropy or softmax with categorical cross-entropy, without the ``0 · ∞`` of saturated units.
    """
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            delta[i, j] = output_error(z[i, j], a[i, j], y[i, j])


@njit(**INLINE_OPTIONS)
def bp2_hidden_error(delta_next, w_next, z, delta, sigma_prime):
    r"""BP2, the error of a hidden layer from the error of the next one, for an elementwise activation.

    .. math:: \delta^l = ((w^{l+1})^\mathsf{T} \delta^{l+1}) \odot \sigma'(z^l)

    With samples as rows, :math:`(w^{l+1})^\mathsf{T}\delta^{l+1}` is ``delta_next @ w_next``.
    """
    np.dot(delta_next, w_next, delta)
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            delta[i, j] *= sigma_prime(z[i, j])


@njit(**INLINE_OPTIONS)
def bp2_hidden_error_vector(delta_next, w_next, z, a, delta, vjp, work):
    r"""BP2 for a non-elementwise hidden activation.

    .. math:: \delta^l = J_\sigma(z^l)^\mathsf{T} \, ((w^{l+1})^\mathsf{T} \delta^{l+1})
    """
    np.dot(delta_next, w_next, delta)
    v = work[: z.shape[1]]
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            v[j] = delta[i, j]
        vjp(z[i], a[i], v, delta[i])


@njit(**SHARED_OPTIONS)
def bp3_bias_gradient(delta, nabla_b):
    r"""BP3, averaged over the batch.

    .. math:: \frac{\partial C}{\partial b^l_j} = \frac{1}{n} \sum_x \delta^{x,l}_j
    """
    n = delta.shape[0]
    for j in range(delta.shape[1]):
        nabla_b[j] = 0.0
    for i in range(n):
        for j in range(delta.shape[1]):
            nabla_b[j] += delta[i, j]
    for j in range(delta.shape[1]):
        nabla_b[j] /= n


@njit(**SHARED_OPTIONS)
def bp4_weight_gradient(delta, a_prev, nabla_w):
    r"""BP4, averaged over the batch.

    .. math:: \frac{\partial C}{\partial w^l_{jk}} = \frac{1}{n} \sum_x a^{x,l-1}_k \delta^{x,l}_j

    i.e. ``nabla_w = delta.T @ a_prev / n``: the outer products :math:`\delta^l (a^{l-1})^\mathsf{T}`
    of every sample, summed by one matrix product.
    """
    np.dot(delta.T, a_prev, nabla_w)
    scale = 1.0 / delta.shape[0]
    for j in range(nabla_w.shape[0]):
        for k in range(nabla_w.shape[1]):
            nabla_w[j, k] *= scale


@njit(**SHARED_OPTIONS)
def bp3_bp4_mean_in_place(delta, a_prev, nabla_w, nabla_b):
    r"""BP3 and BP4 for training, where nobody looks at the deltas afterwards.

    The same equations as :func:`bp3_bias_gradient` and :func:`bp4_weight_gradient`, with the batch mean taken
    on δ (n × sizes[l] numbers, scaled in place) instead of on ∇w (sizes[l] × sizes[l-1] numbers):

    .. math:: \frac{\partial C}{\partial w^l} = \Big(\tfrac{1}{n}\delta^l\Big)^\mathsf{T} a^{l-1}, \qquad
              \frac{\partial C}{\partial b^l} = \sum_x \tfrac{1}{n}\delta^{x,l}
    """
    scale = 1.0 / delta.shape[0]
    for j in range(delta.shape[1]):
        nabla_b[j] = 0.0
    for i in range(delta.shape[0]):
        for j in range(delta.shape[1]):
            d = delta[i, j] * scale
            delta[i, j] = d
            nabla_b[j] += d
    np.dot(delta.T, a_prev, nabla_w)


@njit(**SHARED_OPTIONS)
def bp3_bp4_sgd_in_place(delta, a_prev, w, b, eta, decay, work):
    r"""BP3 and BP4 fused with the step of stochastic gradient descent, which they feed, writing the new
    parameters in place; ``decay`` is :math:`\lambda/n` (L2, on the weights only).

    .. math:: b^l \leftarrow b^l - \eta \, \frac{1}{n} \sum_x \delta^{x,l}, \qquad
              w^l \leftarrow \Big(1 - \eta \frac{\lambda}{n}\Big) w^l
                    - \eta \, \frac{1}{n} \big(\delta^l\big)^\mathsf{T} a^{l-1}

    The weights take one matrix product with scale factors (:func:`~bpframe.kernels.blas.gemm` with
    :math:`\alpha = -\eta/n`, :math:`\beta = 1 - \eta\lambda/n`): :math:`\partial C/\partial w` is never
    stored, and the weights are read and written once. ``work`` (float64, at least ``sizes[l]`` long) holds
    the bias sums. The caller makes sure first that no new parameter can overflow
    (:func:`~bpframe.kernels.optimizers.sgd_step_bound`), since there is no copy to go back to.
    """
    n = delta.shape[0]
    sums = work[: delta.shape[1]]
    for j in range(delta.shape[1]):
        sums[j] = 0.0
    for i in range(n):
        for j in range(delta.shape[1]):
            sums[j] += delta[i, j]
    step = eta / n
    for j in range(delta.shape[1]):
        b[j] -= step * sums[j]
    gemm(delta, True, a_prev, False, w, -step, 1.0 - eta * decay)


@njit(**SHARED_OPTIONS)
def gather_batch(x, y, order, start, xb, yb):
    """Copy rows ``x[order[start + i]]`` into ``xb[i]`` and ``y[order[start + i]]`` into ``yb[i]``: one shuffled
    mini-batch.

    While a row is copied, the rows :data:`~bpframe.kernels.memory.PREFETCH_ROWS_AHEAD` places further down
    ``order`` are requested into the cache (see :mod:`bpframe.kernels.memory`), so the copy rarely waits on
    DRAM; inputs and targets are copied in one loop so that waiting for a target row (a few bytes somewhere in
    memory) overlaps with copying an input row.
    """
    x_step = max(1, CACHE_LINE_BYTES // x.itemsize)
    y_step = max(1, CACHE_LINE_BYTES // y.itemsize)
    for i in range(xb.shape[0]):
        ahead = start + i + PREFETCH_ROWS_AHEAD
        if ahead < order.shape[0]:
            later = order[ahead]
            for j in range(0, x.shape[1], x_step):
                prefetch(x, later, j)
            for j in range(0, y.shape[1], y_step):
                prefetch(y, later, j)
        row = order[start + i]
        for j in range(xb.shape[1]):
            xb[i, j] = x[row, j]
        for j in range(yb.shape[1]):
            yb[i, j] = y[row, j]


@njit(**SHARED_OPTIONS)
def put_rows(source, out, start):
    """Copy ``source`` into rows ``start, start + 1, ...`` of ``out`` (a loop: slice assignment compiles slowly)."""
    for i in range(source.shape[0]):
        for j in range(source.shape[1]):
            out[start + i, j] = source[i, j]
