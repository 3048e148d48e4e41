"""A few lines describing a model file, checked as loading checks it, without building a network."""

from __future__ import annotations

import os
from typing import Any

from ..plugins import get_registry
from ..registry import Provenance
from ..results import History
from ..state import OptimizerState
from ._schema import read_model

__all__ = ["describe_model"]


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
