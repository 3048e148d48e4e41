"""The :class:`Network`: the public methods, which validate their arguments once and call the kernels.

A network owns one :class:`~bpframe.state.ModelState` and passes it explicitly to training
(``bpframe.training``), saving and loading (:mod:`bpframe.io`), gradient checking (``bpframe.gradcheck``)
and diagnosis (``bpframe.diagnose``); none of them imports this module. The functions here that take or
return a ``Network`` (:func:`gradient_check`, :func:`save_network`, :func:`load_network`) are the public faces of
those modules.
"""

from __future__ import annotations

import copy
import numbers
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import compute, io
from .activation import Activation
from .callbacks import check_callbacks
from .diagnose import check_backprop, raise_if_plugin_raised, raise_plugin_fault
from .display import network_html
from .errors import BpframeError, ConcurrencyError, ConfigurationError, DataError, ModelFileError
from .gradcheck import check_gradient
from .init import Initializer, initialize_layer
from .layers import LayerList
from .limits import check_network_size
from .loss import Loss
from .optimizers import resolve_optimizer, resolve_schedule
from .pickling import STATE_VERSION, spec_from_state, spec_state
from .results import BackpropResult, GradientCheckResult, History
from .specs import describe, resolve_activations, resolve_initializers, resolve_loss
from .split import check_fraction, holdout
from .state import ModelState, Snapshot
from .training import FitSettings, fit_data, train
from .validation import (
    check_dropout,
    check_dtype,
    check_flag,
    check_nonnegative_float,
    check_positive_float,
    check_positive_int,
    check_sizes,
    check_verbose,
)

__all__ = ["Network", "gradient_check", "load_network", "save_network"]


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
        seed = None if seed is None else int(seed)
        inits = resolve_initializers(init, activations)
        self._own(ModelState(sizes, activations, loss_spec, dtype, seed, inits))
        model, rng = self._model, np.random.default_rng(self._model.init_seed)
        for l, init_spec in enumerate(inits, start=1):
            w, b = initialize_layer(init_spec, sizes[l - 1], sizes[l], rng, describe(init_spec))
            model.w[l - 1][...] = w
            model.b[l - 1][...] = b

    def _own(self, model: ModelState) -> None:
        """Take ``model`` as this network's state."""
        self._model = model
        self._training = threading.Lock()  # one fit at a time per network (see fit)

    @property
    def history(self) -> History:
        """Every epoch trained so far, over all calls to fit (epochs numbered on from the previous call)."""
        return self._model.history

    @history.setter
    def history(self, value: History) -> None:
        self._model.history = value

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
        return None if self._model.fit_settings is None else copy.deepcopy(self._model.fit_settings)

    # -- configuration -------------------------------------------------------------------------------------

    @property
    def sizes(self) -> tuple[int, ...]:
        """Neurons per layer, input first."""
        return self._model.sizes

    @property
    def num_layers(self) -> int:
        """L, the number of layers after the input (weight matrices)."""
        return self._model.num_layers

    @property
    def activations(self) -> tuple[Activation, ...]:
        """The activation of layers 1..L (index 0 is layer 1)."""
        return self._model.activations

    @property
    def loss(self) -> Loss:
        """The loss."""
        return self._model.loss

    @property
    def dtype(self) -> np.dtype:
        """The dtype of parameters and computations."""
        return self._model.dtype

    @property
    def seed(self) -> int | None:
        """The seed given at construction."""
        return self._model.seed

    @property
    def weights(self) -> LayerList:
        """``weights[l]``, l = 1..L: :math:`w^l` of shape ``(sizes[l], sizes[l-1])``; a live, writable view."""
        return LayerList(self._model.w, first=1, what="weights", setter=self._set_weight)

    @property
    def biases(self) -> LayerList:
        """``biases[l]``, l = 1..L: :math:`b^l` of shape ``(sizes[l],)``; a live, writable view."""
        return LayerList(self._model.b, first=1, what="biases", setter=self._set_bias)

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
        self._set_param("weights", self._model.w, l, value)

    def _set_bias(self, l: int, value: object) -> None:
        self._set_param("biases", self._model.b, l, value)

    def parameters(self) -> np.ndarray:
        """A copy of all parameters as one flat vector: every weight matrix (layer 1 first), then every bias."""
        theta: np.ndarray = self._model.theta.copy()
        return theta

    def set_parameters(self, theta: object) -> None:
        """Set all parameters from a flat vector laid out as :meth:`parameters` returns it."""
        array = np.asarray(theta)
        theta = self._model.theta
        if array.shape != theta.shape or array.dtype.kind not in "biuf":
            raise DataError(f"parameters must be a real vector of shape {theta.shape}, got {array.shape}")
        if not np.isfinite(array).all():
            raise DataError("parameters must be finite; the vector given contains NaN or inf")
        theta[...] = array

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
        return self._model.snapshot()

    def restore(self, snapshot: Snapshot, *, history: bool = True) -> None:
        """Put the network back exactly as it was when ``snapshot`` was taken; ``history=False`` keeps the history
        as it is now (early stopping restores the best epoch's state but keeps the record of every epoch).

        Raises
        ------
        ConfigurationError
            If ``snapshot`` is not a :class:`bpframe.state.Snapshot` of a network of this shape and dtype.
        """
        model = self._model
        if not isinstance(snapshot, Snapshot) or snapshot.theta.shape != model.theta.shape:
            raise ConfigurationError(
                f"restore() takes a snapshot of a network with {model.theta.size} parameters, got {snapshot!r:.80}"
            )
        if snapshot.theta.dtype != model.dtype:
            raise ConfigurationError(
                f"the snapshot holds {snapshot.theta.dtype} parameters; this network is {model.dtype}"
            )
        model.restore(snapshot, history=history)

    # -- copying and pickling --------------------------------------------------------------------------------

    def _pickled(self, portable: bool) -> dict[str, Any]:
        """Configuration and whole trained state; ``portable`` describes the specs for another process."""
        model, layers = self._model, range(1, self.num_layers + 1)
        specs: list[Any] = [*model.activations, model.loss, *model.init]
        if portable:
            where = [
                *(f"layer {l}'s activation" for l in layers),
                "the loss",
                *(f"layer {l}'s initializer" for l in layers),
            ]
            specs = [spec_state(spec, place) for spec, place in zip(specs, where, strict=True)]
        L = self.num_layers
        return {
            "version": STATE_VERSION, "sizes": model.sizes, "activations": tuple(specs[:L]), "loss": specs[L],
            "init": tuple(specs[L + 1 :]), "dtype": model.dtype.name, "seed": model.seed,
            "split_seed": copy.deepcopy(model.split_seed), "snapshot": model.snapshot(),
            "fit_settings": copy.deepcopy(model.fit_settings),
        }  # fmt: skip

    def __getstate__(self) -> dict[str, Any]:
        """What pickling stores: configuration, parameters, optimizer state, shuffle state and history (never
        compiled code; see :mod:`bpframe.pickling`)."""
        return self._pickled(portable=True)

    def __setstate__(self, state: dict[str, Any]) -> None:
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            found = state.get("version") if isinstance(state, dict) else type(state).__name__
            raise ConfigurationError(
                f"cannot unpickle the network: its state has version {found!r}; this bpframe reads version "
                f"{STATE_VERSION} (pickle it again with this bpframe, or save it with Network.save)"
            )
        acts = tuple(a if isinstance(a, Activation) else spec_from_state(a, "activation") for a in state["activations"])
        loss = state["loss"] if isinstance(state["loss"], Loss) else spec_from_state(state["loss"], "loss")
        inits = tuple(i if isinstance(i, Initializer) else spec_from_state(i, "initializer") for i in state["init"])
        seed = state["seed"]
        model = ModelState(tuple(state["sizes"]), acts, loss, check_dtype(state["dtype"]), seed, inits)
        model.split_seed = state["split_seed"]
        model.fit_settings = copy.deepcopy(state.get("fit_settings"))
        self._own(model)
        self.restore(state["snapshot"])

    def __deepcopy__(self, memo: dict[int, Any]) -> Network:
        """An independent copy sharing nothing mutable (the activation and loss objects are immutable and shared)."""
        other = type(self).__new__(type(self))
        memo[id(self)] = other
        other.__setstate__(self._pickled(portable=False))
        return other

    def __copy__(self) -> Network:
        """An independent copy, as :func:`copy.deepcopy` gives: a network never shares its parameters."""
        return self.__deepcopy__({})

    def _repr_html_(self) -> str:
        """The network as an HTML table, for Jupyter: layers, parameters, loss, training so far."""
        return network_html(self)

    def __repr__(self) -> str:
        model = self._model
        acts = [a.name for a in model.activations]
        return (
            f"Network({list(model.sizes)!r}, activation={acts!r}, loss={model.loss.name!r}, dtype={model.dtype.name!r})"
        )

    # -- the compiled engine ---------------------------------------------------------------------------------

    @property
    def program(self) -> Any:
        """What the engine runs for this network: its layout and the compiled blocks of its functions (built on
        first use; blocks are shared by every network that uses the same functions and dtype)."""
        return self._model.program

    def kernel_source(self) -> str:
        """The readable source of what runs for this network: the equation kernels, the blocks that apply its
        activations and loss to whole layers (with the plugin functions themselves), and the engine's loop."""
        return str(self.program.source())

    # -- computing --------------------------------------------------------------------------------------------

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
        model = self._model
        x = model.inputs(X)
        out, status = compute.feedforward(model, x)
        raise_if_plugin_raised(model, status, x)
        if not np.isfinite(out).all():
            raise_plugin_fault(model, x[~np.isfinite(out).all(axis=1)][:64])
        return out

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
        model = self._model
        x = model.inputs(X)
        y = model.targets(Y, x.shape[0])
        rates = check_dropout(dropout, self.num_layers - 1)
        if isinstance(step, bool) or not isinstance(step, numbers.Integral) or not 0 <= int(step) < 2**63:
            raise ConfigurationError(f"step must be an int >= 0 (an update number), got {step!r}")
        result, status = compute.backprop(model, x, y, rates, int(step))
        check_backprop(model, result, status, x, y)
        return result

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
        model = self._model
        x = model.inputs(X)
        y = model.targets(Y, x.shape[0])
        cost, correct, status = compute.evaluate(model, x, y)
        raise_if_plugin_raised(model, status, x, y)
        if not np.isfinite(cost):
            raise_plugin_fault(model, x[:256], y[:256])
        return {"cost": cost, "accuracy": correct / x.shape[0]}

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
            For inputs or targets of the wrong shape, type or values, before any work; but when the network
            trains again with the same optimizer, a NaN or inf in ``X`` (used as given: already the network's
            dtype, C-contiguous and writable) is found as the first epoch reads it, and the fit is undone: the
            parameters, optimizer state, shuffling and history are as before the call, with the same message
            (callbacks see the fit start, and end with reason ``"failed"``).
        DivergenceError
            When a batch's cost or an update is not finite; the network keeps the parameters it had before that
            batch and the error carries the ``history`` so far. If a plugin function caused it, the message names
            the function and its input.
        ConcurrencyError
            When this network is already being trained by another thread (one ``fit`` per network at a time;
            several networks may train in parallel threads).
        """
        if not self._training.acquire(blocking=False):
            raise ConcurrencyError(
                "this Network is already being trained (fit was called from another thread while it runs); "
                "train one network per thread, or wait for the other fit to return"
            )
        try:
            if validation_split is not None:
                X, Y, validation_data = self._hold_out(X, Y, validation_split, validation_data)
            settings = FitSettings(
                epochs=check_positive_int("epochs", epochs),
                batch_size=check_positive_int("batch_size", batch_size),
                eta=check_positive_float("eta", eta),
                lmbda=check_nonnegative_float("lmbda", lmbda),
                optimizer=resolve_optimizer(optimizer),
                schedule=resolve_schedule(schedule),
                shuffle=check_flag("shuffle", shuffle),
                verbose=check_verbose(verbose),
                l1=check_nonnegative_float("l1", l1),
                dropout=check_dropout(dropout, self.num_layers - 1),
                layer_speed=check_flag("layer_speed", layer_speed),
            )
            data = fit_data(self._model, X, Y, validation_data)
            listeners = check_callbacks(callbacks, data.val is not None)
            return train(self._model, self, data, settings, listeners)
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
        model = self._model
        x = model.inputs(X)
        part = holdout(x, model.targets(Y, x.shape[0]), fraction, model.split_seed)
        return part.x_train, part.y_train, (part.x_val, part.y_val)


def gradient_check(
    net: Network, X: Any, Y: Any, *, eps: float = 1e-6, entries: int | None = 20, seed: int = 0
) -> GradientCheckResult:
    r"""Check ``net.backprop`` against central differences of the mean cost, layer by layer.

    For each checked parameter :math:`\theta_i`,
    :math:`\partial C / \partial \theta_i \approx (C(\theta + \epsilon e_i) - C(\theta - \epsilon e_i)) / 2\epsilon`.
    The check runs in float64 on a copy of the network (float32 has too few digits for differences), so it
    tests the equations and the plugin functions, not the float32 rounding.

    Parameters
    ----------
    net : Network
    X : array_like, shape (n, sizes[0])
        Inputs of any real dtype, converted once to float64 (the caller's array is not modified).
    Y : array_like, shape (n, sizes[-1]) or (n,) of int labels
    eps : float > 0
        The difference step.
    entries : int or None
        How many weights and how many biases of each layer to check (chosen at random from ``seed``);
        ``None`` checks every parameter.
    seed : int
        Chooses the entries.

    Returns
    -------
    GradientCheckResult
        The worst relative error per layer; ``result.passed(1e-6)`` tells whether all are below a tolerance.

    Examples
    --------
    >>> import numpy as np
    >>> import bpframe as bp
    >>> net = bp.Network([3, 4, 2], activation="tanh", loss="quadratic", seed=0)
    >>> rng = np.random.default_rng(0)
    >>> result = bp.gradient_check(net, rng.normal(size=(5, 3)), rng.normal(size=(5, 2)))
    >>> result.passed(1e-6)
    True
    """
    if not isinstance(net, Network):
        raise ConfigurationError(f"net must be a bpframe.Network, got {type(net).__name__}")
    eps = check_positive_float("eps", eps)
    if entries is not None and (isinstance(entries, bool) or not isinstance(entries, numbers.Integral) or entries < 1):
        raise ConfigurationError(f"entries must be None or an int >= 1, got {entries!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ConfigurationError(f"seed must be an int >= 0, got {seed!r}")
    if not np.isfinite(net._model.theta).all():
        raise DataError("parameters must be finite; the vector given contains NaN or inf")
    return check_gradient(net._model, X, Y, eps, None if entries is None else int(entries), int(seed))


def save_network(net: Network, path: str | os.PathLike[str], *, include_optimizer: bool = False) -> Path:
    """Save a network to one ``.npz`` file: its configuration, parameters, training history, and optionally
    its optimizer state.

    The file is written at exactly the path given (no suffix is appended; ``.npz`` is the conventional one)
    and atomically: it is written under a temporary name in the same folder, flushed to disk, then renamed
    onto ``path``, so a crash or a full disk never leaves a half-written model, and an existing file at
    ``path`` is only replaced by a complete new one. A ``path`` that is a symbolic link replaces the file the
    link points to. The format is described in :mod:`bpframe.io`; it contains no pickled Python objects.

    Parameters
    ----------
    net : Network
        The network to save.
    path : str or os.PathLike
        The file to write; its folder must exist.
    include_optimizer : bool, default False
        Also save the optimizer's state (e.g. Adam's moment estimates and step count), so that training can
        resume exactly where it stopped. Nothing is stored for a network without optimizer state.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ModelFileError
        When the file cannot be written (missing or unwritable folder, full disk, ...); the message names the
        path and the operating system's reason, and any existing file at ``path`` is left unchanged.
    DataError
        When the network's parameters contain NaN or inf (such a model could not be loaded again).
    ConfigurationError
        For an argument of the wrong type.

    See Also
    --------
    load_network : the inverse.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import bpframe as bp
    >>> from bpframe.io import load_network, save_network
    >>> net = bp.Network([2, 3, 1], activation=["tanh", "sigmoid"], loss="quadratic", seed=0)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = save_network(net, Path(folder) / "model.npz")
    ...     loaded = load_network(path)
    >>> path.name
    'model.npz'
    >>> loaded
    Network([2, 3, 1], activation=['tanh', 'sigmoid'], loss='quadratic', dtype='float64')
    >>> np.array_equal(loaded.parameters(), net.parameters())
    True
    """
    if not isinstance(net, Network):
        raise ConfigurationError(f"save_network needs a bpframe.Network, got {type(net).__name__}")
    if not isinstance(include_optimizer, bool):
        raise ConfigurationError(f"include_optimizer must be True or False, got {include_optimizer!r}")
    return io.save_model(net._model, path, include_optimizer)


def load_network(
    path: str | os.PathLike[str], *, custom_objects: Mapping[str, Activation | Loss] | None = None
) -> Network:
    """Load a network saved by :func:`save_network`, checking every part of the file first.

    Activation and loss names in the file are resolved through the installed plugins (the registry) or
    through ``custom_objects``; a file can never make bpframe import or run code, and a file containing a
    pickled object is refused. The loaded network computes bit-for-bit what the saved one did, and has the
    saved ``history`` and, if it was saved, the optimizer state.

    Parameters
    ----------
    path : str or os.PathLike
        The model file.
    custom_objects : mapping of str to Activation or Loss, optional
        Definitions for names saved from objects built in user code rather than registered by a plugin, e.g.
        ``{"softsign": bpframe.Activation("softsign", softsign, softsign_prime)}``. Each key must be its
        object's name. They take precedence over registered names.

    Returns
    -------
    Network

    Raises
    ------
    ModelFileError
        For every problem with the file; the message starts with the path and says what is wrong: missing,
        not a bpframe model (another kind of file), truncated or damaged, saved by a newer bpframe, invalid
        sizes, dtype or parameters, a pickled object inside, or an activation or loss that no installed
        plugin provides (the message names the distribution and version to ``pip install``).
    ConfigurationError
        For a ``custom_objects`` that is not a mapping of names to Activation or Loss objects.

    Warns
    -----
    PluginWarning
        When an activation or loss comes from another version of its plugin than the one that saved the
        file (the installed one is used), or a name saved as user-defined is now registered by a plugin.
        The built-ins are not compared: they follow bpframe's own version.

    See Also
    --------
    save_network : the inverse.

    Notes
    -----
    The network's shuffling generator starts again from the saved seed (its state is not part of the file),
    so further ``fit`` calls on the loaded network shuffle as a freshly built network with that seed would.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import bpframe as bp
    >>> from bpframe.io import load_network, save_network
    >>> net = bp.Network([4, 5, 3], activation=["relu", "softmax"], loss="cross_entropy", seed=1)
    >>> X = np.random.default_rng(0).normal(size=(6, 4))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     loaded = load_network(save_network(net, Path(folder) / "classifier.npz"))
    >>> np.array_equal(loaded.feedforward(X), net.feedforward(X))
    True
    >>> [a.name for a in loaded.activations], loaded.loss.name, loaded.seed
    (['relu', 'softmax'], 'cross_entropy', 1)
    """
    found = io.read_network(path, custom_objects)
    contents = found.contents
    try:
        net = Network(contents.sizes, found.activations, found.loss, dtype=contents.dtype, seed=contents.seed)
    except BpframeError as exc:
        raise ModelFileError(f"{found.path}: the network described by the file cannot be built: {exc}") from None
    net.set_parameters(contents.theta)
    model = net._model
    model.history, model.optimizer, model.fit_settings = contents.history, contents.optimizer, contents.training
    return net
