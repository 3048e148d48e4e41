r"""Parameter updates applied inside the compiled epoch, one flat pass over all parameters.

``theta`` holds every weight, then every bias; the first ``n_weights`` entries are weights, which alone
receive the L2 weight decay. ``hyper`` is an array of the parameter dtype:
``[eta, decay, beta1, beta2, epsilon]`` where ``decay = lmbda / n`` as in the book's network2.
"""

from __future__ import annotations

from numba import njit

from .options import SHARED_OPTIONS

__all__ = ["OPTIMIZER_CODES", "sgd_update", "apply_update"]

#: The optimizers the engine knows, by the integer the kernels dispatch on.
OPTIMIZER_CODES = {"sgd": 0}


@njit(**SHARED_OPTIONS)
def sgd_update(theta, grad, n_weights, hyper):
    r"""Stochastic gradient descent with L2 weight decay on the weights.

    .. math::
        w \leftarrow w - \eta \left(\frac{\partial C}{\partial w} + \frac{\lambda}{n} w\right), \qquad
        b \leftarrow b - \eta \frac{\partial C}{\partial b}
    """
    eta = hyper[0]
    decay = hyper[1]
    for i in range(n_weights):
        theta[i] -= eta * (grad[i] + decay * theta[i])
    for i in range(n_weights, theta.shape[0]):
        theta[i] -= eta * grad[i]


@njit(**SHARED_OPTIONS)
def apply_update(kind, theta, grad, n_weights, hyper, state, step):
    """Dispatch to the optimizer numbered ``kind`` (see :data:`OPTIMIZER_CODES`)."""
    sgd_update(theta, grad, n_weights, hyper)
