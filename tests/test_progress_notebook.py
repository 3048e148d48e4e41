"""In Jupyter, verbose=1 draws tqdm's notebook widget (when ipywidgets is installed); elsewhere nothing changes."""

from __future__ import annotations

import io
import sys
import types

import pytest

from bpframe import progress
from bpframe.progress import EpochLines, ProgressBar, in_notebook, progress_plugin


def fake_ipython(monkeypatch, shell_class_name):
    shell = type(shell_class_name, (), {})()
    module = types.ModuleType("IPython")
    module.get_ipython = lambda: shell
    monkeypatch.setitem(sys.modules, "IPython", module)


@pytest.mark.parametrize(
    ("shell", "widgets", "expected"),
    [
        ("ZMQInteractiveShell", True, True),  # a Jupyter kernel
        ("ZMQInteractiveShell", False, False),  # Jupyter without ipywidgets: tqdm's widget cannot be drawn
        ("TerminalInteractiveShell", True, False),  # IPython in a terminal: the text bar
    ],
)
def test_in_notebook(monkeypatch, shell, widgets, expected):
    fake_ipython(monkeypatch, shell)
    monkeypatch.setattr(progress, "_widgets_installed", lambda: widgets)
    assert in_notebook() is expected


def test_not_in_notebook_without_ipython(monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython", None)
    assert in_notebook() is False


def test_verbose_1_in_a_notebook_draws_the_notebook_widget(monkeypatch):
    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    display = progress_plugin(1, io.StringIO())  # a notebook's output stream is no terminal
    assert isinstance(display, ProgressBar) and display.notebook
    from tqdm.notebook import tqdm as notebook_tqdm

    assert display.bar_class() is notebook_tqdm
    assert isinstance(progress_plugin(2, io.StringIO()), EpochLines)  # verbose=2 stays one line per epoch


def test_outside_a_notebook_the_bar_is_tqdms_text_bar(monkeypatch):
    monkeypatch.setattr(progress, "in_notebook", lambda: False)
    from tqdm.std import tqdm as text_tqdm

    assert ProgressBar(io.StringIO()).bar_class() is text_tqdm
    assert isinstance(progress_plugin(1, io.StringIO()), EpochLines)
