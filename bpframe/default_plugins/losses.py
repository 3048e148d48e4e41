"""Built-in losses: quadratic, binary_cross_entropy, cross_entropy (categorical).

Each loss is one output unit's term c(a, y); bpframe sums it over the output units of a sample and averages
over the batch. The cross-entropies clip their logarithms at TINY so a saturated output gives a large finite
cost rather than inf, and declare the combined output error δᴸ = a − y for the activation that makes it exact.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from bpframe import Loss, hookimpl

TINY = 1e-300


def quadratic(a: float, y: float) -> float:
    """½ (a − y)²."""
    d = a - y
    return 0.5 * d * d


def quadratic_nabla_a(a: float, y: float) -> float:
    """∂/∂a of ½ (a − y)² = a − y."""
    return a - y


def a_minus_y(z: float, a: float, y: float) -> float:
    """δᴸ = a − y: exact for identity + quadratic, sigmoid + binary and softmax + categorical cross-entropy."""
    return a - y


def binary_cross_entropy(a: float, y: float) -> float:
    """−[y ln a + (1 − y) ln(1 − a)], each logarithm clipped at TINY and skipped when its weight is 0."""
    c = 0.0
    if y > 0.0:
        c -= y * math.log(max(a, TINY))
    if y < 1.0:
        c -= (1.0 - y) * math.log(max(1.0 - a, TINY))
    return c


def binary_cross_entropy_nabla_a(a: float, y: float) -> float:
    """(a − y) / (a (1 − a)), the denominator clipped at TINY."""
    return (a - y) / max(a * (1.0 - a), TINY)


def cross_entropy(a: float, y: float) -> float:
    """−y ln a, the logarithm clipped at TINY and skipped when y = 0."""
    if y > 0.0:
        return -y * math.log(max(a, TINY))
    return 0.0 * a


def cross_entropy_nabla_a(a: float, y: float) -> float:
    """−y / a, the denominator clipped at TINY."""
    return -y / max(a, TINY)


@hookimpl
def bpframe_register_losses(register: Callable[[Loss], None]) -> None:
    register(
        Loss(
            "quadratic",
            quadratic,
            quadratic_nabla_a,
            output_errors={"identity": a_minus_y},
            bounds=(0.0, math.inf),
            description="½‖y − a‖², the book's quadratic cost",
        )
    )
    register(
        Loss(
            "binary_cross_entropy",
            binary_cross_entropy,
            binary_cross_entropy_nabla_a,
            output_errors={"sigmoid": a_minus_y},
            target_range=(0.0, 1.0),
            domain=(0.0, 1.0),
            bounds=(0.0, math.inf),
            description="−Σ[y ln a + (1−y) ln(1−a)], for sigmoid outputs",
        )
    )
    register(
        Loss(
            "cross_entropy",
            cross_entropy,
            cross_entropy_nabla_a,
            output_errors={"softmax": a_minus_y},
            target_range=(0.0, 1.0),
            targets_sum_to_one=True,
            domain=(0.0, 1.0),
            bounds=(0.0, math.inf),
            description="−Σ y ln a, categorical, for softmax outputs",
        )
    )
