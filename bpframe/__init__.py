"""bpframe: feed-forward neural networks trained by back-propagation, written as its four equations.

The public API is exactly what ``__all__`` lists. Nothing heavy happens at import: plugins are discovered and
kernels compiled on first use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from ._version import __version__
from .activation import Activation
from .callbacks import EarlyStopping
from .errors import (
    BpframeError,
    BpframeWarning,
    ConcurrencyError,
    ConfigurationError,
    DataError,
    DivergenceError,
    DuplicateNameError,
    KernelError,
    MissingDependencyError,
    ModelFileError,
    PluginError,
    PluginWarning,
    TrainingInterrupted,
    UnknownNameError,
)
from .hookspecs import hookimpl
from .init import Initializer
from .kernels.cache import clear_cache as clear_kernel_cache
from .kernels.cache import stats as _cache_stats
from .loss import Loss
from .network import Network, gradient_check, load_network
from .optimizers import SGD, Adam, ExponentialDecay, Hyper, Momentum, Nesterov, Optimizer, OptimizerSpec, StepDecay
from .plugins import get_registry
from .plugins import reload_plugins as _reload
from .registry import Provenance
from .results import BackpropResult, GradientCheckResult, History
from .threads import get_num_threads, set_num_threads

__all__ = [
    "SGD",
    "Activation",
    "Adam",
    "BackpropResult",
    "BpframeError",
    "BpframeWarning",
    "ConcurrencyError",
    "ConfigurationError",
    "DataError",
    "DivergenceError",
    "DuplicateNameError",
    "EarlyStopping",
    "ExponentialDecay",
    "GradientCheckResult",
    "History",
    "Hyper",
    "Initializer",
    "KernelError",
    "Loss",
    "MissingDependencyError",
    "ModelFileError",
    "Momentum",
    "Nesterov",
    "Network",
    "Optimizer",
    "OptimizerSpec",
    "PluginError",
    "PluginWarning",
    "Provenance",
    "StepDecay",
    "TrainingInterrupted",
    "UnknownNameError",
    "__version__",
    "activations",
    "clear_kernel_cache",
    "compiled_kernels",
    "get_activation",
    "get_initializer",
    "get_loss",
    "get_num_threads",
    "gradient_check",
    "hookimpl",
    "initializers",
    "load",
    "losses",
    "provenance",
    "reload_plugins",
    "set_num_threads",
]


def activations() -> list[str]:
    """The names of every activation available now, from every loaded plugin, sorted.

    Examples
    --------
    >>> import bpframe as bp
    >>> "sigmoid" in bp.activations()
    True
    """
    return get_registry().activations.names()


def losses() -> list[str]:
    """The names of every loss available now, from every loaded plugin, sorted.

    Examples
    --------
    >>> import bpframe as bp
    >>> bp.losses()[:3]
    ['binary_cross_entropy', 'cross_entropy', 'quadratic']
    """
    return get_registry().losses.names()


def initializers() -> list[str]:
    """The names of every weight initialisation available now, from every loaded plugin, sorted.

    Examples
    --------
    >>> import bpframe as bp
    >>> [name for name in bp.initializers() if name in ("glorot", "he", "normal", "scaled_normal")]
    ['glorot', 'he', 'normal', 'scaled_normal']
    """
    return get_registry().initializers.names()


def get_activation(name: str) -> Activation:
    """The activation registered under ``name`` by a loaded plugin.

    Raises
    ------
    UnknownNameError
        When no plugin registered ``name``; the message lists the names there are.
    DuplicateNameError
        When two plugins registered it, which makes the name unusable.

    Examples
    --------
    >>> import bpframe as bp
    >>> bp.get_activation("relu").default_init
    'he'
    """
    return get_registry().activation(name)


def get_loss(name: str) -> Loss:
    """The loss registered under ``name`` by a loaded plugin; raises as :func:`get_activation` does.

    Examples
    --------
    >>> import bpframe as bp
    >>> sorted(bp.get_loss("cross_entropy").output_errors)
    ['softmax']
    """
    return get_registry().loss(name)


def get_initializer(name: str) -> Initializer:
    """The weight initializer registered under ``name`` by a loaded plugin; raises as :func:`get_activation`
    does.

    Examples
    --------
    >>> import bpframe as bp
    >>> bp.get_initializer("he").description
    'w ~ N(0, 2/n_in), b = 0 (for ReLU-like activations)'
    """
    return get_registry().initializer(name)


def provenance(spec: Activation | Loss | Initializer | OptimizerSpec) -> Provenance | None:
    """Which plugin, distribution and version registered ``spec``; ``None`` for an object no loaded plugin
    registered (one built in a script and passed by value).

    Examples
    --------
    >>> import bpframe as bp
    >>> bp.provenance(bp.get_activation("sigmoid")).distribution
    'bpframe'
    >>> bp.provenance(bp.Activation("mine", lambda z: z, lambda z: 1.0)) is None
    True
    """
    return get_registry().provenance_of(spec)


def compiled_kernels() -> list[str]:
    """The compiled kernels this process has built so far, by name; those loaded from the disk cache are not
    counted. A warm cache compiles nothing: a job that repeats a configuration should see an empty list.

    Examples
    --------
    >>> import bpframe as bp
    >>> isinstance(bp.compiled_kernels(), list)
    True
    """
    return list(_cache_stats().compiled)


def load(path: str | os.PathLike[str], *, custom_objects: Mapping[str, Activation | Loss] | None = None) -> Network:
    """Load a network saved by :meth:`Network.save`; see :func:`bpframe.io.load_network` for every check made.

    Names of activations and losses are looked up in the plugin registry (or ``custom_objects``), never imported
    from the file.
    """
    return load_network(path, custom_objects=custom_objects)


def reload_plugins() -> None:
    """Discover plugins again, e.g. after ``pip install`` of a plugin in a running session."""
    _reload()
