"""What the classifier and the regressor share: checking their settings, building and training the network."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ..activation import Activation
from ..callbacks import EarlyStopping
from ..errors import ConfigurationError
from ..network import Network
from ..optimizers import Optimizer, resolve_optimizer
from ..split import check_fraction
from ..validation import check_dtype

__all__ = ["BPEstimator", "Settings"]


@dataclass(frozen=True)
class Settings:
    """The estimator's parameters, checked (what ``fit`` hands to :meth:`bpframe.Network.fit`)."""

    hidden: tuple[int, ...]
    activations: tuple[Any, ...]
    optimizer: Optimizer
    eta: float
    batch_size: int
    epochs: int
    lmbda: float
    verbose: int


def _positive_int(owner: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ConfigurationError(f"{owner}: {name} must be an int >= 1, got {value!r}")
    return int(value)


def _number(owner: str, name: str, value: object, positive: bool) -> float:
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and np.isfinite(float(value))
    if not ok or (float(value) <= 0 if positive else float(value) < 0):  # type: ignore[arg-type]
        raise ConfigurationError(
            f"{owner}: {name} must be a finite number {'>' if positive else '>='} 0, got {value!r}"
        )
    return float(value)  # type: ignore[arg-type]


def _flag(owner: str, name: str, value: object) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigurationError(f"{owner}: {name} must be True or False, got {value!r}")
    return bool(value)


def _hidden(owner: str, value: object) -> tuple[int, ...]:
    """``hidden_layer_sizes``: an int or a sequence of ints >= 1 (empty: no hidden layer)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ConfigurationError(f"{owner}: hidden_layer_sizes must be an int or a tuple of ints >= 1, got {value!r}")
    return tuple(_positive_int(owner, f"hidden_layer_sizes[{i}]", v) for i, v in enumerate(value))


def _activations(owner: str, value: object, n_hidden: int) -> tuple[Any, ...]:
    """One activation (name or object) per hidden layer."""
    if isinstance(value, (str, Activation)):
        return (value,) * n_hidden
    if isinstance(value, (list, tuple)) and len(value) == n_hidden:
        return tuple(value)
    raise ConfigurationError(
        f"{owner}: activation must be one activation name or bpframe.Activation for every hidden layer, or a "
        f"list of {n_hidden} of them (one per hidden layer), got {value!r}"
    )


class BPEstimator(BaseEstimator):
    """The shared machinery of :class:`~bpframe.sklearn.BPClassifier` and :class:`~bpframe.sklearn.BPRegressor`.

    Subclasses define ``__init__`` with every parameter, ``_targets`` (y → the network's target rows) and the
    output layer (``output_activation``, ``loss``).
    """

    # set by the subclasses' __init__ (declared for type checkers)
    hidden_layer_sizes: Any
    activation: Any
    output_activation: Any
    loss: Any
    optimizer: Any
    eta: Any
    batch_size: Any
    epochs: Any
    lmbda: Any
    tol: Any
    early_stopping: Any
    validation_fraction: Any
    n_iter_no_change: Any
    random_state: Any
    dtype: Any
    warm_start: Any
    verbose: Any
    network_: Network

    # -- settings ----------------------------------------------------------------------------------------------

    def _settings(self) -> Settings:
        """Every parameter checked, with a message naming the estimator and the parameter."""
        owner = type(self).__name__
        hidden = _hidden(owner, self.hidden_layer_sizes)
        _flag(owner, "early_stopping", self.early_stopping)
        _flag(owner, "warm_start", self.warm_start)
        if self.early_stopping:
            check_fraction(f"{owner}: validation_fraction", self.validation_fraction)
        if self.tol is not None:
            _number(owner, "tol", self.tol, positive=False)
        _positive_int(owner, "n_iter_no_change", self.n_iter_no_change)
        if self.dtype is not None:
            check_dtype(self.dtype)
        verbose = int(self.verbose) if isinstance(self.verbose, (bool, np.bool_)) else self.verbose
        if verbose not in (0, 1, 2) or isinstance(verbose, float):
            raise ConfigurationError(f"{owner}: verbose must be 0, 1 or 2 (or a bool), got {self.verbose!r}")
        return Settings(
            hidden=hidden,
            activations=_activations(owner, self.activation, len(hidden)),
            optimizer=resolve_optimizer(self.optimizer),
            eta=_number(owner, "eta", self.eta, positive=True),
            batch_size=_positive_int(owner, "batch_size", self.batch_size),
            epochs=_positive_int(owner, "epochs", self.epochs),
            lmbda=_number(owner, "lmbda", self.lmbda, positive=False),
            verbose=int(verbose),
        )

    def _seed(self) -> int:
        """The network's seed: ``random_state`` itself when it is an int, else drawn from it."""
        state = self.random_state
        if isinstance(state, numbers.Integral) and not isinstance(state, bool) and int(state) >= 0:
            return int(state)
        return int(check_random_state(state).randint(0, 2**31 - 1))

    def _dtype_for(self, X: np.ndarray) -> np.dtype:
        """``dtype``, or the inputs' own when it is None (float32 stays float32, anything else is float64)."""
        if self.dtype is not None:
            return check_dtype(self.dtype)
        return np.dtype(np.float32) if X.dtype == np.float32 else np.dtype(np.float64)

    def _stopper(self, partial: bool) -> EarlyStopping | None:
        """Early stopping on the validation cost (restoring the best epoch), or on a plateau of the training cost."""
        if partial:
            return None
        delta = 0.0 if self.tol is None else float(self.tol)
        if self.early_stopping:
            return EarlyStopping(monitor="val_cost", patience=int(self.n_iter_no_change), min_delta=delta)
        if self.tol is None:
            return None
        return EarlyStopping(monitor="cost", patience=int(self.n_iter_no_change), min_delta=delta, restore_best=False)

    # -- training ----------------------------------------------------------------------------------------------

    def _build(self, settings: Settings, n_inputs: int, n_outputs: int, dtype: np.dtype) -> Network:
        """A new network: inputs, the hidden layers, the output layer."""
        return Network(
            [n_inputs, *settings.hidden, n_outputs],
            [*settings.activations, self.output_activation],
            self.loss,
            dtype=dtype,
            seed=self._seed(),
        )

    def _train(self, settings: Settings, X: np.ndarray, T: np.ndarray, partial: bool) -> None:
        """Train ``network_`` on inputs X and target rows T: ``epochs`` epochs, or one for ``partial_fit``."""
        stopper = self._stopper(partial)
        try:
            self.network_.fit(
                X, T, epochs=1 if partial else settings.epochs, batch_size=settings.batch_size, eta=settings.eta,
                lmbda=settings.lmbda, optimizer=settings.optimizer,
                validation_split=self.validation_fraction if self.early_stopping and not partial else None,
                callbacks=None if stopper is None else [stopper], verbose=settings.verbose,
            )  # fmt: skip
        finally:
            self._record(stopper)

    def _record(self, stopper: EarlyStopping | None) -> None:
        """The fitted attributes that describe training (kept up to date even when fit stops part-way)."""
        history = self.network_.history
        self.history_ = history
        self.n_iter_ = len(history)
        self.loss_curve_ = list(history.cost)
        self.validation_loss_curve_ = list(history.val_cost) if self.early_stopping else None
        restored = stopper is not None and stopper.restore_best and stopper.best_epoch is not None
        self.best_epoch_ = stopper.best_epoch if restored else None  # type: ignore[union-attr]

    def _check_inputs(self, X: Any) -> np.ndarray:
        """X for predicting: fitted estimator, same number of features (named in sklearn's message)."""
        check_is_fitted(self, "network_")
        checked: np.ndarray = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        return checked

    def _output(self, X: Any) -> np.ndarray:
        """The network's output layer for the rows of X, shape (n, n_outputs)."""
        x = self._check_inputs(X)  # first: it raises NotFittedError before network_ is looked up
        out: np.ndarray = self.network_.feedforward(x)
        return out
