r"""Saving and loading networks: one ``.npz`` file, no pickles, written atomically, read within fixed bounds.

The file format (``format_version`` 2, or 3 with the layers' learning speed)
--------------------------------------------------------------------------
A model file is an *uncompressed* ZIP archive of NumPy ``.npy`` members, the layout :func:`numpy.savez`
writes, so ``numpy.load(path, allow_pickle=False)`` can inspect it too:

``metadata.npy``
    A 1-D ``uint8`` array holding UTF-8 JSON text (described below). Never a pickled object array.
``theta.npy``
    A 1-D array of the network's dtype: every weight matrix row-major, layer 1 first, then every bias;
    the layout of :meth:`bpframe.Network.parameters`.
``optimizer_state.npy`` (only when saved with ``include_optimizer=True`` and the network has a state)
    A 2-D array of the network's dtype, shape ``(rows, theta.size)``: the optimizer's per-parameter state
    (0 rows for SGD, 1 for momentum, 2 for Adam's m and v).
``history.npy`` (only for a network trained at least one epoch)
    A 1-D ``float64`` array: the history's columns one after the other, as long as the metadata's
    ``lengths`` say (the epoch numbers are whole numbers, stored exactly). A column may be shorter than
    ``epoch``: ``val_cost`` only has the epochs of the ``fit`` calls given validation data.
``layer_speed.npy`` (format 3: only for a network trained with ``fit(layer_speed=True)``)
    A ``float64`` array of shape ``(epochs, 2, L)``: for every epoch of the history (the metadata's
    ``"layer_speed": {"epochs": ...}`` repeats the count), :attr:`~bpframe.History.nabla_b_norm` and
    :attr:`~bpframe.History.nabla_w_norm` of each layer, NaN for an epoch trained without recording them. A file
    without it is written as format 2, so that bpframe 0.1 reads it; a file with it as format 3, which an older
    bpframe refuses with a message to upgrade instead of dropping the data.

The metadata is one JSON object::

    {
      "format": "bpframe-model",          # what the file is
      "format_version": 2,                # bumped on any incompatible change
      "bpframe_version": "0.1.0",         # the bpframe that wrote it
      "created": "2025-01-31T12:00:00+00:00",
      "sizes": [784, 30, 10],
      "dtype": "float64",                 # or "float32"
      "activations": [                    # one per layer after the input
        {"name": "sigmoid", "plugin": "bpframe.default_plugins.activations",
         "distribution": "bpframe", "version": "0.1.0", "user-defined": false}, ...],
      "loss": {"name": "cross_entropy", ...same keys...},
      "seed": 0,                          # or null
      "history": {"columns": ["epoch", "cost", "accuracy", "val_cost", "val_accuracy", "seconds"],
                  "lengths": [30, 30, 30, 20, 20, 30]},   # the non-empty columns ([] and [] untrained)
      "optimizer": {"config": {"name": "adam", ...}, "step": 120, "rows": 2},  # or null
      "training": {"optimizer": "adam", "eta": 0.001, "lmbda": 0.0, "l1": 0.0,  # the last fit (or null):
                   "dropout": [0.2], "batch_size": 32, "epochs": 100}          # Network.fit_settings
    }

An activation or loss that no plugin registered (an object built in user code) is recorded with
``"user-defined": true`` and ``plugin``, ``distribution`` and ``version`` null. ``sizes``, ``dtype``,
``activations`` and ``loss`` are required; a reader ignores top-level fields it does not know, so a new optional
field needs no new ``format_version``, while any change an older reader would misread must bump it.

Format version 1 (bpframe 0.1.0) is read too. It differs in two fields: ``history`` holds the columns
themselves as JSON lists (``{"epoch": [1, 2], "cost": [0.5, 0.25], ...}``, with ``NaN`` and ``Infinity`` as
Python's ``json`` writes them) and there is no ``history.npy``; the optimizer record has no ``rows``.
Version 2 moved the history into an array because it grows with every epoch trained, and the metadata must
stay small enough to be read whole before anything else.

Members are stored uncompressed: trained weights are floating-point numbers whose low mantissa bits are
close to random, so deflate shrinks them by only a few percent while costing time on every save and load;
stored members also keep each array's bytes verbatim, and the CRC-32 of every member is still verified on load.

Safety
------
Loading never unpickles and never imports: every member is read with its ``.npy`` header checked first (an
object dtype is refused before any byte of it is interpreted), the metadata is plain JSON, and activation and
loss names are looked up only in the plugin registry or in the ``custom_objects`` the caller passes. Every
problem with a file raises :class:`~bpframe.errors.ModelFileError`, whose message starts with the file's path.

Loading never allocates more than the file really holds (:mod:`bpframe.container`): the ZIP directory may list
at most a few entries, a compressed or encrypted member is refused without being expanded, the metadata is at
most :data:`~bpframe.limits.MAX_METADATA_BYTES` of JSON within the bounds of :mod:`bpframe.boundedjson`, the
network it describes must fit the limits of :mod:`bpframe.limits`, and each array's header must declare exactly
the dtype and shape the metadata implies before its data is read.

Saving is atomic: the file is written under a temporary name in the target's folder, flushed and fsynced,
then renamed onto the target with :func:`os.replace`. A reader, or a crash at any moment, sees either the old
complete file or the new complete file; on an error the temporary file is removed and the old file is left as
it was. The new file gets the permissions of the file it replaces, or the default ones (umask) for a new file.
A process killed during a save leaves its hidden temporary file behind (``.model.npz.<12 hex
digits>.bpframe-save.tmp``); the next successful save into the same folder deletes every such file of the
current user that has not changed for :data:`STALE_TEMPORARY_SECONDS`, and nothing else.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import secrets
import stat
import time
import zipfile
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from . import boundedjson
from ._version import __version__
from .activation import Activation
from .errors import (
    BpframeError,
    ConfigurationError,
    DataError,
    DuplicateNameError,
    ModelFileError,
    PluginWarning,
    UnknownNameError,
)
from .limits import MAX_METADATA_BYTES
from .loss import Loss
from .modelfile import FORMAT, FORMAT_VERSION, ModelContents, OptimizerState, read_model
from .plugins import get_registry
from .registry import Provenance
from .results import History
from .warn import warn

if TYPE_CHECKING:
    from .network import Network

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "STALE_TEMPORARY_SECONDS",
    "OptimizerState",
    "describe_model",
    "load_network",
    "save_network",
]

#: A temporary file left by an interrupted save is deleted by a later save once it is this old (seconds since
#: it last changed): a save still writing changes its file all the time.
STALE_TEMPORARY_SECONDS = 3600

_HISTORY_COLUMNS = tuple(History().as_dict())  # the per-epoch columns; the per-layer speeds have a member of their own
#: The temporary files of saves: this bpframe's, and those of format-1 bpframe (recognised by their contents).
_TEMPORARY = re.compile(r"\..{1,100}\.[0-9a-f]{12}\.bpframe-save\.tmp")
_OLD_TEMPORARY = re.compile(r"\..{1,100}\.[0-9a-f]{12}\.tmp")
_OLD_TEMPORARY_START = b"PK\x03\x04"
_OLD_TEMPORARY_FIRST_MEMBER = b"metadata.npy"  # at offset 30, after the local header's fixed part


# -- saving -------------------------------------------------------------------------------------------------


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
    _check_network(net)
    if not isinstance(include_optimizer, bool):
        raise ConfigurationError(f"include_optimizer must be True or False, got {include_optimizer!r}")
    target = _target_path(path)
    arrays = _arrays_to_save(net, include_optimizer)
    _write_atomically(target, arrays)
    return target


def _check_network(net: object) -> None:
    """Raise unless ``net`` is a :class:`~bpframe.Network`."""
    from .network import Network

    if not isinstance(net, Network):
        raise ConfigurationError(f"save_network needs a bpframe.Network, got {type(net).__name__}")


def _target_path(path: object) -> Path:
    """The path to write: ``path`` itself, or the file it links to."""
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise ConfigurationError(f"path must be a str or os.PathLike, got {type(path).__name__} {path!r}")
    target = Path(path)
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    if target.is_dir():
        raise ModelFileError(f"{target}: cannot save the model there: it is a folder; give a file name")
    return target


def _arrays_to_save(net: Network, include_optimizer: bool) -> dict[str, np.ndarray]:
    """Every member of the file, metadata first."""
    theta = net.parameters()
    if not np.isfinite(theta).all():
        raise DataError(
            f"cannot save the network: {np.count_nonzero(~np.isfinite(theta))} of its parameters are NaN or "
            "inf, and a model file must hold finite parameters"
        )
    optimizer = getattr(net, "_optimizer_state", None) if include_optimizer else None
    state = None if optimizer is None else _optimizer_array(optimizer.state, theta)
    history = getattr(net, "history", None) or History()
    columns, lengths, values = _history_columns(history)
    metadata = _metadata(net, optimizer, state, columns, lengths)
    speeds = _layer_speed(history, net.num_layers)
    if speeds is not None:
        metadata["format_version"], metadata["layer_speed"] = FORMAT_VERSION, {"epochs": speeds.shape[0]}
    arrays = {"metadata": np.frombuffer(_metadata_text(metadata), dtype=np.uint8), "theta": theta}
    if state is not None:
        arrays["optimizer_state"] = state
    if values.size:
        arrays["history"] = values
    if speeds is not None:
        arrays["layer_speed"] = speeds
    return arrays


def _layer_speed(history: History, layers: int) -> np.ndarray | None:
    """The history's per-layer learning speed as a (epochs, 2, L) float64 array, or None when none was recorded."""
    if not history.nabla_b_norm:
        return None
    rows = len(history.nabla_b_norm)
    try:
        speeds: np.ndarray = np.array([history.nabla_b_norm, history.nabla_w_norm], np.float64).transpose(1, 0, 2)
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"cannot save the network: its history's layer speeds are not a table of numbers ({exc})"
        ) from None
    if speeds.shape != (rows, 2, layers) or rows != len(history.epoch):
        raise DataError(
            f"cannot save the network: its history's layer speeds have shape {speeds.shape[:1] + speeds.shape[2:]} "
            f"per quantity; expected one row for each of the {len(history.epoch)} epochs, of {layers} layers"
        )
    if not (np.isnan(speeds) | (np.isfinite(speeds) & (speeds >= 0))).all():
        raise DataError(
            "cannot save the network: its history's layer speeds hold values that are not norms (>= 0, or NaN)"
        )
    return speeds


def _metadata(
    net: Network, optimizer: Any, state: np.ndarray | None, columns: list[str], lengths: list[int]
) -> dict[str, Any]:
    """The JSON object described in the module docstring."""
    return {
        "format": FORMAT,
        "format_version": 2,  # 3 when the file holds layer_speed.npy (_arrays_to_save)
        "bpframe_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "sizes": list(net.sizes),
        "dtype": net.dtype.name,
        "activations": [_spec_record(act) for act in net.activations],
        "loss": _spec_record(net.loss),
        "seed": None if net.seed is None else int(net.seed),
        "history": {"columns": columns, "lengths": lengths},
        "optimizer": None if state is None else _optimizer_record(optimizer, state.shape[0]),
        "training": getattr(net, "_fit_settings", None),
    }


def _metadata_text(metadata: dict[str, Any]) -> bytes:
    """The metadata as UTF-8 JSON, checked to be within the bounds every reader applies."""
    text = json.dumps(metadata, indent=1)
    try:
        boundedjson.loads(text)
    except boundedjson.JSONLimitError as exc:
        raise ConfigurationError(f"cannot save the network: its metadata would be beyond a limit: {exc}") from None
    data = text.encode("utf-8")
    if len(data) > MAX_METADATA_BYTES:
        raise ConfigurationError(
            f"cannot save the network: its metadata would be {len(data):,} bytes of JSON, more than the "
            f"{MAX_METADATA_BYTES:,} a model file allows (bpframe.limits.MAX_METADATA_BYTES)"
        )
    return data


def _spec_record(spec: Activation | Loss) -> dict[str, Any]:
    """Name and provenance of an activation or loss."""
    provenance = get_registry().provenance_of(spec)
    if provenance is None:
        return {"name": spec.name, "plugin": None, "distribution": None, "version": None, "user-defined": True}
    return {
        "name": spec.name,
        "plugin": provenance.plugin,
        "distribution": provenance.distribution,
        "version": provenance.version,
        "user-defined": False,
    }


def _history_columns(history: History) -> tuple[list[str], list[int], np.ndarray]:
    """The names and lengths of the history's non-empty columns, and their values one after the other."""
    values = history.as_dict()
    columns = [key for key in _HISTORY_COLUMNS if values[key]]
    epochs = len(values["epoch"])
    for key in columns:
        if len(values[key]) > epochs:
            raise DataError(
                f"cannot save the network: its history has {len(values[key])} values of {key!r} for {epochs} "
                "epochs; no column can have more values than there are epochs"
            )
    try:
        joined = np.array([v for key in columns for v in values[key]], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"cannot save the network: its history holds values that are not numbers ({exc})") from None
    return columns, [len(values[key]) for key in columns], joined


def _optimizer_record(optimizer: Any, rows: int) -> dict[str, Any]:
    """The optimizer's JSON part; its state array is stored as a member of its own."""
    record = {"config": dict(optimizer.config), "step": int(optimizer.step), "rows": rows}
    try:
        json.dumps(record, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"cannot save the optimizer: its config is not plain JSON data ({exc})") from None
    return record


def _optimizer_array(state: Any, theta: np.ndarray) -> np.ndarray:
    """The optimizer state as a C-contiguous (rows, theta.size) array of theta's dtype."""
    array = np.asarray(state)
    n_params = theta.shape[0]
    if array.ndim != 2 or array.shape[1] != n_params or array.dtype.kind != "f":
        raise ConfigurationError(
            f"cannot save the optimizer: its state must be a float array of shape (rows, {n_params}), "
            f"got dtype {array.dtype} shape {array.shape}"
        )
    return np.ascontiguousarray(array, dtype=theta.dtype)


def _write_atomically(target: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write the archive to a temporary file in the target's folder, fsync it, and rename it onto target."""
    fd, temporary = _create_temporary(target)
    try:
        with open(fd, "wb") as file:
            _write_npz(file, arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException as exc:
        _remove_quietly(temporary)
        if isinstance(exc, OSError):
            raise ModelFileError(
                f"{target}: cannot save the model: writing failed: {exc.strerror or exc}; "
                "any existing file at that path is unchanged"
            ) from exc
        raise
    _fsync_folder(target.parent)
    _remove_stale_temporaries(target.parent)


def _create_temporary(target: Path) -> tuple[int, Path]:
    """Create a new, uniquely named file next to ``target``, with the permissions ``target`` will need.

    ``os.open`` with mode 0o666 lets the umask apply, as for any new file; ``tempfile.mkstemp`` would
    create it 0o600 and the saved model would be unreadable to the user's group.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temporary = target.with_name(f".{target.name[:100]}.{secrets.token_hex(6)}.bpframe-save.tmp")
        try:
            fd = os.open(temporary, flags, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise ModelFileError(
                f"{target}: cannot save the model: cannot create a file in the folder {target.parent}: "
                f"{exc.strerror or exc}"
            ) from exc
        _copy_mode(target, temporary)
        return fd, temporary
    raise ModelFileError(f"{target}: cannot save the model: no free temporary name in {target.parent}")


def _copy_mode(source: Path, destination: Path) -> None:
    """Give ``destination`` the permission bits of ``source``, if it exists (best effort)."""
    with contextlib.suppress(OSError):
        os.chmod(destination, stat.S_IMODE(os.stat(source).st_mode))


def _write_npz(file: IO[bytes], arrays: dict[str, np.ndarray]) -> None:
    """The members as ``numpy.savez`` writes them, but never with a pickle."""
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def _remove_quietly(path: Path) -> None:
    """Delete ``path`` if it exists."""
    with contextlib.suppress(OSError):
        os.unlink(path)


def _remove_stale_temporaries(folder: Path) -> None:
    """Delete the temporary files that interrupted saves left in ``folder`` (best effort).

    Only regular files of the current user, named as a save names them, unchanged for
    :data:`STALE_TEMPORARY_SECONDS` (a save in progress keeps writing its own); a name of the format-1 bpframe,
    which did not mark its temporary files, also needs contents that start as that bpframe wrote them.
    """
    cutoff = time.time() - STALE_TEMPORARY_SECONDS
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                if _is_stale_temporary(entry, cutoff):
                    os.unlink(entry.path)


def _is_stale_temporary(entry: os.DirEntry[str], cutoff: float) -> bool:
    """True for a file of this user named and written like a save's temporary file, unchanged since ``cutoff``."""
    new, old = _TEMPORARY.fullmatch(entry.name), _OLD_TEMPORARY.fullmatch(entry.name)
    if not (new or old) or not entry.is_file(follow_symlinks=False):
        return False
    info = entry.stat(follow_symlinks=False)
    if info.st_mtime > cutoff or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
        return False
    return bool(new) or _starts_like_a_save(entry.path)


def _starts_like_a_save(path: str) -> bool:
    """True when the file begins as every save wrote it: a ZIP local header for the ``metadata.npy`` member."""
    with open(path, "rb") as file:
        head = file.read(30 + len(_OLD_TEMPORARY_FIRST_MEMBER))
    return head.startswith(_OLD_TEMPORARY_START) and head[30:] == _OLD_TEMPORARY_FIRST_MEMBER


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX only; best effort)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):  # some file systems cannot fsync a folder; the rename is done anyway
            os.fsync(fd)
    finally:
        os.close(fd)


# -- loading ------------------------------------------------------------------------------------------------


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
    custom = _check_custom_objects(custom_objects)
    where = os.fspath(path) if isinstance(path, (str, os.PathLike)) else path
    if not isinstance(where, str):
        raise ConfigurationError(f"path must be a str or os.PathLike, got {type(path).__name__} {path!r}")
    _, model = read_model(where)
    messages: list[str] = []
    missing: list[_Missing] = []
    activations = [
        _resolve(where, "activation", f"layer {l}'s activation", record, custom, messages, missing)
        for l, record in enumerate(model.activations, start=1)
    ]
    loss = _resolve(where, "loss", "the loss", model.loss, custom, messages, missing)
    if missing:
        raise ModelFileError(_missing_objects(where, missing, get_registry().failures))
    for message in messages:
        warn(message, PluginWarning)
    return _build(where, model, activations, loss)


def _check_custom_objects(custom_objects: object) -> dict[str, Activation | Loss]:
    """Validate the ``custom_objects`` argument."""
    if custom_objects is None:
        return {}
    if not isinstance(custom_objects, Mapping):
        raise ConfigurationError(
            f"custom_objects must be a dict of name -> bpframe.Activation or bpframe.Loss, "
            f"got {type(custom_objects).__name__}"
        )
    for key, value in custom_objects.items():
        if not isinstance(value, (Activation, Loss)):
            raise ConfigurationError(
                f"custom_objects[{key!r}] must be a bpframe.Activation or bpframe.Loss, got {type(value).__name__}"
            )
        if key != value.name:
            raise ConfigurationError(
                f"custom_objects[{key!r}] is {value!r}; the key must be the object's name, {value.name!r}"
            )
    return dict(custom_objects)


# -- names --------------------------------------------------------------------------------------------------


def _resolve(
    path: str,
    kind: str,
    subject: str,
    record: dict[str, Any],
    custom: dict[str, Activation | Loss],
    messages: list[str],
    missing: list[_Missing],
) -> Any:
    """The spec object for a saved name: from ``custom_objects``, else from the registry; ``None`` (recorded in
    ``missing``) when nothing registers it."""
    name = record["name"]
    expected = Activation if kind == "activation" else Loss
    if name in custom:
        if not isinstance(custom[name], expected):
            raise ModelFileError(
                f"{path}: {subject} is {name!r}, but custom_objects[{name!r}] is {custom[name]!r}, not a "
                f"bpframe.{expected.__name__}"
            )
        return custom[name]
    registry = get_registry()
    table = registry.activations if kind == "activation" else registry.losses
    try:
        entry = table.get(name)
    except UnknownNameError:
        missing.append(_Missing(kind, subject, record))
        return None
    except DuplicateNameError as exc:
        raise ModelFileError(f"{path}: {subject} {name!r} cannot be resolved: {exc}") from None
    message = _provenance_change(path, subject, record, entry.provenance)
    if message:
        messages.append(message)
    return entry.spec


@dataclasses.dataclass(frozen=True)
class _Missing:
    """A name in the file that nothing registers now: its kind, where the model uses it, and its record."""

    kind: str
    subject: str
    record: dict[str, Any]


def _missing_objects(path: str, missing: list[_Missing], failures: list[Any]) -> str:
    """One message for every name nothing registers: each object once, then one install line per distribution."""
    objects: dict[tuple[str, str], list[_Missing]] = {}
    for item in missing:
        objects.setdefault((item.kind, item.record["name"]), []).append(item)
    if len(objects) == 1:
        first = missing[0]
        return _missing_message(path, first.kind, first.subject, first.record, failures)
    lines = [f"{path}: {len(objects)} objects the model needs are not registered by any installed plugin:"]
    installs: dict[str, list[str]] = {}
    for (kind, name), uses in objects.items():
        record = uses[0].record
        layers = [m.group(1) for u in uses if (m := re.match(r"layer (\d+)'s", u.subject))]
        where = f" (layer{'s' if len(layers) > 1 else ''} {', '.join(layers)})" if layers else ""
        lines.append(f"  {kind} {name!r}{where}: {_origin(record, failures)}")
        requirement = _requirement(record, failures)
        if requirement is not None:
            installs.setdefault(requirement, []).append(name)
    if installs:
        lines.append("Install them with:")
        lines += [f'  pip install "{req}"    # {", ".join(names)}' for req, names in installs.items()]
        lines.append("then call bpframe.reload_plugins() in a running session.")
    examples = ", ".join(f'"{name}": bpframe.{kind.capitalize()}("{name}", ...)' for kind, name in objects)
    lines.append(f"Or pass your own definitions: custom_objects={{{examples}}}")
    return "\n".join(lines)


def _origin(record: dict[str, Any], failures: list[Any]) -> str:
    """Where a missing object came from when the model was saved, and why it is not here now."""
    distribution = record.get("distribution")
    if record.get("user-defined"):
        return "defined in user code when the model was saved (no plugin registered it)"
    if distribution is None:
        return f"it came from plugin {record.get('plugin')!r}, not part of an installed distribution"
    saved = Provenance(str(record.get("plugin")), distribution, record.get("version")).describe()
    failure = next((f for f in failures if f.provenance.distribution == distribution), None)
    if failure is not None:
        return f"it came from {saved}, which is installed but was skipped when plugins loaded: {failure.error}"
    return f"it came from {saved}"


def _requirement(record: dict[str, Any], failures: list[Any]) -> str | None:
    """``dist==version`` to install for a missing object, or ``None`` when installing would not help."""
    distribution, version = record.get("distribution"), record.get("version")
    if record.get("user-defined") or distribution is None:
        return None
    if any(f.provenance.distribution == distribution for f in failures):
        return None
    return f"{distribution}=={version}" if version else distribution


def _missing_message(path: str, kind: str, subject: str, record: dict[str, Any], failures: list[Any]) -> str:
    """What to do about a saved name that nothing registers now."""
    name, distribution, version = record["name"], record.get("distribution"), record.get("version")
    example = f'custom_objects={{"{name}": bpframe.{kind.capitalize()}("{name}", ...)}}'
    if record.get("user-defined"):
        return (
            f"{path}: {subject} {name!r} was defined in user code when the model was saved (no plugin registered "
            f"it), so bpframe cannot recreate it; pass your definition when loading: {example}"
        )
    head = f"{path}: {subject} {name!r} is not registered by any installed plugin"
    if distribution is None:
        return (
            f"{head}; when the model was saved it came from plugin {record.get('plugin')!r}, not part of an "
            f"installed distribution. Register that plugin again, or pass {example}"
        )
    saved = Provenance(str(record.get("plugin")), distribution, version).describe()
    failure = next((f for f in failures if f.provenance.distribution == distribution), None)
    if failure is not None:
        return f"{head}; it came from {saved}, which is installed but was skipped when plugins loaded: {failure.error}"
    requirement = f"{distribution}=={version}" if version else distribution
    return (
        f'{head}; when the model was saved it came from {saved}. Install it with: pip install "{requirement}" '
        f"(then bpframe.reload_plugins() in a running session), or pass {example}"
    )


def _provenance_change(path: str, subject: str, record: dict[str, Any], now: Provenance) -> str | None:
    """A warning message when the installed definition may differ from the saved one, else ``None``."""
    name = record["name"]
    if record.get("user-defined"):
        return (
            f"{path}: {subject} {name!r} was defined in user code when the model was saved; loading the one "
            f"{now.describe()} registers under that name now (pass custom_objects={{{name!r}: ...}} to use yours)"
        )
    saved_distribution, saved_version = record.get("distribution"), record.get("version")
    if saved_distribution is None or (saved_distribution, saved_version) == (now.distribution, now.version):
        return None
    if saved_distribution == "bpframe" and now.distribution == "bpframe":
        return None  # a built-in: it follows bpframe's version, and format_version covers incompatible changes
    if saved_distribution == now.distribution:
        change = f"version {saved_version} of {saved_distribution}, but version {now.version} is installed"
    else:
        change = f"{saved_distribution} {saved_version}, but it now comes from {now.describe()}"
    return (
        f"{path}: {subject} {name!r} was saved with {change}; loading with the installed one, whose results may differ"
    )


def _build(path: str, model: ModelContents, activations: list[Any], loss: Any) -> Network:
    """The network, its parameters, history and optimizer state."""
    from .network import Network

    try:
        net = Network(model.sizes, activations, loss, dtype=model.dtype, seed=model.seed)
    except BpframeError as exc:
        raise ModelFileError(f"{path}: the network described by the file cannot be built: {exc}") from None
    net.set_parameters(model.theta)
    net.history = model.history
    net._optimizer_state = model.optimizer
    net._fit_settings = model.training
    return net


# -- describing a file ----------------------------------------------------------------------------------------


def describe_model(path: str | os.PathLike[str]) -> str:
    """A few lines describing a model file, checked as :func:`load_network` checks it, without building it.

    Works when the plugins a model needs are not installed, and says which are missing.

    Raises
    ------
    ModelFileError
        For a missing or damaged file, or one that is not a bpframe model.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import bpframe as bp
    >>> from bpframe.io import describe_model, save_network
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     text = describe_model(save_network(bp.Network([2, 3, 1], seed=0), Path(folder) / "m.npz"))
    >>> for line in text.splitlines()[1:]:  # doctest: +ELLIPSIS
    ...     print(line)
      sizes      [2, 3, 1] (13 parameters, float64)
      layer 1    sigmoid (bpframe ... (plugin 'bpframe.default_plugins.activations'))
      layer 2    sigmoid (bpframe ... (plugin 'bpframe.default_plugins.activations'))
      loss       quadratic (bpframe ... (plugin 'bpframe.default_plugins.losses'))
      seed       0
      history    not trained
      optimizer  not saved
    """
    where = os.fspath(path)
    metadata, model = read_model(where)
    rows = [("sizes", f"{list(model.sizes)} ({model.theta.size} parameters, {model.dtype.name})")]
    rows += [(f"layer {l}", _describe_record("activation", r)) for l, r in enumerate(model.activations, start=1)]
    rows += [("loss", _describe_record("loss", model.loss)), ("seed", str(model.seed))]
    rows += [("history", _describe_history(model.history)), ("optimizer", _describe_optimizer(model.optimizer))]
    if model.training is not None:
        rows.append(("training", _describe_training(model.training)))
    saved_by, created = _printable(metadata.get("bpframe_version")), _printable(metadata.get("created"))
    head = f"{where}: bpframe model, format {metadata['format_version']}, saved by bpframe {saved_by} at {created}"
    return "\n".join([head] + [f"  {key:<10} {value}" for key, value in rows])


def _describe_training(training: dict[str, Any]) -> str:
    """The last fit's settings in one line."""
    dropout = training["dropout"]
    shown = "0" if not any(dropout) else ",".join(f"{p:g}" for p in dropout)
    return (
        f"last fit: {training['optimizer']}, eta {training['eta']:g}, lmbda {training['lmbda']:g}, "
        f"l1 {training['l1']:g}, dropout {shown}, batch size {training['batch_size']}, {training['epochs']} epochs"
    )


def _describe_record(kind: str, record: dict[str, Any]) -> str:
    """``name (provenance)``, flagged when nothing registers the name now."""
    if record.get("user-defined"):
        origin = "defined in user code"
    elif record.get("distribution") is None:
        origin = f"plugin {record.get('plugin')!r}"
    else:
        origin = Provenance(str(record.get("plugin")), record["distribution"], record.get("version")).describe()
    registry = get_registry()
    table = registry.activations if kind == "activation" else registry.losses
    missing = "" if record["name"] in table.entries else ", NOT AVAILABLE NOW"
    return f"{record['name']} ({origin}{missing})"


def _describe_history(history: History) -> str:
    """The number of epochs and the last epoch's numbers."""
    if not len(history):
        return "not trained"
    last = [f"{key} {values[-1]:.4g}" for key, values in history.as_dict().items() if key != "epoch" and values]
    return f"{len(history)} epochs; last: {', '.join(last)}"


def _describe_optimizer(optimizer: OptimizerState | None) -> str:
    """The optimizer's name, step and state shape."""
    if optimizer is None:
        return "not saved"
    name = _printable(optimizer.config.get("name"))
    return f"{name}, step {optimizer.step}, state {optimizer.state.shape[0]} x {optimizer.state.shape[1]}"


def _printable(value: object) -> str:
    """A string from the file as is if it is plain printable text, else its repr (no terminal escapes); a
    hundred characters at most."""
    text = value if isinstance(value, str) and value.isprintable() else repr(value)
    return text if len(text) <= 100 else f"{text[:100]}..."
