"""bpframe-training-log: write every epoch of every ``Network.fit`` to a CSV or JSON-lines file.

A plugin on bpframe's training-event hooks rather than on its math: once installed, it sees every fit in every
program. Set ``BPFRAME_TRAINING_LOG`` to the file to append to:

- ``*.csv``: one row per epoch, columns :data:`COLUMNS` (a header is written when the file is new or empty);
- ``*.jsonl``: one JSON object per line: ``{"event": "fit_start", ...}``, one ``{"event": "epoch", ...}`` per
  epoch, and ``{"event": "fit_end", ...}``.

With the variable unset or empty the plugin does nothing. Each record is appended and flushed when its epoch
ends, so a run that crashes keeps the epochs it finished. A fit is identified by its ``run`` value.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import time
from pathlib import Path
from typing import Any

from bpframe import hookimpl

__version__ = "0.1.0"

ENV_VAR = "BPFRAME_TRAINING_LOG"
#: The CSV columns; a JSON-lines epoch record has the same keys plus ``"event": "epoch"``.
COLUMNS = ("run", "epoch", "epochs", "eta", "cost", "accuracy", "val_cost", "val_accuracy", "seconds")

_counter = itertools.count(1)
_runs: dict[int, dict[str, Any]] = {}  # id(net) -> {"path", "run", "eta"} of the fit in progress


def log_path() -> Path | None:
    """The log file named by ``BPFRAME_TRAINING_LOG``, or ``None`` when unset.

    Raises
    ------
    ValueError
        When the name ends in neither ``.csv`` nor ``.jsonl`` (bpframe then warns and trains on, unlogged).
    """
    value = os.environ.get(ENV_VAR, "").strip()
    if not value:
        return None
    path = Path(value)
    if path.suffix.lower() not in (".csv", ".jsonl"):
        raise ValueError(f"{ENV_VAR} must name a .csv or .jsonl file, got {value!r}")
    return path


def _append(path: Path, record: dict[str, Any]) -> None:
    """Append one record (a CSV row for epochs, a JSON line for everything) and flush it to the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        if record.get("event") != "epoch":
            return
        new = not path.exists() or path.stat().st_size == 0
        with path.open("a", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, fieldnames=COLUMNS, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow({key: record.get(key, "") for key in COLUMNS})
    else:
        with path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(record, default=str) + "\n")


@hookimpl
def bpframe_fit_start(net: Any, settings: dict[str, Any]) -> None:
    """Open a run: remember where to log it and write its settings (JSON lines only)."""
    path = log_path()
    if path is None:
        _runs.pop(id(net), None)
        return
    run = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{next(_counter)}"
    _runs[id(net)] = {"path": path, "run": run, "eta": None}
    _append(path, {"event": "fit_start", "run": run, "network": repr(net), "settings": settings})


@hookimpl
def bpframe_epoch_start(net: Any, epoch: int, epochs: int, eta: float) -> None:
    """Remember the epoch's learning rate for its record."""
    state = _runs.get(id(net))
    if state is not None:
        state["eta"] = eta


@hookimpl
def bpframe_epoch_end(net: Any, epoch: int, epochs: int, logs: dict[str, float]) -> None:
    """Append the epoch's record."""
    state = _runs.get(id(net))
    if state is not None:
        record = {"event": "epoch", "run": state["run"], "epoch": epoch, "epochs": epochs, "eta": state["eta"]}
        _append(state["path"], {**record, **logs})


@hookimpl
def bpframe_fit_end(net: Any, history: Any, reason: str) -> None:
    """Close the run with why it ended (JSON lines only)."""
    state = _runs.pop(id(net), None)
    if state is not None:
        _append(state["path"], {"event": "fit_end", "run": state["run"], "reason": reason, "epochs": len(history)})
