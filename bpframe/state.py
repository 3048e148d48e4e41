"""What a network remembers between calls, and the snapshot of it that training takes and restores.

One :class:`Snapshot` holds everything that decides the next numbers training produces: the parameters, the
optimizer's state and step count, the shuffling generator's state, the history, and the unfinished run (an
epoch interrupted part-way, see :class:`RunCursor`). Interrupted and failed training, early stopping's "restore
the best epoch", and resuming all use it, so they can never disagree about what "the state" is.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .results import History

__all__ = ["OptimizerState", "RunCursor", "Snapshot"]


@dataclass
class OptimizerState:
    """What an optimizer remembers between updates: its configuration, its state rows and the update count.

    Training keeps it, :meth:`~bpframe.Network.snapshot` copies it, and :func:`~bpframe.io.load_network`
    restores it from a model file.

    Attributes
    ----------
    config : dict
        JSON-able description of the optimizer, such as ``{"name": "adam", "beta1": 0.9, ...}``.
    state : ndarray, shape (rows, n_params)
        The per-parameter state in the network's dtype (0 rows for SGD, 1 for momentum, 2 for Adam).
    step : int
        The number of updates applied so far (Adam's bias correction needs it).
    """

    config: dict[str, Any]
    state: np.ndarray
    step: int

    def copy(self) -> OptimizerState:
        """A deep copy."""
        return OptimizerState(dict(self.config), self.state.copy(), int(self.step))


@dataclass
class RunCursor:
    """A fit that stopped part-way (Ctrl-C, a plugin's exception, divergence): where it stood, so that the same
    ``fit`` call again continues it exactly.

    ``fingerprint`` identifies the call (settings and data shape); ``epoch`` is the unfinished epoch (1-based
    within the run), whose rows were in ``order`` and whose batches before ``next_batch`` are trained, with
    ``costs`` and ``correct`` recorded (and ``speeds``, the sums of each layer's gradient norms, when the fit
    records them); ``history`` holds the run's finished epochs.
    """

    fingerprint: tuple[Any, ...]
    epoch: int
    order: np.ndarray
    next_batch: int
    costs: np.ndarray
    correct: np.ndarray
    seconds: float
    history: History = field(default_factory=History)
    speeds: np.ndarray | None = None  # the unfinished epoch's sums of gradient norms, when they are recorded

    def copy(self) -> RunCursor:
        """A deep copy."""
        return copy.deepcopy(self)


@dataclass
class Snapshot:
    """Everything training changes, copied: restoring it puts a network back exactly where it was."""

    theta: np.ndarray
    optimizer: OptimizerState | None
    shuffle: dict[str, Any]
    history: History
    run: RunCursor | None
