r"""Optimizers: one table entry (:class:`~bpframe.OptimizerSpec`) defines an optimizer, everything else derives from it.

An :class:`~bpframe.OptimizerSpec` is what a plugin registers (through ``bpframe_register_optimizers``, like
activations): its name, its hyper-parameters with defaults and allowed ranges (:class:`~bpframe.Hyper`), the rows
of state it keeps
between updates, its update kernel, and optionally a *fused* form that lets the engine take the step inside
BP4's matrix product. The built-in SGD, momentum, Nesterov and Adam are registered by
``bpframe.default_plugins.optimizers`` exactly so. Training, the command line (``--optimizer NAME`` and one
option per hyper-parameter), saving and loading, and the docs' optimizer table all read the registry.

Every optimizer works on the decayed gradient of the book's network2,

.. math::
    g = \frac{\partial C}{\partial w} + \frac{\lambda}{n} w \quad \text{for a weight}, \qquad
    g = \frac{\partial C}{\partial b} \quad \text{for a bias},

where :math:`\partial C / \partial \theta` is the mean gradient over the m samples of the mini-batch and n is the
number of samples in the training set.

Examples
--------
>>> from bpframe.optimizers import resolve_optimizer
>>> resolve_optimizer("adam")
Adam(beta1=0.9, beta2=0.999, epsilon=1e-08)
>>> resolve_optimizer("momentum").hyper(0.1, 0.0)[:3].tolist()
[0.1, 0.0, 0.9]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .errors import ConfigurationError
from .optimizer_spec import HYPER_SLOTS, Hyper, OptimizerSpec
from .plugins import get_registry
from .schedules import ExponentialDecay, Schedule, StepDecay, resolve_schedule, schedule_from_config
from .validation import check_dtype, check_nonnegative_float, check_positive_int

__all__ = [
    "HYPER_SLOTS",
    "SGD",
    "Adam",
    "ExponentialDecay",
    "Hyper",
    "Momentum",
    "Nesterov",
    "Optimizer",
    "OptimizerSpec",
    "Schedule",
    "StepDecay",
    "available",
    "optimizer_from_config",
    "resolve_optimizer",
    "resolve_schedule",
    "schedule_from_config",
]


def available() -> list[str]:
    """The names of every optimizer the loaded plugins register, sorted.

    Examples
    --------
    >>> [name for name in available() if name in ("adam", "momentum", "nesterov", "sgd")]
    ['adam', 'momentum', 'nesterov', 'sgd']
    """
    return get_registry().optimizers.names()


def _spec(name: str) -> OptimizerSpec:
    return get_registry().optimizer(name)


class Optimizer:
    """An optimizer with its hyper-parameters: ``Optimizer("momentum", mu=0.8)``, or a named class such as
    :class:`Momentum`. Instances are immutable and compare equal when name and values are equal.

    Parameters
    ----------
    name : str or OptimizerSpec
        A registered optimizer (:func:`bpframe.optimizers.available` lists them), or an :class:`OptimizerSpec`
        itself, registered or not (to try a new optimizer before packaging it); named classes pass their own.
    *args, **kwargs : float
        Hyper-parameters, positionally in the table's order or by name; missing ones take their defaults.

    Raises
    ------
    UnknownNameError
        For a name no plugin registers.
    ConfigurationError
        For an unknown, repeated or out-of-range hyper-parameter (the message names it and the range).
    """

    _name: str = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if self._name:
            spec = _spec(self._name)
        elif args and isinstance(args[0], str):
            spec, args = _spec(args[0]), args[1:]
        elif args and isinstance(args[0], OptimizerSpec):
            spec, args = args[0], args[1:]
        else:
            raise ConfigurationError(
                f"Optimizer needs a name such as 'momentum' or an OptimizerSpec first, got {args[:1]!r}"
            )
        object.__setattr__(self, "_spec", spec)
        object.__setattr__(self, "_values", _values(spec, args, kwargs))

    @property
    def spec(self) -> OptimizerSpec:
        """The table entry this optimizer comes from."""
        spec: OptimizerSpec = self.__dict__["_spec"]
        return spec

    @property
    def name(self) -> str:
        """The registry name."""
        return self.spec.name

    @property
    def values(self) -> tuple[float, ...]:
        """The hyper-parameters' values, in the table's order."""
        values: tuple[float, ...] = self.__dict__["_values"]
        return values

    @property
    def state_rows(self) -> int:
        """Rows of the persistent state array: 0 for SGD, 1 for momentum/Nesterov, 2 for Adam."""
        return self.spec.state_rows

    def __getattr__(self, field: str) -> float:
        spec = self.__dict__.get("_spec")
        if spec is not None:
            for hyper, value in zip(spec.hyper, self.__dict__["_values"], strict=True):
                if hyper.name == field:
                    return float(value)
        raise AttributeError(f"{type(self).__name__} has no attribute {field!r}")

    def __setattr__(self, field: str, value: object) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {field!r}: optimizers are immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Optimizer):
            return NotImplemented
        return self.name == other.name and self.values == other.values

    def __hash__(self) -> int:
        return hash((self.name, self.values))

    def __repr__(self) -> str:
        fields = ", ".join(f"{h.name}={v!r}" for h, v in zip(self.spec.hyper, self.values, strict=True))
        return f"{self.spec.title}({fields})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (optimizer_from_config, (self.config(),))

    def hyper(self, eta: float, decay: float) -> np.ndarray:
        """The update kernel's float64 array ``[eta, decay, <hyper-parameters>, 0...]`` of length
        ``HYPER_SLOTS`` (8).

        Parameters
        ----------
        eta : float >= 0
            Learning rate of this epoch (0 is allowed so that a schedule may decay to nothing).
        decay : float >= 0
            L2 weight decay per update, ``lmbda / n_train``.
        """
        eta = check_nonnegative_float("eta", eta)
        decay = check_nonnegative_float("decay", decay)
        out = np.zeros(HYPER_SLOTS, dtype=np.float64)
        out[:2] = eta, decay
        out[2 : 2 + len(self.values)] = self.values
        return out

    def fused(self, eta: float, decay: float) -> tuple[float, float, float] | None:
        """``(keep_w, keep_b, step)`` of the in-place form, or ``None`` when the optimizer has none."""
        if self.spec.fused is None:
            return None
        keep_w, keep_b, step = self.spec.fused(eta, decay, self.values)
        return float(keep_w), float(keep_b), float(step)

    def initial_state(self, n_params: int, dtype: DTypeLike = np.float64) -> np.ndarray:
        """Zeros of shape ``(state_rows, n_params)``: the velocity or moments before the first update."""
        n_params = check_positive_int("n_params", n_params)
        return np.zeros((self.state_rows, n_params), dtype=check_dtype(dtype))

    def config(self) -> dict[str, Any]:
        """A JSON-able dict ``{"name": ..., <hyper-parameters>}`` that
        :func:`~bpframe.optimizers.optimizer_from_config` reads."""
        return {"name": self.name, **{h.name: v for h, v in zip(self.spec.hyper, self.values, strict=True)}}


def _values(spec: OptimizerSpec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[float, ...]:
    """Validate positional and keyword hyper-parameters against the spec; defaults fill the rest."""
    names = [h.name for h in spec.hyper]
    if len(args) > len(names):
        raise ConfigurationError(
            f"{spec.title} takes at most {len(names)} hyper-parameter(s) ({', '.join(names) or 'none'}), "
            f"got {len(args)} positional values {args!r}"
        )
    given = dict(zip(names, args, strict=False))
    for key, value in kwargs.items():
        if key not in names:
            raise ConfigurationError(
                f"{spec.title} has no hyper-parameter {key!r}; its hyper-parameters are {', '.join(names) or '(none)'}"
            )
        if key in given:
            raise ConfigurationError(f"{spec.title}: {key} given twice (positionally and by name)")
        given[key] = value
    return tuple(h.check(spec.title, given.get(h.name, h.default)) for h in spec.hyper)


class SGD(Optimizer):
    r"""Plain stochastic gradient descent, the book's update: :math:`\theta \leftarrow \theta - \eta \, g`.

    Examples
    --------
    >>> SGD()
    SGD()
    """

    _name = "sgd"


class Momentum(Optimizer):
    r"""Classical momentum, as PyTorch's ``SGD(momentum=mu)`` with dampening 0:
    :math:`v \leftarrow \mu v + g,\ \theta \leftarrow \theta - \eta v`. ``mu`` in [0, 1), default 0.9.

    Examples
    --------
    >>> Momentum(mu=0.5).config()
    {'name': 'momentum', 'mu': 0.5}
    """

    _name = "momentum"


class Nesterov(Optimizer):
    r"""Nesterov momentum in PyTorch's formulation (``SGD(momentum=mu, nesterov=True)``):
    :math:`v \leftarrow \mu v + g,\ \theta \leftarrow \theta - \eta (g + \mu v)`. ``mu`` in [0, 1), default 0.9.

    Examples
    --------
    >>> Nesterov()
    Nesterov(mu=0.9)
    """

    _name = "nesterov"


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015) with the L2 weight decay added to the gradient (this is not AdamW).
    Hyper-parameters ``beta1``, ``beta2`` in [0, 1) and ``epsilon`` > 0; ``eta`` around 0.001 is the usual start.

    Examples
    --------
    >>> Adam(beta2=0.99)
    Adam(beta1=0.9, beta2=0.99, epsilon=1e-08)
    """

    _name = "adam"


_NAMED: dict[str, type[Optimizer]] = {cls._name: cls for cls in (SGD, Momentum, Nesterov, Adam)}


def _make(name: str, args: tuple[Any, ...] = (), kwargs: Mapping[str, Any] | None = None) -> Optimizer:
    """An instance of the named class for a built-in name, else of :class:`Optimizer`."""
    cls = _NAMED.get(name)
    if cls is not None:
        return cls(*args, **dict(kwargs or {}))
    return Optimizer(name, *args, **dict(kwargs or {}))


def optimizer_from_config(config: Mapping[str, Any]) -> Optimizer:
    """Rebuild an optimizer from what :meth:`Optimizer.config <bpframe.Optimizer.config>` wrote, validating every value.

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
    example = {"name": "momentum", "mu": 0.9}
    if not isinstance(config, Mapping):
        raise ConfigurationError(
            f"the optimizer config must be a dict such as {example!r}, got {type(config).__name__} {config!r}"
        )
    if "name" not in config:
        raise ConfigurationError(f"the optimizer config needs a 'name' key such as {example!r}, got {dict(config)!r}")
    params = dict(config)
    name = params.pop("name")
    if not isinstance(name, str):
        raise ConfigurationError(f"the optimizer config's 'name' must be a string, got {name!r}")
    spec = _spec(name)
    allowed = [h.name for h in spec.hyper]
    unknown = [key for key in params if key not in allowed]
    if unknown:
        raise ConfigurationError(
            f"{spec.title} config has unknown key(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(allowed) or '(none)'}"
        )
    return _make(name, kwargs=params)


def resolve_optimizer(value: str | Optimizer) -> Optimizer:
    """Turn the ``optimizer`` argument into an optimizer object.

    Parameters
    ----------
    value : str or Optimizer
        A registered name such as ``"sgd"``, ``"momentum"``, ``"nesterov"`` or ``"adam"`` (default
        hyper-parameters), or an instance such as ``Adam(beta1=0.8)``.

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
        return _make(value)
    if isinstance(value, Optimizer):
        return value
    if isinstance(value, type) and issubclass(value, Optimizer):
        title = value.__name__
        raise ConfigurationError(
            f"optimizer must be an instance, got the class {title}; write {title}() or the name {value._name!r}"
        )
    names = ", ".join(map(repr, get_registry().optimizers.entries))  # in registration order
    raise ConfigurationError(
        f"optimizer must be one of the names {names} or an optimizer such as Adam(beta1=0.9) "
        f"from bpframe.optimizers, got {type(value).__name__} {value!r}"
    )
