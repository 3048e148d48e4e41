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
    """σ(z) = (√(z² + 1) − 1) / 2 + z, with √(z² + 1) − 1 written as z² / (√(z² + 1) + 1).

    The rewritten form does not cancel for small z, and z · (z / (r + 1)) cannot overflow where z² would.
    """
    r = math.hypot(z, 1.0)
    return 0.5 * z * (z / (r + 1.0)) + z


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
            description="(sqrt(z^2 + 1) - 1) / 2 + z, smooth and unbounded",
        )
    )
