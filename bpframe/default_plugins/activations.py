"""Built-in activations: sigmoid, tanh, relu, leaky_relu, identity, softplus, softmax.

Each function is plain Python in numba's subset; bpframe compiles it into the kernels. The forms are chosen
to stay finite for every finite input (never ``exp`` of a large positive number).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from bpframe import Activation, hookimpl

LEAKY_SLOPE = 0.01


def sigmoid(z: float) -> float:
    """σ(z) = 1 / (1 + e^(−z)), evaluated on the side of zero where exp cannot overflow."""
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def sigmoid_prime(z: float) -> float:
    """σ′(z) = σ(z)(1 − σ(z)) = e^(−|z|) / (1 + e^(−|z|))², symmetric and overflow-free."""
    e = math.exp(-abs(z))
    return e / ((1.0 + e) * (1.0 + e))


def tanh(z: float) -> float:
    """tanh(z)."""
    return math.tanh(z)


def tanh_prime(z: float) -> float:
    """1 − tanh²(z)."""
    t = math.tanh(z)
    return 1.0 - t * t


def relu(z: float) -> float:
    """max(z, 0)."""
    return z if z > 0.0 else 0.0 * z


def relu_prime(z: float) -> float:
    """1 for z > 0, else 0 (the subgradient 0 is used at z = 0)."""
    return 1.0 if z > 0.0 else 0.0


def leaky_relu(z: float) -> float:
    """z for z > 0, else 0.01 z."""
    return z if z > 0.0 else LEAKY_SLOPE * z


def leaky_relu_prime(z: float) -> float:
    """1 for z > 0, else 0.01."""
    return 1.0 if z > 0.0 else LEAKY_SLOPE


def identity(z: float) -> float:
    """z."""
    return z


def identity_prime(z: float) -> float:
    """1."""
    return 1.0


def softplus(z: float) -> float:
    """log(1 + e^z) = max(z, 0) + log1p(e^(−|z|))."""
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


def softplus_prime(z: float) -> float:
    """σ(z), the logistic function (computed on the overflow-free side)."""
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def softmax_forward(z: np.ndarray, a: np.ndarray) -> None:
    """a_j = e^(z_j − max z) / Σ_k e^(z_k − max z), for one sample."""
    top = z[0]
    for j in range(1, z.shape[0]):
        if z[j] > top:
            top = z[j]
    total = 0.0
    for j in range(z.shape[0]):
        e = math.exp(z[j] - top)
        a[j] = e
        total += e
    for j in range(z.shape[0]):
        a[j] = a[j] / total


def softmax_vjp(z: np.ndarray, a: np.ndarray, v: np.ndarray, out: np.ndarray) -> None:
    """out = J(z)ᵀ v with J_jk = a_j (δ_jk − a_k), i.e. out_j = a_j (v_j − Σ_k a_k v_k)."""
    dot = 0.0
    for k in range(a.shape[0]):
        dot += a[k] * v[k]
    for j in range(a.shape[0]):
        out[j] = a[j] * (v[j] - dot)


@hookimpl
def bpframe_register_activations(register: Callable[[Activation], None]) -> None:
    inf = math.inf
    register(Activation("sigmoid", sigmoid, sigmoid_prime, default_init="scaled_normal", bounds=(0.0, 1.0),
                        monotone="increasing", description="logistic function 1/(1+e^-z)"))  # fmt: skip
    register(Activation("tanh", tanh, tanh_prime, default_init="glorot", bounds=(-1.0, 1.0), monotone="increasing",
                        description="hyperbolic tangent"))  # fmt: skip
    register(Activation("relu", relu, relu_prime, default_init="he", bounds=(0.0, inf), monotone="increasing",
                        description="rectified linear max(z, 0)"))  # fmt: skip
    register(Activation("leaky_relu", leaky_relu, leaky_relu_prime, default_init="he", monotone="increasing",
                        description="max(z, 0.01 z)"))  # fmt: skip
    register(Activation("identity", identity, identity_prime, default_init="glorot", monotone="increasing",
                        description="linear output z"))  # fmt: skip
    register(Activation("softplus", softplus, softplus_prime, default_init="he", bounds=(0.0, inf),
                        monotone="increasing", description="smooth ReLU log(1+e^z)"))  # fmt: skip
    register(
        Activation(
            "softmax",
            elementwise=False,
            forward=softmax_forward,
            vjp=softmax_vjp,
            default_init="glorot",
            description="normalised exponentials (an output layer)",
        )
    )
