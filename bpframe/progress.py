"""The progress display of ``fit``, written as an ordinary plugin on the training-event hooks.

``verbose=1`` shows a bar over each epoch's mini-batches where one can be drawn: on a terminal (tqdm's text
bar) and in Jupyter (tqdm's notebook widget, when ``ipywidgets`` is installed); elsewhere (a log file, a pipe,
a notebook without widgets) it prints one line per epoch, as ``verbose=2`` always does.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any, TextIO

from .hookspecs import hookimpl

__all__ = ["EpochLines", "ProgressBar", "epoch_line", "in_notebook", "progress_plugin"]


def _widgets_installed() -> bool:
    """ipywidgets, which tqdm's notebook bar is drawn with, can be imported."""
    return importlib.util.find_spec("ipywidgets") is not None


def in_notebook() -> bool:
    """True inside a Jupyter kernel (IPython's ``ZMQInteractiveShell``) that can draw tqdm's notebook widget."""
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    return type(shell).__name__ == "ZMQInteractiveShell" and _widgets_installed()


def epoch_line(epoch: int, epochs: int, logs: dict[str, float]) -> str:
    """One line summarising an epoch."""
    text = f"epoch {epoch}/{epochs}: cost {logs['cost']:.4f}, accuracy {logs['accuracy']:.4f}"
    if "val_cost" in logs:
        text += f", val_cost {logs['val_cost']:.4f}, val_accuracy {logs['val_accuracy']:.4f}"
    return text + f" ({logs['seconds']:.2f} s)"


class EpochLines:
    """One line per epoch (``verbose=2``, or ``verbose=1`` when the output is not a terminal)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    @hookimpl
    def bpframe_epoch_end(self, epoch: int, epochs: int, logs: dict[str, float]) -> None:
        print(epoch_line(epoch, epochs, logs), file=self.stream, flush=True)


class ProgressBar:
    """A tqdm bar over each epoch's batches with the running cost and accuracy, then the epoch's line: a text bar
    on ``stream``, or tqdm's notebook widget when ``notebook`` is true."""

    def __init__(self, stream: TextIO, notebook: bool = False) -> None:
        self.stream = stream
        self.notebook = notebook
        self.bar: Any = None
        self.num_batches = 0

    def bar_class(self) -> Any:
        """tqdm's notebook widget or its text bar."""
        if self.notebook:
            from tqdm.notebook import tqdm as notebook_tqdm

            return notebook_tqdm
        from tqdm.std import tqdm as text_tqdm

        return text_tqdm

    @hookimpl
    def bpframe_fit_start(self, settings: dict[str, Any]) -> None:
        self.num_batches = int(settings["num_batches"])

    @hookimpl
    def bpframe_epoch_start(self, epoch: int, epochs: int) -> None:
        self.bar = self.bar_class()(
            total=self.num_batches, desc=f"epoch {epoch}/{epochs}", unit="batch", leave=False, file=self.stream
        )

    @hookimpl
    def bpframe_batches_end(self, done: int, cost: float, accuracy: float) -> None:
        if self.bar is not None:
            self.bar.update(done - self.bar.n)
            self.bar.set_postfix(cost=f"{cost:.4f}", accuracy=f"{accuracy:.4f}")  # at most 100 refreshes an epoch

    @hookimpl
    def bpframe_epoch_end(self, epoch: int, epochs: int, logs: dict[str, float]) -> None:
        self.close()
        print(epoch_line(epoch, epochs, logs), file=self.stream, flush=True)

    @hookimpl
    def bpframe_fit_end(self) -> None:
        self.close()

    def close(self) -> None:
        """Remove the bar, if one is shown."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def progress_plugin(verbose: int, stream: TextIO | None = None) -> object | None:
    """The display for a verbosity: nothing (0), a bar on a terminal or in Jupyter or lines elsewhere (1),
    lines (2)."""
    stream = sys.stdout if stream is None else stream
    if verbose == 0:
        return None
    if verbose == 1 and in_notebook():
        return ProgressBar(stream, notebook=True)
    isatty = getattr(stream, "isatty", None)
    if verbose == 1 and isatty is not None and isatty():
        return ProgressBar(stream)
    return EpochLines(stream)
