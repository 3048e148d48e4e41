"""The :class:`Activation` spec: what a plugin hands bpframe to define σ and σ′."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigurationError

__all__ = ["Activation", "check_bounds", "check_name"]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def check_name(kind: str, name: object) -> str:
    """Return ``name`` if it is a valid plugin-object name, else raise naming the problem."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigurationError(
            f"{kind} name must be a lower-case identifier such as 'leaky_relu' "
            f"(letters, digits, underscores, starting with a letter); got {name!r}"
        )
    return name


def check_bounds(owner: str, bounds: object) -> None:
    """Raise unless ``bounds`` is ``None`` or ``(low, high)`` with ``low <= high`` (either may be infinite)."""
    if bounds is None:
        return
    ok = isinstance(bounds, tuple) and len(bounds) == 2 and all(isinstance(b, (int, float)) for b in bounds)
    if not (ok and bounds[0] <= bounds[1]):  # type: ignore[index]
        raise ConfigurationError(f"{owner}: bounds must be (low, high) with low <= high, got {bounds!r}")


def _check_callable(owner: str, field_name: str, value: object) -> None:
    if not callable(value):
        raise ConfigurationError(f"{owner}: {field_name} must be a function, got {value!r}")


@dataclass(frozen=True, eq=False)
class Activation:
    r"""An activation function σ and its derivative σ′, as plain scalar Python functions.

    The functions must be written in the subset of Python that numba compiles (``math``, scalar NumPy,
    arithmetic, ``if``): bpframe compiles them into its kernels. They must not call other plain Python
    functions (inline the helper, or decorate it with ``numba.njit`` yourself).

    Parameters
    ----------
    name : str
        The registry name, a lower-case identifier (``"sigmoid"``).
    sigma : callable ``(z: float) -> float``
        :math:`\sigma(z)`, applied elementwise (elementwise activations only).
    sigma_prime : callable ``(z: float) -> float``
        :math:`\sigma'(z)`, the derivative of ``sigma``; used by BP1 and BP2 (elementwise activations only).
    elementwise : bool, default True
        ``False`` for an activation whose output j depends on the whole pre-activation vector (softmax).
        Such an activation provides ``forward`` and ``vjp`` instead.
    forward : callable ``(z: 1-D array, a: 1-D array) -> None``, optional
        Writes :math:`a = \sigma(z)` for one sample's vector (non-elementwise activations only).
    vjp : callable ``(z, a, v, out) -> None``, optional
        Writes the vector-Jacobian product :math:`\mathrm{out} = J_\sigma(z)^\mathsf{T} v` for one sample,
        given ``a = σ(z)`` (non-elementwise activations only). This is what BP1 and BP2 need in place of
        :math:`\sigma'(z) \odot v`.
    default_init : str, default "glorot"
        The name of the weight initializer a layer with this activation uses unless told otherwise
        (``"normal"``, ``"scaled_normal"``, ``"glorot"``, ``"he"``, or a plugin's); it is looked up when a network
        is built.
    domain : (float, float), default (-inf, inf)
        The pre-activations on which the functions are defined; the conformance checks sample inside it.
    bounds : (float, float), optional
        A property to check: every value of σ lies in ``[low, high]`` (``(0.0, 1.0)`` for the sigmoid). The
        conformance kit tests it on every input it tries, in both dtypes.
    monotone : {"increasing", "decreasing"}, optional
        A property to check: σ never decreases (never increases) and σ′ is never negative (never positive).
    description : str
        One line for listings (``bpframe plugins``).

    Examples
    --------
    >>> import math
    >>> def softsign(z):
    ...     return z / (1.0 + abs(z))
    >>> def softsign_prime(z):
    ...     return 1.0 / (1.0 + abs(z)) ** 2
    >>> act = Activation("softsign", softsign, softsign_prime)
    >>> act.sigma(1.0), act.sigma_prime(1.0)
    (0.5, 0.25)
    """

    name: str
    sigma: Callable[..., Any] | None = None
    sigma_prime: Callable[..., Any] | None = None
    elementwise: bool = True
    forward: Callable[..., Any] | None = None
    vjp: Callable[..., Any] | None = None
    default_init: str = "glorot"
    domain: tuple[float, float] = (-math.inf, math.inf)
    bounds: tuple[float, float] | None = None
    monotone: str | None = None
    description: str = field(default="")

    def __post_init__(self) -> None:
        check_name("activation", self.name)
        owner = f"activation {self.name!r}"
        if not isinstance(self.elementwise, bool):
            raise ConfigurationError(f"{owner}: elementwise must be True or False, got {self.elementwise!r}")
        required = ("sigma", "sigma_prime") if self.elementwise else ("forward", "vjp")
        kind = "an elementwise" if self.elementwise else "a non-elementwise"
        for fname in required:
            value = getattr(self, fname)
            if value is None:
                raise ConfigurationError(
                    f"{owner}: {kind} activation must provide {fname}= (see the Activation docstring)"
                )
            _check_callable(owner, fname, value)
        if not isinstance(self.default_init, str) or not _NAME.fullmatch(self.default_init):
            raise ConfigurationError(
                f"{owner}: default_init must be an initializer's name such as 'glorot' or 'he', "
                f"got {self.default_init!r}"
            )
        lo, hi = self.domain
        if not (lo < hi):
            raise ConfigurationError(f"{owner}: domain must be (low, high) with low < high, got {self.domain!r}")
        check_bounds(owner, self.bounds)
        if self.monotone not in (None, "increasing", "decreasing"):
            raise ConfigurationError(
                f"{owner}: monotone must be None, 'increasing' or 'decreasing', got {self.monotone!r}"
            )

    def __repr__(self) -> str:
        kind = "elementwise" if self.elementwise else "vector"
        return f"Activation({self.name!r}, {kind})"
