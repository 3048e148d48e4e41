"""bpframe-bent-identity: the bent identity activation, σ(z) = (√(z² + 1) − 1) / 2 + z.

It is smooth, unbounded in both directions like the identity, and bent near zero: σ′ goes from 1/2 far
to the left to 3/2 far to the right, and is never zero, so no unit ever stops learning.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from bpframe import Activation, hookimpl

__version__ = "0.1.0"


def bent_identity(z: float) -> float:
    """σ(z) = (√(z² + 1) − 1) / 2 + z, with √(z² + 1) − 1 written as z² / (√(z² + 1) + 1) for |z| <= 1e8,
    where it does not cancel, and as |z| − 1 beyond, where √(z² + 1) is |z| to the last bit.

    Beyond 1e8 the branch matters: z² overflows from |z| = 1.3e154 on although σ(z) does not, and bpframe compiles
    plugin functions with fast-math flags that may turn z · (z / (r + 1)) back into z² / (r + 1).
    """
    a = abs(z)
    if a > 1e8:
        return 0.5 * (a - 1.0) + z
    return 0.5 * z * z / (math.sqrt(z * z + 1.0) + 1.0) + z


def bent_identity_prime(z: float) -> float:
    """σ′(z) = z / (2 √(z² + 1)) + 1, in (1/2, 3/2)."""
    return 0.5 * z / math.hypot(z, 1.0) + 1.0


@hookimpl
def bpframe_register_activations(register: Callable[[Activation], None]) -> None:
    """Register this package's activations: call ``register`` once per object."""
    register(
        Activation(
            "bent_identity",
            bent_identity,
            bent_identity_prime,
            default_init="glorot",
            monotone="increasing",  # a property the conformance kit checks: σ never decreases, σ′ > 0
            description="(sqrt(z^2 + 1) - 1) / 2 + z, smooth and unbounded",
        )
    )
