"""Saving a model's state to one ``.npz`` file (the format is in :mod:`bpframe.io`), atomically.

A process killed during a save leaves its hidden temporary file behind (``.model.npz.<12 hex
digits>.bpframe-save.tmp``); the next successful save into the same folder deletes every such file of the
current user that has not changed for :data:`STALE_TEMPORARY_SECONDS`, and nothing else.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from .. import boundedjson
from .._version import __version__
from ..activation import Activation
from ..errors import ConfigurationError, DataError, ModelFileError
from ..limits import MAX_METADATA_BYTES
from ..loss import Loss
from ..plugins import get_registry
from ..results import History
from ..state import ModelState, OptimizerState
from ._atomic import TemporaryFileError, write_atomically
from ._container import write_npz
from ._schema import FORMAT, FORMAT_VERSION

__all__ = ["STALE_TEMPORARY_SECONDS", "save_model"]

#: A temporary file left by an interrupted save is deleted by a later save once it is this old (seconds since
#: it last changed): a save still writing changes its file all the time.
STALE_TEMPORARY_SECONDS = 3600

_HISTORY_COLUMNS = tuple(History().as_dict())  # the per-epoch columns; the per-layer speeds have a member of their own
_SUFFIX = ".bpframe-save.tmp"  # of a save's temporary files
#: The temporary files of saves: this bpframe's, and those of format-1 bpframe (recognised by their contents).
_TEMPORARY = re.compile(r"\..{1,100}\.[0-9a-f]{12}\.bpframe-save\.tmp")
_OLD_TEMPORARY = re.compile(r"\..{1,100}\.[0-9a-f]{12}\.tmp")
_OLD_TEMPORARY_START = b"PK\x03\x04"
_OLD_TEMPORARY_FIRST_MEMBER = b"metadata.npy"  # at offset 30, after the local header's fixed part


def save_model(model: ModelState, path: object, include_optimizer: bool) -> Path:
    """Write ``model`` to ``path`` (or the file it links to) atomically and return the path written; the
    arguments are checked by :func:`bpframe.io.save_network` and :meth:`bpframe.Network.save`, except ``path``,
    checked here."""
    target = _target_path(path)
    arrays = arrays_to_save(model, include_optimizer)
    try:
        write_atomically(target, lambda file: write_npz(file, arrays), _SUFFIX)
    except TemporaryFileError as exc:
        raise ModelFileError(f"{target}: cannot save the model: {exc}") from exc.__cause__
    except OSError as exc:
        raise ModelFileError(
            f"{target}: cannot save the model: writing failed: {exc.strerror or exc}; "
            "any existing file at that path is unchanged"
        ) from exc
    _remove_stale_temporaries(target.parent)
    return target


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


def arrays_to_save(model: ModelState, include_optimizer: bool) -> dict[str, np.ndarray]:
    """Every member of the file, metadata first."""
    theta = model.theta.copy()
    if not np.isfinite(theta).all():
        raise DataError(
            f"cannot save the network: {np.count_nonzero(~np.isfinite(theta))} of its parameters are NaN or "
            "inf, and a model file must hold finite parameters"
        )
    optimizer = model.optimizer if include_optimizer else None
    state = None if optimizer is None else _optimizer_array(optimizer.state, theta)
    history = model.history
    columns, lengths, values = _history_columns(history)
    metadata = _metadata(model, optimizer, state, columns, lengths)
    speeds = _layer_speed(history, model.num_layers)
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
    model: ModelState,
    optimizer: OptimizerState | None,
    state: np.ndarray | None,
    columns: list[str],
    lengths: list[int],
) -> dict[str, Any]:
    """The JSON object described in the module docstring."""
    return {
        "format": FORMAT,
        "format_version": 2,  # 3 when the file holds layer_speed.npy (_arrays_to_save)
        "bpframe_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "sizes": list(model.sizes),
        "dtype": model.dtype.name,
        "activations": [_spec_record(act) for act in model.activations],
        "loss": _spec_record(model.loss),
        "seed": None if model.seed is None else int(model.seed),
        "history": {"columns": columns, "lengths": lengths},
        "optimizer": None if optimizer is None or state is None else _optimizer_record(optimizer, state.shape[0]),
        "training": model.fit_settings,
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


def _optimizer_record(optimizer: OptimizerState, rows: int) -> dict[str, Any]:
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
