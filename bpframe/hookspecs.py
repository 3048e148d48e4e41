"""The hook specifications a bpframe plugin implements.

A plugin is a module (or object) listed under the ``bpframe`` entry-point group of its distribution. It
implements one or more of the hooks below, marked with :data:`bpframe.hookimpl`. Each registration hook
receives a ``register`` callback: call it once per object the plugin provides.
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from .activation import Activation
from .loss import Loss

__all__ = ["PROJECT", "hookimpl", "hookspec", "bpframe_register_activations", "bpframe_register_losses"]

PROJECT = "bpframe"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def bpframe_register_activations(register: Callable[[Activation], None]) -> None:
    """Register activation functions.

    Parameters
    ----------
    register : callable
        Call ``register(Activation(...))`` once for each activation the plugin provides.
    """


@hookspec
def bpframe_register_losses(register: Callable[[Loss], None]) -> None:
    """Register loss functions.

    Parameters
    ----------
    register : callable
        Call ``register(Loss(...))`` once for each loss the plugin provides.
    """
