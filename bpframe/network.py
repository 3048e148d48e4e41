"""The :class:`Network`: configuration, parameters, and the public methods that call the kernels."""

from __future__ import annotations

import copy
import numbers
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .activation import Activation
from .errors import ConcurrencyError, ConfigurationError, DataError, PluginError
from .init import Initializer, initialize_layer
from .kernels.interface import STATUS_FIELDS
from .layers import LayerList
from .limits import check_network_size
from .loss import Loss
from .pickling import STATE_VERSION, spec_from_state, spec_state
from .results import BackpropResult, History
from .specs import describe, resolve_activations, resolve_initializers, resolve_loss
from .split import check_fraction, holdout
from .state import OptimizerState, RunCursor, Snapshot
from .validation import as_inputs, as_targets, check_dtype, check_sizes

__all__ = ["Network"]

_CHUNK = 1024  # rows per forward-pass chunk in feedforward/evaluate: bounds their workspace


def _buffer_layers(buffer: np.ndarray, sizes: Sequence[int], m: int) -> list[np.ndarray]:
    """The ``(m, sizes[l])`` matrix of every layer l (input first) in a flat batch buffer, laid out as the engine
    lays it out (see :mod:`bpframe.kernels.engine`)."""
    layers, start = [], 0
    for size in sizes:
        layers.append(buffer[start : start + m * size].reshape(m, size))
        start += m * size
    return layers


class Network:
    r"""A fully-connected feed-forward network trained by back-propagation.

    Layers are numbered as in the equations, with the input as layer 0: ``weights[l]`` is :math:`w^l`, of
    shape ``(sizes[l], sizes[l-1])``, and ``weights[l][j, k]`` connects neuron k of layer l−1 to neuron j of
    layer l. (The book numbers the input layer 1, so its :math:`w^{l}` is our ``weights[l-1]``.)

    Parameters
    ----------
    sizes : sequence of int
        Neurons per layer, input first: ``[784, 30, 10]``. At least two entries, each >= 1; at most 1,024 layers
        after the input, 16,777,216 neurons per layer and 2,147,483,647 parameters (:mod:`bpframe.limits`).
    activation : str, Activation, or a sequence of them
        One for all layers after the input, or one per layer (``len(sizes) - 1`` of them).
    loss : str or Loss
        The cost function (``"quadratic"``, ``"cross_entropy"``, ``"binary_cross_entropy"``, or a plugin's).
    dtype : {"float64", "float32"}
        The dtype of parameters and computations.
    init : str, Initializer, or a sequence of them, optional
        Weight initializer for all layers or per layer: ``"normal"``, ``"scaled_normal"``, ``"glorot"``,
        ``"he"``, a plugin's (``bp.initializers()`` lists them) or an :class:`~bpframe.Initializer`. By default
        each layer uses its activation's ``default_init``.
    seed : int, optional
        Seeds initialization and the shuffling in :meth:`fit`; the same seed gives the same results.

    Raises
    ------
    ConfigurationError
        For invalid sizes, dtype, initializer, seed, or a wrong number of activations; for a network beyond the
        limits above or larger than the machine's memory (the message names the layer and the bytes), before
        anything is allocated.
    UnknownNameError
        For an activation or loss name that no installed plugin registers.

    Examples
    --------
    >>> import numpy as np
    >>> import bpframe as bp
    >>> net = bp.Network([2, 3, 1], activation="sigmoid", loss="quadratic", seed=0)
    >>> net.weights[1].shape, net.biases[2].shape
    ((3, 2), (1,))
    >>> net.feedforward(np.array([[0.0, 1.0]])).shape
    (1, 1)
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str | Activation | Sequence[str | Activation] = "sigmoid",
        loss: str | Loss = "quadratic",
        *,
        dtype: str | type | np.dtype = "float64",
        init: str | Initializer | Sequence[str | Initializer] | None = None,
        seed: int | None = None,
    ) -> None:
        sizes = check_sizes(sizes)
        activations = resolve_activations(activation, len(sizes) - 1)
        loss_spec = resolve_loss(loss)
        dtype = check_dtype(dtype)
        check_network_size(sizes, dtype)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or int(seed) < 0):
            raise ConfigurationError(f"seed must be None or an int >= 0, got {seed!r}")
        self._configure(sizes, activations, loss_spec, dtype, seed)
        init_seq, shuffle_seq, split_seq = np.random.SeedSequence(seed).spawn(3)
        self._shuffle_rng = np.random.default_rng(shuffle_seq)
        self._split_seed = split_seq  # validation_split: the same rows on every call
        self._init_names = resolve_initializers(init, self._activations)
        rng = np.random.default_rng(init_seq)
        for l, init_spec in enumerate(self._init_names, start=1):
            w, b = initialize_layer(init_spec, self._sizes[l - 1], self._sizes[l], rng, describe(init_spec))
            self._w_views[l - 1][...] = w
            self._b_views[l - 1][...] = b

    def _configure(
        self, sizes: tuple[int, ...], activations: tuple[Activation, ...], loss: Loss, dtype: np.dtype, seed: int | None
    ) -> None:
        """Set the configuration and allocate the (uninitialised) parameters; nothing trained yet."""
        self._sizes, self._activations, self._loss, self._dtype = sizes, activations, loss, dtype
        self._seed = None if seed is None else int(seed)
        self._sizes_array = np.array(self._sizes, dtype=np.int64)
        self._n_weights = sum(self._sizes[l] * self._sizes[l - 1] for l in range(1, len(self._sizes)))
        self._theta = np.empty(self._n_weights + sum(self._sizes[1:]), dtype=self._dtype)
        self._w_views, self._b_views = self._views(self._theta)
        self._program: Any = None
        #: Every epoch trained so far, over all calls to fit (epochs numbered on from the previous call).
        self.history = History()
        self._optimizer_state: Any = None
        self._run: RunCursor | None = None  # an unfinished fit that the same fit call again continues
        self._training = threading.Lock()  # one fit at a time per network (see fit)
        self._mask_key: int | None = None  # decides the dropout masks, with the update count (see _dropout_key)
        self._fit_settings: dict[str, Any] | None = None  # the last fit's settings (see fit_settings)

    @property
    def fit_settings(self) -> dict[str, Any] | None:
        """The settings of the last :meth:`fit` (``optimizer`` name, ``eta``, ``lmbda``, ``l1``, ``dropout`` per
        hidden layer, ``batch_size``, ``epochs``), or None before any; model files keep them, so a loaded model
        says how it was trained (``bpframe info`` shows them).

        Examples
        --------
        >>> import bpframe as bp
        >>> net = bp.Network([2, 4, 1], seed=0)
        >>> _ = net.fit([[0.0, 1.0], [1.0, 0.0]], [[1.0], [0.0]], epochs=2, l1=0.5, dropout=0.2, verbose=0)
        >>> net.fit_settings
        {'optimizer': 'sgd', 'eta': 0.1, 'lmbda': 0.0, 'l1': 0.5, 'dropout': [0.2], 'batch_size': 2, 'epochs': 2}
        """
        return None if self._fit_settings is None else copy.deepcopy(self._fit_settings)

    def _dropout_key(self) -> int:
        """The 63-bit key of this network's dropout masks (:mod:`bpframe.kernels.dropout`): derived from the seed,
        so a seeded network drops the same neurons on every run; drawn from the OS once for a network without."""
        if self._mask_key is None:
            entropy = None if self._seed is None else [self._seed, 0x64726F70]
            state = np.random.SeedSequence(entropy).generate_state(1, np.uint64)
            self._mask_key = int(state[0] >> np.uint64(1))
        return self._mask_key

    # -- configuration -------------------------------------------------------------------------------------

    def _views(self, theta: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Weight and bias views into a flat parameter vector laid out like ``theta``."""
        ws, bs = [], []
        w_start, b_start = 0, self._n_weights
        for l in range(1, len(self._sizes)):
            rows, cols = self._sizes[l], self._sizes[l - 1]
            ws.append(theta[w_start : w_start + rows * cols].reshape(rows, cols))
            bs.append(theta[b_start : b_start + rows])
            w_start += rows * cols
            b_start += rows
        return ws, bs

    @property
    def sizes(self) -> tuple[int, ...]:
        """Neurons per layer, input first."""
        return self._sizes

    @property
    def num_layers(self) -> int:
        """L, the number of layers after the input (weight matrices)."""
        return len(self._sizes) - 1

    @property
    def activations(self) -> tuple[Activation, ...]:
        """The activation of layers 1..L (index 0 is layer 1)."""
        return self._activations

    @property
    def loss(self) -> Loss:
        """The loss."""
        return self._loss

    @property
    def dtype(self) -> np.dtype:
        """The dtype of parameters and computations."""
        return self._dtype

    @property
    def seed(self) -> int | None:
        """The seed given at construction."""
        return self._seed

    @property
    def weights(self) -> LayerList:
        """``weights[l]``, l = 1..L: :math:`w^l` of shape ``(sizes[l], sizes[l-1])``; a live, writable view."""
        return LayerList(self._w_views, first=1, what="weights", setter=self._set_weight)

    @property
    def biases(self) -> LayerList:
        """``biases[l]``, l = 1..L: :math:`b^l` of shape ``(sizes[l],)``; a live, writable view."""
        return LayerList(self._b_views, first=1, what="biases", setter=self._set_bias)

    def _set_param(self, what: str, views: list[np.ndarray], l: int, value: object) -> None:
        target = views[l - 1]
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise DataError(f"{what}[{l}] must be a real numeric array, got dtype {array.dtype}")
        if array.shape != target.shape:
            raise DataError(f"{what}[{l}] must have shape {target.shape}, got {array.shape}")
        if not np.isfinite(array).all():
            raise DataError(f"{what}[{l}] must be finite; the value given contains NaN or inf")
        target[...] = array

    def _set_weight(self, l: int, value: object) -> None:
        self._set_param("weights", self._w_views, l, value)

    def _set_bias(self, l: int, value: object) -> None:
        self._set_param("biases", self._b_views, l, value)

    def parameters(self) -> np.ndarray:
        """A copy of all parameters as one flat vector: every weight matrix (layer 1 first), then every bias."""
        copy: np.ndarray = self._theta.copy()
        return copy

    def set_parameters(self, theta: object) -> None:
        """Set all parameters from a flat vector laid out as :meth:`parameters` returns it."""
        array = np.asarray(theta)
        if array.shape != self._theta.shape or array.dtype.kind not in "biuf":
            raise DataError(f"parameters must be a real vector of shape {self._theta.shape}, got {array.shape}")
        if not np.isfinite(array).all():
            raise DataError("parameters must be finite; the vector given contains NaN or inf")
        self._theta[...] = array

    def snapshot(self) -> Snapshot:
        """A copy of everything training changes: parameters, optimizer state and step count, the shuffling
        generator's state, the history, and an interrupted run's place (see :class:`bpframe.state.Snapshot`).

        Examples
        --------
        >>> import numpy as np
        >>> import bpframe as bp
        >>> net = bp.Network([2, 3, 1], seed=0)
        >>> before = net.snapshot()
        >>> X, y = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[1.0], [0.0]])
        >>> _ = net.fit(X, y, epochs=2, batch_size=1, verbose=0)
        >>> net.restore(before)
        >>> bool((net.parameters() == before.theta).all()), len(net.history)
        (True, 0)
        """
        optimizer = self._optimizer_state
        if optimizer is not None:  # also the state of a loaded model, which is not a bpframe.state.OptimizerState
            optimizer = OptimizerState(dict(optimizer.config), np.array(optimizer.state), int(optimizer.step))
        return Snapshot(
            theta=self._theta.copy(),
            optimizer=optimizer,
            shuffle=copy.deepcopy(dict(self._shuffle_rng.bit_generator.state)),
            history=copy.deepcopy(self.history),
            run=None if self._run is None else self._run.copy(),
        )

    def restore(self, snapshot: Snapshot, *, history: bool = True) -> None:
        """Put the network back exactly as it was when ``snapshot`` was taken; ``history=False`` keeps the history
        as it is now (early stopping restores the best epoch's state but keeps the record of every epoch).

        Raises
        ------
        ConfigurationError
            If ``snapshot`` is not a :class:`bpframe.state.Snapshot` of a network of this shape and dtype.
        """
        if not isinstance(snapshot, Snapshot) or snapshot.theta.shape != self._theta.shape:
            raise ConfigurationError(
                f"restore() takes a snapshot of a network with {self._theta.size} parameters, got {snapshot!r:.80}"
            )
        if snapshot.theta.dtype != self._dtype:
            raise ConfigurationError(
                f"the snapshot holds {snapshot.theta.dtype} parameters; this network is {self._dtype}"
            )
        self._theta[...] = snapshot.theta
        optimizer = snapshot.optimizer
        self._optimizer_state = None if optimizer is None else optimizer.copy()
        self._shuffle_rng.bit_generator.state = copy.deepcopy(snapshot.shuffle)
        if history:
            self.history = copy.deepcopy(snapshot.history)
        self._run = None if snapshot.run is None else snapshot.run.copy()

    # -- copying and pickling --------------------------------------------------------------------------------

    def _state(self, portable: bool) -> dict[str, Any]:
        """Configuration and whole trained state; ``portable`` describes the specs for another process."""
        layers = range(1, self.num_layers + 1)
        specs: list[Any] = [*self._activations, self._loss, *self._init_names]
        if portable:
            where = [
                *(f"layer {l}'s activation" for l in layers),
                "the loss",
                *(f"layer {l}'s initializer" for l in layers),
            ]
            specs = [spec_state(spec, place) for spec, place in zip(specs, where, strict=True)]
        L = self.num_layers
        return {
            "version": STATE_VERSION, "sizes": self._sizes, "activations": tuple(specs[:L]), "loss": specs[L],
            "init": tuple(specs[L + 1 :]), "dtype": self._dtype.name, "seed": self._seed,
            "split_seed": copy.deepcopy(self._split_seed), "snapshot": self.snapshot(),
            "fit_settings": copy.deepcopy(self._fit_settings),
        }  # fmt: skip

    def __getstate__(self) -> dict[str, Any]:
        """What pickling stores: configuration, parameters, optimizer state, shuffle state and history (never
        compiled code; see :mod:`bpframe.pickling`)."""
        return self._state(portable=True)

    def __setstate__(self, state: dict[str, Any]) -> None:
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            found = state.get("version") if isinstance(state, dict) else type(state).__name__
            raise ConfigurationError(
                f"cannot unpickle the network: its state has version {found!r}; this bpframe reads version "
                f"{STATE_VERSION} (pickle it again with this bpframe, or save it with Network.save)"
            )
        acts = tuple(a if isinstance(a, Activation) else spec_from_state(a, "activation") for a in state["activations"])
        loss = state["loss"] if isinstance(state["loss"], Loss) else spec_from_state(state["loss"], "loss")
        self._configure(tuple(state["sizes"]), acts, loss, check_dtype(state["dtype"]), state["seed"])
        self._init_names = tuple(
            i if isinstance(i, Initializer) else spec_from_state(i, "initializer") for i in state["init"]
        )
        self._split_seed = state["split_seed"]
        self._fit_settings = copy.deepcopy(state.get("fit_settings"))
        self._shuffle_rng = np.random.default_rng()
        self.restore(state["snapshot"])

    def __deepcopy__(self, memo: dict[int, Any]) -> Network:
        """An independent copy sharing nothing mutable (the activation and loss objects are immutable and shared)."""
        other = type(self).__new__(type(self))
        memo[id(self)] = other
        other.__setstate__(self._state(portable=False))
        return other

    def __copy__(self) -> Network:
        """An independent copy, as :func:`copy.deepcopy` gives: a network never shares its parameters."""
        return self.__deepcopy__({})

    def _repr_html_(self) -> str:
        """The network as an HTML table, for Jupyter: layers, parameters, loss, training so far."""
        from .display import network_html

        return network_html(self)

    def __repr__(self) -> str:
        acts = [a.name for a in self._activations]
        return (
            f"Network({list(self._sizes)!r}, activation={acts!r}, loss={self._loss.name!r}, dtype={self._dtype.name!r})"
        )

    # -- the compiled engine ---------------------------------------------------------------------------------

    @property
    def program(self) -> Any:
        """What the engine runs for this network: its layout and the compiled blocks of its functions (built on
        first use; blocks are shared by every network that uses the same functions and dtype)."""
        if self._program is None:
            from .kernels.program import Program  # the compiled engine: numba is imported on first use only

            self._program = Program(self._sizes, self._activations, self._loss, self._dtype, describe)
        return self._program

    def kernel_source(self) -> str:
        """The readable source of what runs for this network: the equation kernels, the blocks that apply its
        activations and loss to whole layers (with the plugin functions themselves), and the engine's loop."""
        return str(self.program.source())

    # -- computing --------------------------------------------------------------------------------------------

    def _inputs(self, X: Any, name: str = "X") -> np.ndarray:
        return as_inputs(name, X, self._sizes[0], self._dtype)

    def _targets(self, Y: Any, n: int, name: str = "Y", x_name: str = "X") -> np.ndarray:
        loss = self._loss
        return as_targets(
            name, Y, n, self._sizes[-1], self._dtype, loss.target_range, loss.name, x_name, loss.targets_sum_to_one
        )

    def feedforward(self, X: Any) -> np.ndarray:
        r"""The network's output :math:`a^L` for every row of X.

        Parameters
        ----------
        X : array_like, shape (n, sizes[0])
            Inputs, one sample per row; any real dtype (converted once to the network's dtype).

        Returns
        -------
        ndarray, shape (n, sizes[-1])

        Raises
        ------
        DataError
            If X is not a finite, non-empty, real 2-D array with ``sizes[0]`` columns.
        """
        x = self._inputs(X)
        out = np.empty((x.shape[0], self._sizes[-1]), dtype=self._dtype)
        status = np.zeros(STATUS_FIELDS, np.int64)
        self.program.evaluate(self._theta, x, np.empty((x.shape[0], 0), self._dtype), out, _CHUNK, status)
        self._raise_if_plugin_raised(status, x)
        if not np.isfinite(out).all():
            self._raise_plugin_fault(x[~np.isfinite(out).all(axis=1)][:64])
        return out

    def _raise_plugin_fault(self, x: np.ndarray, y: np.ndarray | None = None) -> None:
        """Raise PluginError when a plugin function caused the non-finite values computed from these rows."""
        from .diagnose import find_plugin_fault

        fault = find_plugin_fault(self, x, y)
        if fault is not None:
            raise PluginError(f"{fault}; finite inputs gave a non-finite result")

    def predict(self, X: Any) -> np.ndarray:
        """Class predictions: the argmax of each output row, or ``output > 0.5`` for a single output unit.

        Returns
        -------
        ndarray of int64, shape (n,)
        """
        out = self.feedforward(X)
        labels: np.ndarray = (out[:, 0] > 0.5) if out.shape[1] == 1 else np.argmax(out, axis=1)
        return labels.astype(np.int64)

    def backprop(self, X: Any, Y: Any, *, dropout: Any = 0.0, step: int = 0) -> BackpropResult:
        r"""Run the forward pass and the four equations on one batch and return every quantity involved.

        The gradients are those of the mean per-sample cost :math:`C = \frac{1}{m}\sum_x C_x` over the m rows of
        the batch. With ``dropout``, the hidden layers drop neurons as ``fit(dropout=...)`` does at update number
        ``step`` (counted from 0 by the optimizer's step count): ``mask[l]`` is the mask :math:`r^l` (0 for a
        dropped neuron, :math:`1/(1-p)` for a kept one), the next layer reads :math:`r^l \odot a^l`, and BP2 and
        BP4 use the mask (:mod:`bpframe.kernels.dropout`).

        Parameters
        ----------
        X : array_like, shape (m, sizes[0])
            The batch's inputs, of any real dtype (converted once to the network's dtype; the caller's array
            is not modified).
        Y : array_like, shape (m, sizes[-1]) or (m,)
            Targets, or integer class labels (turned into one-hot rows).
        dropout : float in [0, 1), or one per hidden layer
            Probability of dropping each neuron of the hidden layers (0: none), as in :meth:`fit`.
        step : int >= 0
            The update whose masks to draw: the masks of ``fit``'s update number ``step`` for the rows of this
            batch (row i of the batch gets row i's mask).

        Returns
        -------
        BackpropResult
            ``z[l]``, ``a[l]``, ``delta[l]``, ``nabla_b[l]``, ``nabla_w[l]`` per layer, ``mask[l]`` per hidden
            layer, and ``cost``.

        Examples
        --------
        >>> import bpframe as bp
        >>> net = bp.Network([2, 3, 2], activation=["tanh", "softmax"], loss="cross_entropy", seed=1)
        >>> g = net.backprop([[0.5, -1.0]], [1])
        >>> g.delta[2].shape, g.nabla_w[1].shape, g.a[0].tolist()
        ((1, 2), (3, 2), [[0.5, -1.0]])
        """
        from .training import check_dropout

        x = self._inputs(X)
        y = self._targets(Y, x.shape[0])
        rates = check_dropout(dropout, self.num_layers - 1)
        if isinstance(step, bool) or not isinstance(step, numbers.Integral) or not 0 <= int(step) < 2**63:
            raise ConfigurationError(f"step must be an int >= 0 (an update number), got {step!r}")
        result = self._backprop_arrays(x, y, rates=rates, step=int(step))
        if not (np.isfinite(result.cost) and all(np.isfinite(g).all() for g in result.nabla_w)):
            self._raise_plugin_fault(x, y)
        return result

    def _backprop_arrays(self, x: np.ndarray, y: np.ndarray, check: bool = True, rates: tuple[float, ...] = (),
                         step: int = 0) -> BackpropResult:  # fmt: skip
        """backprop on validated arrays (``rates``: dropout per hidden layer, or none), without the search for a
        faulty plugin."""
        n, dtype, total = x.shape[0], self._dtype, sum(self._sizes)
        zs, acts, deltas, masks = (np.empty(n * total, dtype) for _ in range(4))
        masks.fill(1.0)  # the result's mask without dropout; the engine writes the dropping layers' masks
        kept = np.empty(n * total if rates else 0, dtype)
        layers = [_buffer_layers(buf, self._sizes, n) for buf in (zs, acts, deltas, masks)]
        layers[1][0][...] = x
        grad = np.empty_like(self._theta)
        status = np.zeros(STATUS_FIELDS, np.int64)
        drop = np.array([0.0, *rates, 0.0] if rates else [], np.float64)
        key = self._dropout_key() if rates else 0
        cost = self.program.backprop(self._theta, zs, acts, deltas, y, grad, status, (drop, key, step, masks, kept))
        if check:
            self._raise_if_plugin_raised(status, x, y)
        nabla_w, nabla_b = self._views(grad)
        return BackpropResult(
            z=LayerList(layers[0][1:], first=1, what="z"),
            a=LayerList(layers[1], first=0, what="a"),
            delta=LayerList(layers[2][1:], first=1, what="delta"),
            nabla_b=LayerList(nabla_b, first=1, what="nabla_b"),
            nabla_w=LayerList(nabla_w, first=1, what="nabla_w"),
            cost=float(cost) / n,
            mask=LayerList(layers[3][1:-1], first=1, what="mask"),
        )

    def evaluate(self, X: Any, Y: Any) -> dict[str, float]:
        """Mean cost and accuracy on a data set.

        Accuracy compares the argmax of each output row with the argmax of the target row (or, for a single
        output unit, ``a > 0.5`` with ``y > 0.5``). The cost has no regularisation term. X and Y may have any
        real dtype and layout; they are converted once to the network's dtype (the caller's arrays are not
        modified).

        Returns
        -------
        dict
            ``{"cost": float, "accuracy": float}``
        """
        x = self._inputs(X)
        y = self._targets(Y, x.shape[0])
        cost, correct = self._evaluate(x, y)
        if not np.isfinite(cost):
            self._raise_plugin_fault(x[:256], y[:256])
        return {"cost": cost, "accuracy": correct / x.shape[0]}

    def _evaluate(self, x: np.ndarray, y: np.ndarray, theta: np.ndarray | None = None) -> tuple[float, int]:
        """Mean cost and number correct on validated arrays (optionally at other parameters)."""
        out = np.empty((x.shape[0], self._sizes[-1]), dtype=self._dtype)
        params = self._theta if theta is None else theta
        status = np.zeros(STATUS_FIELDS, np.int64)
        cost, correct = self.program.evaluate(params, x, y, out, _CHUNK, status)
        self._raise_if_plugin_raised(status, x, y)
        return float(cost) / x.shape[0], int(correct)

    def _raise_if_plugin_raised(self, status: np.ndarray, x: np.ndarray, y: np.ndarray | None = None) -> None:
        """Raise PluginError naming the plugin function that raised inside the engine, and its input."""
        from .diagnose import plugin_raised

        error = plugin_raised(self, status, x, y)
        if error is not None:
            raise error

    def save(self, path: str | os.PathLike[str], *, include_optimizer: bool = False) -> Path:
        """Save the network to one ``.npz`` file, atomically; see :func:`bpframe.io.save_network`.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> import bpframe as bp
        >>> net = bp.Network([2, 3, 1], seed=0)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = net.save(pathlib.Path(folder) / "net.npz")
        ...     again = bp.load(path)
        >>> bool((again.parameters() == net.parameters()).all())
        True
        """
        from .io import save_network

        return save_network(self, path, include_optimizer=include_optimizer)

    def fit(
        self,
        X: Any,
        Y: Any,
        *,
        epochs: int = 10,
        batch_size: int = 32,
        eta: float = 0.1,
        lmbda: float = 0.0,
        optimizer: Any = "sgd",
        schedule: Any = None,
        validation_data: tuple[Any, Any] | None = None,
        validation_split: float | None = None,
        shuffle: bool = True,
        callbacks: Sequence[object] | None = None,
        verbose: int = 1,
        l1: float = 0.0,
        dropout: float | Sequence[float] = 0.0,
        layer_speed: bool = False,
    ) -> History:
        r"""Train by mini-batch gradient descent: the book's SGD, or momentum, Nesterov momentum or Adam.

        Each epoch shuffles the rows (from the network's seed), splits them into mini-batches of
        ``batch_size`` (the last one may be smaller; a ``batch_size`` larger than the data means one batch of
        all of it), and updates the parameters after each batch. With plain SGD,

        .. math:: w \leftarrow w - \eta\left(\nabla_w C + \tfrac{\lambda}{n} w\right), \qquad
                  b \leftarrow b - \eta \nabla_b C

        where :math:`\nabla C` is the mean over the m samples of the batch and n the number of training samples
        (m is ``batch_size``, n the rows of ``X`` trained on). The other optimizers
        use the same L2-decayed gradient (see :mod:`bpframe.optimizers`). ``l1`` adds the book's L1 term,
        :math:`w \leftarrow w - \frac{\eta\lambda_1}{n}\operatorname{sgn}(w) - \dots`, and ``dropout`` drops
        hidden neurons while training (:mod:`bpframe.kernels.dropout`).

        Parameters
        ----------
        X : array_like, shape (n, sizes[0])
            Inputs of any real dtype and memory layout (read-only and memory-mapped arrays too), converted once
            to the network's dtype before training; the caller's arrays are never modified.
        Y : array_like, shape (n, sizes[-1]) or (n,) of int class labels
        epochs : int >= 1
        batch_size : int >= 1
        eta : float > 0
            The (initial) learning rate.
        lmbda : float >= 0
            L2 weight decay strength λ, as in the book's network2 (0 turns it off).
        optimizer : str or optimizer object
            ``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"adam"``, or ``bp.Momentum(mu=0.8)`` etc. Its state
            carries over to the next ``fit`` with an equal optimizer (and is saved with the model if asked).
        schedule : schedule object, optional
            ``bp.StepDecay(step, factor)`` or ``bp.ExponentialDecay(rate)``: the learning rate per epoch.
        validation_data : (X_val, Y_val), optional
            Scored after every epoch into ``history.val_cost`` and ``history.val_accuracy``.
        validation_split : float in (0, 1), optional
            Hold out this share of the rows of X and Y as validation data instead (not together with
            ``validation_data``): seeded by the network's seed, the same rows on every call, stratified by class
            when the targets are class labels or one-hot rows, random otherwise (:mod:`bpframe.split`). Training
            uses the other rows only.
        shuffle : bool
            Shuffle the rows every epoch (default) or keep their order.
        callbacks : list of objects, optional
            Objects with ``@bpframe.hookimpl`` methods for the training events (e.g. ``bp.EarlyStopping``).
        verbose : {0, 1, 2}
            0 prints nothing; 1 shows a progress bar on a terminal and one line per epoch otherwise; 2 prints
            one line per epoch.
        l1 : float >= 0
            L1 regularisation strength :math:`\lambda_1` (0 turns it off): every weight's gradient gains
            :math:`\frac{\lambda_1}{n}\operatorname{sgn}(w)`, with n the number of training samples and
            :math:`\operatorname{sgn}(0) = 0`; biases are not regularised. Together with ``lmbda`` it is the
            elastic net.
        dropout : float in [0, 1), or a list with one per hidden layer
            Probability of dropping each neuron of the hidden layers at each update (inverted dropout: a kept
            neuron's output is divided by 1 − p, so nothing changes at prediction time, when no neuron is dropped:
            ``predict``, ``feedforward`` and ``evaluate`` never drop). The masks come from the network's seed and
            the update count, so a seeded run is reproducible and a resumed one continues exactly;
            ``backprop(..., dropout=p, step=k)`` shows update k's masks.
        layer_speed : bool
            Record each layer's learning speed per epoch, ``history.nabla_b_norm`` and ``history.nabla_w_norm``
            (see :class:`~bpframe.History`): the mean over the epoch's mini-batches (over 100 to 199 evenly spaced
            ones when an epoch has more) of the norms of :math:`\partial C/\partial b^l` and
            :math:`\partial C/\partial w^l`. Off, it costs nothing; on, the measured batches take the two-buffer
            update instead of SGD's in-place one (measured on the benchmarks page).

        Returns
        -------
        History
            This call's epochs; ``net.history`` accumulates every call's.

        Raises
        ------
        ConfigurationError
            For a setting out of range (named in the message), before any work; for a ``validation_split`` that
            would leave a side without a row, or (stratified) without every class.
        DataError
            For inputs or targets of the wrong shape, type or values, before any work.
        DivergenceError
            When a batch's cost or an update is not finite; the network keeps the parameters it had before that
            batch and the error carries the ``history`` so far. If a plugin function caused it, the message names
            the function and its input.
        ConcurrencyError
            When this network is already being trained by another thread (one ``fit`` per network at a time;
            several networks may train in parallel threads).
        """
        from .training import fit

        if not self._training.acquire(blocking=False):
            raise ConcurrencyError(
                "this Network is already being trained (fit was called from another thread while it runs); "
                "train one network per thread, or wait for the other fit to return"
            )
        try:
            if validation_split is not None:
                X, Y, validation_data = self._hold_out(X, Y, validation_split, validation_data)
            return fit(
                self,
                X,
                Y,
                epochs=epochs,
                batch_size=batch_size,
                eta=eta,
                lmbda=lmbda,
                optimizer=optimizer,
                schedule=schedule,
                validation_data=validation_data,
                shuffle=shuffle,
                callbacks=callbacks,
                verbose=verbose,
                l1=l1,
                dropout=dropout,
                layer_speed=layer_speed,
            )
        finally:
            self._training.release()

    def _hold_out(self, X: Any, Y: Any, fraction: Any, validation_data: Any) -> tuple[Any, Any, tuple[Any, Any]]:
        """Training rows, training targets and ``(X_val, Y_val)`` of ``fit(validation_split=fraction)``."""
        if validation_data is not None:
            raise ConfigurationError(
                "fit takes validation_data or validation_split, not both: validation_split holds out part of X and "
                "Y, validation_data is data of its own"
            )
        check_fraction("validation_split", fraction)
        x = self._inputs(X)
        part = holdout(x, self._targets(Y, x.shape[0]), fraction, self._split_seed)
        return part.x_train, part.y_train, (part.x_val, part.y_val)
