"""The training loop: Python owns the epochs and the events, compiled calls train the mini-batches.

Every way a fit can end part-way leaves the network consistent: after Ctrl-C (honoured after the mini-batch in
progress), an exception raised inside a plugin function, or divergence, the parameters, the optimizer's state and
step count, the shuffling generator and the history all describe the last completed mini-batch, and the
unfinished epoch is kept (:class:`~bpframe.state.RunCursor`). Calling ``fit`` again with the same arguments then
continues the run exactly where it stopped: the result is bit for bit the one an uninterrupted run gives.
"""

from __future__ import annotations

import math
import signal
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import compute, config
from .diagnose import find_plugin_fault, plugin_raised, raise_if_plugin_raised
from .errors import ConfigurationError, DataError, DivergenceError, PluginError, TrainingInterrupted
from .events import EventBus
from .hookspecs import TRAINING_HOOKS
from .kernels import interface as engine
from .optimizers import Optimizer
from .plugins import get_registry
from .progress import progress_plugin
from .results import History
from .specs import describe
from .state import ModelState, OptimizerState, RunCursor, Snapshot
from .validation import as_inputs_unread, require_finite

__all__ = ["TRAINING_HOOKS", "FitData", "FitSettings", "OptimizerState", "fit_data", "train"]

_MAX_EVENTS_PER_EPOCH = 100  # batch-level events: about one per 1 % of an epoch, when anyone listens
#: fit(layer_speed=True) measures the gradient of every k-th mini-batch of an epoch, k = max(1, batches // this):
#: every batch of an epoch of fewer than twice this many, and this many to twice as many in a longer one.
SPEED_BATCHES = 100


@dataclass
class FitData:
    """The validated data of one fit call."""

    x: np.ndarray
    y: np.ndarray
    val: tuple[np.ndarray, np.ndarray] | None
    #: The largest magnitude in x (it bounds how far one in-place step can move a first-layer weight), or None while
    #: x is unread: an array used as the caller gave it is checked batch by batch in the first epoch instead.
    x_max: float | None


@dataclass(frozen=True)
class FitSettings:
    """The validated settings of one fit call (:meth:`bpframe.Network.fit` checks each once)."""

    epochs: int
    batch_size: int
    eta: float
    lmbda: float
    optimizer: Optimizer
    schedule: Any
    shuffle: bool
    verbose: int
    l1: float = 0.0
    dropout: tuple[float, ...] = ()  # per hidden layer; () for none
    layer_speed: bool = False


def fit_data(state: ModelState, X: Any, Y: Any, validation_data: Any) -> FitData:
    """``X``, ``Y`` and ``validation_data`` checked and converted once to the model's dtype; ``X`` used as given is
    not read here (``x_max`` None): :class:`_Trainer` checks it before training or as the first epoch reads it."""
    x, x_max = as_inputs_unread("X", X, state.sizes[0], state.dtype, engine.INPUT_BOUNDS)
    y = state.targets(Y, x.shape[0])
    val = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ConfigurationError(
                f"validation_data must be a pair (X_val, Y_val), got {type(validation_data).__name__}"
            )
        xv = state.inputs(validation_data[0], "validation_data[0]")
        val = (xv, state.targets(validation_data[1], xv.shape[0], "validation_data[1]", "validation_data[0]"))
    return FitData(x, y, val, x_max)


def _optimizer_state(state: ModelState, optimizer: Optimizer) -> OptimizerState:
    """Continue the model's optimizer state when the same optimizer trains again, else start fresh."""
    current = state.optimizer
    config = optimizer.config()
    shape = (optimizer.state_rows, state.theta.shape[0])
    if current is not None and current.config == config:
        rows = current.state
        if rows.shape == shape and rows.dtype == state.dtype:
            if rows.flags.c_contiguous and rows.flags.writeable:
                return current
            # e.g. the state of a loaded model (bpframe.io): continue it exactly, in an array the engine writes
            return OptimizerState(config=config, state=np.array(rows, order="C"), step=int(current.step))
    return OptimizerState(config=config, state=np.zeros(shape, dtype=state.dtype), step=0)


def _fingerprint(settings: FitSettings, data: FitData) -> tuple[Any, ...]:
    """What identifies a fit call for resuming: its settings, and the data's shapes and a checksum of a sample."""
    sample = data.x[:: max(1, data.x.shape[0] // 64)]
    checksum = zlib.crc32(np.ascontiguousarray(sample).tobytes()) ^ zlib.crc32(np.ascontiguousarray(data.y).tobytes())
    schedule = None if settings.schedule is None else tuple(sorted(settings.schedule.config().items()))
    return (settings.epochs, settings.batch_size, settings.eta, settings.lmbda, repr(settings.optimizer), schedule,
            settings.shuffle, settings.l1, settings.dropout, settings.layer_speed, data.x.shape, data.y.shape,
            str(data.x.dtype), checksum)  # fmt: skip


def train(state: ModelState, owner: object, data: FitData, settings: FitSettings, listeners: list[object]) -> History:
    """Train epoch by epoch on validated data and settings; ``owner`` (the Network) is what the hooks receive.

    Every way this ends part-way leaves ``state`` consistent (see the module's docstring) and re-raises.
    """
    with config.operation():  # the environment's settings, read once for the whole fit
        trainer = _Trainer(state, owner, data, settings, listeners)
        first = 1 if trainer.resume is None else trainer.resume.epoch
        state.run, state.fit_settings = None, trainer.record()
        trainer.events.emit("bpframe_fit_start", net=owner, settings=trainer.settings())
        reason = "completed"
        try:
            with _graceful_interrupts(trainer.control):
                for epoch in range(first, settings.epochs + 1):
                    logs = trainer.epoch(epoch)
                    stop = trainer.events.emit("bpframe_epoch_end", net=owner, epoch=epoch, epochs=settings.epochs,
                                               logs=logs)  # fmt: skip
                    if any(result is True for result in stop):
                        reason = "stopped"
                        break
        except (Exception, TrainingInterrupted) as exc:  # a bare KeyboardInterrupt (second Ctrl-C) ends at once
            ending = next((end for kind, end in _ENDINGS.items() if isinstance(exc, kind)), "failed")
            trainer.events.emit("bpframe_fit_end", net=owner, history=trainer.history, reason=ending)
            raise
        trainer.events.emit("bpframe_fit_end", net=owner, history=trainer.history, reason=reason)
        return trainer.history


#: How an exception ends a fit, for the bpframe_fit_end hook (any other exception: "failed").
_ENDINGS: dict[type[BaseException], str] = {TrainingInterrupted: "interrupted", DivergenceError: "diverged"}


@contextmanager
def _graceful_interrupts(control: np.ndarray) -> Iterator[None]:
    """While training runs in the main thread, the first Ctrl-C asks the engine to stop after the current
    mini-batch (``control[0] = 1``); a second one raises at once, as usual."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: Any) -> None:
        if control[0]:
            raise KeyboardInterrupt
        control[0] = 1

    try:
        signal.signal(signal.SIGINT, handler)
    except ValueError:  # e.g. a signal handler cannot be set here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class _Trainer:
    """One call of fit: its data, settings, events and history."""

    def __init__(
        self, model: ModelState, owner: object, data: FitData, settings: FitSettings, listeners: list[object]
    ) -> None:
        self.model, self.owner, self.data, self.s = model, owner, data, settings
        self.n = data.x.shape[0]
        self.batch_size = min(settings.batch_size, self.n)
        self.num_batches = -(-self.n // self.batch_size)
        self.batch_sizes = np.full(self.num_batches, self.batch_size, dtype=np.float64)
        self.batch_sizes[-1] = self.n - self.batch_size * (self.num_batches - 1)
        plugins: list[tuple[object, str]] = [(obj, prov.describe()) for obj, prov in get_registry().plugin_objects]
        plugins += [(cb, f"callback {type(cb).__name__}") for cb in listeners]
        display = progress_plugin(settings.verbose)
        if display is not None:
            plugins.append((display, "bpframe progress display"))
        self.events = EventBus(plugins)
        self.optimizer = _optimizer_state(model, settings.optimizer)
        self.control = np.zeros(1, np.int64)
        #: What identifies this call for resuming (:func:`_fingerprint`), computed only when needed: to compare with
        #: the cursor of an interrupted fit, or to leave one (its checksum reads the targets, 1.2 ms a Fashion-MNIST
        #: fit, which a fit called once per epoch paid every epoch)
        self._identity: tuple[Any, ...] | None = None
        cursor = model.run
        self.resume = cursor if cursor is not None and cursor.fingerprint == self.fingerprint() else None
        self.history = History() if self.resume is None else self.resume.history
        #: When the network trains again with the same optimizer (its kernels are built), X used as the caller gave
        #: it is checked in the first epoch, batch by batch as the engine copies it, instead of in a pass of its own
        #: before: if a value is NaN or inf, the fit is undone from this snapshot and refused with the same error.
        #: A first fit (nothing compiled for a refused call), a resumed one, or a network larger than its data (whose
        #: copy would cost more than the pass) checks X first.
        self.rollback: tuple[Snapshot, dict[str, Any] | None] | None = None
        if data.x_max is None:
            saved = model.theta.nbytes + self.optimizer.state.nbytes
            if self.optimizer is model.optimizer and self.resume is None and saved <= data.x.nbytes:
                self.rollback = (model.snapshot(history=False), model.fit_settings)
            else:
                data.x_max = require_finite("X", data.x, engine.INPUT_BOUNDS)
        self.update = model.program.update_block(settings.optimizer.spec)
        #: Learning speed is measured on every batch of an epoch of up to SPEED_BATCHES, else on that many, evenly
        #: spaced (batches 0, k, 2k, ...): the mean is as good, and the other batches keep SGD's in-place step.
        self.speed_every = max(1, self.num_batches // SPEED_BATCHES)

    def fingerprint(self) -> tuple[Any, ...]:
        """This call's :func:`_fingerprint`, computed on first use."""
        if self._identity is None:
            self._identity = _fingerprint(self.s, self.data)
        return self._identity

    def record(self) -> dict[str, Any]:
        """What the network keeps of this fit (``Network.fit_settings``, saved in model files)."""
        s = self.s
        return {"optimizer": s.optimizer.spec.name, "eta": s.eta, "lmbda": s.lmbda, "l1": s.l1,
                "dropout": list(s.dropout) or [0.0] * (self.model.num_layers - 1), "batch_size": self.batch_size,
                "epochs": s.epochs}  # fmt: skip

    def settings(self) -> dict[str, Any]:
        """What fit_start hooks receive."""
        s, resume = self.s, self.resume
        return {
            "epochs": s.epochs, "batch_size": self.batch_size, "eta": s.eta, "lmbda": s.lmbda,
            "optimizer": s.optimizer.config(), "schedule": None if s.schedule is None else s.schedule.config(),
            "l1": s.l1, "dropout": list(s.dropout), "layer_speed": s.layer_speed,
            "n_samples": self.n, "num_batches": self.num_batches, "validation": self.data.val is not None,
            "resumed": None if resume is None else {"epoch": resume.epoch, "batch": resume.next_batch},
        }  # fmt: skip

    def _eta(self, epoch: int) -> float:
        return self.s.eta if self.s.schedule is None else self.s.schedule.learning_rate(self.s.eta, epoch)

    def epoch(self, epoch: int) -> dict[str, float]:
        """Train one epoch (or the rest of a resumed one) in as few compiled calls as the listeners allow."""
        model, started, eta = self.model, time.perf_counter(), self._eta(epoch)
        resume, self.resume = self.resume, None
        self.events.emit("bpframe_epoch_start", net=self.owner, epoch=epoch, epochs=self.s.epochs, eta=eta)
        L = model.num_layers
        if resume is not None and resume.epoch == epoch:
            order, first = resume.order, resume.next_batch
            costs, correct, started = resume.costs, resume.correct, started - resume.seconds
            speeds = resume.speeds if resume.speeds is not None else np.zeros((2, L + 1))
        else:
            order = model.shuffle.permutation(self.n) if self.s.shuffle else np.arange(self.n)
            first, costs, correct = 0, np.zeros(self.num_batches), np.zeros(self.num_batches, np.int64)
            speeds = np.zeros((2, L + 1))
        # the first epoch bounds each in-place step by its batch's own inputs, measured as they are checked; later ones
        # by the largest input: so a resumed fit takes the same steps as an uninterrupted one
        t = self._training(order, eta, costs, correct, speeds if self.s.layer_speed else np.zeros((0, 0)), epoch == 1)
        listening = self.events.listens("bpframe_batches_end")
        chunk = -(-self.num_batches // _MAX_EVENTS_PER_EPOCH) if listening else self.num_batches
        while first < self.num_batches:
            stop = min(first + chunk, self.num_batches)
            model.program.train(t, first, stop, (self.s.epochs - epoch) * self.num_batches + self.num_batches - first)
            self.optimizer.step = int(t.counter[0])
            model.optimizer = self.optimizer
            done = int(t.status[engine.BATCH])
            if t.status[engine.OUTCOME] != engine.DONE or self.control[0]:
                self._stopped(t, epoch, order, done, started)
            first = stop
            if listening:
                seen = self.batch_sizes[:stop].sum()
                self.events.emit(
                    "bpframe_batches_end", net=self.owner, epoch=epoch, done=stop, total=self.num_batches,
                    cost=float(costs[:stop] @ self.batch_sizes[:stop]) / seen,
                    accuracy=float(correct[:stop].sum()) / seen,
                )  # fmt: skip
        if t.check_rows:  # every input has been read, and is finite
            if self.data.x_max is None:
                self.data.x_max = float(t.x_seen[0])
            self.rollback = None
        return self._log(epoch, costs, correct, started, t.speeds)

    def _training(self, order: np.ndarray, eta: float, costs: np.ndarray, correct: np.ndarray,
                  speeds: np.ndarray, check_rows: bool) -> engine.Training:  # fmt: skip
        """The engine's arguments for one epoch."""
        opt, theta = self.s.optimizer, self.model.theta
        fused = opt.fused(eta, self.s.lmbda / self.n)
        x_max = self.data.x_max
        if x_max is None and not check_rows:
            raise AssertionError("the inputs are unread after the first epoch")
        return engine.Training(
            x=self.data.x, y=self.data.y, order=np.ascontiguousarray(order, dtype=np.int64),
            batch_size=self.batch_size, x_max=math.inf if x_max is None else x_max, check_rows=check_rows,
            x_seen=np.zeros(1), theta=theta, spare=np.empty_like(theta),
            grad=np.empty_like(theta), state=self.optimizer.state, state_spare=np.empty_like(self.optimizer.state),
            hyper=opt.hyper(eta, self.s.lmbda / self.n), update=self.update.address,
            fused=np.array(fused if fused is not None else (math.nan,) * 3, dtype=np.float64),
            counter=np.array([self.optimizer.step], dtype=np.int64), costs=costs, correct=correct,
            status=np.zeros(engine.STATUS_FIELDS, np.int64), control=self.control,
            product=self.model.program.forward_product(self.batch_size), l1=self.s.l1 / self.n,
            drop=np.array([0.0, *self.s.dropout, 0.0] if self.s.dropout else [], np.float64),
            key=self.model.dropout_key() if self.s.dropout else 0, speeds=speeds, speed_every=self.speed_every,
        )  # fmt: skip

    def _log(self, epoch: int, costs: np.ndarray, correct: np.ndarray, started: float,
             speeds: np.ndarray) -> dict[str, Any]:  # fmt: skip
        logs: dict[str, Any] = {"cost": float(costs @ self.batch_sizes) / self.n,
                                "accuracy": float(correct.sum()) / self.n}  # fmt: skip
        if speeds.shape[0] != 0:
            mean = speeds[:, 1:] / -(-self.num_batches // self.speed_every)
            logs["nabla_b_norm"], logs["nabla_w_norm"] = mean[0].tolist(), mean[1].tolist()
        if self.data.val is not None:
            x_val, y_val = self.data.val
            val_cost, val_correct, status = compute.evaluate(self.model, x_val, y_val)
            raise_if_plugin_raised(self.model, status, x_val, y_val)
            logs.update(val_cost=val_cost, val_accuracy=val_correct / self.data.val[0].shape[0])
        logs["seconds"] = time.perf_counter() - started
        net_history = self.model.history
        global_epoch = (net_history.epoch[-1] if len(net_history) else 0) + 1
        self.history.append(epoch, logs)
        net_history.append(global_epoch, logs)
        return logs

    def _stopped(self, t: engine.Training, epoch: int, order: np.ndarray, done: int, started: float) -> None:
        """The engine stopped before the end of the chunk: keep the run's place, then raise what stopped it."""
        if t.status[engine.OUTCOME] == engine.NONFINITE_INPUT:
            raise self._nonfinite_input(f"epoch {epoch}, batch {done + 1} of {self.num_batches}")
        self.model.run = RunCursor(
            fingerprint=self.fingerprint(), epoch=epoch, order=order, next_batch=done, costs=t.costs.copy(),
            correct=t.correct.copy(), seconds=time.perf_counter() - started, history=self.history,
            speeds=t.speeds.copy() if t.speeds.shape[0] != 0 else None,
        )  # fmt: skip
        outcome, where = int(t.status[engine.OUTCOME]), f"epoch {epoch}, batch {done + 1} of {self.num_batches}"
        rows = order[done * self.batch_size : (done + 1) * self.batch_size]
        if outcome == engine.FAILED_PLUGIN:
            raise self._plugin_failed(t, where, rows)
        if outcome in (engine.NONFINITE_COST, engine.NONFINITE_UPDATE):
            raise self._diverged(where, float(t.costs[done]), rows)
        error = TrainingInterrupted(
            f"training interrupted in {where} ({done} of {self.num_batches} batches of that epoch trained); the "
            "network holds the parameters, optimizer state and history after the last completed batch. Call fit "
            "again with the same arguments to continue exactly where it stopped."
        )
        error.history, error.epoch, error.batch = self.history, epoch, done
        raise error

    def _nonfinite_input(self, where: str) -> DataError:
        """A NaN or inf among the inputs, found by the first epoch: undo the fit, and name the first one."""
        if self.rollback is not None:
            snapshot, fit_settings = self.rollback
            self.model.restore(snapshot, history=False)
            self.model.fit_settings = fit_settings
        try:
            require_finite("X", self.data.x)
        except DataError as error:
            return error
        kept = "is as it was before this fit" if self.rollback is not None else "keeps the last batch's parameters"
        return DataError(  # X changed while fit was reading it
            f"X changed during fit: a row of {where} held a NaN or inf when fit read it, and no entry of X is NaN "
            f"or inf now; the network {kept}"
        )

    def _plugin_failed(self, t: engine.Training, where: str, rows: np.ndarray) -> Exception:
        if t.status[engine.ROLE] == engine.UPDATE_ROLE:
            raised = self.model.program.caught.raised
            cause = raised[0] if raised else None
            spec = self.s.optimizer.spec
            error = PluginError(
                f"training stopped in {where}: {describe(spec)}: its update "
                f"{spec.update.__module__}.{spec.update.__qualname__} raised "
                f"{type(cause).__name__ if cause else 'an exception'}: {cause}; the network keeps the parameters "
                "and optimizer state from before that batch"
            )
            error.__cause__ = cause
        else:
            found = plugin_raised(self.model, t.status, self.data.x[rows], self.data.y[rows])
            assert found is not None
            error = PluginError(f"training stopped in {where}: {found}")
            error.__cause__ = found.__cause__
        error.history = self.history  # type: ignore[attr-defined]
        return error

    def _diverged(self, where: str, cost: float, rows: np.ndarray) -> DivergenceError:
        fault = find_plugin_fault(self.model, self.data.x[rows], self.data.y[rows])
        keeps = "The network keeps the parameters it had before that batch."
        eta = self.s.eta
        hint = f"Hint: lower the learning rate (eta={eta:g}), or check the inputs' scale."
        if fault is not None:
            cause = f"{fault}. {keeps} If that input is huge, the parameters are diverging"
        else:
            cause = f"the cost or gradient became non-finite (batch cost {cost!r}). {keeps}"
        message = f"training diverged at {where}: {cause}{':' if fault is not None else ''} {hint}"
        error = DivergenceError(message)
        error.history = self.history  # type: ignore[attr-defined]
        return error
