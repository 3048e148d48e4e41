"""The :class:`Loss` spec: what a plugin hands bpframe to define a cost C and its gradient ∇ₐC."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .activation import _check_callable, check_bounds, check_name
from .errors import ConfigurationError

__all__ = ["Loss"]


@dataclass(frozen=True, eq=False)
class Loss:
    r"""A per-sample cost :math:`C_x = \sum_j c(a_j, y_j)` and its gradient, as plain scalar functions.

    Every loss sums a scalar function over the output units of one sample; bpframe averages over the samples of
    a batch of m samples, :math:`C = \frac{1}{m}\sum_x C_x`.

    Parameters
    ----------
    name : str
        The registry name, a lower-case identifier (``"quadratic"``).
    cost : callable ``(a: float, y: float) -> float``
        :math:`c(a_j, y_j)`, one output unit's contribution to :math:`C_x`.
    nabla_a : callable ``(a: float, y: float) -> float``
        :math:`\partial C_x / \partial a_j`; BP1 multiplies it by :math:`\sigma'(z_j)` (or feeds it to the
        activation's vector-Jacobian product).
    output_errors : mapping of activation name to callable ``(z, a, y) -> float``, optional
        Combined output errors :math:`\delta^L_j` for specific output activations, used by BP1 in place of
        the general formula when the network's output activation has that name. For softmax or sigmoid with
        cross-entropy and identity with the quadratic cost, :math:`\delta^L = a - y` exactly, where the
        general product can be ``0 * inf = nan`` on saturated units.
    target_range : (float, float), optional
        The values targets may take (``(0, 1)`` for the cross-entropies); inputs outside are rejected.
    targets_sum_to_one : bool, default False
        Each target row must be a probability distribution (one-hot rows, or soft labels summing to 1), as
        categorical cross-entropy requires; rows that do not are rejected. Its combined output error
        :math:`a - y` for softmax is the gradient only for such rows.
    domain : (float, float), default (-inf, inf)
        The outputs ``a`` on which ``cost`` and ``nabla_a`` are defined; the conformance checks sample inside it.
    bounds : (float, float), optional
        A property to check: every value of ``cost`` lies in ``[low, high]`` (``(0.0, math.inf)`` for a cost
        that is never negative). The conformance kit tests it on every input it tries, in both dtypes.
    description : str
        One line for listings.

    Examples
    --------
    >>> def half_square(a, y):
    ...     return 0.5 * (a - y) ** 2
    >>> def half_square_grad(a, y):
    ...     return a - y
    >>> loss = Loss("my_quadratic", half_square, half_square_grad)
    >>> loss.cost(3.0, 1.0), loss.nabla_a(3.0, 1.0)
    (2.0, 2.0)
    """

    name: str
    cost: Callable[..., Any]
    nabla_a: Callable[..., Any]
    output_errors: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    target_range: tuple[float, float] | None = None
    targets_sum_to_one: bool = False
    domain: tuple[float, float] = (-math.inf, math.inf)
    bounds: tuple[float, float] | None = None
    description: str = ""

    def __post_init__(self) -> None:
        check_name("loss", self.name)
        owner = f"loss {self.name!r}"
        _check_callable(owner, "cost", self.cost)
        _check_callable(owner, "nabla_a", self.nabla_a)
        if not isinstance(self.output_errors, Mapping):
            raise ConfigurationError(
                f"{owner}: output_errors must be a mapping of activation name to function, "
                f"got {type(self.output_errors).__name__}"
            )
        for act_name, fn in self.output_errors.items():
            check_name("activation", act_name)
            _check_callable(owner, f"output_errors[{act_name!r}]", fn)
        object.__setattr__(self, "output_errors", MappingProxyType(dict(self.output_errors)))
        if self.target_range is not None:
            lo, hi = self.target_range
            if not (lo <= hi):
                raise ConfigurationError(f"{owner}: target_range must be (low, high), got {self.target_range!r}")
        check_bounds(owner, self.bounds)

    def __repr__(self) -> str:
        return f"Loss({self.name!r})"
