r"""Learning-rate schedules: small frozen objects that turn the base rate :math:`\eta` into the rate of each epoch.

Epochs count from 1.

Examples
--------
>>> from bpframe.schedules import StepDecay
>>> [StepDecay(step=2, factor=0.5).learning_rate(0.4, epoch) for epoch in range(1, 6)]
[0.4, 0.4, 0.2, 0.2, 0.1]
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from typing import Any, ClassVar

from .errors import ConfigurationError, UnknownNameError
from .validation import check_positive_float, check_positive_int

__all__ = ["ExponentialDecay", "Schedule", "StepDecay", "resolve_schedule", "schedule_from_config"]


def _in_0_1_closed(owner: str, field: str, value: object) -> float:
    """A number in (0, 1]: a multiplier of the learning rate (NaN never is)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigurationError(f"{owner}: {field} must be a number, got {type(value).__name__} {value!r}")
    result = float(value)
    if not 0.0 < result <= 1.0:
        raise ConfigurationError(f"{owner}: {field} must be in (0, 1], got {value!r} (1 keeps eta constant)")
    return result


@dataclass(frozen=True)
class Schedule:
    """Base class of the learning-rate schedules; use :class:`~bpframe.StepDecay` or
    :class:`~bpframe.ExponentialDecay`."""

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
    example = {"name": next(iter(_SCHEDULES))}
    if not isinstance(config, Mapping):
        raise ConfigurationError(
            f"the schedule config must be a dict such as {example!r}, got {type(config).__name__} {config!r}"
        )
    if "name" not in config:
        raise ConfigurationError(f"the schedule config needs a 'name' key such as {example!r}, got {dict(config)!r}")
    params = dict(config)
    name = params.pop("name")
    if not isinstance(name, str) or name not in _SCHEDULES:
        raise UnknownNameError(f"unknown schedule {name!r}; available: {', '.join(sorted(_SCHEDULES))}")
    cls = _SCHEDULES[name]
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
