r"""Saving and loading networks: one ``.npz`` file, no pickles, written atomically.

The file format (``format_version`` 1)
--------------------------------------
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

The metadata is one JSON object::

    {
      "format": "bpframe-model",          # what the file is
      "format_version": 1,                # bumped on any incompatible change
      "bpframe_version": "0.1.0",         # the bpframe that wrote it
      "created": "2025-01-31T12:00:00+00:00",
      "sizes": [784, 30, 10],
      "dtype": "float64",                 # or "float32"
      "activations": [                    # one per layer after the input
        {"name": "sigmoid", "plugin": "bpframe.default_plugins.activations",
         "distribution": "bpframe", "version": "0.1.0", "user-defined": false}, ...],
      "loss": {"name": "cross_entropy", ...same keys...},
      "seed": 0,                          # or null
      "history": {"epoch": [...], "cost": [...], "accuracy": [...],
                  "val_cost": [...], "val_accuracy": [...], "seconds": [...]},
      "optimizer": {"config": {"name": "adam", ...}, "step": 120}   # or null
    }

An activation or loss that no plugin registered (an object built in user code) is recorded with
``"user-defined": true`` and ``plugin``, ``distribution`` and ``version`` null. History values that are not
finite are written as Python's ``json`` writes them (``NaN``, ``Infinity``). ``sizes``, ``dtype``,
``activations`` and ``loss`` are required; a reader ignores top-level fields it does not know, so a new optional
field needs no new ``format_version``, while any change an older reader would misread must bump it.

Members are stored uncompressed: trained weights are floating-point numbers whose low mantissa bits are
close to random, so deflate shrinks them by only a few percent while costing time on every save and load;
stored members also keep each array's bytes verbatim, and the CRC-32 of every member is still verified on load.

Safety
------
Loading never unpickles and never imports: every member is read with its ``.npy`` header checked first (an
object dtype is refused before any byte of it is interpreted), the metadata is plain JSON, and activation and
loss names are looked up only in the plugin registry or in the ``custom_objects`` the caller passes. Every
problem with a file raises :class:`~bpframe.errors.ModelFileError`, whose message starts with the file's path.

Saving is atomic: the file is written under a temporary name in the target's folder, flushed and fsynced,
then renamed onto the target with :func:`os.replace`. A reader, or a crash at any moment, sees either the old
complete file or the new complete file; on an error the temporary file is removed and the old file is left as
it was. The new file gets the permissions of the file it replaces, or the default ones (umask) for a new file.
A process killed during a save can leave its hidden temporary file (``.model.npz.<random>.tmp``) behind; it
is safe to delete.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import re
import secrets
import stat
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

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
from .loss import Loss
from .plugins import get_registry
from .registry import Provenance
from .results import History
from .validation import check_sizes
from .warn import warn

if TYPE_CHECKING:
    from .network import Network

__all__ = ["FORMAT", "FORMAT_VERSION", "OptimizerState", "describe_model", "load_network", "save_network"]

#: The value of the metadata's ``"format"`` field.
FORMAT = "bpframe-model"
#: The newest model format version this bpframe reads and the one it writes.
FORMAT_VERSION = 1

_DTYPES = ("float32", "float64")
_MEMBERS = ("metadata", "theta", "optimizer_state")
_HISTORY_INT_COLUMNS = ("epoch",)
#: What a file may hold as names (as ``check_name`` allows), distributions (PEP 508) and versions (PEP 440).
_NAME = re.compile(r"[a-z][a-z0-9_]{0,99}")
_DISTRIBUTION = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9])?")
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+!_-]{0,63}")
#: What zipfile and the .npy header parser raise on a damaged archive.
_DAMAGED_ZIP = (
    zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError,
)  # fmt: skip
#: Leading bytes of common files that are not models, to say what a file is instead.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"%PDF", "a PDF document"),
    (b"\x89HDF\r\n\x1a\n", "an HDF5 file (a Keras .h5 model?)"),
    (b"\x93NUMPY", "a single NumPy array (.npy)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x80", "a Python pickle"),
)


@dataclass(frozen=True, eq=False)
class OptimizerState:
    """An optimizer's configuration and per-parameter state, as restored by :func:`load_network`.

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
    metadata = _metadata(net, optimizer)
    arrays = {"metadata": np.frombuffer(json.dumps(metadata, indent=1).encode("utf-8"), dtype=np.uint8)}
    arrays["theta"] = theta
    if optimizer is not None:
        arrays["optimizer_state"] = _optimizer_array(optimizer.state, theta)
    return arrays


def _metadata(net: Network, optimizer: Any) -> dict[str, Any]:
    """The JSON object described in the module docstring."""
    history = getattr(net, "history", None)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "bpframe_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "sizes": list(net.sizes),
        "dtype": net.dtype.name,
        "activations": [_spec_record(act) for act in net.activations],
        "loss": _spec_record(net.loss),
        "seed": None if net.seed is None else int(net.seed),
        "history": _history_record(History() if history is None else history),
        "optimizer": None if optimizer is None else _optimizer_record(optimizer),
    }


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


def _history_record(history: History) -> dict[str, list[Any]]:
    """The history's columns as JSON-able lists (epochs as ints, the rest as floats)."""
    columns = history.as_dict()
    return {
        key: [int(v) if key in _HISTORY_INT_COLUMNS else float(v) for v in values] for key, values in columns.items()
    }


def _optimizer_record(optimizer: Any) -> dict[str, Any]:
    """The optimizer's JSON part; its state array is stored as a member of its own."""
    record = {"config": dict(optimizer.config), "step": int(optimizer.step)}
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


def _create_temporary(target: Path) -> tuple[int, Path]:
    """Create a new, uniquely named file next to ``target``, with the permissions ``target`` will need.

    ``os.open`` with mode 0o666 lets the umask apply, as for any new file; ``tempfile.mkstemp`` would
    create it 0o600 and the saved model would be unreadable to the user's group.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temporary = target.with_name(f".{target.name[:100]}.{secrets.token_hex(6)}.tmp")
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
    contents = _read_file(where)
    model = _parse(where, *contents)
    messages: list[str] = []
    activations = [
        _resolve(where, "activation", f"layer {l}'s activation", record, custom, messages)
        for l, record in enumerate(model.activations, start=1)
    ]
    loss = _resolve(where, "loss", "the loss", model.loss, custom, messages)
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


def _read_file(path: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Open the archive and return its metadata and its arrays, after the checks that need no schema."""
    _check_is_file(path)
    _check_signature(path)
    try:
        archive = zipfile.ZipFile(path)
    except _DAMAGED_ZIP as exc:
        raise ModelFileError(
            f"{path}: the file is truncated or damaged: it starts like a ZIP archive (.npz) but its end is "
            f"missing or unreadable ({exc}); it may be an incomplete copy or download"
        ) from None
    with archive:
        members = _members(path, archive)
        metadata = _read_metadata(path, archive, members)
        _check_members(path, members)
        arrays = {name: _read_array(path, archive, info, name) for name, info in members.items() if name != "metadata"}
    return metadata, arrays


def _check_is_file(path: str) -> None:
    """Raise unless ``path`` is an existing regular file."""
    if not os.path.exists(path):
        raise ModelFileError(f"{path}: no such file")
    if not os.path.isfile(path):
        raise ModelFileError(f"{path}: is not a file (a folder or a device); give the model file's path")


def _check_signature(path: str) -> None:
    """Raise, saying what the file looks like, unless it starts like a ZIP archive."""
    try:
        with open(path, "rb") as file:
            head = file.read(64)
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    if head.startswith(b"PK\x03\x04"):
        return
    if not head:
        what = "an empty file"
    elif head.startswith(b"PK\x05\x06"):
        what = "an empty ZIP archive"
    else:
        what = next((name for sig, name in _SIGNATURES if head.startswith(sig)), None) or _guess_kind(head)
    raise ModelFileError(
        f"{path}: not a bpframe model file: it is {what}, not an .npz (ZIP) archive (it starts with {head[:8]!r})"
    )


def _guess_kind(head: bytes) -> str:
    """``'a text file'`` if the first bytes are printable UTF-8, else ``'a binary file of unknown kind'``."""
    for cut in range(4):  # the 64 bytes read may end inside a multi-byte character
        try:
            text = head[: len(head) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
        if all(c.isprintable() or c.isspace() for c in text):
            return "a text file"
        break
    return "a binary file of unknown kind"


def _members(path: str, archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The archive's entries by array name (``theta.npy`` -> ``theta``), refusing duplicates."""
    members: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        if name in members:
            raise ModelFileError(f"{path}: the file is damaged: it contains the entry {info.filename!r} twice")
        members[name] = info
    if "metadata" not in members:
        names = [repr(n) for n in members][:5] + (["..."] if len(members) > 5 else [])
        held = ", ".join(names) or "nothing"
        raise ModelFileError(
            f"{path}: not a bpframe model: the .npz archive has no 'metadata' entry (it holds {held}); "
            "bpframe model files are written by Network.save"
        )
    return members


def _check_members(path: str, members: dict[str, zipfile.ZipInfo]) -> None:
    """Every required entry is there and there is nothing else."""
    if "theta" not in members:
        raise ModelFileError(f"{path}: the file is damaged: it has no 'theta' entry (the network's parameters)")
    unexpected = [info.filename for name, info in members.items() if name not in _MEMBERS]
    if unexpected:
        raise ModelFileError(
            f"{path}: the file has unexpected entries {unexpected}; a bpframe model holds only "
            "metadata.npy, theta.npy and optionally optimizer_state.npy"
        )


def _read_array(path: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> np.ndarray:
    """Read one ``.npy`` member, refusing object arrays before reading any of their data."""
    try:
        with archive.open(info) as stream:
            shape, fortran_order, dtype = _read_npy_header(stream)
            if dtype.hasobject:
                raise ModelFileError(
                    f"{path}: the entry {name!r} contains a pickled object; refusing to load it "
                    "(bpframe files never contain pickles)"
                )
            nbytes = math.prod(shape) * dtype.itemsize
            data = stream.read(nbytes)
            if len(data) != nbytes or stream.read(1):
                raise ValueError(f"its data has a different size than its header's shape {shape} promises")
    except ModelFileError:
        raise
    except _DAMAGED_ZIP as exc:
        raise ModelFileError(f"{path}: the file is damaged: its entry {name!r} cannot be read ({exc})") from None
    array = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran_order else "C")
    return array.astype(dtype.newbyteorder("="), order="C")  # a writable, native-endian copy


def _read_npy_header(stream: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype]:
    """Shape, Fortran order and dtype from a ``.npy`` header (versions 1.0 and 2.0)."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        header: tuple[tuple[int, ...], bool, np.dtype] = np.lib.format.read_array_header_1_0(stream)
        return header
    if version == (2, 0):
        header = np.lib.format.read_array_header_2_0(stream)
        return header
    raise ValueError(f"unsupported .npy format version {version}")


def _read_metadata(path: str, archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]) -> dict[str, Any]:
    """The metadata JSON object, after checking that this bpframe can read the file's format."""
    array = _read_array(path, archive, members["metadata"], "metadata")
    if array.dtype != np.uint8 or array.ndim != 1:
        raise ModelFileError(
            f"{path}: not a bpframe model: its 'metadata' entry is a {array.dtype} array of shape {array.shape}, "
            "not JSON text stored as bytes"
        )
    try:
        metadata = json.loads(array.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ModelFileError(f"{path}: the file is damaged: its metadata is not valid JSON text ({exc})") from None
    if not isinstance(metadata, dict):
        raise ModelFileError(f"{path}: not a bpframe model: its metadata is JSON but not an object")
    _check_format(path, metadata)
    return metadata


def _check_format(path: str, metadata: dict[str, Any]) -> None:
    """The ``format`` and ``format_version`` fields."""
    if metadata.get("format") != FORMAT:
        found = repr(metadata["format"]) if "format" in metadata else "no 'format' field"
        raise ModelFileError(f"{path}: not a bpframe model: its metadata has {found}, expected format {FORMAT!r}")
    version = metadata.get("format_version")
    if type(version) is int and version > FORMAT_VERSION:
        saved_by = metadata.get("bpframe_version")
        known = isinstance(saved_by, str) and _VERSION.fullmatch(saved_by) is not None
        raise ModelFileError(
            f"{path}: the model was saved by a newer bpframe{f' {saved_by}' if known else ''} in model format "
            f"version {version}; this bpframe {__version__} reads format version {FORMAT_VERSION} only. Upgrade "
            f'bpframe to load it: pip install --upgrade "bpframe{f">={saved_by}" if known else ""}"'
        )
    if type(version) is not int or version < 1:
        raise ModelFileError(
            f"{path}: unknown format_version {version!r} in the metadata; this bpframe reads format version "
            f"{FORMAT_VERSION}"
        )


@dataclass(frozen=True)
class _Model:
    """A checked model file, before names are resolved."""

    sizes: tuple[int, ...]
    dtype: np.dtype
    activations: list[dict[str, Any]]
    loss: dict[str, Any]
    seed: int | None
    history: History
    theta: np.ndarray
    optimizer: OptimizerState | None


def _parse(path: str, metadata: dict[str, Any], arrays: dict[str, np.ndarray]) -> _Model:
    """Check the metadata fields and the arrays against each other."""
    sizes = _sizes(path, _field(path, metadata, "sizes"))
    dtype = _dtype(path, _field(path, metadata, "dtype"))
    n_params = sum(sizes[l] * sizes[l - 1] + sizes[l] for l in range(1, len(sizes)))
    activations = _field(path, metadata, "activations")
    if not isinstance(activations, list) or len(activations) != len(sizes) - 1:
        count = f"{len(activations)} activations" if isinstance(activations, list) else repr(activations)
        raise ModelFileError(
            f"{path}: the metadata lists {count} but sizes {list(sizes)} have {len(sizes) - 1} layers after the "
            "input; there must be one activation per layer"
        )
    records = [_spec(path, f"activations[{i}]", r) for i, r in enumerate(activations)]
    loss = _spec(path, "loss", _field(path, metadata, "loss"))
    theta = _theta(path, arrays["theta"], dtype, n_params, sizes)
    optimizer = _optimizer(path, metadata.get("optimizer"), arrays.get("optimizer_state"), dtype, n_params)
    return _Model(sizes, dtype, records, loss, _seed(path, metadata.get("seed")),
                  _history(path, metadata.get("history", {})), theta, optimizer)  # fmt: skip


def _field(path: str, metadata: dict[str, Any], key: str) -> Any:
    """A required metadata field."""
    if key not in metadata:
        raise ModelFileError(f"{path}: the file is damaged: its metadata has no {key!r} field")
    return metadata[key]


def _sizes(path: str, value: object) -> tuple[int, ...]:
    """Layer sizes, checked as the Network constructor checks them."""
    if not isinstance(value, list):
        raise ModelFileError(f"{path}: invalid sizes in the metadata: expected a list of ints, got {value!r}")
    try:
        return check_sizes(value)
    except ConfigurationError as exc:
        raise ModelFileError(f"{path}: invalid sizes in the metadata: {exc}") from None


def _dtype(path: str, value: object) -> np.dtype:
    """``float32`` or ``float64``."""
    if value not in _DTYPES:
        raise ModelFileError(
            f"{path}: invalid dtype {value!r} in the metadata; a bpframe model is 'float32' or 'float64'"
        )
    return np.dtype(str(value))


def _spec(path: str, where: str, record: object) -> dict[str, Any]:
    """An activation or loss record: a valid name, and provenance strings or nulls."""
    if not isinstance(record, dict) or not isinstance(record.get("name"), str):
        raise ModelFileError(
            f"{path}: invalid {where} in the metadata: expected an object with a 'name', got {record!r}"
        )
    problem = _record_problem("loss" if where == "loss" else "activation", record)
    if problem is not None:
        raise ModelFileError(f"{path}: invalid {where} in the metadata: {problem}")
    return record


def _record_problem(kind: str, record: dict[str, Any]) -> str | None:
    """What is wrong with a record's fields, or ``None``.

    Names, distributions and versions end up in the commands an error message suggests, so a file may only
    hold well-formed ones: a crafted file cannot put a shell command into a ``pip install`` hint.
    """
    if not _NAME.fullmatch(record["name"]):
        return f"{record['name']!r} is not a valid {kind} name (a lower-case identifier such as 'leaky_relu')"
    for key, pattern in (("plugin", None), ("distribution", _DISTRIBUTION), ("version", _VERSION)):
        value = record.get(key)
        if not isinstance(value, (str, type(None))):
            return f"{key!r} must be a string or null, got {value!r}"
        if pattern is not None and value is not None and not pattern.fullmatch(value):
            return f"{key!r} is not a valid {key}: {value!r}"
    if not isinstance(record.get("user-defined", False), bool):
        return f"'user-defined' must be true or false, got {record['user-defined']!r}"
    return None


def _seed(path: str, value: object) -> int | None:
    """``None`` or an int >= 0."""
    if value is None or (type(value) is int and value >= 0):
        return value
    raise ModelFileError(f"{path}: invalid seed {value!r} in the metadata; expected null or an int >= 0")


def _history(path: str, value: object) -> History:
    """The training history: known columns, numbers, each empty or as long as ``epoch``."""
    if not isinstance(value, dict):
        raise ModelFileError(f"{path}: invalid history in the metadata: expected an object, got {value!r}")
    known = [f.name for f in dataclasses.fields(History)]
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ModelFileError(f"{path}: invalid history in the metadata: unknown columns {unknown}")
    columns = {key: _history_column(path, key, value.get(key, [])) for key in known}
    length = len(columns["epoch"])
    for key, column in columns.items():
        if len(column) not in (0, length):
            raise ModelFileError(
                f"{path}: invalid history in the metadata: {key!r} has {len(column)} values for {length} epochs"
            )
    return History(**columns)


def _history_column(path: str, key: str, values: object) -> list[Any]:
    """One history column: ints for epochs, floats otherwise."""
    integer = key in _HISTORY_INT_COLUMNS
    kinds: tuple[type, ...] = (int,) if integer else (int, float)
    if not isinstance(values, list) or any(isinstance(v, bool) or not isinstance(v, kinds) for v in values):
        expected = "ints" if integer else "numbers"
        raise ModelFileError(f"{path}: invalid history in the metadata: {key!r} must be a list of {expected}")
    return [int(v) if integer else float(v) for v in values]


def _theta(path: str, theta: np.ndarray, dtype: np.dtype, n_params: int, sizes: tuple[int, ...]) -> np.ndarray:
    """The parameter vector: the metadata's dtype, the length the sizes need, all finite."""
    if theta.dtype != dtype:
        raise ModelFileError(
            f"{path}: the file is damaged: theta has dtype {theta.dtype} but the metadata says {dtype}"
        )
    if theta.shape != (n_params,):
        raise ModelFileError(
            f"{path}: the file is damaged: theta has shape {theta.shape} but sizes {list(sizes)} need a vector of "
            f"{n_params} parameters"
        )
    _check_finite(path, "theta", theta)
    return theta


def _check_finite(path: str, name: str, array: np.ndarray) -> None:
    """Refuse NaN and inf."""
    bad = ~np.isfinite(array)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ModelFileError(
            f"{path}: the file is damaged: {name} contains {int(bad.sum())} non-finite value(s) (NaN or inf), the "
            f"first at index {first[0] if len(first) == 1 else first}"
        )


def _optimizer(
    path: str, record: object, state: np.ndarray | None, dtype: np.dtype, n_params: int
) -> OptimizerState | None:
    """The optimizer record and state array, which come together or not at all."""
    if record is None and state is None:
        return None
    if record is None:
        raise ModelFileError(
            f"{path}: the file is damaged: it has an 'optimizer_state' entry but its metadata has no optimizer record"
        )
    if state is None:
        raise ModelFileError(
            f"{path}: the file is damaged: its metadata has an optimizer record but there is no 'optimizer_state' entry"
        )
    step = record.get("step") if isinstance(record, dict) else None
    if not isinstance(record, dict) or not isinstance(record.get("config"), dict) or type(step) is not int or step < 0:
        raise ModelFileError(
            f"{path}: invalid optimizer in the metadata: expected {{'config': {{...}}, 'step': int >= 0}}, "
            f"got {record!r}"
        )
    if state.dtype != dtype or state.ndim != 2 or state.shape[1] != n_params:
        raise ModelFileError(
            f"{path}: the file is damaged: optimizer_state has dtype {state.dtype} and shape {state.shape}, "
            f"expected {dtype} and (rows, {n_params})"
        )
    _check_finite(path, "optimizer_state", state)
    return OptimizerState(record["config"], state, record["step"])


# -- names --------------------------------------------------------------------------------------------------


def _resolve(
    path: str,
    kind: str,
    subject: str,
    record: dict[str, Any],
    custom: dict[str, Activation | Loss],
    messages: list[str],
) -> Any:
    """The spec object for a saved name: from ``custom_objects``, else from the registry."""
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
        raise ModelFileError(_missing_message(path, kind, subject, record, registry.failures)) from None
    except DuplicateNameError as exc:
        raise ModelFileError(f"{path}: {subject} {name!r} cannot be resolved: {exc}") from None
    message = _provenance_change(path, subject, record, entry.provenance)
    if message:
        messages.append(message)
    return entry.spec


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


def _build(path: str, model: _Model, activations: list[Any], loss: Any) -> Network:
    """The network, its parameters, history and optimizer state."""
    from .network import Network

    try:
        net = Network(model.sizes, activations, loss, dtype=model.dtype, seed=model.seed)
    except BpframeError as exc:
        raise ModelFileError(f"{path}: the network described by the file cannot be built: {exc}") from None
    net.set_parameters(model.theta)
    net.history = model.history
    net._optimizer_state = model.optimizer
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
    metadata, arrays = _read_file(where)
    model = _parse(where, metadata, arrays)
    rows = [("sizes", f"{list(model.sizes)} ({model.theta.size} parameters, {model.dtype.name})")]
    rows += [(f"layer {l}", _describe_record("activation", r)) for l, r in enumerate(model.activations, start=1)]
    rows += [("loss", _describe_record("loss", model.loss)), ("seed", str(model.seed))]
    rows += [("history", _describe_history(model.history)), ("optimizer", _describe_optimizer(model.optimizer))]
    saved_by, created = _printable(metadata.get("bpframe_version")), _printable(metadata.get("created"))
    head = f"{where}: bpframe model, format {metadata['format_version']}, saved by bpframe {saved_by} at {created}"
    return "\n".join([head] + [f"  {key:<10} {value}" for key, value in rows])


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
    """A string from the file as is if it is plain printable text, else its repr (no terminal escapes)."""
    return value if isinstance(value, str) and value.isprintable() else repr(value)
