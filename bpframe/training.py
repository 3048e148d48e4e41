"""The training loop: Python owns the epochs, one compiled call trains a whole epoch."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ConfigurationError, DivergenceError
from .kernels.optimizers import OPTIMIZER_CODES
from .results import History
from .validation import check_nonnegative_float, check_positive_float, check_positive_int

if TYPE_CHECKING:
    from .network import Network

__all__ = ["fit"]


def fit(
    net: Network,
    X: Any,
    Y: Any,
    *,
    epochs: int,
    batch_size: int,
    eta: float,
    lmbda: float,
    validation_data: tuple[Any, Any] | None,
    shuffle: bool,
    verbose: int,
) -> History:
    """Validate everything, then train epoch by epoch (see :meth:`bpframe.Network.fit`)."""
    epochs = check_positive_int("epochs", epochs)
    batch_size = check_positive_int("batch_size", batch_size)
    eta = check_positive_float("eta", eta)
    lmbda = check_nonnegative_float("lmbda", lmbda)
    if not isinstance(shuffle, bool):
        raise ConfigurationError(f"shuffle must be True or False, got {shuffle!r}")
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ConfigurationError(f"verbose must be 0, 1 or 2, got {verbose!r}")
    x = net._inputs(X)
    y = net._targets(Y, x.shape[0])
    val = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ConfigurationError("validation_data must be a pair (X_val, Y_val)")
        xv = net._inputs(validation_data[0], "validation_data[0]")
        val = (xv, net._targets(validation_data[1], xv.shape[0], "validation_data[1]"))
    n = x.shape[0]
    batch_size = min(batch_size, n)
    num_batches = (n + batch_size - 1) // batch_size
    hyper = np.array([eta, lmbda / n, 0.0, 0.0, 0.0], dtype=net.dtype)
    state = np.empty((0, net._theta.shape[0]), dtype=net.dtype)
    sizes_in_batch = np.full(num_batches, batch_size, dtype=np.float64)
    sizes_in_batch[-1] = n - batch_size * (num_batches - 1)
    history = History()
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        order = net._shuffle_rng.permutation(n) if shuffle else np.arange(n)
        costs = np.empty(num_batches, dtype=np.float64)
        correct = np.zeros(num_batches, dtype=np.int64)
        stop = net.engine.call(
            "train_epoch", net._theta, net._sizes_array, x, y, order, batch_size,
            OPTIMIZER_CODES["sgd"], hyper, net._n_weights, state, 0, costs, correct,
        )  # fmt: skip
        if stop >= 0:
            raise _diverged(epoch, int(stop), num_batches, costs[stop], eta, history)
        history.epoch.append(epoch)
        history.cost.append(float(costs @ sizes_in_batch) / n)
        history.accuracy.append(float(correct.sum()) / n)
        if val is not None:
            val_cost, val_correct = net._evaluate(*val)
            history.val_cost.append(val_cost)
            history.val_accuracy.append(val_correct / val[0].shape[0])
        history.seconds.append(time.perf_counter() - started)
        if verbose:
            print(_epoch_line(history, epochs), flush=True)
    return history


def _epoch_line(history: History, epochs: int) -> str:
    """One line summarising the last epoch."""
    text = (
        f"epoch {history.epoch[-1]}/{epochs}: cost {history.cost[-1]:.4f}, accuracy {history.accuracy[-1]:.4f}"
    )
    if history.val_cost:
        text += f", val_cost {history.val_cost[-1]:.4f}, val_accuracy {history.val_accuracy[-1]:.4f}"
    return text + f" ({history.seconds[-1]:.2f} s)"


def _diverged(epoch: int, batch: int, num_batches: int, cost: float, eta: float, history: History) -> DivergenceError:
    error = DivergenceError(
        f"training diverged at epoch {epoch}, batch {batch + 1} of {num_batches}: the cost or gradient became "
        f"non-finite (batch cost {cost!r}). The network keeps the parameters it had before that batch. "
        f"Hint: lower the learning rate (eta={eta:g}), or check the inputs' scale."
    )
    error.history = history  # type: ignore[attr-defined]
    return error
