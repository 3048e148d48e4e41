r"""The compiled engine: whole mini-batch loops built from the equation kernels, compiled once per dtype.

Nothing here depends on the network's configuration: the depth, the sizes and the activation of each layer
arrive as data (:class:`~bpframe.kernels.interface.Layout`), the plugin functions as the addresses of their
blocks. So a network of any depth or order, with any installed activations, runs the same compiled code, and
numba compiles each entry point once per dtype (bpframe caches it on disk, :mod:`bpframe.kernels.cache`).

The buffers of a batch of ``m`` rows are flat: layer ``l`` of ``zs``, ``acts`` and ``deltas`` is the ``(m,
sizes[l])`` matrix starting at ``m * units[l]`` (``units[l]`` is the number of neurons before layer ``l``);
layer 0 of ``acts`` holds the inputs.

Outcomes are written to a ``status`` array (:mod:`bpframe.kernels.interface`), never encoded in a return value.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import config, njit

from . import dropout
from .abi import OK, borrow, call_block
from .bounds import max_abs, step_bound
from .equations import (
    batch_cost,
    bp1_combined,
    bp1_output_error,
    bp2_hidden_error,
    bp3_bias_gradient,
    bp3_bp4_mean_in_place,
    bp3_bp4_step_in_place,
    bp4_weight_gradient,
    forward_layer,
    gather_batch,
    gather_checked_batch,
    put_rows,
)
from .helpers import helper
from .interface import (
    BACKWARD_ROLE,
    BATCH,
    COST_ROLE,
    DONE,
    FAILED_PLUGIN,
    FORWARD_ROLE,
    INTERRUPTED,
    LAYER,
    NABLA_ROLE,
    NONFINITE_COST,
    NONFINITE_INPUT,
    NONFINITE_UPDATE,
    OUTCOME,
    OUTPUT_ERROR_ROLE,
    ROLE,
    UPDATE_ROLE,
)
from .metrics import count_correct
from .options import ENGINE_OPTIONS

__all__ = ["backprop", "entry_points", "evaluate", "train_batches"]

# Dropout's masks, the L1 term and the norms of the learning speed: the loops when compiled (with the array forms
# train_batches took 16.1 s to compile, with the loops 9.6 s), the NumPy forms without the JIT (NumPy's uint64
# scalars warn when the hash's products wrap around, its arrays do not).
if config.DISABLE_JIT:  # type: ignore[attr-defined]
    draw_mask, apply_mask, add_l1, norm = dropout.draw_mask, dropout.apply_mask, dropout.add_l1, dropout.norm
else:
    draw_mask, apply_mask = helper(dropout.draw_mask_loop), helper(dropout.apply_mask_loop)
    add_l1, norm = helper(dropout.add_l1_loop), helper(dropout.norm_loop)


@helper
def layer(buffer, layout, l, m):
    """Layer ``l``'s ``(m, sizes[l])`` matrix in a flat batch buffer: a borrowed view, which keeps no reference to
    ``buffer``, so it must not outlive it. Every buffer here is an entry point's argument, a field of its
    ``Training`` struct, or a local it uses until its loop ends, and no view is returned to Python."""
    return borrow(buffer, m * layout.units[l], m, layout.sizes[l])


@helper
def weights(theta, layout, l):
    """:math:`w^l`, a ``(sizes[l], sizes[l-1])`` view of the flat parameters (borrowed, as in :func:`layer`)."""
    return borrow(theta, layout.w_off[l], layout.sizes[l], layout.sizes[l - 1])


@helper
def biases(theta, layout, l):
    """:math:`b^l`, a ``(sizes[l],)`` view of the flat parameters."""
    return theta[layout.b_off[l] : layout.b_off[l] + layout.sizes[l]]


@helper
def drops(drop, l):
    """Whether layer ``l`` drops neurons (``drop`` is empty when nothing does)."""
    return drop.shape[0] > l and drop[l] > 0.0


@helper
def inputs(acts, kept, drop, layout, l, m):
    r""":math:`a^l` as layer l + 1 reads it: the kept activations :math:`r^l \odot a^l` where layer l drops
    neurons, else :math:`a^l` itself."""
    if drops(drop, l):
        return layer(kept, layout, l, m)
    return layer(acts, layout, l, m)


@helper
def forward(theta, layout, zs, acts, m, product, drop, key, step, masks, kept):
    """The forward pass of a batch whose inputs are layer 0 of ``acts``; returns the first layer whose block
    failed, or 0. ``product`` is the small-product kernel, or 0 for BLAS throughout. A hidden layer with a
    dropout rate (``drop``, empty for none) draws its mask for update ``step`` into ``masks`` and writes the
    kept activations into ``kept`` (:mod:`bpframe.kernels.dropout`)."""
    for l in range(1, layout.sizes.shape[0]):
        a_prev = inputs(acts, kept, drop, layout, l - 1, m)
        z, a = layer(zs, layout, l, m), layer(acts, layout, l, m)
        status = forward_layer(a_prev, weights(theta, layout, l), biases(theta, layout, l), z, a, layout.forward[l],
                               product)  # fmt: skip
        if status != OK:
            return l
        if drops(drop, l):
            start, size = m * layout.units[l], m * layout.sizes[l]
            draw_mask(masks[start : start + size], key, step, l, drop[l])
            apply_mask(acts[start : start + size], masks[start : start + size], kept[start : start + size])
    return 0


@helper
def errors(theta, layout, zs, acts, deltas, y, m, work, status, drop, masks):
    """BP1 and BP2 down to layer 1 (with a layer's dropout mask, :mod:`bpframe.kernels.dropout`); on a failed
    block, fills ``status`` (layer, role) and returns False."""
    L = layout.sizes.shape[0] - 1
    z, a, delta = layer(zs, layout, L, m), layer(acts, layout, L, m), layer(deltas, layout, L, m)
    if layout.output_error != 0:
        if bp1_combined(z, a, y, delta, layout.output_error) != OK:
            return _failed(status, L, OUTPUT_ERROR_ROLE)
    elif bp1_output_error(z, a, y, delta, layout.nabla, layout.output, work[: m * layout.sizes[L]]) != OK:
        return _failed(status, L, NABLA_ROLE)
    for l in range(L - 1, 0, -1):
        mask = layer(masks, layout, l, m) if drops(drop, l) else masks[:0].reshape((0, 0))
        status_l = bp2_hidden_error(layer(deltas, layout, l + 1, m), weights(theta, layout, l + 1),
                                    layer(zs, layout, l, m), layer(acts, layout, l, m), layer(deltas, layout, l, m),
                                    layout.backward[l], work, mask)  # fmt: skip
        if status_l != OK:
            return _failed(status, l, BACKWARD_ROLE)
    return True


@helper
def _failed(status, l, role):
    status[OUTCOME] = FAILED_PLUGIN
    status[LAYER] = l
    status[ROLE] = role
    return False


@helper
def gradient(layout, acts, kept, drop, deltas, grad, m, sums):
    """BP3 and BP4 of every layer into the flat gradient (laid out like theta)."""
    for l in range(1, layout.sizes.shape[0]):
        bp3_bp4_mean_in_place(layer(deltas, layout, l, m), inputs(acts, kept, drop, layout, l - 1, m),
                              weights(grad, layout, l), biases(grad, layout, l), sums)  # fmt: skip


@helper
def record_speeds(layout, grad, speeds):
    r"""Add :math:`\lVert\partial C/\partial b^l\rVert` and :math:`\lVert\partial C/\partial w^l\rVert` of this
    batch to ``speeds[0, l]`` and ``speeds[1, l]``: each layer's learning speed (the book's Chapter 5)."""
    for l in range(1, layout.sizes.shape[0]):
        rows, cols = layout.sizes[l], layout.sizes[l - 1]
        speeds[0, l] += norm(grad[layout.b_off[l] : layout.b_off[l] + rows])
        speeds[1, l] += norm(grad[layout.w_off[l] : layout.w_off[l] + rows * cols])


@helper
def fused_step(theta, layout, acts, kept, drop, deltas, m, fused, x_max, bound, limit, sums):
    """The in-place step fused into BP3 and BP4, if no new parameter can exceed ``limit``; returns whether it was
    taken. ``bound[0]`` >= every |theta| is kept up to date (measured exactly again before giving up)."""
    step, keep = fused[2], max(abs(fused[0]), abs(fused[1]))
    new = 0.0
    for l in range(1, layout.sizes.shape[0]):
        delta_max = max_abs(layer(deltas, layout, l, m))
        a_max = x_max if l == 1 else max_abs(inputs(acts, kept, drop, layout, l - 1, m))
        after = step_bound(bound[0], delta_max, a_max, m, step, keep, limit)
        if after == np.inf:
            bound[0] = min(bound[0], max_abs(theta))
            after = step_bound(bound[0], delta_max, a_max, m, step, keep, limit)
            if after == np.inf:
                return False
        new = max(new, after)
    for l in range(1, layout.sizes.shape[0]):
        bp3_bp4_step_in_place(layer(deltas, layout, l, m), inputs(acts, kept, drop, layout, l - 1, m),
                              weights(theta, layout, l), biases(theta, layout, l), fused[0], fused[1], step,
                              sums)  # fmt: skip
    bound[0] = new
    return True


@helper
def _buffers(layout, m, dtype_of):
    """Flat z, a and δ buffers for batches of up to m rows."""
    total = m * layout.units[layout.units.shape[0] - 1]
    return np.empty(total, dtype_of.dtype), np.empty(total, dtype_of.dtype), np.empty(total, dtype_of.dtype)


@helper
def _dropout_buffers(layout, m, dtype_of, drop):
    """Flat mask and kept-activation buffers for batches of up to m rows; empty when nothing drops."""
    total = m * layout.units[layout.units.shape[0] - 1] if (drop > 0.0).any() else 0
    return np.empty(total, dtype_of.dtype), np.empty(total, dtype_of.dtype)


@njit(**ENGINE_OPTIONS)
def train_batches(layout, t, first, stop):
    """Train mini-batches ``first .. stop-1`` of an epoch over the rows ``t.x[t.order]``.

    Each batch runs the forward pass, the cost, BP1 and BP2, then either the in-place step fused into BP3 and
    BP4 (when the optimizer has a fused form and ``fused_step`` proves it safe) or BP3 and BP4 into the
    gradient (plus the L1 term, ``t.l1``) and the optimizer's update block into the other of two parameter (and
    state) buffers, whose roles then swap. Hidden layers drop neurons at the rates ``t.drop``
    (:mod:`bpframe.kernels.dropout`); when ``t.speeds`` has rows, each layer's gradient norms are added to it for
    every ``t.speed_every``-th batch (those batches take the two-buffer path, since the in-place step leaves no
    gradient to measure).
    With ``t.check_rows`` each batch's inputs are checked as they are gathered (a NaN or inf stops the call before
    that batch, ``NONFINITE_INPUT``) and the batch's own largest :math:`|x|` bounds the in-place step, else
    ``t.x_max`` does. Before each batch, ``t.control[0]`` is read: when set, the call stops there. At the end the
    last good parameters and state are in ``t.theta`` and ``t.state``, whatever the outcome in ``t.status``.
    """
    L = layout.sizes.shape[0] - 1
    n, bs = t.order.shape[0], t.batch_size
    m = min(bs, n - first * bs)
    zs, acts, deltas = _buffers(layout, m, t.theta)
    work = np.empty(max(layout.widest, m * layout.sizes[L]), np.float64)
    total = np.empty(1, np.float64)
    limit = 2.0e37 if t.theta.itemsize == 4 else 1.0e307  # 1/16 of the dtype's largest number
    fused = not np.isnan(t.fused[0]) and t.l1 == 0.0
    bound = np.array([max_abs(t.theta) if fused else 0.0])
    masks, kept = _dropout_buffers(layout, m, t.theta, t.drop)
    current, spare, state_now, state_spare = t.theta, t.spare, t.state, t.state_spare
    swapped = False
    ybuf = np.empty((m, layout.sizes[L]), t.y.dtype)
    t.status[OUTCOME] = DONE
    for k in range(first, stop):
        t.status[BATCH] = k
        if t.control[0] != 0:
            t.status[OUTCOME] = INTERRUPTED
            break
        start = k * bs
        m = min(bs, n - start)
        xb, yb = layer(acts, layout, 0, m), ybuf[:m]
        x_max = t.x_max
        if t.check_rows:
            x_max = gather_checked_batch(t.x, t.y, t.order, start, xb, yb)
            if x_max == np.inf:
                t.status[OUTCOME] = NONFINITE_INPUT
                break
            t.x_seen[0] = max(t.x_seen[0], x_max)
        else:
            gather_batch(t.x, t.y, t.order, start, xb, yb)
        failed_layer = forward(current, layout, zs, acts, m, t.product, t.drop, t.key, t.counter[0], masks, kept)
        if failed_layer != 0:
            _failed(t.status, failed_layer, FORWARD_ROLE)
            break
        if batch_cost(layer(acts, layout, L, m), yb, layout.cost, total) != OK:
            _failed(t.status, L, COST_ROLE)
            break
        t.costs[k] = total[0] / m
        t.correct[k] = count_correct(layer(acts, layout, L, m), yb)
        if not np.isfinite(t.costs[k]):
            t.status[OUTCOME] = NONFINITE_COST
            break
        if not errors(current, layout, zs, acts, deltas, yb, m, work, t.status, t.drop, masks):
            break
        record = t.speeds.shape[0] != 0 and k % t.speed_every == 0
        if fused and not record and fused_step(current, layout, acts, kept, t.drop, deltas, m, t.fused, x_max,
                                               bound, limit, work):  # fmt: skip
            t.counter[0] += 1
            continue
        gradient(layout, acts, kept, t.drop, deltas, t.grad, m, work)
        if record:
            record_speeds(layout, t.grad, t.speeds)
        if t.l1 != 0.0:
            add_l1(t.grad, current, layout.n_weights, t.l1)
        outcome = call_block(t.update, (current, t.grad, state_now, spare, state_spare, t.hyper, current.shape[0],
                                        layout.n_weights, t.state.shape[0], t.counter[0] + 1))  # fmt: skip
        if outcome != OK:
            if outcome == 0:
                _failed(t.status, 0, UPDATE_ROLE)
            else:
                t.status[OUTCOME] = NONFINITE_UPDATE
            break
        t.counter[0] += 1
        current, spare = spare, current
        state_now, state_spare = state_spare, state_now
        swapped = not swapped
        bound[0] = max_abs(current) if fused else 0.0
    else:
        t.status[BATCH] = stop
    if swapped:
        _commit(t, current, state_now)


@helper
def _commit(t, current, state_now):
    """Leave the last good parameters and state (now in the spare buffers) in ``t.theta`` and ``t.state``."""
    for i in range(current.shape[0]):
        t.theta[i] = current[i]
    for r in range(t.state.shape[0]):
        for i in range(t.state.shape[1]):
            t.state[r, i] = state_now[r, i]


@njit(**ENGINE_OPTIONS)
def evaluate(theta, layout, x, y, out, chunk, status):
    """``out = a[L]`` for every row of x, ``chunk`` rows at a time; returns (summed cost, correct predictions).
    ``y`` may have 0 columns (feedforward only): then no cost is computed. A failed block fills ``status``."""
    L = layout.sizes.shape[0] - 1
    n = x.shape[0]
    m = min(chunk, n)
    zs, acts, _ = _buffers(layout, m, theta)
    none = np.empty(0, np.float64)
    # no product kernel, key or update number: int64 zeros, not literal ones (numba compiles a function again for each
    # literal argument), so forward and the helpers it calls compile once for every entry point
    zero = np.int64(0)
    total = np.empty(1, np.float64)
    cost, correct = 0.0, 0
    status[OUTCOME] = DONE
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        put_rows(x[start : start + m], layer(acts, layout, 0, m), 0)
        failed_layer = forward(theta, layout, zs, acts, m, zero, none, zero, zero, zs[:0], zs[:0])
        if failed_layer != 0:
            _failed(status, failed_layer, FORWARD_ROLE)
            status[BATCH] = start
            break
        a = layer(acts, layout, L, m)
        if y.shape[1] != 0:
            yb = y[start : start + m]
            if batch_cost(a, yb, layout.cost, total) != OK:
                _failed(status, L, COST_ROLE)
                status[BATCH] = start
                break
            cost += total[0]
            correct += count_correct(a, yb)
        put_rows(a, out, start)
    return cost, correct


@njit(**ENGINE_OPTIONS)
def backprop(theta, layout, zs, acts, deltas, y, grad, status, drop, key, step, masks, kept):
    """The forward pass and the four equations on one batch (inputs in layer 0 of ``acts``): every z, a and δ
    stays in the buffers, ∂C/∂θ goes to ``grad``; returns the summed cost. With dropout rates ``drop`` (empty for
    none), the masks of update ``step`` and the kept activations go to ``masks`` and ``kept``."""
    L = layout.sizes.shape[0] - 1
    m = y.shape[0]
    work = np.empty(max(layout.widest, m * layout.sizes[L]), np.float64)
    total = np.zeros(1, np.float64)
    status[OUTCOME] = DONE
    failed_layer = forward(theta, layout, zs, acts, m, np.int64(0), drop, key, step, masks, kept)  # int64, as above
    if failed_layer != 0:
        _failed(status, failed_layer, FORWARD_ROLE)
        return np.nan
    if batch_cost(layer(acts, layout, L, m), y, layout.cost, total) != OK:
        _failed(status, L, COST_ROLE)
        return np.nan
    if not errors(theta, layout, zs, acts, deltas, y, m, work, status, drop, masks):
        return np.nan
    for l in range(1, L + 1):
        delta = layer(deltas, layout, l, m)
        bp3_bias_gradient(delta, biases(grad, layout, l), work)
        bp4_weight_gradient(delta, inputs(acts, kept, drop, layout, l - 1, m), weights(grad, layout, l))
    return total[0]


@njit(**ENGINE_OPTIONS)
def input_bound(flat):
    """The largest :math:`|x_i|` of a fit's inputs (inf if one is NaN or inf), in one pass over the flat array:
    the check that they are finite, and the bound of the in-place step (``Training.x_max``). The same value as
    NumPy's ``bpframe.validation.max_abs``, about twice as fast (measured on Fashion-MNIST's training images:
    5.2 ms against 9.5 ms in float32, 9.9 ms against 18.3 ms in float64)."""
    return max_abs(flat)


def entry_points() -> dict[str, Any]:
    """The engine's compiled entry points by name (what :mod:`bpframe.kernels.build` caches per dtype)."""
    return {"train_batches": train_batches, "evaluate": evaluate, "backprop": backprop, "input_bound": input_bound}
