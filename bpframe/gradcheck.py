"""Compare back-propagation's gradient with central differences of the cost."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ConfigurationError
from .results import GradientCheckResult
from .validation import check_positive_float

if TYPE_CHECKING:
    from .network import Network

__all__ = ["gradient_check"]


def gradient_check(
    net: Network, X: Any, Y: Any, *, eps: float = 1e-6, entries: int | None = 20, seed: int = 0
) -> GradientCheckResult:
    r"""Check ``net.backprop`` against central differences of the mean cost, layer by layer.

    For each checked parameter :math:`\theta_i`,
    :math:`\partial C / \partial \theta_i \approx (C(\theta + \epsilon e_i) - C(\theta - \epsilon e_i)) / 2\epsilon`.
    The check runs in float64 on a copy of the network (float32 has too few digits for differences), so it
    tests the equations and the plugin functions, not the float32 rounding.

    Parameters
    ----------
    net : Network
    X : array_like, shape (n, sizes[0])
        Inputs of any real dtype, converted once to float64 (the caller's array is not modified).
    Y : array_like, shape (n, sizes[-1]) or (n,) of int labels
    eps : float > 0
        The difference step.
    entries : int or None
        How many weights and how many biases of each layer to check (chosen at random from ``seed``);
        ``None`` checks every parameter.
    seed : int
        Chooses the entries.

    Returns
    -------
    GradientCheckResult
        The worst relative error per layer; ``result.passed(1e-6)`` tells whether all are below a tolerance.

    Examples
    --------
    >>> import numpy as np
    >>> import bpframe as bp
    >>> net = bp.Network([3, 4, 2], activation="tanh", loss="quadratic", seed=0)
    >>> rng = np.random.default_rng(0)
    >>> result = bp.gradient_check(net, rng.normal(size=(5, 3)), rng.normal(size=(5, 2)))
    >>> result.passed(1e-6)
    True
    """
    from .network import Network

    if not isinstance(net, Network):
        raise ConfigurationError(f"net must be a bpframe.Network, got {type(net).__name__}")
    eps = check_positive_float("eps", eps)
    if entries is not None and (isinstance(entries, bool) or not isinstance(entries, numbers.Integral) or entries < 1):
        raise ConfigurationError(f"entries must be None or an int >= 1, got {entries!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ConfigurationError(f"seed must be an int >= 0, got {seed!r}")
    probe = Network(net.sizes, list(net.activations), net.loss, dtype="float64")
    probe.set_parameters(net.parameters().astype(np.float64))
    x = probe._inputs(X)
    y = probe._targets(Y, x.shape[0])
    analytic = np.empty_like(probe._theta)
    g = probe.backprop(x, y)
    wa, ba = probe._views(analytic)
    for l in range(1, probe.num_layers + 1):
        wa[l - 1][...] = g.nabla_w[l]
        ba[l - 1][...] = g.nabla_b[l]
    rng = np.random.default_rng(seed)
    theta = probe._theta.copy()
    w_idx, b_idx = probe._views(np.arange(theta.shape[0]))
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


def _difference(net: Network, x: np.ndarray, y: np.ndarray, theta: np.ndarray, i: int, eps: float) -> float:
    """The central difference of the mean cost in parameter i."""
    original = theta[i]
    theta[i] = original + eps
    plus, _ = net._evaluate(x, y, theta)
    theta[i] = original - eps
    minus, _ = net._evaluate(x, y, theta)
    theta[i] = original
    return (plus - minus) / (2.0 * eps)


def _relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """max |a − n| over the layer, relative to the largest magnitude in the layer."""
    scale = max(np.abs(analytic).max(), np.abs(numeric).max())
    if scale == 0.0:
        return 0.0
    return float(np.abs(analytic - numeric).max() / scale)
