r"""bpframe-optimizers-extra: RMSprop and AdamW as bpframe optimizers.

Each optimizer is an :class:`bpframe.OptimizerSpec`: its hyper-parameters (:class:`bpframe.Hyper`, with defaults
and allowed ranges), the rows of state it keeps per parameter, its update in numba's subset, and a reference
update in NumPy that the conformance kit compares the compiled one with.

The update works on the flat parameter vector: ``theta`` holds every weight (the first ``n_weights`` entries),
then every bias. ``hyper`` is float64 ``[eta, decay, <hyper-parameters in order>]`` with ``decay`` = λ/n, the L2
decay of ``fit(lmbda=...)``, which every bpframe optimizer adds to the gradient of the weights:

.. math::
    g_i = \frac{\partial C}{\partial \theta_i} + \frac{\lambda}{n} \theta_i \ (\theta_i \text{ a weight}), \qquad
    g_i = \frac{\partial C}{\partial \theta_i} \ (\theta_i \text{ a bias}).

The update writes the new parameters to ``theta_out`` and the new state to ``state_out`` (never into ``theta`` or
``state``), and returns whether every new parameter is finite, with the ``finite &= new - new == 0.0`` idiom
(``new - new`` is NaN exactly when ``new`` is inf or NaN), which vectorises.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bpframe import Hyper, OptimizerSpec, hookimpl

__version__ = "0.1.1"


def rmsprop_update(theta, grad, state, theta_out, state_out, n_weights, hyper, step):
    r"""RMSprop (Hinton, 2012; PyTorch's ``RMSprop`` with ``alpha`` = ρ): ``state[0]`` is v.

    .. math::
        v \leftarrow \rho v + (1 - \rho) g^2, \qquad \theta \leftarrow \theta - \eta \, \frac{g}{\sqrt{v} + \epsilon}
    """
    cast = theta.dtype.type
    eta, decay, rho, epsilon = cast(hyper[0]), cast(hyper[1]), cast(hyper[2]), cast(hyper[3])
    one_minus_rho = cast(1.0 - hyper[2])
    finite = True
    for i in range(theta.shape[0]):
        g = grad[i] + decay * theta[i] if i < n_weights else grad[i]
        v = rho * state[0, i] + one_minus_rho * (g * g)
        state_out[0, i] = v
        new = theta[i] - eta * g / (np.sqrt(v) + epsilon)
        theta_out[i] = new
        finite &= new - new == cast(0.0)
    return finite


def adamw_update(theta, grad, state, theta_out, state_out, n_weights, hyper, step):
    r"""AdamW (Loshchilov & Hutter, 2019): Adam with the weight decay taken out of the gradient. ``state`` rows are
    m and v; the decoupled decay λ_w (``weight_decay``) shrinks the weights only, as ``lmbda`` does.

    .. math::
        m \leftarrow \beta_1 m + (1 - \beta_1) g, \qquad v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \\
        \theta \leftarrow \theta - \eta \left( \lambda_w \theta + \frac{m / (1 - \beta_1^t)}{\sqrt{v / (1 -
        \beta_2^t)} + \epsilon} \right)

    The bias corrections are computed once per call in float64, then rounded to theta's dtype.
    """
    cast = theta.dtype.type
    beta1, beta2 = hyper[2], hyper[3]
    decay, epsilon = cast(hyper[1]), cast(hyper[4])
    shrink = cast(1.0 - hyper[0] * hyper[5])  # 1 − η λ_w, applied to the weights
    one_minus_beta1, one_minus_beta2 = cast(1.0 - beta1), cast(1.0 - beta2)
    b1, b2 = cast(beta1), cast(beta2)
    alpha = cast(hyper[0] / (1.0 - beta1**step))
    inv_sqrt_bc2 = cast(1.0 / np.sqrt(1.0 - beta2**step))
    finite = True
    for i in range(theta.shape[0]):
        weight = i < n_weights
        g = grad[i] + decay * theta[i] if weight else grad[i]
        mi = b1 * state[0, i] + one_minus_beta1 * g
        vi = b2 * state[1, i] + one_minus_beta2 * (g * g)
        state_out[0, i] = mi
        state_out[1, i] = vi
        kept = theta[i] * shrink if weight else theta[i]
        new = kept - alpha * mi / (np.sqrt(vi) * inv_sqrt_bc2 + epsilon)
        theta_out[i] = new
        finite &= new - new == cast(0.0)
    return finite


# -- references: the equations in NumPy, never compiled; the conformance kit compares the updates with them ------


def _decayed(theta, grad, n_weights, decay):
    g = grad.copy()
    g[:n_weights] += decay * theta[:n_weights]
    return g


def rmsprop_reference(theta, grad, state, n_weights, hyper, step):
    """v = ρv + (1 − ρ)g², θ − η g / (√v + ε)."""
    eta, rho, epsilon = hyper[0], hyper[2], hyper[3]
    g = _decayed(theta, grad, n_weights, hyper[1])
    v = rho * state[0] + (1.0 - rho) * g * g
    return theta - eta * g / (np.sqrt(v) + epsilon), v[None, :]


def adamw_reference(theta, grad, state, n_weights, hyper, step):
    """Adam's m and v; θ − η(λ_w θ + m̂ / (√v̂ + ε)), with λ_w on the weights only."""
    eta, beta1, beta2, epsilon, weight_decay = hyper[0], hyper[2], hyper[3], hyper[4], hyper[5]
    g = _decayed(theta, grad, n_weights, hyper[1])
    m = beta1 * state[0] + (1.0 - beta1) * g
    v = beta2 * state[1] + (1.0 - beta2) * g * g
    m_hat, v_hat = m / (1.0 - beta1**step), v / (1.0 - beta2**step)
    shrink = np.where(np.arange(theta.size) < n_weights, weight_decay, 0.0)
    return theta - eta * (shrink * theta + m_hat / (np.sqrt(v_hat) + epsilon)), np.stack([m, v])


@hookimpl
def bpframe_register_optimizers(register: Callable[[OptimizerSpec], None]) -> None:
    """Register this package's optimizers: call ``register`` once per object."""
    epsilon = Hyper("epsilon", 1e-8, low=0.0, low_inclusive=False, help="keeps the step finite where v is 0")
    register(OptimizerSpec(
        "rmsprop", rmsprop_update, (Hyper("rho", 0.9, low=0.0, high=1.0, help="decay of the mean square"), epsilon),
        state_rows=1, title="RMSprop", reference=rmsprop_reference,
        description="RMSprop: steps divided by a running root mean square of the gradient",
    ))  # fmt: skip
    register(OptimizerSpec(
        "adamw", adamw_update, (
            Hyper("beta1", 0.9, low=0.0, high=1.0, help="decay of the running mean of the gradient"),
            Hyper("beta2", 0.999, low=0.0, high=1.0, help="decay of the running mean of the squared gradient"),
            epsilon,
            Hyper("weight_decay", 0.01, low=0.0, help="decoupled decay of the weights, per unit of eta"),
        ),
        state_rows=2, title="AdamW", reference=adamw_reference,
        description="AdamW (Loshchilov & Hutter): Adam with decoupled weight decay",
    ))  # fmt: skip
