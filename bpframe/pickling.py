"""What a pickled :class:`~bpframe.Network` carries: its configuration and its whole trained state, never code.

A network travels to another process (joblib, Dask, ``multiprocessing``, a fitted scikit-learn estimator)
as its sizes, dtype, initialisers and seed, one snapshot (:meth:`bpframe.Network.snapshot`: parameters,
optimizer state and step, shuffling generator, history, an unfinished run), and its activations and loss:

- a spec (activation, loss, initializer) registered by a plugin travels as its registry name and is looked up
  in the receiving process, as :func:`bpframe.load` does (the plugin must be installed there);
- a spec built in user code travels as the spec object itself, whose functions pickle by reference: they must
  be module-level functions of a module the receiving process can import.

Compiled code never travels: the receiving network builds its program on first use, from the kernel disk cache
when it is warm (:mod:`bpframe.kernels.cache`), so an unpickled network on a warm worker compiles nothing.
"""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

from .activation import Activation
from .errors import ConfigurationError, UnknownNameError
from .init import Initializer
from .loss import Loss
from .plugins import get_registry, loaded_registry

__all__ = ["spec_from_state", "spec_state"]

#: The version of the pickled state; a reader refuses a state of another version with a message.
STATE_VERSION = 1

Spec = Activation | Loss | Initializer
_KINDS: dict[str, type[Activation] | type[Loss] | type[Initializer]] = {
    "activation": Activation,
    "loss": Loss,
    "initializer": Initializer,
}


def _kind(spec: Spec) -> str:
    return next(kind for kind, cls in _KINDS.items() if isinstance(spec, cls))


def spec_state(spec: Spec, where: str) -> tuple[str, Any]:
    """``("registered", name)`` for a spec a plugin registered, else ``(kind, fields)`` of the object itself.

    Raises
    ------
    ConfigurationError
        When a user-defined spec's functions cannot be pickled (a lambda, a nested function, ...); ``where``
        names it (``"layer 1's activation"``).
    """
    if loaded_registry().provenance_of(spec) is not None:
        return ("registered", spec.name)
    fields = {field.name: getattr(spec, field.name) for field in dataclasses.fields(spec)}
    if isinstance(spec, Loss):
        fields["output_errors"] = dict(fields["output_errors"])
    _check_picklable(spec, fields, where)
    return (_kind(spec), fields)


def _check_picklable(spec: Spec, fields: dict[str, Any], where: str) -> None:
    """Raise a message naming the function that cannot travel by reference."""
    functions = {k: v for k, v in fields.items() if callable(v)}
    functions.update({f"output_errors[{k!r}]": v for k, v in fields.get("output_errors", {}).items()})
    for name, function in functions.items():
        try:
            pickle.dumps(function)
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            raise ConfigurationError(
                f"cannot pickle the network: {where}, {spec!r}, is defined in user code and its {name} "
                f"({getattr(function, '__qualname__', function)!r}) cannot be pickled ({exc}); define it as a "
                "module-level function of an importable module, or register it through a plugin"
            ) from None


def spec_from_state(state: tuple[str, Any], kind: str) -> Any:
    """The spec :func:`spec_state` described: looked up in this process's registry, or rebuilt from its fields.

    Raises
    ------
    ConfigurationError
        For a state that is not one :func:`spec_state` writes.
    UnknownNameError
        When no installed plugin registers the name here (install the plugin where the network is unpickled).
    """
    if not (isinstance(state, tuple) and len(state) == 2 and state[0] in ("registered", kind)):
        raise ConfigurationError(f"cannot unpickle the network: its {kind} is stored as {state!r:.80}")
    if state[0] == kind:
        return _KINDS[kind](**state[1])
    registry = get_registry()
    lookup = {"activation": registry.activation, "loss": registry.loss, "initializer": registry.initializer}
    try:
        return lookup[kind](state[1])
    except UnknownNameError as exc:
        raise UnknownNameError(
            f"cannot unpickle the network: {exc}; install the plugin that provides {state[1]!r} in this process"
        ) from None
