"""Turn what a user passes for ``activation`` and ``loss`` (names or objects) into spec objects."""

from __future__ import annotations

from collections.abc import Sequence

from .activation import Activation
from .errors import ConfigurationError
from .loss import Loss
from .optimizers import OptimizerSpec
from .plugins import get_registry

__all__ = ["describe", "resolve_activations", "resolve_loss", "version_of"]


def _activation(value: object, where: str) -> Activation:
    if isinstance(value, Activation):
        return value
    if isinstance(value, str):
        return get_registry().activation(value)
    raise ConfigurationError(f"{where} must be an activation name or a bpframe.Activation, got {value!r}")


def resolve_activations(value: object, num_layers: int) -> tuple[Activation, ...]:
    """One activation for every layer: a single name/object applies to all, a sequence gives one per layer."""
    if isinstance(value, (str, Activation)):
        act = _activation(value, "activation")
        return (act,) * num_layers
    if not isinstance(value, Sequence):
        raise ConfigurationError(
            f"activation must be a name, a bpframe.Activation, or a list of {num_layers} of them "
            f"(one per layer after the input), got {value!r}"
        )
    if len(value) != num_layers:
        raise ConfigurationError(
            f"activation lists {len(value)} activations {list(value)!r} but the network has {num_layers} layers "
            f"after the input; give one per layer, or a single name for all"
        )
    return tuple(_activation(v, f"activation[{i}]") for i, v in enumerate(value))


def resolve_loss(value: object) -> Loss:
    """A loss name or object."""
    if isinstance(value, Loss):
        return value
    if isinstance(value, str):
        return get_registry().loss(value)
    raise ConfigurationError(f"loss must be a loss name or a bpframe.Loss, got {value!r}")


def describe(spec: Activation | Loss | OptimizerSpec) -> str:
    """``activation 'sigmoid' (from bpframe 0.1.0 (plugin ...))`` for messages."""
    kind = "activation" if isinstance(spec, Activation) else "loss" if isinstance(spec, Loss) else "optimizer"
    provenance = get_registry().provenance_of(spec)
    origin = f"from {provenance.describe()}" if provenance else "defined in user code, not registered"
    return f"{kind} {spec.name!r} ({origin})"


def version_of(spec: Activation | Loss | OptimizerSpec) -> str:
    """The providing distribution and version, part of the kernel cache key."""
    provenance = get_registry().provenance_of(spec)
    return f"{provenance.distribution}=={provenance.version}" if provenance else "unregistered"
