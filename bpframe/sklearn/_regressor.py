"""The scikit-learn regressor over a bpframe network."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import validate_data

from ..errors import DataError
from ._base import BPEstimator

__all__ = ["BPRegressor"]


class BPRegressor(RegressorMixin, BPEstimator):
    r"""A feed-forward network regressor trained by bpframe, as a scikit-learn estimator.

    One input per feature, the hidden layers, and one identity output per target trained with the quadratic
    cost :math:`\tfrac12\lVert a - y\rVert^2`. Several targets (y of shape (n, k)) train one network with k
    outputs. The targets are used as given: standardise targets far from unit scale, e.g. with scikit-learn's
    ``TransformedTargetRegressor(regressor=BPRegressor(), transformer=StandardScaler())``.

    Parameters
    ----------
    hidden_layer_sizes, activation, optimizer, eta, batch_size, epochs, lmbda, tol
        As for :class:`~bpframe.sklearn.BPClassifier`.
    early_stopping, validation_fraction, n_iter_no_change, random_state, dtype, warm_start, verbose
        As for :class:`~bpframe.sklearn.BPClassifier`; the validation split of ``early_stopping`` is random.
    output_activation : str or bpframe.Activation, default "identity"
    loss : str or bpframe.Loss, default "quadratic"

    Attributes
    ----------
    n_features_in_ : int
    feature_names_in_ : ndarray of str, only when X had column names (a pandas DataFrame)
    n_outputs_ : int
        The number of targets.
    network_, history_, loss_curve_, validation_loss_curve_, best_epoch_, n_iter_
        As for :class:`~bpframe.sklearn.BPClassifier`.

    Examples
    --------
    >>> import numpy as np
    >>> from bpframe.sklearn import BPRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, size=(200, 3))
    >>> y = X @ [1.0, -2.0, 0.5] + 0.1 * rng.normal(size=200)
    >>> reg = BPRegressor(hidden_layer_sizes=(16,), epochs=100, random_state=0).fit(X, y)
    >>> reg.predict(X[:3]).shape, reg.score(X, y) > 0.9
    ((3,), True)
    """

    n_outputs_: int
    _y_1d: bool

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: Any = "relu",
        *,
        output_activation: Any = "identity",
        loss: Any = "quadratic",
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

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X: Any, y: Any) -> BPRegressor:
        """Train on inputs X, shape (n_samples, n_features), and targets y, shape (n_samples,) or
        (n_samples, n_targets).

        Starts from a new network unless ``warm_start`` is set and the estimator is fitted.

        Returns
        -------
        self
        """
        return self._fit(X, y, partial=False)

    def partial_fit(self, X: Any, y: Any) -> BPRegressor:
        """Train one epoch on X and y, continuing the network (the first call builds it).

        Returns
        -------
        self
        """
        return self._fit(X, y, partial=True)

    def _fit(self, X: Any, y: Any, partial: bool) -> BPRegressor:
        settings = self._settings()
        fitted = hasattr(self, "network_")
        keep = fitted and (partial or bool(self.warm_start))
        X, y = validate_data(
            self, X, y, reset=not keep, multi_output=True, y_numeric=True, dtype=(np.float64, np.float32)
        )
        T = y.reshape(-1, 1) if y.ndim == 1 else y
        if keep and T.shape[1] != self.n_outputs_:
            raise DataError(
                f"{type(self).__name__}: y has {T.shape[1]} target(s) per row, but the fitted network has "
                f"{self.n_outputs_}; fit with warm_start=False to start again"
            )
        if not keep:
            self.n_outputs_ = T.shape[1]
            self._y_1d = y.ndim == 1
            self.network_ = self._build(settings, X.shape[1], T.shape[1], self._dtype_for(X))
        self._train(settings, X, T, partial=partial)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The predicted targets of every row of X: shape (n_samples,) when fitted on 1-D y, else
        (n_samples, n_targets)."""
        out = self._output(X)
        return out[:, 0] if self._y_1d else out
