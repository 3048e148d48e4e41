"""Reading a model file: the metadata within bounds first, then each array exactly as the metadata says it must be.

The format is described in :mod:`bpframe.io`. Reading goes in an order that never lets the file decide how much
memory is used: the container's checks (:mod:`bpframe.container`), the metadata's size from its header, the JSON
within the bounds of :mod:`bpframe.boundedjson`, the format version, the sizes within :mod:`bpframe.limits`, and
only then the arrays, each after its header declared the dtype and shape the metadata implies.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import boundedjson
from ._version import __version__
from .container import ModelArchive, NpyHeader
from .errors import ConfigurationError, ModelFileError
from .limits import MAX_METADATA_BYTES, check_network_size
from .results import History
from .state import OptimizerState
from .validation import check_sizes

__all__ = ["FORMAT", "FORMAT_VERSION", "VERSION_PATTERN", "ModelContents", "OptimizerState", "read_model"]

#: The value of the metadata's ``"format"`` field.
FORMAT = "bpframe-model"
#: The newest model format version this bpframe reads and the one it writes; it reads every older one too.
FORMAT_VERSION = 3
#: What a file may hold as a version (PEP 440).
VERSION_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+!_-]{0,63}")

_DTYPES = ("float32", "float64")
#: The members each format version defines.
_MEMBERS = {
    1: ("metadata", "theta", "optimizer_state"),
    2: ("metadata", "theta", "optimizer_state", "history"),
    3: ("metadata", "theta", "optimizer_state", "history", "layer_speed"),
}
_HISTORY_COLUMNS = ("epoch", "cost", "accuracy", "val_cost", "val_accuracy", "seconds")  # History's fields
_HISTORY_INT_COLUMNS = ("epoch",)
#: The longest a value from the file, or a message about it, is quoted: a crafted file must not turn an error
#: message into megabytes of text (the metadata is bounded, so making the full repr first is bounded too).
_QUOTED = 200
_LONGEST_MESSAGE_PART = 1000
#: What a file may hold as names (as ``check_name`` allows) and distributions (PEP 508).
_NAME = re.compile(r"[a-z][a-z0-9_]{0,99}")
_DISTRIBUTION = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9])?")


@dataclass(frozen=True)
class ModelContents:
    """A checked model file, before names are resolved."""

    version: int
    sizes: tuple[int, ...]
    dtype: np.dtype
    activations: list[dict[str, Any]]
    loss: dict[str, Any]
    seed: int | None
    history: History
    theta: np.ndarray
    optimizer: OptimizerState | None
    training: dict[str, Any] | None = None  # the last fit's settings (Network.fit_settings), when recorded


def read_model(path: str) -> tuple[dict[str, Any], ModelContents]:
    """The metadata object and the checked contents of the model file at ``path``.

    Raises
    ------
    ModelFileError
        For anything wrong with the file; the message starts with ``path``.
    """
    with ModelArchive(path) as archive:
        _check_has_metadata(path, archive)
        archive.check_stored()
        metadata = _read_metadata(path, archive)
        version = metadata["format_version"]
        _check_members(path, archive, version)
        return metadata, _parse(path, metadata, archive, version)


def _check_has_metadata(path: str, archive: ModelArchive) -> None:
    """Refuse an archive without a metadata member: an ``.npz`` of another program."""
    if "metadata" not in archive.members:
        names = [repr(n) for n in archive.members][:5] + (["..."] if len(archive.members) > 5 else [])
        held = ", ".join(names) or "nothing"
        raise ModelFileError(
            f"{path}: not a bpframe model: the .npz archive has no 'metadata' entry (it holds {held}); "
            "bpframe model files are written by Network.save"
        )


def _check_members(path: str, archive: ModelArchive, version: int) -> None:
    """Every required entry is there and there is nothing the file's format version does not define."""
    if "theta" not in archive.members:
        raise ModelFileError(f"{path}: the file is damaged: it has no 'theta' entry (the network's parameters)")
    defined = _MEMBERS[version]
    unexpected = [info.filename for name, info in archive.members.items() if name not in defined]
    if unexpected:
        optional = " and ".join(f"{name}.npy" for name in defined[2:])
        raise ModelFileError(
            f"{path}: the file has unexpected entries {unexpected}; a bpframe model (format {version}) holds only "
            f"metadata.npy and theta.npy, and optionally {optional}"
        )


def _shown(value: object) -> str:
    """``repr(value)`` for a value read from the file, cut short when it is long."""
    return _clipped(repr(value), _QUOTED)


def _clipped(text: str, limit: int = _LONGEST_MESSAGE_PART) -> str:
    """``text``, cut to ``limit`` characters."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


# -- the metadata -----------------------------------------------------------------------------------------------


def _read_metadata(path: str, archive: ModelArchive) -> dict[str, Any]:
    """The metadata JSON object, read within its bounds, after checking that this bpframe reads its format."""
    check = functools.partial(_check_metadata_header, path)
    try:
        metadata = boundedjson.loads(archive.read_bytes("metadata", check).decode("utf-8"))  # bytes freed early
    except ModelFileError:
        raise
    except boundedjson.JSONLimitError as exc:
        raise ModelFileError(f"{path}: refusing the file's metadata, which no bpframe writes: {exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError) as exc:
        raise ModelFileError(f"{path}: the file is damaged: its metadata is not valid JSON text ({exc})") from None
    if not isinstance(metadata, dict):
        raise ModelFileError(f"{path}: not a bpframe model: its metadata is JSON but not an object")
    _check_format(path, metadata)
    return metadata


def _check_metadata_header(path: str, header: NpyHeader) -> None:
    """Bytes (a 1-D uint8 array), and no more of them than the bound."""
    if header.dtype != np.uint8 or len(header.shape) != 1:
        raise ModelFileError(
            f"{path}: not a bpframe model: its 'metadata' entry is a {header.dtype} array of shape {header.shape}, "
            "not JSON text stored as bytes"
        )
    if header.shape[0] > MAX_METADATA_BYTES:
        raise ModelFileError(
            f"{path}: refusing the file's metadata: it is {header.shape[0]:,} bytes of JSON, more than the "
            f"{MAX_METADATA_BYTES:,} a model file may hold (bpframe.limits.MAX_METADATA_BYTES); it is not read"
        )


def _check_format(path: str, metadata: dict[str, Any]) -> None:
    """The ``format`` and ``format_version`` fields."""
    if metadata.get("format") != FORMAT:
        found = _shown(metadata["format"]) if "format" in metadata else "no 'format' field"
        raise ModelFileError(f"{path}: not a bpframe model: its metadata has {found}, expected format {FORMAT!r}")
    version = metadata.get("format_version")
    if type(version) is int and version > FORMAT_VERSION:
        saved_by = metadata.get("bpframe_version")
        known = isinstance(saved_by, str) and VERSION_PATTERN.fullmatch(saved_by) is not None
        raise ModelFileError(
            f"{path}: the model was saved by a newer bpframe{f' {saved_by}' if known else ''} in model format "
            f"version {version}; this bpframe {__version__} reads format versions 1 to {FORMAT_VERSION} only. "
            f'Upgrade bpframe to load it: pip install --upgrade "bpframe{f">={saved_by}" if known else ""}"'
        )
    if type(version) is not int or version < 1:
        raise ModelFileError(
            f"{path}: unknown format_version {_shown(version)} in the metadata; this bpframe reads format versions "
            f"1 to {FORMAT_VERSION}"
        )


# -- the fields ---------------------------------------------------------------------------------------------------


def _parse(path: str, metadata: dict[str, Any], archive: ModelArchive, version: int) -> ModelContents:
    """Check the metadata fields, then read the arrays they imply."""
    sizes = _sizes(path, _field(path, metadata, "sizes"))
    dtype = _dtype(path, _field(path, metadata, "dtype"))
    n_params = _network_size(path, sizes, dtype)
    activations = _field(path, metadata, "activations")
    if not isinstance(activations, list) or len(activations) != len(sizes) - 1:
        count = f"{len(activations)} activations" if isinstance(activations, list) else repr(activations)
        raise ModelFileError(
            f"{path}: the metadata lists {count} but sizes {list(sizes)} have {len(sizes) - 1} layers after the "
            "input; there must be one activation per layer"
        )
    records = [_spec(path, f"activations[{i}]", r) for i, r in enumerate(activations)]
    loss = _spec(path, "loss", _field(path, metadata, "loss"))
    seed = _seed(path, metadata.get("seed"))
    if version == 1:
        history = _history_v1(path, metadata.get("history", {}))
    else:
        history = _history(path, metadata.get("history", {"columns": [], "lengths": []}), archive)
    if version >= 3:
        _layer_speed(path, metadata.get("layer_speed"), archive, history, len(sizes) - 1)
    theta = _theta(path, archive, dtype, n_params, sizes)
    optimizer = _optimizer(path, version, metadata.get("optimizer"), archive, dtype, n_params)
    training = _training(path, metadata.get("training"), len(sizes) - 2)
    return ModelContents(version, sizes, dtype, records, loss, seed, history, theta, optimizer, training)


def _field(path: str, metadata: dict[str, Any], key: str) -> Any:
    """A required metadata field."""
    if key not in metadata:
        raise ModelFileError(f"{path}: the file is damaged: its metadata has no {key!r} field")
    return metadata[key]


def _sizes(path: str, value: object) -> tuple[int, ...]:
    """Layer sizes, checked as the Network constructor checks them."""
    if not isinstance(value, list):
        raise ModelFileError(f"{path}: invalid sizes in the metadata: expected a list of ints, got {_shown(value)}")
    try:
        return check_sizes(value)
    except ConfigurationError as exc:
        raise ModelFileError(f"{path}: invalid sizes in the metadata: {_clipped(str(exc))}") from None


def _network_size(path: str, sizes: tuple[int, ...], dtype: np.dtype) -> int:
    """The number of parameters, once the network is known to be within the limits and the machine's memory."""
    try:
        return check_network_size(sizes, dtype)
    except ConfigurationError as exc:
        raise ModelFileError(f"{path}: the network described by the file cannot be built: {exc}") from None


def _dtype(path: str, value: object) -> np.dtype:
    """``float32`` or ``float64``."""
    if value not in _DTYPES:
        raise ModelFileError(
            f"{path}: invalid dtype {_shown(value)} in the metadata; a bpframe model is 'float32' or 'float64'"
        )
    return np.dtype(str(value))


def _spec(path: str, where: str, record: object) -> dict[str, Any]:
    """An activation or loss record: a valid name, and provenance strings or nulls."""
    if not isinstance(record, dict) or not isinstance(record.get("name"), str):
        raise ModelFileError(
            f"{path}: invalid {where} in the metadata: expected an object with a 'name', got {_shown(record)}"
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
        return f"{_shown(record['name'])} is not a valid {kind} name (a lower-case identifier such as 'leaky_relu')"
    for key, pattern in (("plugin", None), ("distribution", _DISTRIBUTION), ("version", VERSION_PATTERN)):
        value = record.get(key)
        if not isinstance(value, (str, type(None))):
            return f"{key!r} must be a string or null, got {_shown(value)}"
        if pattern is not None and value is not None and not pattern.fullmatch(value):
            return f"{key!r} is not a valid {key}: {_shown(value)}"
    if not isinstance(record.get("user-defined", False), bool):
        return f"'user-defined' must be true or false, got {_shown(record['user-defined'])}"
    return None


_TRAINING_NUMBERS = (("eta", 0.0, False), ("lmbda", 0.0, True), ("l1", 0.0, True))


def _training(path: str, record: object, hidden: int) -> dict[str, Any] | None:
    """The last fit's settings (absent or null: not recorded); other keys a newer bpframe may add are ignored."""
    if record is None:
        return None
    expected = (
        f"{{'optimizer': a name, 'eta': a number > 0, 'lmbda' and 'l1': numbers >= 0, 'dropout': {hidden} "
        "probabilities in [0, 1), 'batch_size' and 'epochs': ints >= 1}"
    )
    problem = f"{path}: invalid training record in the metadata: expected {expected}, got {_shown(record)}"
    if not isinstance(record, dict):
        raise ModelFileError(problem)
    name, dropout = record.get("optimizer"), record.get("dropout")
    ok = isinstance(name, str) and _NAME.fullmatch(name) is not None
    for key, low, inclusive in _TRAINING_NUMBERS:
        value = record.get(key)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise ModelFileError(problem)
        ok = ok and (value >= low if inclusive else value > low)
    ok = ok and all(type(record.get(key)) is int and record[key] >= 1 for key in ("batch_size", "epochs"))
    ok = ok and isinstance(dropout, list) and len(dropout) == hidden
    ok = ok and all(type(p) in (int, float) and 0.0 <= p < 1.0 for p in dropout)  # type: ignore[union-attr]
    if not ok:
        raise ModelFileError(problem)
    keys = ("optimizer", *(key for key, _, _ in _TRAINING_NUMBERS), "dropout", "batch_size", "epochs")
    return {key: record[key] for key in keys}


def _seed(path: str, value: object) -> int | None:
    """``None`` or an int >= 0."""
    if value is None or (type(value) is int and value >= 0):
        return value
    raise ModelFileError(f"{path}: invalid seed {_shown(value)} in the metadata; expected null or an int >= 0")


# -- the arrays ---------------------------------------------------------------------------------------------------


def _expect(path: str, name: str, dtype: np.dtype, shape: tuple[int, ...], why: str) -> Callable[[NpyHeader], None]:
    """A header check for :meth:`ModelArchive.read_array`: exactly ``dtype`` and ``shape``, else damaged."""

    def check(header: NpyHeader) -> None:
        if header.dtype.newbyteorder("=") != dtype:
            raise ModelFileError(
                f"{path}: the file is damaged: {name} has dtype {header.dtype} but the metadata says {dtype}"
            )
        if header.shape != shape:
            raise ModelFileError(f"{path}: the file is damaged: {name} has shape {header.shape} but {why}")

    return check


def _theta(path: str, archive: ModelArchive, dtype: np.dtype, n_params: int, sizes: tuple[int, ...]) -> np.ndarray:
    """The parameter vector: the metadata's dtype, the length the sizes need, all finite."""
    why = f"sizes {list(sizes)} need a vector of {n_params} parameters"
    theta = archive.read_array("theta", _expect(path, "theta", dtype, (n_params,), why))
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
    path: str, version: int, record: object, archive: ModelArchive, dtype: np.dtype, n_params: int
) -> OptimizerState | None:
    """The optimizer record and state array, which come together or not at all."""
    present = "optimizer_state" in archive.members
    if record is None and not present:
        return None
    if record is None:
        raise ModelFileError(
            f"{path}: the file is damaged: it has an 'optimizer_state' entry but its metadata has no optimizer record"
        )
    if not present:
        raise ModelFileError(
            f"{path}: the file is damaged: its metadata has an optimizer record but there is no 'optimizer_state' entry"
        )
    config, step, rows = _optimizer_record(path, version, record)
    state = archive.read_array("optimizer_state", _expect_state(path, dtype, rows, n_params))
    _check_finite(path, "optimizer_state", state)
    return OptimizerState(config, state, step)


def _optimizer_record(path: str, version: int, record: object) -> tuple[dict[str, Any], int, int | None]:
    """``config``, ``step`` and (from format 2 on) ``rows`` of the optimizer record."""
    keys = ("step",) if version == 1 else ("step", "rows")
    counts = [record.get(key) for key in keys] if isinstance(record, dict) else [None]
    if (
        not isinstance(record, dict)
        or not isinstance(record.get("config"), dict)
        or not all(type(count) is int and count >= 0 for count in counts)
    ):
        expected = ", ".join(f"{key!r}: int >= 0" for key in keys)
        raise ModelFileError(
            f"{path}: invalid optimizer in the metadata: expected {{'config': {{...}}, {expected}}}, "
            f"got {_shown(record)}"
        )
    return record["config"], record["step"], record.get("rows") if version > 1 else None


def _expect_state(path: str, dtype: np.dtype, rows: int | None, n_params: int) -> Callable[[NpyHeader], None]:
    """The header check of the optimizer state: (rows, n_params) of the network's dtype (any rows in format 1)."""

    def check(header: NpyHeader) -> None:
        shape = header.shape
        wrong_shape = len(shape) != 2 or shape[1] != n_params or rows not in (None, shape[0])
        if header.dtype.newbyteorder("=") != dtype or wrong_shape:
            raise ModelFileError(
                f"{path}: the file is damaged: optimizer_state has dtype {header.dtype} and shape {shape}, "
                f"expected {dtype} and ({'rows' if rows is None else rows}, {n_params})"
            )

    return check


def _history(path: str, record: object, archive: ModelArchive) -> History:
    """Format 2's history: the columns the metadata names, their values one after the other in ``history.npy``."""
    columns, lengths = _history_record(path, record)
    total, present = sum(lengths), "history" in archive.members
    if present != (total > 0):
        raise ModelFileError(
            f"{path}: the file is damaged: its metadata records {total} history values but "
            f"{'there is' if present else 'there is no'} 'history' entry"
        )
    if not total:
        return History()
    why = f"the metadata records {total} history values in the columns {columns}"
    joined = archive.read_array("history", _expect(path, "history", np.dtype(np.float64), (total,), why))
    values = dict(zip(columns, np.split(joined, np.cumsum(lengths)[:-1]), strict=True))
    epoch = values["epoch"]
    if not (np.isfinite(epoch).all() and np.array_equal(epoch, np.round(epoch))):
        raise ModelFileError(f"{path}: the file is damaged: the history's epoch numbers are not all whole numbers")
    history = History(epoch=[int(v) for v in epoch])
    for key, column in values.items():
        if key not in _HISTORY_INT_COLUMNS:
            setattr(history, key, column.tolist())
    return history


def _layer_speed(path: str, record: object, archive: ModelArchive, history: History, layers: int) -> None:
    """Format 3's per-layer learning speed: ``layer_speed.npy`` of shape (epochs, 2, L), a row for every epoch of
    the history (NaN where not recorded), when the metadata has a ``layer_speed`` record (absent or null: none)."""
    present = "layer_speed" in archive.members
    if record is None and not present:
        return
    epochs = record.get("epochs") if isinstance(record, dict) else None
    if type(epochs) is not int or epochs != len(history) or epochs < 1 or not present:
        raise ModelFileError(
            f"{path}: invalid layer_speed in the metadata: expected {{'epochs': {len(history)}}} (the history's "
            f"epochs, at least 1) with a 'layer_speed' entry, got {_shown(record)}"
            + ("" if present else " and no 'layer_speed' entry")
        )
    why = f"the metadata records {epochs} epochs of learning speed for {layers} layers"
    speeds = archive.read_array("layer_speed", _expect(path, "layer_speed", np.dtype(np.float64),
                                                       (epochs, 2, layers), why))  # fmt: skip
    if not (np.isnan(speeds) | (np.isfinite(speeds) & (speeds >= 0))).all():
        raise ModelFileError(f"{path}: the file is damaged: layer_speed holds values that are not norms (>= 0, or NaN)")
    history.nabla_b_norm = speeds[:, 0, :].tolist()
    history.nabla_w_norm = speeds[:, 1, :].tolist()


def _history_record(path: str, record: object) -> tuple[list[str], list[int]]:
    """``columns`` and ``lengths`` of format 2's history record: no column longer than ``epoch``."""
    columns = record.get("columns") if isinstance(record, dict) else None
    lengths = record.get("lengths") if isinstance(record, dict) else None
    if not (
        isinstance(columns, list)
        and _distinct_columns(columns)
        and isinstance(lengths, list)
        and len(lengths) == len(columns)
        and all(type(n) is int and n >= 1 for n in lengths)
    ):
        raise ModelFileError(
            f"{path}: invalid history in the metadata: expected {{'columns': [distinct names from "
            f"{list(_HISTORY_COLUMNS)}], 'lengths': [an int >= 1 for each]}}, got {_shown(record)}"
        )
    epochs = dict(zip(columns, lengths, strict=True)).get("epoch", 0)
    if any(n > epochs for n in lengths):
        raise ModelFileError(
            f"{path}: invalid history in the metadata: columns of {max(lengths)} values for {epochs} epochs"
        )
    return columns, lengths


def _distinct_columns(columns: list[Any]) -> bool:
    """True for distinct names of history columns."""
    return all(isinstance(c, str) and c in _HISTORY_COLUMNS for c in columns) and len(set(columns)) == len(columns)


def _history_v1(path: str, value: object) -> History:
    """Format 1's history: known columns as JSON lists of numbers, none longer than ``epoch``.

    A column may be shorter: bpframe 0.1.0 saved ``val_cost`` shorter than ``epoch`` after a ``fit`` without
    validation data followed one with it (and could not read such a file back).
    """
    if not isinstance(value, dict):
        raise ModelFileError(f"{path}: invalid history in the metadata: expected an object, got {_shown(value)}")
    unknown = sorted(set(value) - set(_HISTORY_COLUMNS))
    if unknown:
        raise ModelFileError(f"{path}: invalid history in the metadata: unknown columns {unknown}")
    columns = {key: _history_column(path, key, value.get(key, [])) for key in _HISTORY_COLUMNS}
    length = len(columns["epoch"])
    for key, column in columns.items():
        if len(column) > length:
            raise ModelFileError(
                f"{path}: invalid history in the metadata: {key!r} has {len(column)} values for {length} epochs"
            )
    return History(**columns)


def _history_column(path: str, key: str, values: object) -> list[Any]:
    """One format-1 history column: ints for epochs, floats otherwise."""
    integer = key in _HISTORY_INT_COLUMNS
    kinds: tuple[type, ...] = (int,) if integer else (int, float)
    if not isinstance(values, list) or any(isinstance(v, bool) or not isinstance(v, kinds) for v in values):
        expected = "ints" if integer else "numbers"
        raise ModelFileError(f"{path}: invalid history in the metadata: {key!r} must be a list of {expected}")
    return [int(v) if integer else float(v) for v in values]
