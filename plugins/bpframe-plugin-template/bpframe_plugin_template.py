"""bpframe-plugin-template: the smallest complete bpframe plugin. Copy this package to start yours.

It registers one activation, ``arctan``: σ(z) = arctan z, σ′(z) = 1 / (1 + z²). Rename the distribution
(``bpframe-<thing>``), the module and the entry point in ``pyproject.toml``, replace the functions, keep the shape.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from bpframe import Activation, hookimpl

__version__ = "0.1.0"


def arctan(z: float) -> float:
    """σ(z) = arctan z, in (−π/2, π/2)."""
    return math.atan(z)


def arctan_prime(z: float) -> float:
    """σ′(z) = 1 / (1 + z²)."""
    return 1.0 / (1.0 + z * z)


@hookimpl
def bpframe_register_activations(register: Callable[[Activation], None]) -> None:
    """Register this package's activations: call ``register`` once per object."""
    register(Activation("arctan", arctan, arctan_prime, default_init="glorot",
                        description="arctan z, a tanh that saturates slowly"))  # fmt: skip
