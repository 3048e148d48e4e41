"""Compare back-propagation's gradient with central differences of the cost, on a model's state.

The public function is :func:`bpframe.gradient_check`, which validates its arguments and passes the network's
state here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import compute
from .diagnose import check_backprop, raise_if_plugin_raised
from .results import GradientCheckResult
from .state import ModelState

__all__ = ["check_gradient"]


def check_gradient(
    state: ModelState, X: Any, Y: Any, eps: float, entries: int | None, seed: int
) -> GradientCheckResult:
    """The worst relative error per layer between back-propagation and central differences, computed in float64
    on a copy of ``state``'s parameters (arguments validated by :func:`bpframe.gradient_check`)."""
    probe = ModelState(state.sizes, state.activations, state.loss, np.dtype(np.float64), None)
    probe.theta[...] = state.theta
    x = probe.inputs(X)
    y = probe.targets(Y, x.shape[0])
    g, status = compute.backprop(probe, x, y)
    check_backprop(probe, g, status, x, y)
    analytic = np.empty_like(probe.theta)
    wa, ba = probe.views(analytic)
    for l in range(1, probe.num_layers + 1):
        wa[l - 1][...] = g.nabla_w[l]
        ba[l - 1][...] = g.nabla_b[l]
    rng = np.random.default_rng(seed)
    theta = probe.theta.copy()
    w_idx, b_idx = probe.views(np.arange(theta.shape[0]))
    weights, biases, checked = {}, {}, 0
    for l in range(1, probe.num_layers + 1):
        errors = []
        for idx in (w_idx[l - 1].ravel(), b_idx[l - 1]):
            chosen = idx if entries is None or idx.size <= entries else rng.choice(idx, entries, replace=False)
            numeric = np.array([_difference(probe, x, y, theta, int(i), eps) for i in chosen])
            errors.append(_relative_error(analytic[chosen], numeric))
            checked += len(chosen)
        weights[l], biases[l] = errors
    return GradientCheckResult(weights=weights, biases=biases, checked=checked, eps=eps)


def _cost(state: ModelState, x: np.ndarray, y: np.ndarray, theta: np.ndarray) -> float:
    """The mean cost at parameters ``theta``."""
    cost, _, status = compute.evaluate(state, x, y, theta)
    raise_if_plugin_raised(state, status, x, y)
    return cost


def _difference(state: ModelState, x: np.ndarray, y: np.ndarray, theta: np.ndarray, i: int, eps: float) -> float:
    """The central difference of the mean cost in parameter i."""
    original = theta[i]
    theta[i] = original + eps
    plus = _cost(state, x, y, theta)
    theta[i] = original - eps
    minus = _cost(state, x, y, theta)
    theta[i] = original
    return (plus - minus) / (2.0 * eps)


def _relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """max |a − n| over the layer, relative to the largest magnitude in the layer."""
    scale = max(np.abs(analytic).max(), np.abs(numeric).max())
    if scale == 0.0:
        return 0.0
    return float(np.abs(analytic - numeric).max() / scale)
