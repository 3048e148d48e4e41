"""The exception and warning hierarchy of bpframe.

Every error bpframe raises on purpose derives from :class:`BpframeError` and from the built-in exception that
matches its meaning, so ``except ValueError`` keeps working for code that does not know about bpframe.
"""

from __future__ import annotations

__all__ = [
    "BpframeError",
    "BpframeWarning",
    "ConcurrencyError",
    "ConfigurationError",
    "DataError",
    "DivergenceError",
    "DuplicateNameError",
    "KernelError",
    "MissingDependencyError",
    "ModelFileError",
    "PluginError",
    "PluginWarning",
    "TrainingInterrupted",
    "UnknownNameError",
]


class BpframeError(Exception):
    """Base class of every error raised by bpframe on purpose."""


class ConfigurationError(BpframeError, ValueError):
    """An argument or setting has a value outside what is allowed (the message names both)."""


class DataError(BpframeError, ValueError):
    """Input data (X, Y, a file's contents) has the wrong shape, type or values."""


class UnknownNameError(BpframeError, LookupError):
    """A name (activation, loss, initializer, ...) is not registered; the message lists the names that are."""


class DuplicateNameError(BpframeError, LookupError):
    """Two plugins registered the same name; the message names both distributions."""


class PluginError(BpframeError, RuntimeError):
    """A plugin failed to load, register or compile; the message names the plugin and its distribution."""


class KernelError(BpframeError, RuntimeError):
    """The compiled engine could not be built or run for a configuration."""


class DivergenceError(BpframeError, FloatingPointError):
    """Training produced a non-finite cost or gradient; the network keeps its last finite weights."""


class ModelFileError(BpframeError, ValueError):
    """A saved model file is missing, damaged, or not a bpframe model; the message names the file."""


class ConcurrencyError(BpframeError, RuntimeError):
    """An object was used from two threads at once where that is not supported (one ``fit`` per network)."""


class MissingDependencyError(BpframeError, ImportError):
    """An optional dependency is needed for this feature; the message says what to install."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped ``fit`` after a completed mini-batch; the network is consistent and ``fit`` with the same
    arguments continues the run. Carries ``history`` (the run's finished epochs), ``epoch`` and ``batch`` (how
    many batches of that epoch were trained). A ``KeyboardInterrupt``, so ordinary handlers still see it."""

    history: object = None
    epoch: int = 0
    batch: int = 0


class BpframeWarning(UserWarning):
    """Base class of the warnings bpframe emits."""


class PluginWarning(BpframeWarning):
    """A plugin was skipped or behaves unexpectedly; the message names it and its distribution."""
