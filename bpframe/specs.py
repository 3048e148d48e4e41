"""Turn what a user passes for ``activation``, ``loss`` and ``init`` (names or objects) into spec objects."""

from __future__ import annotations

from collections.abc import Sequence

from .activation import Activation
from .errors import ConfigurationError
from .init import Initializer
from .loss import Loss
from .optimizer_spec import OptimizerSpec
from .plugins import get_registry

__all__ = ["describe", "resolve_activations", "resolve_initializers", "resolve_loss", "version_of"]


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


def resolve_initializers(value: object, activations: Sequence[Activation]) -> tuple[Initializer, ...]:
    """One initializer per layer: ``None`` takes each activation's ``default_init``, a single name or object
    applies to all layers, a sequence gives one per layer."""
    num_layers = len(activations)
    if value is None:
        items: Sequence[object] = [act.default_init for act in activations]
    elif isinstance(value, (str, Initializer)):
        items = [value] * num_layers
    elif isinstance(value, Sequence) and len(value) == num_layers:
        items = value
    else:
        raise ConfigurationError(
            f"init must be an initializer name, a bpframe.Initializer, or a list of {num_layers} of them "
            f"(one per layer after the input), got {value!r}"
        )
    return tuple(_initializer(item) for item in items)


def _initializer(value: object) -> Initializer:
    if isinstance(value, Initializer):
        return value
    if isinstance(value, str):
        return get_registry().initializer(value)
    raise ConfigurationError(f"init must hold initializer names or bpframe.Initializer objects, got {value!r}")


def describe(spec: Activation | Loss | OptimizerSpec | Initializer) -> str:
    """``activation 'sigmoid' (from bpframe 0.1.0 (plugin ...))`` for messages."""
    kinds = {Activation: "activation", Loss: "loss", OptimizerSpec: "optimizer", Initializer: "initializer"}
    kind = kinds[type(spec)]
    provenance = get_registry().provenance_of(spec)
    origin = f"from {provenance.describe()}" if provenance else "defined in user code, not registered"
    return f"{kind} {spec.name!r} ({origin})"


def version_of(spec: Activation | Loss | OptimizerSpec | Initializer) -> str:
    """The providing distribution and version, part of the kernel cache key."""
    provenance = get_registry().provenance_of(spec)
    return f"{provenance.distribution}=={provenance.version}" if provenance else "unregistered"
