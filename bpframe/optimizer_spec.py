"""The table entry of an optimizer: :class:`OptimizerSpec` and its hyper-parameters, :class:`Hyper`.

This is what a plugin registers through ``bpframe_register_optimizers`` (as :class:`~bpframe.Activation` is for
activations), and all that discovery and the registry need of optimizers; :mod:`bpframe.optimizers` builds the
user-facing optimizers on it (and re-exports both names, where they are documented).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .activation import check_name
from .errors import ConfigurationError

__all__ = ["HYPER_SLOTS", "Hyper", "OptimizerSpec"]

#: Length of the float64 array an update kernel reads: ``[eta, decay, <hyper-parameters in table order>...]``.
HYPER_SLOTS = 8


@dataclass(frozen=True)
class Hyper:
    """One hyper-parameter of an optimizer: name, default, and the interval of allowed values.

    Examples
    --------
    >>> mu = Hyper("mu", 0.9, low=0.0, high=1.0, help="momentum coefficient")
    >>> mu.expected
    'in [0, 1)'
    >>> mu.check("Momentum", 0.5)
    0.5
    """

    name: str
    default: float
    low: float = -math.inf
    high: float = math.inf
    low_inclusive: bool = True
    high_inclusive: bool = False
    help: str = ""

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ConfigurationError(f"hyper-parameter name must be an identifier, got {self.name!r}")
        if not self.low < self.high:
            raise ConfigurationError(f"hyper-parameter {self.name!r}: low must be < high, got {self.low}, {self.high}")
        self.check("Hyper", self.default)

    @property
    def expected(self) -> str:
        """The allowed values in words, as error messages show them."""
        if self.high == math.inf and not self.high_inclusive:
            return f"finite and {'>=' if self.low_inclusive else '>'} {self.low:g}"
        left, right = "[" if self.low_inclusive else "(", "]" if self.high_inclusive else ")"
        return f"in {left}{self.low:g}, {self.high:g}{right}"

    def check(self, owner: str, value: object) -> float:
        """``value`` as a float if it is allowed (NaN never is), else a message naming owner, field and value."""
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ConfigurationError(f"{owner}: {self.name} must be a number, got {type(value).__name__} {value!r}")
        x = float(value)
        above = x >= self.low if self.low_inclusive else x > self.low
        below = x <= self.high if self.high_inclusive else x < self.high
        if not (above and below and math.isfinite(x)):
            typical = f"typical: {self.default:g}" + (f"; {self.help}" if self.help else "")
            raise ConfigurationError(f"{owner}: {self.name} must be {self.expected}, got {value!r} ({typical})")
        return x


#: ``fused(eta, decay, values) -> (keep_w, keep_b, step)``: the step is ``θ ← keep θ − step ∂C/∂θ``.
FusedForm = Callable[[float, float, tuple[float, ...]], tuple[float, float, float]]


@dataclass(frozen=True, eq=False)
class OptimizerSpec:
    r"""An optimizer as a plugin registers it: the single table entry everything else derives from.

    Parameters
    ----------
    name : str
        The registry name, a lower-case identifier (``"momentum"``).
    update : callable
        ``update(theta, grad, state, theta_out, state_out, n_weights, hyper, step) -> bool``, in numba's
        subset: write the new parameters to ``theta_out`` and the new state to ``state_out`` (never into
        ``theta`` or ``state``), and return whether every new parameter is finite. ``theta`` and ``grad`` are
        1-D (every weight, then every bias; the first ``n_weights`` entries are weights), ``state`` has shape
        ``(state_rows, theta.size)``, ``hyper`` is float64 ``[eta, decay, <hyper-parameters in order>]`` with
        ``decay`` = λ/n (n the number of training samples), and ``step`` counts the updates from 1.
    hyper : tuple of Hyper
        The hyper-parameters (at most six), in the order ``hyper[2:]`` holds them.
    state_rows : int
        Rows of state kept between updates (0 for SGD, 1 for a velocity, 2 for Adam's moments).
    fused : callable, optional
        ``fused(eta, decay, values) -> (keep_w, keep_b, step)`` for an optimizer without state whose update is
        :math:`\theta \leftarrow k\theta - s\,\partial C/\partial\theta`: the engine then takes the step inside
        BP4's matrix product, in place, whenever it can prove that no parameter overflows.
    title : str
        How messages and reprs name it (``"Momentum"``); defaults to the name.
    description : str
        One line for listings.
    reference : callable, optional
        ``reference(theta, grad, state, n_weights, hyper, step) -> (new_theta, new_state)``: the same update
        written plainly with NumPy on float64 arrays (the equations as a paper states them), returning new
        arrays. Never compiled; the conformance kit compares the compiled ``update`` with it on a quadratic bowl.
        Without it, the kit derives the reference from ``fused`` when there is one, or else runs ``update`` itself
        as plain Python (which checks compilation, not the mathematics).
    """

    name: str
    update: Callable[..., Any]
    hyper: tuple[Hyper, ...] = ()
    state_rows: int = 0
    fused: FusedForm | None = None
    title: str = ""
    description: str = ""
    reference: Callable[..., Any] | None = None

    def __post_init__(self) -> None:
        check_name("optimizer", self.name)
        owner = f"optimizer {self.name!r}"
        if not callable(self.update):
            raise ConfigurationError(f"{owner}: update must be a function, got {self.update!r}")
        if not isinstance(self.hyper, tuple) or not all(isinstance(h, Hyper) for h in self.hyper):
            raise ConfigurationError(f"{owner}: hyper must be a tuple of bpframe.optimizers.Hyper, got {self.hyper!r}")
        if len(self.hyper) > HYPER_SLOTS - 2:
            raise ConfigurationError(f"{owner}: at most {HYPER_SLOTS - 2} hyper-parameters, got {len(self.hyper)}")
        names = [h.name for h in self.hyper]
        if len(set(names)) != len(names):
            raise ConfigurationError(f"{owner}: hyper-parameter names repeat: {names}")
        rows = self.state_rows
        if isinstance(rows, bool) or not isinstance(rows, int) or not 0 <= rows <= 8:
            raise ConfigurationError(f"{owner}: state_rows must be an int in [0, 8], got {rows!r}")
        if self.fused is not None and (not callable(self.fused) or rows):
            raise ConfigurationError(f"{owner}: fused must be a function, and only optimizers without state have one")
        if self.reference is not None and not callable(self.reference):
            raise ConfigurationError(f"{owner}: reference must be a function, got {self.reference!r}")
        if not self.title:
            object.__setattr__(self, "title", self.name)

    def __repr__(self) -> str:
        return f"OptimizerSpec({self.name!r})"
