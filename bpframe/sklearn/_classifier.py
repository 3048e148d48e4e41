"""The scikit-learn classifier over a bpframe network."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import _check_partial_fit_first_call, check_classification_targets, unique_labels
from sklearn.utils.validation import validate_data

from ..errors import DataError
from ._base import BPEstimator

__all__ = ["BPClassifier"]


class BPClassifier(ClassifierMixin, BPEstimator):
    r"""A feed-forward network classifier trained by bpframe, as a scikit-learn estimator.

    One input per feature, the hidden layers, and one softmax output per class trained with the cross-entropy
    cost; ``predict_proba`` is the softmax output. Labels may be any values ``numpy.unique`` can sort (ints,
    strings, ...): ``classes_`` lists them, and the network's outputs follow that order.

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default (100,)
        Neurons of each hidden layer; ``()`` for none.
    activation : str or bpframe.Activation, or a list of them, default "relu"
        One activation for every hidden layer, or one per hidden layer: a registered name
        (``bpframe.activations()``) or an object. User-defined objects must be module-level to pickle.
    output_activation : str or bpframe.Activation, default "softmax"
    loss : str or bpframe.Loss, default "cross_entropy"
    optimizer : str or bpframe.Optimizer, default "adam"
        A registered name, or an object with its settings such as ``bpframe.Adam(beta1=0.8)``.
    eta : float > 0, default 0.002
        The learning rate.
    batch_size : int >= 1, default 32
        Rows per mini-batch (all rows when there are fewer).
    epochs : int >= 1, default 200
        The most epochs one ``fit`` trains (fewer when a stopping rule below ends it).
    lmbda : float >= 0, default 0.0
        L2 weight decay, as in :meth:`bpframe.Network.fit`.
    tol : float >= 0 or None, default 1e-4
        The improvement that counts, for the stopping rules: without ``early_stopping``, training stops after
        ``n_iter_no_change`` epochs in which the training cost did not fall by more than ``tol`` (scikit-learn's
        rule); ``None`` turns that rule off, so every ``fit`` trains exactly ``epochs`` epochs.
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the rows (stratified, seeded from ``random_state``), stop after
        ``n_iter_no_change`` epochs without a validation cost lower by more than ``tol``, and keep the whole
        state of the best epoch (``best_epoch_``).
    validation_fraction : float in (0, 1), default 0.1
    n_iter_no_change : int >= 1, default 10
    random_state : int, numpy.random.RandomState or None, default None
        An int is the network's seed (initial weights, shuffling, the validation split): the same int, the same
        results. None or a RandomState draws the seed.
    dtype : {None, "float32", "float64"}, default None
        The network's dtype; None follows X (float32 data trains in float32, anything else in float64).
    warm_start : bool, default False
        ``fit`` continues training the fitted network (same features and classes) instead of starting again.
    verbose : {0, 1, 2} or bool, default 0
        Progress of each epoch, as :meth:`bpframe.Network.fit` shows it.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of str, only when X had column names (a pandas DataFrame)
    network_ : bpframe.Network
        The trained network.
    history_ : bpframe.History
        Every epoch the network trained (all ``fit`` and ``partial_fit`` calls).
    loss_curve_ : list of float
        The training cost of every epoch (``history_.cost``).
    validation_loss_curve_, validation_scores_ : list of float or None
        The validation cost and accuracy of every epoch, with ``early_stopping`` (else None).
    best_epoch_ : int or None
        The epoch of the last ``fit`` whose state early stopping kept, else None.
    n_iter_ : int
        Epochs trained in all.

    Examples
    --------
    >>> from bpframe.datasets import load_digits
    >>> from bpframe.sklearn import BPClassifier
    >>> X, y = load_digits("train")
    >>> X_test, y_test = load_digits("test")
    >>> clf = BPClassifier(hidden_layer_sizes=(64,), epochs=30, random_state=0).fit(X, y)
    >>> clf.classes_.tolist(), clf.n_iter_
    ([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 30)
    >>> clf.score(X_test, y_test) > 0.95
    True
    >>> clf.predict_proba(X_test[:2]).sum(axis=1).round(6).tolist()
    [1.0, 1.0]
    """

    classes_: np.ndarray

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: Any = "relu",
        *,
        output_activation: Any = "softmax",
        loss: Any = "cross_entropy",
        optimizer: Any = "adam",
        eta: float = 0.002,
        batch_size: int = 32,
        epochs: int = 200,
        lmbda: float = 0.0,
        tol: float | None = 1e-4,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        random_state: Any = None,
        dtype: Any = None,
        warm_start: bool = False,
        verbose: Any = 0,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.output_activation = output_activation
        self.loss = loss
        self.optimizer = optimizer
        self.eta = eta
        self.batch_size = batch_size
        self.epochs = epochs
        self.lmbda = lmbda
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.dtype = dtype
        self.warm_start = warm_start
        self.verbose = verbose

    def fit(self, X: Any, y: Any) -> BPClassifier:
        """Train on inputs X, shape (n_samples, n_features), and labels y, shape (n_samples,).

        Starts from a new network unless ``warm_start`` is set and the estimator is fitted.

        Returns
        -------
        self
        """
        settings = self._settings()
        warm = bool(self.warm_start) and hasattr(self, "network_")
        X, y = validate_data(self, X, y, reset=not warm, dtype=(np.float64, np.float32))
        check_classification_targets(y)
        classes = unique_labels(y)
        if warm and not np.array_equal(classes, self.classes_):
            raise DataError(
                f"BPClassifier: warm_start continues a network trained on classes {self.classes_.tolist()!r}, but "
                f"y has classes {classes.tolist()!r}; fit with warm_start=False to start again"
            )
        if not warm:
            self.classes_ = classes
            self.network_ = self._build(settings, X.shape[1], len(classes), self._dtype_for(X))
        self._train(settings, X, self._targets(y), partial=False)
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> BPClassifier:
        """Train one epoch on X and y, continuing the network (the first call builds it).

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
        y : array-like, shape (n_samples,)
        classes : array-like, shape (n_classes,)
            Every label of the whole problem; needed on the first call only (y may hold fewer of them).

        Returns
        -------
        self
        """
        settings = self._settings()
        first = _check_partial_fit_first_call(self, classes)
        X, y = validate_data(self, X, y, reset=first, dtype=(np.float64, np.float32))
        check_classification_targets(y)
        unknown = np.setdiff1d(unique_labels(y), self.classes_)
        if unknown.size:
            raise DataError(
                f"BPClassifier.partial_fit: y holds labels {unknown.tolist()!r} that are not among classes_ "
                f"{self.classes_.tolist()!r} (given by the first call's classes=)"
            )
        if first:
            self.network_ = self._build(settings, X.shape[1], len(self.classes_), self._dtype_for(X))
        self._train(settings, X, self._targets(y), partial=True)
        return self

    def _targets(self, y: np.ndarray) -> np.ndarray:
        """One-hot rows in the order of ``classes_``."""
        index = np.searchsorted(self.classes_, y)
        rows: np.ndarray = np.eye(len(self.classes_), dtype=self.network_.dtype)[index]
        return rows

    def _record(self, stopper: Any) -> None:
        super()._record(stopper)
        self.validation_scores_ = list(self.history_.val_accuracy) if self.early_stopping else None

    def predict_proba(self, X: Any) -> np.ndarray:
        """The probability of each class (columns in the order of ``classes_``) for every row of X.

        The output layer's values, as float64 rows that sum to 1: the softmax output itself with the default
        ``output_activation`` (another output activation is clipped at 0 and normalised).

        Returns
        -------
        ndarray, shape (n_samples, n_classes)
        """
        out = np.clip(self._output(X).astype(np.float64), 0.0, None)
        sums = out.sum(axis=1, keepdims=True)
        uniform = np.full_like(out, 1.0 / out.shape[1])
        proba: np.ndarray = np.divide(out, sums, out=uniform, where=sums > 0)
        return proba

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """The logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            logs: np.ndarray = np.log(self.predict_proba(X))
        return logs

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of every row of X, shape (n_samples,)."""
        best = np.argmax(self.predict_proba(X), axis=1)  # first: it raises NotFittedError before classes_ is read
        labels: np.ndarray = self.classes_[best]
        return labels
