"""bpframe-activations-extra: SiLU/swish, GELU (exact and tanh form), Mish, ELU, SELU, softsign, hard sigmoid.

Every function is plain Python in numba's subset (``math`` and arithmetic, no calls to other Python functions)
and is written so that it stays finite and accurate for any finite input, in float32 and float64: ``exp`` is only
ever taken of a non-positive number, and differences that cancel (``1 + tanh``, ``e^z − 1``) are rewritten.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from bpframe import Activation, hookimpl

__version__ = "0.2.0"

#: √(1/2), for Φ(z) = ½ erfc(−z/√2).
SQRT_HALF = 0.7071067811865476
#: 1/√(2π), the normal density's constant.
INV_SQRT_2PI = 0.3989422804014327
#: √(2/π) and 0.044715, the constants of GELU's tanh approximation.
GELU_C = 0.7978845608028654
GELU_A = 0.044715
#: ELU's α.
ELU_ALPHA = 1.0
#: SELU's λ and α (Klambauer et al. 2017), which make zero mean and unit variance a fixed point.
SELU_LAMBDA = 1.0507009873554805
SELU_ALPHA = 1.6732632423543772


def silu(z: float) -> float:
    """SiLU (swish with β = 1): z σ(z), σ evaluated on the side of zero where exp cannot overflow."""
    if z >= 0.0:
        return z / (1.0 + math.exp(-z))
    e = math.exp(z)
    return z * e / (1.0 + e)


def silu_prime(z: float) -> float:
    """σ(z) + z σ(z)(1 − σ(z)), with σ(1 − σ) = e^(−|z|) / (1 + e^(−|z|))²."""
    e = math.exp(-abs(z))
    s = 1.0 / (1.0 + e) if z >= 0.0 else e / (1.0 + e)
    return s + z * e / ((1.0 + e) * (1.0 + e))


def gelu(z: float) -> float:
    """Exact GELU z Φ(z), with Φ(z) = ½ erfc(−z/√2): no cancellation for negative z."""
    return 0.5 * z * math.erfc(-z * SQRT_HALF)


def gelu_prime(z: float) -> float:
    """Φ(z) + z φ(z), φ the standard normal density."""
    return 0.5 * math.erfc(-z * SQRT_HALF) + z * INV_SQRT_2PI * math.exp(-0.5 * z * z)


def gelu_tanh(z: float) -> float:
    """GELU's tanh approximation ½ z (1 + tanh u), u = √(2/π)(z + 0.044715 z³), computed as z σ(2u)."""
    t = 2.0 * GELU_C * (z + GELU_A * z * z * z)
    if t >= 0.0:
        return z / (1.0 + math.exp(-t))
    e = math.exp(t)
    return z * e / (1.0 + e)


def gelu_tanh_prime(z: float) -> float:
    """σ(t) + z σ(t)(1 − σ(t)) t′, with t = 2u and t′ = 2√(2/π)(1 + 3 · 0.044715 z²).

    Where e^(−|t|) underflows (|z| > 22.4) the second term is below 1e-300 and is left out: computed, it would be
    0 · ∞ = NaN from |z| ≈ 5.6e102 on, where z³ overflows."""
    t = 2.0 * GELU_C * (z + GELU_A * z * z * z)
    e = math.exp(-abs(t))
    s = 1.0 / (1.0 + e) if t >= 0.0 else e / (1.0 + e)
    if e == 0.0:
        return s
    dt = 2.0 * GELU_C * (1.0 + 3.0 * GELU_A * z * z)
    return s + z * dt * e / ((1.0 + e) * (1.0 + e))


def mish(z: float) -> float:
    """z tanh(softplus z), using tanh(ln(1 + e^z)) = n / (n + 2) with n = e^z (e^z + 2), per sign of z."""
    if z >= 0.0:
        e = math.exp(-z)
        return z * (1.0 + 2.0 * e) / (1.0 + 2.0 * e + 2.0 * e * e)
    e = math.exp(z)
    n = e * (e + 2.0)
    return z * n / (n + 2.0)


def mish_prime(z: float) -> float:
    """tanh(sp) + z sech²(sp) σ(z), sp = softplus z, with 1 − tanh²(sp) in closed form (no cancellation)."""
    if z >= 0.0:
        e = math.exp(-z)
        d = 1.0 + 2.0 * e + 2.0 * e * e
        t = (1.0 + 2.0 * e) / d
        sech2 = 4.0 * e * e * (1.0 + e) * (1.0 + e) / (d * d)
        return t + z * sech2 / (1.0 + e)
    e = math.exp(z)
    n = e * (e + 2.0)
    t = n / (n + 2.0)
    sech2 = 4.0 * (n + 1.0) / ((n + 2.0) * (n + 2.0))
    return t + z * sech2 * e / (1.0 + e)


def elu(z: float) -> float:
    """z for z > 0, else α (e^z − 1), with expm1 for accuracy near 0."""
    return z if z > 0.0 else ELU_ALPHA * math.expm1(z)


def elu_prime(z: float) -> float:
    """1 for z > 0, else α e^z (continuous at 0 for α = 1)."""
    return 1.0 if z > 0.0 else ELU_ALPHA * math.exp(z)


def selu(z: float) -> float:
    """λ z for z > 0, else λ α (e^z − 1)."""
    return SELU_LAMBDA * z if z > 0.0 else SELU_LAMBDA * SELU_ALPHA * math.expm1(z)


def selu_prime(z: float) -> float:
    """λ for z > 0, else λ α e^z; at the kink z = 0 the left value λ α (a subgradient)."""
    return SELU_LAMBDA if z > 0.0 else SELU_LAMBDA * SELU_ALPHA * math.exp(z)


def softsign(z: float) -> float:
    """z / (1 + |z|)."""
    return z / (1.0 + abs(z))


def softsign_prime(z: float) -> float:
    """1 / (1 + |z|)²."""
    d = 1.0 + abs(z)
    return 1.0 / (d * d)


def hard_sigmoid(z: float) -> float:
    """ReLU6(z + 3) / 6: 0 below −3, 1 above 3, z/6 + 1/2 between (PyTorch's and Keras 3's definition)."""
    if z <= -3.0:
        return 0.0
    if z >= 3.0:
        return 1.0
    return z / 6.0 + 0.5


def hard_sigmoid_prime(z: float) -> float:
    """1/6 on (−3, 3), else 0; at the corners ±3 the subgradient 0."""
    if z > -3.0 and z < 3.0:
        return 1.0 / 6.0
    return 0.0


@hookimpl
def bpframe_register_activations(register: Callable[[Activation], None]) -> None:
    """Register the activations of this package."""
    register(
        Activation("silu", silu, silu_prime, default_init="he", description="z·σ(z), sigmoid-weighted linear unit")
    )
    register(Activation("swish", silu, silu_prime, default_init="he", description="swish with β = 1 (same as silu)"))
    register(Activation("gelu", gelu, gelu_prime, default_init="he", description="z·Φ(z), exact with erfc"))
    register(Activation("gelu_tanh", gelu_tanh, gelu_tanh_prime, default_init="he",
                        description="GELU's tanh approximation"))  # fmt: skip
    register(Activation("mish", mish, mish_prime, default_init="he", description="z·tanh(softplus z)"))
    register(Activation("elu", elu, elu_prime, default_init="he", description="exponential linear unit, α = 1"))
    register(Activation("selu", selu, selu_prime, default_init="scaled_normal",
                        description="scaled ELU, self-normalising (λ ≈ 1.0507, α ≈ 1.6733)"))  # fmt: skip
    register(Activation("softsign", softsign, softsign_prime, default_init="glorot", description="z / (1 + |z|)"))
    register(Activation("hard_sigmoid", hard_sigmoid, hard_sigmoid_prime, default_init="glorot",
                        description="piecewise-linear sigmoid ReLU6(z + 3)/6"))  # fmt: skip
