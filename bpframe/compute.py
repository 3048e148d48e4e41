"""The engine's passes on a model's state: feedforward, evaluation and back-propagation of validated arrays.

Each function is one call of the program's kernel entry point (:class:`bpframe.kernels.program.Program`) with
the buffers it writes; none checks its arguments (the public methods of :class:`~bpframe.Network` did) and none
interprets the engine's ``status``: callers pass it to ``bpframe.diagnose.raise_if_plugin_raised``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import config
from .kernels.interface import STATUS_FIELDS
from .layers import LayerList
from .results import BackpropResult
from .state import ModelState

__all__ = ["CHUNK", "backprop", "evaluate", "feedforward"]

CHUNK = 1024  # rows per forward-pass chunk in feedforward/evaluate: bounds their workspace


def _buffer_layers(buffer: np.ndarray, sizes: Sequence[int], m: int) -> list[np.ndarray]:
    """The ``(m, sizes[l])`` matrix of every layer l (input first) in a flat batch buffer, laid out as the engine
    lays it out (see :mod:`bpframe.kernels.engine`)."""
    layers, start = [], 0
    for size in sizes:
        layers.append(buffer[start : start + m * size].reshape(m, size))
        start += m * size
    return layers


def feedforward(state: ModelState, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The output :math:`a^L` of every row of ``x``, and the engine's status."""
    out = np.empty((x.shape[0], state.sizes[-1]), dtype=state.dtype)
    status = np.zeros(STATUS_FIELDS, np.int64)
    with config.operation():  # the environment read once for the call, not once per engine step
        state.program.evaluate(state.theta, x, np.empty((x.shape[0], 0), state.dtype), out, CHUNK, status)
    return out, status


def evaluate(
    state: ModelState, x: np.ndarray, y: np.ndarray, theta: np.ndarray | None = None
) -> tuple[float, int, np.ndarray]:
    """Mean cost, number correct and the engine's status on ``x``, ``y`` (optionally at other parameters)."""
    out = np.empty((x.shape[0], state.sizes[-1]), dtype=state.dtype)
    params = state.theta if theta is None else theta
    status = np.zeros(STATUS_FIELDS, np.int64)
    with config.operation():
        cost, correct = state.program.evaluate(params, x, y, out, CHUNK, status)
    return float(cost) / x.shape[0], int(correct), status


def backprop(
    state: ModelState, x: np.ndarray, y: np.ndarray, rates: tuple[float, ...] = (), step: int = 0
) -> tuple[BackpropResult, np.ndarray]:
    """The forward pass and the four equations on one batch (``rates``: dropout per hidden layer, or none, with
    update ``step``'s masks), and the engine's status."""
    n, dtype, sizes = x.shape[0], state.dtype, state.sizes
    zs, acts, deltas, masks = (np.empty(n * sum(sizes), dtype) for _ in range(4))
    masks.fill(1.0)  # the result's mask without dropout; the engine writes the dropping layers' masks
    kept = np.empty(n * sum(sizes) if rates else 0, dtype)
    layers = [_buffer_layers(buf, sizes, n) for buf in (zs, acts, deltas, masks)]
    layers[1][0][...] = x
    grad = np.empty_like(state.theta)
    status = np.zeros(STATUS_FIELDS, np.int64)
    drop = np.array([0.0, *rates, 0.0] if rates else [], np.float64)
    key = state.dropout_key() if rates else 0
    with config.operation():
        cost = state.program.backprop(state.theta, zs, acts, deltas, y, grad, status, (drop, key, step, masks, kept))
    nabla_w, nabla_b = state.views(grad)
    result = BackpropResult(
        z=LayerList(layers[0][1:], first=1, what="z"),
        a=LayerList(layers[1], first=0, what="a"),
        delta=LayerList(layers[2][1:], first=1, what="delta"),
        nabla_b=LayerList(nabla_b, first=1, what="nabla_b"),
        nabla_w=LayerList(nabla_w, first=1, what="nabla_w"),
        cost=float(cost) / n,
        mask=LayerList(layers[3][1:-1], first=1, what="mask"),
    )
    return result, status
