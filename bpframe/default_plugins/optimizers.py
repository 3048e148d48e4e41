r"""Built-in optimizers: SGD, momentum, Nesterov momentum and Adam, registered like any plugin's.

Each update is plain Python in numba's subset, over the flat parameter vector: ``theta`` holds every weight
(the first ``n_weights`` entries), then every bias. ``hyper`` is ``[eta, decay, <hyper-parameters>]`` in
float64, where ``decay`` is λ/n as in the book's network2 (n the number of training samples; the gradient
:math:`\partial C/\partial\theta` is the mean over the m samples of a mini-batch); the L2 decay applies to
the weights only:

.. math::
    g_i = \frac{\partial C}{\partial \theta_i} + \frac{\lambda}{n} \theta_i \quad (\theta_i \text{ a weight}),
    \qquad g_i = \frac{\partial C}{\partial \theta_i} \quad (\theta_i \text{ a bias}).

An update writes the new parameters to ``theta_out`` and the new state to ``state_out`` and returns whether
every new parameter is finite; the engine commits them only then, so a diverging step leaves the last good
parameters and state untouched. The hyper-parameters are rounded to the parameters' dtype once, so that a
float32 network computes in float32 (as fast as it can).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bpframe import Hyper, OptimizerSpec, hookimpl


def sgd_update(theta, grad, state, theta_out, state_out, n_weights, hyper, step):
    r""":math:`\theta \leftarrow \theta - \eta \, g`."""
    cast = theta.dtype.type
    eta, decay = cast(hyper[0]), cast(hyper[1])
    finite = True
    for i in range(n_weights):
        new = theta[i] - eta * (grad[i] + decay * theta[i])
        theta_out[i] = new
        finite &= new - new == cast(0.0)
    for i in range(n_weights, theta.shape[0]):
        new = theta[i] - eta * grad[i]
        theta_out[i] = new
        finite &= new - new == cast(0.0)
    return finite


def sgd_fused(eta: float, decay: float, values: tuple[float, ...]) -> tuple[float, float, float]:
    r"""SGD as :math:`\theta \leftarrow k\theta - s\,\partial C/\partial\theta`: :math:`k = 1 - \eta\lambda/n` on
    the weights, 1 on the biases, :math:`s = \eta`."""
    return 1.0 - eta * decay, 1.0, eta


def momentum_update(theta, grad, state, theta_out, state_out, n_weights, hyper, step):
    r""":math:`v \leftarrow \mu v + g, \quad \theta \leftarrow \theta - \eta \, v`."""
    cast = theta.dtype.type
    eta, decay, mu = cast(hyper[0]), cast(hyper[1]), cast(hyper[2])
    finite = True
    for i in range(theta.shape[0]):
        g = grad[i] + decay * theta[i] if i < n_weights else grad[i]
        v = mu * state[0, i] + g
        state_out[0, i] = v
        new = theta[i] - eta * v
        theta_out[i] = new
        finite &= new - new == cast(0.0)
    return finite


def nesterov_update(theta, grad, state, theta_out, state_out, n_weights, hyper, step):
    r""":math:`v \leftarrow \mu v + g, \quad \theta \leftarrow \theta - \eta \, (g + \mu v)` (the gradient is taken
    at the current parameters)."""
    cast = theta.dtype.type
    eta, decay, mu = cast(hyper[0]), cast(hyper[1]), cast(hyper[2])
    finite = True
    for i in range(theta.shape[0]):
        g = grad[i] + decay * theta[i] if i < n_weights else grad[i]
        v = mu * state[0, i] + g
        state_out[0, i] = v
        new = theta[i] - eta * (g + mu * v)
        theta_out[i] = new
        finite &= new - new == cast(0.0)
    return finite


def adam_update(theta, grad, state, theta_out, state_out, n_weights, hyper, step):
    r"""Adam with the L2 decay added to the gradient (not AdamW's decoupled decay); ``state`` rows are m and v.

    .. math::
        m \leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \qquad
        \theta \leftarrow \theta - \eta \, \frac{m / (1 - \beta_1^t)}{\sqrt{v / (1 - \beta_2^t)} + \epsilon}

    The bias corrections are computed once per call in float64, where :math:`1 - \beta_2^t` loses less to
    cancellation, then rounded to theta's dtype so the loop runs in that dtype.
    """
    cast = theta.dtype.type
    beta1, beta2 = hyper[2], hyper[3]
    decay, epsilon = cast(hyper[1]), cast(hyper[4])
    one_minus_beta1, one_minus_beta2 = cast(1.0 - beta1), cast(1.0 - beta2)
    b1, b2 = cast(beta1), cast(beta2)
    alpha = cast(hyper[0] / (1.0 - beta1**step))  # eta / (1 - beta1^t)
    inv_sqrt_bc2 = cast(1.0 / np.sqrt(1.0 - beta2**step))  # 1 / sqrt(1 - beta2^t)
    finite = True
    for i in range(theta.shape[0]):
        g = grad[i] + decay * theta[i] if i < n_weights else grad[i]
        mi = b1 * state[0, i] + one_minus_beta1 * g
        vi = b2 * state[1, i] + one_minus_beta2 * (g * g)
        state_out[0, i] = mi
        state_out[1, i] = vi
        new = theta[i] - alpha * mi / (np.sqrt(vi) * inv_sqrt_bc2 + epsilon)
        theta_out[i] = new
        finite &= new - new == cast(0.0)
    return finite


# -- references: the same updates as the equations state them, in NumPy (never compiled; the conformance kit
# -- compares each compiled update with its reference on a quadratic bowl)


def decayed(theta: np.ndarray, grad: np.ndarray, n_weights: int, decay: float) -> np.ndarray:
    """g = ∂C/∂θ + (λ/n) θ for the weights, ∂C/∂θ for the biases."""
    g: np.ndarray = grad.copy()
    g[:n_weights] += decay * theta[:n_weights]
    return g


def sgd_reference(theta, grad, state, n_weights, hyper, step):
    """θ − η g."""
    return theta - hyper[0] * decayed(theta, grad, n_weights, hyper[1]), state


def momentum_reference(theta, grad, state, n_weights, hyper, step):
    """v = μ v + g, θ − η v."""
    v = hyper[2] * state[0] + decayed(theta, grad, n_weights, hyper[1])
    return theta - hyper[0] * v, v[None, :]


def nesterov_reference(theta, grad, state, n_weights, hyper, step):
    """v = μ v + g, θ − η (g + μ v)."""
    g = decayed(theta, grad, n_weights, hyper[1])
    v = hyper[2] * state[0] + g
    return theta - hyper[0] * (g + hyper[2] * v), v[None, :]


def adam_reference(theta, grad, state, n_weights, hyper, step):
    """m = β₁m + (1 − β₁)g, v = β₂v + (1 − β₂)g², θ − η m̂ / (√v̂ + ε) with m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)."""
    eta, beta1, beta2, epsilon = hyper[0], hyper[2], hyper[3], hyper[4]
    g = decayed(theta, grad, n_weights, hyper[1])
    m = beta1 * state[0] + (1 - beta1) * g
    v = beta2 * state[1] + (1 - beta2) * g * g
    m_hat, v_hat = m / (1 - beta1**step), v / (1 - beta2**step)
    return theta - eta * m_hat / (np.sqrt(v_hat) + epsilon), np.stack([m, v])


@hookimpl
def bpframe_register_optimizers(register: Callable[[OptimizerSpec], None]) -> None:
    mu = Hyper("mu", 0.9, low=0.0, high=1.0, help="momentum coefficient; 0 gives plain SGD")
    register(
        OptimizerSpec(
            "sgd",
            sgd_update,
            fused=sgd_fused,
            title="SGD",
            description="stochastic gradient descent (the book's)",
            reference=sgd_reference,
        )
    )
    register(
        OptimizerSpec(
            "momentum", momentum_update, (mu,), state_rows=1, title="Momentum",
            description="classical momentum, as PyTorch's SGD(momentum=mu)", reference=momentum_reference,
        )
    )  # fmt: skip
    register(
        OptimizerSpec(
            "nesterov", nesterov_update, (mu,), state_rows=1, title="Nesterov",
            description="Nesterov momentum, as PyTorch's SGD(momentum=mu, nesterov=True)", reference=nesterov_reference,
        )
    )  # fmt: skip
    adam_hyper = (
        Hyper("beta1", 0.9, low=0.0, high=1.0, help="decay of the running mean of the gradient"),
        Hyper("beta2", 0.999, low=0.0, high=1.0, help="decay of the running mean of the squared gradient"),
        Hyper("epsilon", 1e-8, low=0.0, low_inclusive=False, help="keeps the step finite where the gradient is 0"),
    )
    register(
        OptimizerSpec(
            "adam", adam_update, adam_hyper, state_rows=2, title="Adam",
            description="Adam (Kingma & Ba) with L2 decay added to the gradient", reference=adam_reference,
        )
    )  # fmt: skip
