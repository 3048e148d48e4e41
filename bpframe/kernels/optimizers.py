r"""Parameter updates applied inside the compiled epoch, one flat pass over all parameters.

``theta`` holds every weight, then every bias; the first ``n_weights`` entries are weights, which alone
receive the L2 weight decay. ``grad`` is the batch-mean gradient :math:`\partial C / \partial \theta` laid out
the same way. ``hyper`` is an array of theta's dtype:

``[eta, decay, beta1_or_mu, beta2, epsilon]``

where ``decay = lmbda / n`` as in the book's network2. Every optimizer first forms the decayed gradient

.. math::
    g_i = \frac{\partial C}{\partial \theta_i} + \frac{\lambda}{n} \theta_i \quad (\theta_i \text{ a weight}),
    \qquad g_i = \frac{\partial C}{\partial \theta_i} \quad (\theta_i \text{ a bias}),

so the decay is L2 regularisation added to the gradient (for Adam this is *not* AdamW's decoupled decay).
``state`` has shape ``(rows, theta.size)`` and persists across batches and epochs: 0 rows for SGD, 1 for
momentum and Nesterov (the velocity), 2 for Adam (the moments m and v). ``step`` is the 1-based number of the
update, which Adam's bias correction needs.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.extending import overload

from .options import SHARED_OPTIONS

__all__ = [
    "OPTIMIZER_CODES",
    "adam_update",
    "apply_update",
    "apply_update_to",
    "max_abs",
    "momentum_update",
    "nesterov_update",
    "sgd_step_bound",
    "sgd_update",
]

#: The optimizers the engine knows, by the integer the kernels dispatch on.
OPTIMIZER_CODES = {"sgd": 0, "momentum": 1, "nesterov": 2, "adam": 3}


@njit(**SHARED_OPTIONS)
def sgd_update(theta, out, grad, n_weights, hyper):
    r"""Stochastic gradient descent with L2 weight decay on the weights; writes the new parameters to ``out``
    (which may be ``theta``) and returns whether all of them are finite.

    .. math::
        \theta \leftarrow \theta - \eta \, g
    """
    eta = hyper[0]
    decay = hyper[1]
    check = theta[0] * 0.0
    for i in range(n_weights):  # weights: decayed gradient
        new = theta[i] - eta * (grad[i] + decay * theta[i])
        out[i] = new
        check += new * 0.0
    for i in range(n_weights, theta.shape[0]):  # biases
        new = theta[i] - eta * grad[i]
        out[i] = new
        check += new * 0.0
    return check == 0.0


@njit(**SHARED_OPTIONS)
def momentum_update(theta, out, grad, n_weights, hyper, velocity, velocity_out):
    r"""Classical momentum (PyTorch's ``SGD(momentum=mu)`` with dampening 0); ``velocity`` starts at 0.

    .. math::
        v \leftarrow \mu v + g, \qquad \theta \leftarrow \theta - \eta \, v
    """
    eta = hyper[0]
    decay = hyper[1]
    mu = hyper[2]
    check = theta[0] * 0.0
    for i in range(theta.shape[0]):
        g = grad[i] + decay * theta[i] if i < n_weights else grad[i]
        v = mu * velocity[i] + g
        velocity_out[i] = v
        new = theta[i] - eta * v
        out[i] = new
        check += new * 0.0
    return check == 0.0


@njit(**SHARED_OPTIONS)
def nesterov_update(theta, out, grad, n_weights, hyper, velocity, velocity_out):
    r"""Nesterov momentum in PyTorch's formulation (the gradient is taken at the current parameters).

    .. math::
        v \leftarrow \mu v + g, \qquad \theta \leftarrow \theta - \eta \, (g + \mu v)
    """
    eta = hyper[0]
    decay = hyper[1]
    mu = hyper[2]
    check = theta[0] * 0.0
    for i in range(theta.shape[0]):
        g = grad[i] + decay * theta[i] if i < n_weights else grad[i]
        v = mu * velocity[i] + g
        velocity_out[i] = v
        new = theta[i] - eta * (g + mu * v)
        out[i] = new
        check += new * 0.0
    return check == 0.0


@njit(**SHARED_OPTIONS)
def adam_update(theta, out, grad, n_weights, hyper, m, v, m_out, v_out, step):
    r"""Adam (Kingma & Ba) with the L2 decay added to the gradient, i.e. not AdamW; ``m`` and ``v`` start at 0.

    .. math::
        m \leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \\
        \hat m = \frac{m}{1 - \beta_1^t}, \qquad \hat v = \frac{v}{1 - \beta_2^t}, \qquad
        \theta \leftarrow \theta - \eta \, \frac{\hat m}{\sqrt{\hat v} + \epsilon}

    with :math:`t` = ``step`` (1 for the first update). The bias corrections are computed once per call in
    float64, where :math:`1 - \beta_2^t` loses less to cancellation, then rounded to theta's dtype so the loop
    runs in that dtype.
    """
    cast = theta.dtype.type
    decay = hyper[1]
    beta1 = hyper[2]
    beta2 = hyper[3]
    epsilon = hyper[4]
    one_minus_beta1 = cast(1.0 - np.float64(beta1))
    one_minus_beta2 = cast(1.0 - np.float64(beta2))
    alpha = cast(np.float64(hyper[0]) / (1.0 - np.float64(beta1) ** step))  # eta / (1 - beta1^t)
    inv_sqrt_bc2 = cast(1.0 / np.sqrt(1.0 - np.float64(beta2) ** step))  # 1 / sqrt(1 - beta2^t)
    check = theta[0] * 0.0
    for i in range(theta.shape[0]):
        g = grad[i] + decay * theta[i] if i < n_weights else grad[i]
        mi = beta1 * m[i] + one_minus_beta1 * g
        vi = beta2 * v[i] + one_minus_beta2 * (g * g)
        m_out[i] = mi
        v_out[i] = vi
        new = theta[i] - alpha * mi / (np.sqrt(vi) * inv_sqrt_bc2 + epsilon)
        out[i] = new
        check += new * 0.0
    return check == 0.0


@njit(**SHARED_OPTIONS)
def apply_update_to(kind, theta, out, grad, n_weights, hyper, state, state_out, step):
    """Dispatch to the optimizer numbered ``kind``: the new parameters go to ``out`` and the new optimizer
    state to ``state_out`` (``theta`` and ``state`` are left as they were unless they are the outputs too).
    Returns True when every new parameter is finite, so the caller can keep the last good parameters and state
    when an update would overflow."""
    if kind == 0:
        return sgd_update(theta, out, grad, n_weights, hyper)
    if kind == 1:
        return momentum_update(theta, out, grad, n_weights, hyper, state[0], state_out[0])
    if kind == 2:
        return nesterov_update(theta, out, grad, n_weights, hyper, state[0], state_out[0])
    if kind == 3:
        return adam_update(theta, out, grad, n_weights, hyper, state[0], state[1], state_out[0], state_out[1], step)
    raise ValueError("apply_update: unknown optimizer code (see OPTIMIZER_CODES)")


@njit(**SHARED_OPTIONS)
def apply_update(kind, theta, grad, n_weights, hyper, state, step):
    """Dispatch to the optimizer numbered ``kind`` (see :data:`OPTIMIZER_CODES`); ``theta`` and ``state``
    are updated in place.

    Examples
    --------
    One weight (with decay) and one bias (without), a plain SGD step:
    w = 1 - 0.1 (0.5 + 0.5 * 1) = 0.9 and b = 1 - 0.1 * 2 = 0.8.

    >>> import numpy as np
    >>> from bpframe.kernels.optimizers import OPTIMIZER_CODES, apply_update
    >>> theta, grad = np.array([1.0, 1.0]), np.array([0.5, 2.0])
    >>> hyper = np.array([0.1, 0.5, 0.0, 0.0, 0.0])  # eta, decay
    >>> apply_update(OPTIMIZER_CODES["sgd"], theta, grad, 1, hyper, np.empty((0, 2)), 1)
    >>> theta.tolist()
    [0.9, 0.8]

    Adam's first step moves every parameter by about ``eta`` against the sign of its gradient:

    >>> theta, grad = np.zeros(2, np.float32), np.array([3.0, -0.2], np.float32)
    >>> hyper = np.array([0.1, 0.0, 0.9, 0.999, 1e-8], np.float32)
    >>> state = np.zeros((2, 2), np.float32)
    >>> apply_update(OPTIMIZER_CODES["adam"], theta, grad, 1, hyper, state, 1)
    >>> theta.dtype, theta.astype(float).round(5).tolist()
    (dtype('float32'), [-0.1, 0.1])
    """
    apply_update_to(kind, theta, theta, grad, n_weights, hyper, state, state, step)


# ----------------------------------------------------------------------------------------------------------
# The in-place SGD step's guard. SGD is the one optimizer whose step the engine fuses into BP4's matrix product
# (bpframe.kernels.equations.bp3_bp4_sgd_in_place), overwriting the parameters. That is only done when the new
# parameters provably stay finite, so that a diverging step can still leave the last good ones untouched: the
# engine keeps an upper bound on the largest parameter magnitude and checks the bound after the step first.


_MAGNITUDE_BITS = {  # dtype: (unsigned integer of its size, mask clearing the sign bit, bits of +inf)
    np.dtype(np.float32): (np.uint32, 0x7FFFFFFF, 0x7F800000),
    np.dtype(np.float64): (np.uint64, 0x7FFFFFFFFFFFFFFF, 0x7FF0000000000000),
}


def _max_abs_flat(flat: np.ndarray) -> float:
    """:func:`max_abs` of a 1-D contiguous float32 or float64 array (NumPy; compiled below, per dtype)."""
    unsigned, mask, inf_bits = _MAGNITUDE_BITS[flat.dtype]
    if flat.size == 0:
        return 0.0
    top = np.bitwise_and(flat.view(unsigned), unsigned(mask)).max()
    return np.inf if top >= inf_bits else float(np.array([top]).view(flat.dtype)[0])


@overload(_max_abs_flat, jit_options={"nogil": True})
def _max_abs_flat_compiled(flat):
    """One integer maximum over the bit patterns, compiled for the array's dtype only (numba would compile both
    branches of an ``if`` on the itemsize)."""
    unsigned, mask_value, inf_value = _MAGNITUDE_BITS[np.dtype(flat.dtype.name)]
    mask, inf_bits = unsigned(mask_value), unsigned(inf_value)

    def impl(flat):
        bits = flat.view(unsigned)
        top = unsigned(0)
        for i in range(bits.size):
            v = bits[i] & mask
            if v > top:
                top = v
        if top >= inf_bits:
            return np.inf
        value = np.empty(1, unsigned)
        value[0] = top
        return float(value.view(flat.dtype)[0])

    return impl


@njit(**SHARED_OPTIONS)
def max_abs(x):
    """The largest :math:`|x_i|` of a contiguous float32 or float64 array, as a float; inf if an entry is NaN or
    inf; 0.0 for an empty array.

    It compares the bits with the sign cleared as unsigned integers, which order non-negative floats as the
    floats do and put inf and NaN above every finite number: one integer maximum, which vectorises.
    """
    return _max_abs_flat(x.reshape(x.size))


@njit(**SHARED_OPTIONS)
def sgd_step_bound(bound, delta_max, a_max, n, eta, decay, limit):
    r"""An upper bound on :math:`\max(|w|, |b|)` of a layer after an SGD step, or inf when it could exceed ``limit``.

    With :math:`B \ge \max(|w|, |b|)` (the engine keeps one bound for all parameters), :math:`D = \max|\delta|`
    and :math:`A = \max|a^{l-1}|`, every entry of :math:`\frac{1}{n}\delta^\mathsf{T} a` and of
    :math:`\frac{1}{n}\sum_x \delta` is at most :math:`D\max(A, 1)` in size, so the new parameters are at most

    .. math:: \max(|1 - \eta\lambda/n|, 1)\, B + \eta\, D \max(A, 1).

    The sums inside the matrix product reach :math:`n D A` before they are scaled: that must stay below
    ``limit`` too. ``limit`` is far below the dtype's largest number (1/16 of it), which covers rounding.
    Any NaN among the inputs gives inf.
    """
    a_term = max(a_max, 1.0)
    if not n * delta_max * a_term <= limit:
        return np.inf
    new = max(abs(1.0 - eta * decay), 1.0) * bound + eta * delta_max * a_term
    return new if new <= limit else np.inf
