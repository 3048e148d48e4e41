"""Callbacks for ``fit``: objects whose ``@bpframe.hookimpl`` methods receive the training events."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any

import pluggy

from . import hookspecs
from .errors import ConfigurationError
from .hookspecs import TRAINING_HOOKS, hookimpl

__all__ = ["TRAINING_HOOKS", "EarlyStopping", "check_callbacks"]

_METRICS = ("cost", "accuracy", "val_cost", "val_accuracy")


@dataclass
class EarlyStopping:
    """Stop training when a monitored metric stops improving, and restore the best parameters.

    Parameters
    ----------
    monitor : {"val_cost", "val_accuracy", "cost", "accuracy"}
        The metric of each epoch's logs to watch; costs should decrease, accuracies increase.
    patience : int >= 1
        How many epochs without an improvement of more than ``min_delta`` to allow before stopping.
    min_delta : float >= 0
        The smallest change that counts as an improvement.
    restore_best : bool
        Put back the state of the best epoch when training ends (stopped or not): its parameters, optimizer state
        and shuffling generator (:meth:`bpframe.Network.snapshot`); the history keeps every epoch.

    Attributes
    ----------
    best_epoch : int or None
        The epoch with the best value so far; ``stopped_epoch`` the epoch after which training stopped.

    Examples
    --------
    >>> import bpframe as bp
    >>> from bpframe.datasets import load_digits
    >>> X, y = load_digits("train")
    >>> net = bp.Network([64, 16, 10], ["relu", "softmax"], "cross_entropy", seed=0)
    >>> stop = bp.EarlyStopping(monitor="val_cost", patience=2)
    >>> history = net.fit(X[:1000], y[:1000], epochs=200, batch_size=10, eta=0.5,
    ...                   validation_data=(X[1000:], y[1000:]), callbacks=[stop], verbose=0)
    >>> stop.stopped_epoch is not None and len(history) < 200
    True
    """

    monitor: str = "val_cost"
    patience: int = 5
    min_delta: float = 0.0
    restore_best: bool = True
    best_epoch: int | None = field(default=None, init=False)
    best_value: float = field(default=math.nan, init=False)
    stopped_epoch: int | None = field(default=None, init=False)
    _best: Any = field(default=None, init=False, repr=False)  # the network's snapshot at the best epoch

    def __post_init__(self) -> None:
        if self.monitor not in _METRICS:
            raise ConfigurationError(
                f"EarlyStopping: monitor must be one of {', '.join(_METRICS)}; got {self.monitor!r}"
            )
        if isinstance(self.patience, bool) or not isinstance(self.patience, int) or self.patience < 1:
            raise ConfigurationError(f"EarlyStopping: patience must be an int >= 1, got {self.patience!r}")
        if not isinstance(self.min_delta, (int, float)) or not self.min_delta >= 0:
            raise ConfigurationError(f"EarlyStopping: min_delta must be a number >= 0, got {self.min_delta!r}")

    def check(self, has_validation: bool) -> None:
        """Refuse a validation metric without validation data (called by fit before any work)."""
        if self.monitor.startswith("val_") and not has_validation:
            raise ConfigurationError(
                f"EarlyStopping monitors {self.monitor!r}, which needs validation_data=(X_val, Y_val) in fit"
            )

    def _improved(self, value: float) -> bool:
        if math.isnan(self.best_value):
            return True
        if self.monitor.endswith("cost"):
            return value < self.best_value - self.min_delta
        return value > self.best_value + self.min_delta

    @hookimpl
    def bpframe_fit_start(self, settings: dict[str, Any]) -> None:
        if settings.get("resumed") is None:  # a resumed run keeps counting from where it stopped
            self.best_epoch, self.best_value, self.stopped_epoch, self._best = None, math.nan, None, None

    @hookimpl
    def bpframe_epoch_end(self, net: Any, epoch: int, logs: dict[str, float]) -> bool:
        value = logs[self.monitor]
        if self._improved(value):
            self.best_epoch, self.best_value = epoch, value
            self._best = net.snapshot() if self.restore_best else None
            return False
        assert self.best_epoch is not None
        if epoch - self.best_epoch >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    @hookimpl
    def bpframe_fit_end(self, net: Any) -> None:
        if self.restore_best and self._best is not None:
            net.restore(self._best, history=False)  # the best epoch's parameters and optimizer state


def check_callbacks(callbacks: Any, has_validation: bool) -> list[object]:
    """``callbacks`` as a list, each an instance with valid ``@bpframe.hookimpl`` methods of training hooks (an
    :class:`EarlyStopping` also checks that it has what it monitors)."""
    if callbacks is None:
        return []
    if not isinstance(callbacks, (list, tuple)):
        raise ConfigurationError(f"callbacks must be a list of objects with hook methods, got {callbacks!r}")
    for i, cb in enumerate(callbacks):
        _check_callback(i, cb)
        if isinstance(cb, EarlyStopping):
            cb.check(has_validation)
    return list(callbacks)


def _check_callback(i: int, cb: object) -> None:
    """A callback is an instance with @bpframe.hookimpl methods named after training hooks, with valid arguments."""
    where = f"callbacks[{i}]"
    if cb is None or isinstance(cb, (str, bytes, type, numbers.Number)):
        raise ConfigurationError(
            f"{where} must be an object with @bpframe.hookimpl methods (an instance, not a class or a name), got {cb!r}"
        )
    marked = [name for name in dir(cb) if name.startswith("bpframe_") and hasattr(getattr(cb, name), "bpframe_impl")]
    unknown = [name for name in marked if name not in TRAINING_HOOKS]
    if unknown:
        raise ConfigurationError(
            f"{where} ({type(cb).__name__}) implements {unknown[0]!r}, which is not a training hook; "
            f"the training hooks are {', '.join(TRAINING_HOOKS)}"
        )
    if not marked:
        raise ConfigurationError(
            f"{where} ({type(cb).__name__}) has no @bpframe.hookimpl method; implement one of "
            f"{', '.join(TRAINING_HOOKS)}"
        )
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    try:
        pm.register(cb)
    except pluggy.PluginValidationError as exc:
        raise ConfigurationError(f"{where} ({type(cb).__name__}): {exc}") from None
