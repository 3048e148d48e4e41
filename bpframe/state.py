"""The model's state: what a :class:`~bpframe.Network` owns and hands to training, saving, gradient checking and
diagnosis, and the snapshot of it that training takes and restores.

:class:`ModelState` holds the configuration (sizes, activations, loss, dtype, seed, initialisers), the flat
parameter vector ``theta`` with a weight and a bias view per layer, the shuffling generator, the optimizer's
state, the history, the unfinished run and the last fit's settings. :class:`~bpframe.Network` creates one and
passes it, explicitly, to ``bpframe.training``, :mod:`bpframe.io`, ``bpframe.gradcheck``,
``bpframe.diagnose`` and :mod:`bpframe.compute`; none of them imports ``Network`` or reads its members.

One :class:`Snapshot` holds everything that decides the next numbers training produces: the parameters, the
optimizer's state and step count, the shuffling generator's state, the history, and the unfinished run (an
epoch interrupted part-way, see :class:`RunCursor`). Interrupted and failed training, early stopping's "restore
the best epoch", and resuming all use it, so they can never disagree about what "the state" is.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .activation import Activation
from .init import Initializer
from .loss import Loss
from .results import History
from .specs import describe
from .validation import as_inputs, as_targets

__all__ = ["ModelState", "OptimizerState", "RunCursor", "Snapshot"]


@dataclass(eq=False)
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


def layer_views(theta: np.ndarray, sizes: Sequence[int]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Weight and bias views into a flat vector laid out like the parameters: every weight matrix (layer 1 first,
    row-major), then every bias."""
    ws, bs = [], []
    w_start, b_start = 0, sum(sizes[l] * sizes[l - 1] for l in range(1, len(sizes)))
    for l in range(1, len(sizes)):
        rows, cols = sizes[l], sizes[l - 1]
        ws.append(theta[w_start : w_start + rows * cols].reshape(rows, cols))
        bs.append(theta[b_start : b_start + rows])
        w_start += rows * cols
        b_start += rows
    return ws, bs


class ModelState:
    """A network's configuration and everything it learns and remembers, in one object that is passed around.

    Built from validated values: the layers above (``Network``) check what users give, this class trusts them.
    ``w[l - 1]`` and ``b[l - 1]`` are live views of layer l's :math:`w^l` and :math:`b^l` into ``theta``.
    """

    def __init__(
        self,
        sizes: tuple[int, ...],
        activations: tuple[Activation, ...],
        loss: Loss,
        dtype: np.dtype,
        seed: int | None,
        init: tuple[Initializer, ...] = (),
    ) -> None:
        self.sizes, self.activations, self.loss, self.dtype = sizes, activations, loss, dtype
        self.seed, self.init = seed, init
        self.n_weights = sum(sizes[l] * sizes[l - 1] for l in range(1, len(sizes)))
        self.theta = np.empty(self.n_weights + sum(sizes[1:]), dtype=dtype)
        self.w, self.b = layer_views(self.theta, sizes)
        init_seq, shuffle_seq, split_seq = np.random.SeedSequence(seed).spawn(3)
        self.init_seed = init_seq  # the initialisers' generator (Network.__init__)
        self.shuffle = np.random.default_rng(shuffle_seq)
        self.split_seed = split_seq  # validation_split: the same rows on every call
        #: Every epoch trained so far, over all calls to fit (epochs numbered on from the previous call).
        self.history = History()
        self.optimizer: OptimizerState | None = None
        self.run: RunCursor | None = None  # an unfinished fit that the same fit call again continues
        self.fit_settings: dict[str, Any] | None = None  # the last fit's settings (Network.fit_settings)
        self._mask_key: int | None = None
        self._program: Any = None

    @property
    def num_layers(self) -> int:
        """L, the number of layers after the input."""
        return len(self.sizes) - 1

    def views(self, theta: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Weight and bias views into a flat vector laid out like ``theta``."""
        return layer_views(theta, self.sizes)

    @property
    def program(self) -> Any:
        """What the engine runs for this model: its layout and the compiled blocks of its functions (built on
        first use; blocks are shared by every model that uses the same functions and dtype)."""
        if self._program is None:
            from .kernels.program import Program  # the compiled engine: numba is imported on first use only

            self._program = Program(self.sizes, self.activations, self.loss, self.dtype, describe)
        return self._program

    def dropout_key(self) -> int:
        """The 63-bit key of this model's dropout masks (:mod:`bpframe.kernels.dropout`): derived from the seed,
        so a seeded network drops the same neurons on every run; drawn from the OS once for a network without."""
        if self._mask_key is None:
            entropy = None if self.seed is None else [self.seed, 0x64726F70]
            state = np.random.SeedSequence(entropy).generate_state(1, np.uint64)
            self._mask_key = int(state[0] >> np.uint64(1))
        return self._mask_key

    def inputs(self, X: Any, name: str = "X") -> np.ndarray:
        """``X`` checked and converted once to a C-contiguous array of the model's dtype."""
        return as_inputs(name, X, self.sizes[0], self.dtype)

    def targets(self, Y: Any, n: int, name: str = "Y", x_name: str = "X") -> np.ndarray:
        """``Y`` checked against the loss and converted to ``(n, sizes[-1])`` rows of the model's dtype."""
        loss = self.loss
        return as_targets(
            name, Y, n, self.sizes[-1], self.dtype, loss.target_range, loss.name, x_name, loss.targets_sum_to_one
        )

    def snapshot(self, *, history: bool = True) -> Snapshot:
        """A copy of everything training changes (``history=False``: the history is not copied, only referred to,
        for a snapshot that is restored with ``history=False``)."""
        return Snapshot(
            theta=self.theta.copy(),
            optimizer=None if self.optimizer is None else self.optimizer.copy(),
            shuffle=copy.deepcopy(dict(self.shuffle.bit_generator.state)),
            history=copy.deepcopy(self.history) if history else self.history,
            run=None if self.run is None else self.run.copy(),
        )

    def restore(self, snapshot: Snapshot, *, history: bool = True) -> None:
        """Put everything training changes back as ``snapshot`` holds it (``history=False`` keeps the history)."""
        self.theta[...] = snapshot.theta
        self.optimizer = None if snapshot.optimizer is None else snapshot.optimizer.copy()
        self.shuffle.bit_generator.state = copy.deepcopy(snapshot.shuffle)
        if history:
            self.history = copy.deepcopy(snapshot.history)
        self.run = None if snapshot.run is None else snapshot.run.copy()
