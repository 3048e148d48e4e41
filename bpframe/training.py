"""The training loop: Python owns the epochs and the events, compiled calls train the mini-batches."""

from __future__ import annotations

import numbers
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .callbacks import EarlyStopping
from .errors import ConfigurationError, DivergenceError
from .events import EventBus
from .kernels.codegen import NEEDS_CHECKED_STEP, SGD_CHECKED, TRAIN_EPOCH
from .optimizers import resolve_optimizer, resolve_schedule
from .progress import progress_plugin
from .results import History
from .validation import as_inputs_with_bound, check_nonnegative_float, check_positive_float, check_positive_int

if TYPE_CHECKING:
    from .network import Network

__all__ = ["OptimizerState", "fit"]

_MAX_EVENTS_PER_EPOCH = 100  # batch-level events: about one per 1 % of an epoch, when anyone listens


@dataclass
class OptimizerState:
    """What an optimizer remembers between updates: its configuration, its state rows and the update count."""

    config: dict[str, Any]
    state: np.ndarray
    step: int


@dataclass
class _Data:
    x: np.ndarray
    y: np.ndarray
    val: tuple[np.ndarray, np.ndarray] | None
    x_max: float  # the largest magnitude in x: bounds how far one SGD step can move a first-layer weight


def _validate_data(net: Network, X: Any, Y: Any, validation_data: Any) -> _Data:
    x, x_max = as_inputs_with_bound("X", X, net.sizes[0], net.dtype)
    y = net._targets(Y, x.shape[0])
    val = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ConfigurationError(
                f"validation_data must be a pair (X_val, Y_val), got {type(validation_data).__name__}"
            )
        xv = net._inputs(validation_data[0], "validation_data[0]")
        val = (xv, net._targets(validation_data[1], xv.shape[0], "validation_data[1]", "validation_data[0]"))
    return _Data(x, y, val, x_max)


TRAINING_HOOKS = (
    "bpframe_fit_start",
    "bpframe_epoch_start",
    "bpframe_batches_end",
    "bpframe_epoch_end",
    "bpframe_fit_end",
)


def _check_callbacks(callbacks: Any, has_validation: bool) -> list[object]:
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
    import pluggy

    from . import hookspecs

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


def _optimizer_state(net: Network, optimizer: Any) -> OptimizerState:
    """Continue the network's optimizer state when the same optimizer trains again, else start fresh."""
    current = net._optimizer_state
    config = optimizer.config()
    shape = (optimizer.state_rows, net._theta.shape[0])
    if current is not None and getattr(current, "config", None) == config:
        state = np.asarray(current.state)
        if state.shape == shape and state.dtype == net.dtype:
            if isinstance(current, OptimizerState):
                return current
            # e.g. the state of a loaded model (bpframe.io): continue it exactly
            return OptimizerState(config=config, state=np.array(state, order="C"), step=int(current.step))
    state = np.zeros((optimizer.state_rows, net._theta.shape[0]), dtype=net.dtype)
    return OptimizerState(config=config, state=state, step=0)


def fit(
    net: Network,
    X: Any,
    Y: Any,
    *,
    epochs: int,
    batch_size: int,
    eta: float,
    lmbda: float,
    optimizer: Any,
    schedule: Any,
    validation_data: Any,
    shuffle: bool,
    callbacks: Any,
    verbose: int,
) -> History:
    """Validate everything before any work, then train epoch by epoch (see :meth:`bpframe.Network.fit`)."""
    epochs = check_positive_int("epochs", epochs)
    batch_size = check_positive_int("batch_size", batch_size)
    eta = check_positive_float("eta", eta)
    lmbda = check_nonnegative_float("lmbda", lmbda)
    opt = resolve_optimizer(optimizer)
    sched = resolve_schedule(schedule)
    if not isinstance(shuffle, (bool, np.bool_)):
        raise ConfigurationError(f"shuffle must be True or False, got {shuffle!r}")
    if isinstance(verbose, bool) or not isinstance(verbose, numbers.Integral) or verbose not in (0, 1, 2):
        raise ConfigurationError(f"verbose must be 0, 1 or 2, got {verbose!r}")
    shuffle, verbose = bool(shuffle), int(verbose)
    data = _validate_data(net, X, Y, validation_data)
    listeners = _check_callbacks(callbacks, data.val is not None)
    return _Trainer(net, data, batch_size, opt, sched, eta, lmbda, shuffle, listeners, verbose).run(epochs)


class _Trainer:
    """One call of fit: its data, optimizer, events and history."""

    def __init__(
        self,
        net: Network,
        data: _Data,
        batch_size: int,
        opt: Any,
        sched: Any,
        eta: float,
        lmbda: float,
        shuffle: bool,
        listeners: list[object],
        verbose: int,
    ) -> None:
        from .plugins import get_registry

        self.net, self.data, self.opt, self.sched = net, data, opt, sched
        self.eta, self.lmbda, self.shuffle = eta, lmbda, shuffle
        self.n = data.x.shape[0]
        self.batch_size = min(batch_size, self.n)
        self.num_batches = -(-self.n // self.batch_size)
        self.batch_sizes = np.full(self.num_batches, self.batch_size, dtype=np.float64)
        self.batch_sizes[-1] = self.n - self.batch_size * (self.num_batches - 1)
        plugins: list[tuple[object, str]] = [(obj, prov.describe()) for obj, prov in get_registry().plugin_objects]
        plugins += [(cb, f"callback {type(cb).__name__}") for cb in listeners]
        display = progress_plugin(verbose)
        if display is not None:
            plugins.append((display, "bpframe progress display"))
        self.events = EventBus(plugins)
        self.state = _optimizer_state(net, opt)
        self.history = History()

    def settings(self) -> dict[str, Any]:
        """What fit_start hooks receive."""
        return {
            "epochs": self.epochs, "batch_size": self.batch_size, "eta": self.eta, "lmbda": self.lmbda,
            "optimizer": self.opt.config(), "schedule": None if self.sched is None else self.sched.config(),
            "n_samples": self.n, "num_batches": self.num_batches, "validation": self.data.val is not None,
        }  # fmt: skip

    def run(self, epochs: int) -> History:
        self.epochs = epochs
        net = self.net
        first_epoch = (net.history.epoch[-1] if len(net.history) else 0) + 1
        self.events.emit("bpframe_fit_start", net=net, settings=self.settings())
        reason = "completed"
        try:
            for i in range(epochs):
                eta = self.eta if self.sched is None else self.sched.learning_rate(self.eta, i + 1)
                self.events.emit("bpframe_epoch_start", net=net, epoch=i + 1, epochs=epochs, eta=eta)
                logs = self._epoch(i + 1, first_epoch + i, eta)
                stop = self.events.emit("bpframe_epoch_end", net=net, epoch=i + 1, epochs=epochs, logs=logs)
                if any(result is True for result in stop):
                    reason = "stopped"
                    break
        except DivergenceError:
            self.events.emit("bpframe_fit_end", net=net, history=self.history, reason="diverged")
            raise
        self.events.emit("bpframe_fit_end", net=net, history=self.history, reason=reason)
        return self.history

    def _epoch(self, epoch: int, global_epoch: int, eta: float) -> dict[str, float]:
        """Train one epoch in as few compiled calls as the listeners allow; record and return its logs."""
        net, started = self.net, time.perf_counter()
        order = net._shuffle_rng.permutation(self.n) if self.shuffle else np.arange(self.n)
        costs = np.zeros(self.num_batches, dtype=np.float64)
        correct = np.zeros(self.num_batches, dtype=np.int64)
        hyper = self.opt.hyper(eta, self.lmbda / self.n, net.dtype)
        counter = np.array([self.state.step], dtype=np.int64)
        listening = self.events.listens("bpframe_batches_end")
        chunk = -(-self.num_batches // _MAX_EVENTS_PER_EPOCH) if listening else self.num_batches
        for first in range(0, self.num_batches, chunk):
            stop = min(first + chunk, self.num_batches)
            arrays = (net._theta, net._sizes_array, self.data.x, self.data.y, self.data.x_max, order, self.batch_size)
            rest = (hyper, net._n_weights, self.state.state, counter, costs, correct)
            bad = net.engine.call(TRAIN_EPOCH[self.opt.code], *arrays, first, stop, *rest)
            if bad <= NEEDS_CHECKED_STEP:  # SGD in place could not be proved safe from this batch on
                bad = net.engine.call(SGD_CHECKED, *arrays, NEEDS_CHECKED_STEP - bad, stop, *rest)
            self.state.step = int(counter[0])
            net._optimizer_state = self.state
            if bad >= 0:
                raise self._diverged(epoch, int(bad), float(costs[bad]), eta, order)
            if listening:
                seen = self.batch_sizes[:stop].sum()
                self.events.emit(
                    "bpframe_batches_end", net=net, epoch=epoch, done=stop, total=self.num_batches,
                    cost=float(costs[:stop] @ self.batch_sizes[:stop]) / seen,
                    accuracy=float(correct[:stop].sum()) / seen,
                )  # fmt: skip
        logs = {"cost": float(costs @ self.batch_sizes) / self.n, "accuracy": float(correct.sum()) / self.n}
        if self.data.val is not None:
            val_cost, val_correct = net._evaluate(*self.data.val)
            logs.update(val_cost=val_cost, val_accuracy=val_correct / self.data.val[0].shape[0])
        logs["seconds"] = time.perf_counter() - started
        for record in (self.history, net.history):
            record.append(global_epoch if record is net.history else epoch, logs)
        return logs

    def _diverged(self, epoch: int, batch: int, cost: float, eta: float, order: np.ndarray) -> DivergenceError:
        from .diagnose import find_plugin_fault

        rows = order[batch * self.batch_size : (batch + 1) * self.batch_size]
        fault = find_plugin_fault(self.net, self.data.x[rows], self.data.y[rows])
        where = f"training diverged at epoch {epoch}, batch {batch + 1} of {self.num_batches}"
        keeps = "The network keeps the parameters it had before that batch."
        hint = f"Hint: lower the learning rate (eta={eta:g}), or check the inputs' scale."
        if fault is not None:
            message = f"{where}: {fault}. {keeps} If that input is huge, the parameters are diverging: {hint}"
        else:
            message = f"{where}: the cost or gradient became non-finite (batch cost {cost!r}). {keeps} {hint}"
        error = DivergenceError(message)
        error.history = self.history  # type: ignore[attr-defined]
        return error
