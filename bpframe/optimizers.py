r"""Optimizers and learning-rate schedules: small frozen objects that describe how the parameters move.

An optimizer only validates its hyper-parameters and packs them into the array the compiled epoch reads
(:func:`bpframe.kernels.optimizers.apply_update` does the update). Every optimizer works on the decayed
gradient of the book's network2,

.. math::
    g = \frac{\partial C}{\partial w} + \frac{\lambda}{n} w \quad \text{for a weight}, \qquad
    g = \frac{\partial C}{\partial b} \quad \text{for a bias},

where :math:`\partial C / \partial \theta` is the mean gradient over the mini-batch. A schedule turns the
base learning rate :math:`\eta` into the rate of each epoch (epochs count from 1).

Examples
--------
>>> from bpframe.optimizers import resolve_optimizer, StepDecay
>>> resolve_optimizer("adam")
Adam(beta1=0.9, beta2=0.999, epsilon=1e-08)
>>> [StepDecay(step=2, factor=0.5).learning_rate(0.4, epoch) for epoch in range(1, 6)]
[0.4, 0.4, 0.2, 0.2, 0.1]
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, fields
from typing import Any, ClassVar, TypeVar

import numpy as np
from numpy.typing import DTypeLike

from .errors import ConfigurationError, UnknownNameError
from .validation import check_dtype, check_nonnegative_float, check_positive_float, check_positive_int

__all__ = [
    "SGD",
    "Adam",
    "ExponentialDecay",
    "Momentum",
    "Nesterov",
    "Optimizer",
    "Schedule",
    "StepDecay",
    "optimizer_from_config",
    "resolve_optimizer",
    "resolve_schedule",
    "schedule_from_config",
]

T = TypeVar("T", "Optimizer", "Schedule")


def _number(owner: str, field: str, value: object) -> float:
    """A real number (not a bool) as a float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigurationError(f"{owner}: {field} must be a number, got {type(value).__name__} {value!r}")
    return float(value)


def _checked(owner: str, field: str, value: object, ok: Callable[[float], bool], expected: str, hint: str) -> float:
    """``value`` as a float if ``ok`` accepts it (NaN never is), else a message naming field, value and range."""
    result = _number(owner, field, value)
    if not ok(result):
        raise ConfigurationError(f"{owner}: {field} must be {expected}, got {value!r} ({hint})")
    return result


def _in_0_1(owner: str, field: str, value: object, typical: str) -> float:
    """A number in [0, 1): the decay of a running average."""
    return _checked(owner, field, value, lambda x: 0.0 <= x < 1.0, "in [0, 1)", f"typical: {typical}")


def _in_0_1_closed(owner: str, field: str, value: object) -> float:
    """A number in (0, 1]: a multiplier of the learning rate."""
    return _checked(owner, field, value, lambda x: 0.0 < x <= 1.0, "in (0, 1]", "1 keeps eta constant")


# ---------------------------------------------------------------------------------------------- optimizers


@dataclass(frozen=True)
class Optimizer:
    """Base class of the built-in optimizers; use :class:`SGD`, :class:`Momentum`, :class:`Nesterov` or
    :class:`Adam`."""

    #: The optimizer's name, as accepted by :func:`resolve_optimizer`.
    name: ClassVar[str] = ""
    _STATE_ROWS: ClassVar[int] = 0

    @property
    def code(self) -> int:
        """The integer the compiled kernels dispatch on (see ``OPTIMIZER_CODES``)."""
        from .kernels.optimizers import OPTIMIZER_CODES  # imports numba: only when training needs it

        return OPTIMIZER_CODES[self.name]

    @property
    def state_rows(self) -> int:
        """Rows of the persistent state array: 0 for SGD, 1 for momentum/Nesterov, 2 for Adam."""
        return self._STATE_ROWS

    def hyper(self, eta: float, decay: float, dtype: DTypeLike = np.float64) -> np.ndarray:
        """The kernel's hyper-parameter array ``[eta, decay, beta1_or_mu, beta2, epsilon]``.

        Parameters
        ----------
        eta : float >= 0
            Learning rate of this epoch (0 is allowed so that a schedule may decay to nothing).
        decay : float >= 0
            L2 weight decay per update, ``lmbda / n_train``.
        dtype : "float32" or "float64"
            The network's dtype.

        Returns
        -------
        numpy.ndarray, shape (5,)
            Unused slots are 0.
        """
        eta = check_nonnegative_float("eta", eta)
        decay = check_nonnegative_float("decay", decay)
        return np.array([eta, decay, *self._slots()], dtype=check_dtype(dtype))

    def initial_state(self, n_params: int, dtype: DTypeLike = np.float64) -> np.ndarray:
        """Zeros of shape ``(state_rows, n_params)``: the velocity or moments before the first update."""
        n_params = check_positive_int("n_params", n_params)
        return np.zeros((self.state_rows, n_params), dtype=check_dtype(dtype))

    def config(self) -> dict[str, Any]:
        """A JSON-able dict ``{"name": ..., <hyper-parameters>}`` that :func:`optimizer_from_config` reads."""
        return {"name": self.name, **{f.name: getattr(self, f.name) for f in fields(self)}}

    def _slots(self) -> tuple[float, float, float]:
        """The last three entries of :meth:`hyper`."""
        return (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class SGD(Optimizer):
    r"""Plain stochastic gradient descent, the book's update.

    .. math:: \theta \leftarrow \theta - \eta \, g

    Examples
    --------
    >>> opt = SGD()
    >>> opt.name, opt.code, opt.state_rows
    ('sgd', 0, 0)
    >>> opt.hyper(0.5, 0.001).tolist()
    [0.5, 0.001, 0.0, 0.0, 0.0]
    """

    name: ClassVar[str] = "sgd"
    _STATE_ROWS: ClassVar[int] = 0


@dataclass(frozen=True)
class _WithVelocity(Optimizer):
    """The momentum coefficient and velocity state that Momentum and Nesterov share (neither is the other)."""

    mu: float = 0.9
    _STATE_ROWS: ClassVar[int] = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "mu", _in_0_1(type(self).__name__, "mu", self.mu, "0.9"))

    def _slots(self) -> tuple[float, float, float]:
        return (self.mu, 0.0, 0.0)


@dataclass(frozen=True)
class Momentum(_WithVelocity):
    r"""Classical momentum, as PyTorch's ``SGD(momentum=mu)`` with dampening 0.

    .. math:: v \leftarrow \mu v + g, \qquad \theta \leftarrow \theta - \eta \, v

    The velocity :math:`v` starts at 0 and persists across batches and epochs.

    Parameters
    ----------
    mu : float in [0, 1)
        Momentum coefficient; 0 gives plain SGD.

    Raises
    ------
    ConfigurationError
        If ``mu`` is not a number in [0, 1).

    Examples
    --------
    >>> opt = Momentum(mu=0.5)
    >>> opt.code, opt.state_rows
    (1, 1)
    >>> opt.hyper(0.1, 0.0).tolist()
    [0.1, 0.0, 0.5, 0.0, 0.0]
    >>> opt.config()
    {'name': 'momentum', 'mu': 0.5}
    """

    name: ClassVar[str] = "momentum"


@dataclass(frozen=True)
class Nesterov(_WithVelocity):
    r"""Nesterov momentum in PyTorch's formulation (``SGD(momentum=mu, nesterov=True)``).

    .. math:: v \leftarrow \mu v + g, \qquad \theta \leftarrow \theta - \eta \, (g + \mu v)

    The gradient is taken at the current parameters; the step looks ahead along the updated velocity.

    Parameters
    ----------
    mu : float in [0, 1)
        Momentum coefficient.

    Raises
    ------
    ConfigurationError
        If ``mu`` is not a number in [0, 1).

    Examples
    --------
    >>> Nesterov().config()
    {'name': 'nesterov', 'mu': 0.9}
    >>> Nesterov().code
    2
    """

    name: ClassVar[str] = "nesterov"


@dataclass(frozen=True)
class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015) with the L2 weight decay added to the gradient (this is not AdamW).

    .. math::
        m \leftarrow \beta_1 m + (1 - \beta_1) g, \qquad v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \\
        \hat m = \frac{m}{1 - \beta_1^t}, \qquad \hat v = \frac{v}{1 - \beta_2^t}, \qquad
        \theta \leftarrow \theta - \eta \, \frac{\hat m}{\sqrt{\hat v} + \epsilon}

    :math:`t` counts the updates from 1; :math:`m` and :math:`v` start at 0 and persist across epochs.
    A learning rate around ``eta=0.001`` is the usual start, much smaller than for SGD.

    Parameters
    ----------
    beta1 : float in [0, 1)
        Decay of the running mean of the gradient.
    beta2 : float in [0, 1)
        Decay of the running mean of the squared gradient.
    epsilon : float > 0
        Added to :math:`\sqrt{\hat v}` so the step stays finite where the gradient is 0.

    Raises
    ------
    ConfigurationError
        If a hyper-parameter is outside its range.

    Examples
    --------
    >>> opt = Adam(beta2=0.99)
    >>> opt.code, opt.state_rows
    (3, 2)
    >>> opt.hyper(0.001, 0.0).tolist()
    [0.001, 0.0, 0.9, 0.99, 1e-08]
    >>> opt.hyper(0.001, 0.0, "float32").dtype
    dtype('float32')
    """

    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    name: ClassVar[str] = "adam"
    _STATE_ROWS: ClassVar[int] = 2

    def __post_init__(self) -> None:
        owner = type(self).__name__
        object.__setattr__(self, "beta1", _in_0_1(owner, "beta1", self.beta1, "0.9"))
        object.__setattr__(self, "beta2", _in_0_1(owner, "beta2", self.beta2, "0.999"))
        epsilon = _checked(
            owner, "epsilon", self.epsilon, lambda x: 0.0 < x < math.inf, "finite and > 0", "typical: 1e-8"
        )
        object.__setattr__(self, "epsilon", epsilon)

    def _slots(self) -> tuple[float, float, float]:
        return (self.beta1, self.beta2, self.epsilon)


_OPTIMIZERS: dict[str, type[Optimizer]] = {cls.name: cls for cls in (SGD, Momentum, Nesterov, Adam)}


# ----------------------------------------------------------------------------------------------- schedules


@dataclass(frozen=True)
class Schedule:
    """Base class of the learning-rate schedules; use :class:`StepDecay` or :class:`ExponentialDecay`."""

    #: The schedule's name, as written by :meth:`config`.
    name: ClassVar[str] = ""

    def learning_rate(self, eta: float, epoch: int) -> float:
        """The learning rate of ``epoch`` (1 for the first epoch) given the base rate ``eta`` > 0."""
        eta = check_positive_float("eta", eta)
        epoch = check_positive_int("epoch", epoch)
        return eta * self._multiplier(epoch)

    def config(self) -> dict[str, Any]:
        """A JSON-able dict ``{"name": ..., <parameters>}`` that :func:`schedule_from_config` reads."""
        return {"name": self.name, **{f.name: getattr(self, f.name) for f in fields(self)}}

    def _multiplier(self, epoch: int) -> float:
        """What multiplies eta in ``epoch``."""
        raise NotImplementedError


@dataclass(frozen=True)
class StepDecay(Schedule):
    r"""Multiply the learning rate by ``factor`` every ``step`` epochs.

    .. math:: \eta_e = \eta \cdot \text{factor}^{\lfloor (e - 1) / \text{step} \rfloor}, \qquad e = 1, 2, \dots

    Parameters
    ----------
    step : int >= 1
        Epochs between two decays.
    factor : float in (0, 1]
        Multiplier applied at each decay.

    Raises
    ------
    ConfigurationError
        If ``step`` or ``factor`` is outside its range.

    Examples
    --------
    >>> schedule = StepDecay(step=3, factor=0.5)
    >>> [schedule.learning_rate(1.0, epoch) for epoch in range(1, 8)]
    [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]
    >>> schedule.config()
    {'name': 'step_decay', 'step': 3, 'factor': 0.5}
    """

    step: int
    factor: float
    name: ClassVar[str] = "step_decay"

    def __post_init__(self) -> None:
        step = self.step
        if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 1:
            raise ConfigurationError(f"StepDecay: step must be an int >= 1 (epochs between decays), got {step!r}")
        object.__setattr__(self, "step", int(step))
        object.__setattr__(self, "factor", _in_0_1_closed("StepDecay", "factor", self.factor))

    def _multiplier(self, epoch: int) -> float:
        return self.factor ** ((epoch - 1) // self.step)


@dataclass(frozen=True)
class ExponentialDecay(Schedule):
    r"""Multiply the learning rate by ``rate`` every epoch.

    .. math:: \eta_e = \eta \cdot \text{rate}^{\,e - 1}, \qquad e = 1, 2, \dots

    Parameters
    ----------
    rate : float in (0, 1]
        Multiplier per epoch.

    Raises
    ------
    ConfigurationError
        If ``rate`` is outside (0, 1].

    Examples
    --------
    >>> schedule = ExponentialDecay(rate=0.5)
    >>> [schedule.learning_rate(0.1, epoch) for epoch in range(1, 5)]
    [0.1, 0.05, 0.025, 0.0125]
    """

    rate: float
    name: ClassVar[str] = "exponential_decay"

    def __post_init__(self) -> None:
        object.__setattr__(self, "rate", _in_0_1_closed("ExponentialDecay", "rate", self.rate))

    def _multiplier(self, epoch: int) -> float:
        return self.rate ** (epoch - 1)


_SCHEDULES: dict[str, type[Schedule]] = {cls.name: cls for cls in (StepDecay, ExponentialDecay)}


# ------------------------------------------------------------------------------------ resolving and configs


def _lookup(kind: str, table: Mapping[str, type[T]], name: object) -> type[T]:
    """The class registered as ``name``, or an error listing the names that exist."""
    if isinstance(name, str) and name in table:
        return table[name]
    raise UnknownNameError(f"unknown {kind} {name!r}; available: {', '.join(sorted(table))}")


def _from_config(kind: str, table: Mapping[str, type[T]], config: object) -> T:
    """Rebuild an object from ``{"name": ..., <fields>}``; missing fields take their defaults."""
    example = {"name": next(iter(table))}
    if not isinstance(config, Mapping):
        raise ConfigurationError(
            f"the {kind} config must be a dict such as {example!r}, got {type(config).__name__} {config!r}"
        )
    if "name" not in config:
        raise ConfigurationError(f"the {kind} config needs a 'name' key such as {example!r}, got {dict(config)!r}")
    params = dict(config)
    cls = _lookup(kind, table, params.pop("name"))
    allowed = {f.name: f.default is MISSING for f in fields(cls)}  # name -> required
    unknown = [key for key in params if key not in allowed]
    if unknown:
        raise ConfigurationError(
            f"{cls.__name__} config has unknown key(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(allowed) or '(none)'}"
        )
    missing = [key for key, required in allowed.items() if required and key not in params]
    if missing:
        raise ConfigurationError(f"{cls.__name__} config lacks {', '.join(map(repr, missing))}, got {dict(config)!r}")
    return cls(**params)


def optimizer_from_config(config: Mapping[str, Any]) -> Optimizer:
    """Rebuild an optimizer from what :meth:`Optimizer.config` wrote, validating every value.

    Parameters
    ----------
    config : dict
        ``{"name": <optimizer name>, <hyper-parameter>: <value>, ...}``; a missing hyper-parameter takes its
        default.

    Raises
    ------
    UnknownNameError
        If the name is not an optimizer's; the message lists the names.
    ConfigurationError
        If ``config`` is not a dict, lacks ``"name"``, has an unknown key or a value out of range.

    Examples
    --------
    >>> optimizer_from_config({"name": "momentum", "mu": 0.5})
    Momentum(mu=0.5)
    >>> optimizer_from_config(Adam(epsilon=1e-6).config()) == Adam(epsilon=1e-6)
    True
    """
    return _from_config("optimizer", _OPTIMIZERS, config)


def schedule_from_config(config: Mapping[str, Any]) -> Schedule:
    """Rebuild a schedule from what :meth:`Schedule.config` wrote, validating every value.

    Raises
    ------
    UnknownNameError
        If the name is not a schedule's; the message lists the names.
    ConfigurationError
        If ``config`` is not a dict, lacks ``"name"`` or a required parameter, or has a bad value.

    Examples
    --------
    >>> schedule_from_config({"name": "exponential_decay", "rate": 0.95})
    ExponentialDecay(rate=0.95)
    """
    return _from_config("schedule", _SCHEDULES, config)


def resolve_optimizer(value: str | Optimizer) -> Optimizer:
    """Turn the ``optimizer`` argument into an optimizer object.

    Parameters
    ----------
    value : str or Optimizer
        ``"sgd"``, ``"momentum"``, ``"nesterov"`` or ``"adam"`` (default hyper-parameters), or an instance
        such as ``Adam(beta1=0.8)``.

    Raises
    ------
    UnknownNameError
        For an unknown name; the message lists the names.
    ConfigurationError
        For anything that is neither a name nor an optimizer instance.

    Examples
    --------
    >>> resolve_optimizer("nesterov")
    Nesterov(mu=0.9)
    >>> resolve_optimizer(Momentum(mu=0.8))
    Momentum(mu=0.8)
    """
    if isinstance(value, str):
        return _lookup("optimizer", _OPTIMIZERS, value)()
    if isinstance(value, Optimizer) and value.name in _OPTIMIZERS:
        return value
    if isinstance(value, type) and issubclass(value, Optimizer) and value.name in _OPTIMIZERS:
        raise ConfigurationError(
            f"optimizer must be an instance, got the class {value.__name__}; write {value.__name__}() "
            f"or the name {value.name!r}"
        )
    raise ConfigurationError(
        f"optimizer must be one of the names {', '.join(map(repr, _OPTIMIZERS))} or an optimizer such as "
        f"Adam(beta1=0.9) from bpframe.optimizers, got {type(value).__name__} {value!r}"
    )


def resolve_schedule(value: Schedule | None) -> Schedule | None:
    """Check the ``schedule`` argument: ``None`` (a constant learning rate) or a schedule object.

    Raises
    ------
    ConfigurationError
        For anything else, e.g. a name (schedules need parameters) or the class instead of an instance.

    Examples
    --------
    >>> resolve_schedule(None) is None
    True
    >>> resolve_schedule(StepDecay(step=10, factor=0.1))
    StepDecay(step=10, factor=0.1)
    """
    if value is None or (isinstance(value, Schedule) and value.name in _SCHEDULES):
        return value
    hint = "StepDecay(step=10, factor=0.5) or ExponentialDecay(rate=0.95) from bpframe.optimizers"
    if isinstance(value, type) and issubclass(value, Schedule):
        raise ConfigurationError(f"schedule must be an instance, got the class {value.__name__}; write e.g. {hint}")
    raise ConfigurationError(
        f"schedule must be None or a schedule such as {hint}, got {type(value).__name__} {value!r}"
    )
