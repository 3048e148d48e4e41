"""bpframe-losses-extra: Huber, log-cosh, mean absolute error, hinge and squared hinge.

Each loss is one output unit's term c(a, y); bpframe sums it over the output units of a sample and averages over
the batch. The functions are plain Python in numba's subset and stay finite for any finite a and y.

Where a loss has a corner (mean absolute error at a = y, hinge at y·a = 1) its ``nabla_a`` returns a
*subgradient* there, a value between the slopes on either side; the one chosen is written in each docstring.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from bpframe import Loss, hookimpl

__version__ = "0.1.0"

#: The δ of the registered ``huber`` loss: quadratic for |a − y| ≤ δ, linear beyond. See :func:`make_huber`.
HUBER_DELTA = 1.0
LOG2 = 0.6931471805599453


def huber(a: float, y: float) -> float:
    """½ d² for |d| ≤ δ, else δ (|d| − ½ δ), with d = a − y and δ = HUBER_DELTA."""
    d = abs(a - y)
    if d <= HUBER_DELTA:
        return 0.5 * d * d
    return HUBER_DELTA * (d - 0.5 * HUBER_DELTA)


def huber_nabla_a(a: float, y: float) -> float:
    """d clipped to [−δ, δ] (continuous: Huber is differentiable everywhere)."""
    d = a - y
    if d > HUBER_DELTA:
        return HUBER_DELTA
    if d < -HUBER_DELTA:
        return -HUBER_DELTA
    return d


def make_huber(delta: float, name: str) -> Loss:
    """A Huber loss with another δ, to register (or pass to a Network) under a name of your own.

    Its functions close over δ, which numba compiles in as a constant; kernels built with it are compiled in
    memory rather than cached on disk.

    Parameters
    ----------
    delta : float > 0
        Where the loss turns from quadratic to linear.
    name : str
        The loss's name, e.g. ``"huber_2"``.

    Returns
    -------
    Loss

    Examples
    --------
    >>> loss = make_huber(2.0, "huber_2")
    >>> loss.cost(5.0, 0.0), loss.nabla_a(5.0, 0.0), loss.cost(1.0, 0.0)
    (8.0, 2.0, 0.5)
    """
    delta = float(delta)
    if not delta > 0.0 or not math.isfinite(delta):
        raise ValueError(f"make_huber: delta must be a positive finite number, got {delta!r}")

    def cost(a: float, y: float) -> float:
        d = abs(a - y)
        if d <= delta:
            return 0.5 * d * d
        return delta * (d - 0.5 * delta)

    def nabla_a(a: float, y: float) -> float:
        d = a - y
        if d > delta:
            return delta
        if d < -delta:
            return -delta
        return d

    return Loss(name, cost, nabla_a, description=f"Huber loss with δ = {delta:g}")


def log_cosh(a: float, y: float) -> float:
    """ln cosh(a − y), as |d| + ln(1 + e^(−2|d|)) − ln 2 so that cosh never overflows."""
    d = abs(a - y)
    return d + math.log1p(math.exp(-2.0 * d)) - LOG2


def log_cosh_nabla_a(a: float, y: float) -> float:
    """tanh(a − y)."""
    return math.tanh(a - y)


def mae(a: float, y: float) -> float:
    """|a − y| (averaged over the batch by bpframe: the mean absolute error)."""
    return abs(a - y)


def mae_nabla_a(a: float, y: float) -> float:
    """sign(a − y); at a = y, where |a − y| has no derivative, the subgradient 0."""
    if a > y:
        return 1.0
    if a < y:
        return -1.0
    return 0.0


def hinge(a: float, y: float) -> float:
    """max(0, 1 − y a), for targets y = ±1."""
    return max(0.0, 1.0 - y * a)


def hinge_nabla_a(a: float, y: float) -> float:
    """−y where y a < 1, else 0; at the corner y a = 1 the subgradient 0."""
    if y * a < 1.0:
        return -y
    return 0.0


def squared_hinge(a: float, y: float) -> float:
    """max(0, 1 − y a)², for targets y = ±1 (differentiable everywhere)."""
    m = max(0.0, 1.0 - y * a)
    return m * m


def squared_hinge_nabla_a(a: float, y: float) -> float:
    """−2 y max(0, 1 − y a)."""
    return -2.0 * y * max(0.0, 1.0 - y * a)


@hookimpl
def bpframe_register_losses(register: Callable[[Loss], None]) -> None:
    """Register the losses of this package."""
    register(Loss("huber", huber, huber_nabla_a, description="Huber loss, δ = 1: quadratic near y, linear beyond"))
    register(Loss("log_cosh", log_cosh, log_cosh_nabla_a, description="ln cosh(a − y), a smooth Huber"))
    register(Loss("mae", mae, mae_nabla_a, description="mean absolute error |a − y| (subgradient 0 at a = y)"))
    register(Loss("hinge", hinge, hinge_nabla_a, target_range=(-1.0, 1.0),
                  description="max(0, 1 − y·a) for targets ±1"))  # fmt: skip
    register(Loss("squared_hinge", squared_hinge, squared_hinge_nabla_a, target_range=(-1.0, 1.0),
                  description="max(0, 1 − y·a)² for targets ±1"))  # fmt: skip
