"""The hook specifications a bpframe plugin implements.

A plugin is a module (or object) listed under the ``bpframe`` entry-point group of its distribution. It
implements one or more of the hooks below, marked with :data:`bpframe.hookimpl`. Each registration hook
receives a ``register`` callback: call it once per object the plugin provides.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

from .activation import Activation
from .init import Initializer
from .loss import Loss
from .optimizer_spec import OptimizerSpec

__all__ = [
    "PROJECT",
    "TRAINING_HOOKS",
    "bpframe_batches_end",
    "bpframe_epoch_end",
    "bpframe_epoch_start",
    "bpframe_fit_end",
    "bpframe_fit_start",
    "bpframe_register_activations",
    "bpframe_register_initializers",
    "bpframe_register_losses",
    "bpframe_register_optimizers",
    "hookimpl",
    "hookspec",
]

PROJECT = "bpframe"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

#: The training events, in the order a fit calls them (the other hooks register objects when plugins load).
TRAINING_HOOKS = (
    "bpframe_fit_start",
    "bpframe_epoch_start",
    "bpframe_batches_end",
    "bpframe_epoch_end",
    "bpframe_fit_end",
)


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


@hookspec
def bpframe_register_optimizers(register: Callable[[OptimizerSpec], None]) -> None:
    """Register optimizers.

    Parameters
    ----------
    register : callable
        Call ``register(OptimizerSpec(...))`` once for each optimizer the plugin provides (see
        :class:`bpframe.OptimizerSpec` for the update kernel's contract).
    """


@hookspec
def bpframe_register_initializers(register: Callable[[Initializer], None]) -> None:
    """Register weight initialisations.

    Parameters
    ----------
    register : callable
        Call ``register(Initializer(...))`` once for each initialisation the plugin provides (see
        :class:`bpframe.Initializer` for what its ``draw`` function receives and returns).
    """


# -- training events ---------------------------------------------------------------------------------------------
# Called by Network.fit on every plugin that implements them (and on the callbacks passed to fit). A hook that
# raises is reported with a PluginWarning and skipped for the rest of that fit; training goes on.


@hookspec
def bpframe_fit_start(net: Any, settings: dict[str, Any]) -> None:
    """Training is about to start.

    Parameters
    ----------
    net : Network
        The network being trained.
    settings : dict
        ``epochs``, ``batch_size``, ``eta``, ``lmbda``, ``optimizer`` (its config), ``schedule``, ``n_samples``,
        ``num_batches``, ``validation`` (bool), and ``resumed``: ``None``, or ``{"epoch": e, "batch": k}`` when
        this call continues an interrupted run from batch k of epoch e.
    """


@hookspec
def bpframe_epoch_start(net: Any, epoch: int, epochs: int, eta: float) -> None:
    """Epoch ``epoch`` (1-based) of ``epochs`` starts, with learning rate ``eta``."""


@hookspec
def bpframe_batches_end(net: Any, epoch: int, done: int, total: int, cost: float, accuracy: float) -> None:
    """A run of mini-batches ended: ``done`` of ``total`` batches of this epoch are trained.

    The compiled engine trains many batches per call, so this is called about every 1 % of an epoch (at most
    100 times per epoch), and only when some plugin implements it. ``cost`` and ``accuracy`` are the running
    means over the epoch's batches so far.
    """


@hookspec
def bpframe_epoch_end(net: Any, epoch: int, epochs: int, logs: dict[str, float]) -> bool | None:
    """Epoch ``epoch`` ended. ``logs`` holds ``cost``, ``accuracy``, ``seconds`` and, with validation data,
    ``val_cost`` and ``val_accuracy``. Return ``True`` to stop training after this epoch."""


@hookspec
def bpframe_fit_end(net: Any, history: Any, reason: str) -> None:
    """Training ended; ``reason`` is ``"completed"``, ``"stopped"`` (a hook asked to stop), ``"diverged"``,
    ``"interrupted"`` (Ctrl-C; the same fit call again resumes) or ``"failed"`` (a plugin function raised)."""
