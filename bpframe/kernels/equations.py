r"""The four equations of back-propagation, and the forward pass, for a mini-batch.

Notation (rows are samples): ``a_prev`` is :math:`a^{l-1}` with shape ``(m, sizes[l-1])`` for a batch of m
samples; ``w`` is :math:`w^l` with shape ``(sizes[l], sizes[l-1])`` so that ``w[j, k]`` connects neuron k of layer
l−1 to neuron j of layer l; ``b`` is :math:`b^l`; ``z``, ``a`` and ``delta`` are :math:`z^l`, :math:`a^l` and
:math:`\delta^l`, each ``(m, sizes[l])``. A row of these matrices is the book's column vector for one sample.
As in the book, n is the number of samples in the whole training set; it appears only in the regularisation
(the L2 decay λ/n).

The matrix products go to BLAS (:func:`~bpframe.kernels.blas.gemm`). Where an equation needs a plugin's function
(σ, σ′, ∇ₐC), the kernel calls the *block* of that function: a compiled loop that applies it to the whole layer
(:mod:`bpframe.kernels.blocks`). The blocks arrive as addresses (``sigma``, ``sigma_prime``, ...), so these
kernels, and the engine built from them, are compiled once per dtype whatever the network.

Every kernel returns ``OK``, or ``FAILED`` when a plugin
function raised (the engine then stops before the parameters change).
"""

from __future__ import annotations

from .abi import OK, call_block
from .blas import gemm
from .bounds import copy_row_magnitude, magnitude_value
from .helpers import helper
from .interface import SMALL_DEPTH, SMALL_ROWS
from .memory import CACHE_LINE_BYTES, PREFETCH_ROWS_AHEAD, prefetch

__all__ = [
    "batch_cost",
    "bp1_combined",
    "bp1_output_error",
    "bp2_hidden_error",
    "bp3_bias_gradient",
    "bp3_bp4_mean_in_place",
    "bp3_bp4_step_in_place",
    "bp4_weight_gradient",
    "column_sums",
    "forward_layer",
    "gather_batch",
    "gather_checked_batch",
    "prefetch_row",
    "put_rows",
]


@helper
def forward_layer(a_prev, w, b, z, a, sigma, product):
    r"""The forward pass of one layer: the product, then the activation's block for the rest.

    .. math:: z^l = w^l a^{l-1} + b^l, \qquad a^l = \sigma(z^l)

    With samples as rows, :math:`w^l a^{l-1}` is ``a_prev @ w.T``: BLAS computes it, or for a small mini-batch
    of a wide layer the kernel at ``product`` when there is one (:mod:`bpframe.kernels.products`).
    """
    m, k = a_prev.shape
    if product != 0 and m <= SMALL_ROWS and k >= SMALL_DEPTH:
        call_block(product, (a_prev, w, z, m, k, w.shape[0]))
    else:
        gemm(a_prev, False, w, True, z, 1.0, 0.0)
    return call_block(sigma, (z, b, a, a, z.shape[0], z.shape[1]))


@helper
def batch_cost(a, y, cost, total):
    r"""The summed cost of a batch into ``total[0]`` (float64), :math:`\sum_x C_x` with
    :math:`C_x = \sum_j c(a_j, y_j)`."""
    return call_block(cost, (a, y, total, total, a.shape[0], a.shape[1]))


@helper
def bp1_output_error(z, a, y, delta, nabla_a, sigma_prime, nabla):
    r"""BP1, the error of the output layer: the loss's block writes :math:`\nabla_a C` (in float64, into
    ``nabla``), the activation's block multiplies it by :math:`\sigma'(z^L)` (or applies the Jacobian's
    transpose, for softmax) and rounds once to the network's dtype.

    .. math:: \delta^L = \nabla_a C \odot \sigma'(z^L)
    """
    status = call_block(nabla_a, (a, y, nabla, nabla, z.shape[0], z.shape[1]))
    if status != OK:
        return status
    return call_block(sigma_prime, (z, a, delta, nabla, z.shape[0], z.shape[1]))


@helper
def bp1_combined(z, a, y, delta, output_error):
    r"""BP1 through a loss's combined output error for this output activation, e.g.

    .. math:: \delta^L = a^L - y

    which is what :math:`\nabla_a C \odot \sigma'(z^L)` simplifies to for sigmoid with binary
    cross-entropy or softmax with categorical cross-entropy, without the ``0 · ∞`` of saturated units.
    """
    return call_block(output_error, (z, a, y, delta, z.shape[0], z.shape[1]))


@helper
def bp2_hidden_error(delta_next, w_next, z, a, delta, sigma_prime, work, mask):
    r"""BP2, the error of a hidden layer from the error of the next one.

    .. math:: \delta^l = ((w^{l+1})^\mathsf{T} \delta^{l+1}) \odot \sigma'(z^l)

    With samples as rows, :math:`(w^{l+1})^\mathsf{T}\delta^{l+1}` is ``delta_next @ w_next``; the activation's
    block then multiplies by :math:`\sigma'(z^l)`.
    """
    gemm(delta_next, False, w_next, False, delta, 1.0, 0.0)
    if mask.shape[0] != 0:  # dropout: the layer's mask r^l, before σ′ (bpframe.kernels.dropout)
        for i in range(delta.shape[0]):
            for j in range(delta.shape[1]):
                delta[i, j] = delta[i, j] * mask[i, j]
    return call_block(sigma_prime, (z, a, delta, work, z.shape[0], z.shape[1]))


@helper
def column_sums(delta, sums):
    """``sums[j] = Σ_i delta[i, j]`` in float64, the rows added in order (so NumPy can give the same numbers)."""
    for j in range(delta.shape[1]):
        sums[j] = 0.0
    for i in range(delta.shape[0]):
        for j in range(delta.shape[1]):
            sums[j] += delta[i, j]


@helper
def bp3_bias_gradient(delta, nabla_b, sums):
    r"""BP3, averaged over the batch.

    .. math:: \frac{\partial C}{\partial b^l_j} = \frac{1}{m} \sum_x \delta^{x,l}_j
    """
    column_sums(delta, sums)
    m = delta.shape[0]
    for j in range(delta.shape[1]):
        nabla_b[j] = sums[j] / m


@helper
def bp4_weight_gradient(delta, a_prev, nabla_w):
    r"""BP4, averaged over the batch.

    .. math:: \frac{\partial C}{\partial w^l_{jk}} = \frac{1}{m} \sum_x a^{x,l-1}_k \delta^{x,l}_j

    i.e. ``nabla_w = delta.T @ a_prev / m``: the outer products :math:`\delta^l (a^{l-1})^\mathsf{T}`
    of every sample, summed by one matrix product.
    """
    gemm(delta, True, a_prev, False, nabla_w, 1.0 / delta.shape[0], 0.0)


@helper
def bp3_bp4_mean_in_place(delta, a_prev, nabla_w, nabla_b, sums):
    r"""BP3 and BP4 for training, into the gradient that an optimizer's update then reads.

    The same equations as :func:`bp3_bias_gradient` and :func:`bp4_weight_gradient`:

    .. math:: \frac{\partial C}{\partial b^l} = \frac{1}{m}\sum_x \delta^{x,l}, \qquad
              \frac{\partial C}{\partial w^l} = \frac{1}{m}\big(\delta^l\big)^\mathsf{T} a^{l-1}
    """
    bp3_bias_gradient(delta, nabla_b, sums)
    bp4_weight_gradient(delta, a_prev, nabla_w)


@helper
def bp3_bp4_step_in_place(delta, a_prev, w, b, keep_w, keep_b, step, sums):
    r"""BP3 and BP4 fused with an optimizer step of the form
    :math:`\theta \leftarrow k\,\theta - s\,\partial C/\partial\theta` (stochastic gradient descent, whose
    :math:`k = 1 - \eta\lambda/n` on the weights (L2 decay) and 1 on the biases, and :math:`s = \eta`), for a
    mini-batch of m samples (the rows of ``delta``) out of a training set of n:

    .. math:: b^l \leftarrow k_b\, b^l - s \, \frac{1}{m} \sum_x \delta^{x,l}, \qquad
              w^l \leftarrow k_w\, w^l - s \, \frac{1}{m} \big(\delta^l\big)^\mathsf{T} a^{l-1}

    The weights take one matrix product with scale factors (:func:`~bpframe.kernels.blas.gemm` with
    :math:`\alpha = -s/m`, :math:`\beta = k_w`): :math:`\partial C/\partial w` is never stored, and the weights
    are read and written once. ``sums`` (float64, at least ``sizes[l]`` long) holds the bias sums. The caller
    makes sure first that no new parameter can overflow (:func:`~bpframe.kernels.bounds.step_bound`), since
    there is no copy to go back to.
    """
    column_sums(delta, sums)
    rate = step / delta.shape[0]
    for j in range(delta.shape[1]):
        b[j] = keep_b * b[j] - rate * sums[j]
    gemm(delta, True, a_prev, False, w, -rate, keep_w)


@helper(inline=True)
def prefetch_row(x, y, order, ahead):
    """Request row ``order[ahead]`` of ``x`` and of ``y`` into the cache, one cache line at a time, when ``ahead`` is
    within ``order`` (:mod:`bpframe.kernels.memory`)."""
    if ahead < order.shape[0]:
        later = order[ahead]
        for j in range(0, x.shape[1], max(1, CACHE_LINE_BYTES // x.itemsize)):
            prefetch(x, later, j)
        for j in range(0, y.shape[1], max(1, CACHE_LINE_BYTES // y.itemsize)):
            prefetch(y, later, j)


@helper
def gather_batch(x, y, order, start, xb, yb):
    """Copy rows ``x[order[start + i]]`` into ``xb[i]`` and ``y[order[start + i]]`` into ``yb[i]``: one shuffled
    mini-batch.

    While a row is copied, the rows :data:`~bpframe.kernels.memory.PREFETCH_ROWS_AHEAD` places further down
    ``order`` are requested into the cache (see :mod:`bpframe.kernels.memory`), so the copy rarely waits on
    DRAM; inputs and targets are copied in one loop so that waiting for a target row (a few bytes somewhere in
    memory) overlaps with copying an input row.
    """
    for i in range(xb.shape[0]):
        prefetch_row(x, y, order, start + i + PREFETCH_ROWS_AHEAD)
        row = order[start + i]
        for j in range(xb.shape[1]):
            xb[i, j] = x[row, j]
        for j in range(yb.shape[1]):
            yb[i, j] = y[row, j]


@helper
def gather_checked_batch(x, y, order, start, xb, yb):
    """:func:`gather_batch`, measuring the rows as they are copied: returns the largest :math:`|x|` of the
    mini-batch, inf if one of its inputs is NaN or inf (the check that the inputs are finite, made batch by batch
    where a separate pass before training would read every input again)."""
    top = 0
    for i in range(xb.shape[0]):
        prefetch_row(x, y, order, start + i + PREFETCH_ROWS_AHEAD)
        row = order[start + i]
        top = max(top, copy_row_magnitude(x[row], xb[i]))
        for j in range(yb.shape[1]):
            yb[i, j] = y[row, j]
    return magnitude_value(top, xb)


@helper
def put_rows(source, out, start):
    """Copy ``source`` into rows ``start, start + 1, ...`` of ``out`` (a loop: slice assignment compiles slowly)."""
    for i in range(source.shape[0]):
        for j in range(source.shape[1]):
            out[start + i, j] = source[i, j]
