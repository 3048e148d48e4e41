"""Loading: a model file's activation and loss names resolved through the installed plugins or the caller's
``custom_objects``, and what to do when nothing registers one (the distribution and version to install)."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from typing import Any

from ..activation import Activation
from ..errors import ConfigurationError, DuplicateNameError, ModelFileError, PluginWarning, UnknownNameError
from ..loss import Loss
from ..plugins import get_registry
from ..registry import Provenance
from ..warn import warn
from ._schema import ModelContents, read_model

__all__ = ["ResolvedModel", "read_network"]


@dataclasses.dataclass(frozen=True)
class ResolvedModel:
    """A checked model file with its names resolved: everything a network is built from."""

    path: str
    contents: ModelContents
    activations: list[Activation]
    loss: Loss


def read_network(path: str | os.PathLike[str], custom_objects: Mapping[str, Activation | Loss] | None) -> ResolvedModel:
    """The checked file at ``path`` and the objects its names stand for (see :func:`bpframe.load`)."""
    custom = _check_custom_objects(custom_objects)
    where = os.fspath(path) if isinstance(path, (str, os.PathLike)) else path
    if not isinstance(where, str):
        raise ConfigurationError(f"path must be a str or os.PathLike, got {type(path).__name__} {path!r}")
    _, model = read_model(where)
    messages: list[str] = []
    missing: list[_Missing] = []
    activations = [
        _resolve(where, "activation", f"layer {l}'s activation", record, custom, messages, missing)
        for l, record in enumerate(model.activations, start=1)
    ]
    loss = _resolve(where, "loss", "the loss", model.loss, custom, messages, missing)
    if missing:
        raise ModelFileError(_missing_objects(where, missing, get_registry().failures))
    for message in messages:
        warn(message, PluginWarning)
    return ResolvedModel(where, model, activations, loss)


def _check_custom_objects(custom_objects: object) -> dict[str, Activation | Loss]:
    """Validate the ``custom_objects`` argument."""
    if custom_objects is None:
        return {}
    if not isinstance(custom_objects, Mapping):
        raise ConfigurationError(
            f"custom_objects must be a dict of name -> bpframe.Activation or bpframe.Loss, "
            f"got {type(custom_objects).__name__}"
        )
    for key, value in custom_objects.items():
        if not isinstance(value, (Activation, Loss)):
            raise ConfigurationError(
                f"custom_objects[{key!r}] must be a bpframe.Activation or bpframe.Loss, got {type(value).__name__}"
            )
        if key != value.name:
            raise ConfigurationError(
                f"custom_objects[{key!r}] is {value!r}; the key must be the object's name, {value.name!r}"
            )
    return dict(custom_objects)


# -- names --------------------------------------------------------------------------------------------------


def _resolve(
    path: str,
    kind: str,
    subject: str,
    record: dict[str, Any],
    custom: dict[str, Activation | Loss],
    messages: list[str],
    missing: list[_Missing],
) -> Any:
    """The spec object for a saved name: from ``custom_objects``, else from the registry; ``None`` (recorded in
    ``missing``) when nothing registers it."""
    name = record["name"]
    expected = Activation if kind == "activation" else Loss
    if name in custom:
        if not isinstance(custom[name], expected):
            raise ModelFileError(
                f"{path}: {subject} is {name!r}, but custom_objects[{name!r}] is {custom[name]!r}, not a "
                f"bpframe.{expected.__name__}"
            )
        return custom[name]
    registry = get_registry()
    table = registry.activations if kind == "activation" else registry.losses
    try:
        entry = table.get(name)
    except UnknownNameError:
        missing.append(_Missing(kind, subject, record))
        return None
    except DuplicateNameError as exc:
        raise ModelFileError(f"{path}: {subject} {name!r} cannot be resolved: {exc}") from None
    message = _provenance_change(path, subject, record, entry.provenance)
    if message:
        messages.append(message)
    return entry.spec


@dataclasses.dataclass(frozen=True)
class _Missing:
    """A name in the file that nothing registers now: its kind, where the model uses it, and its record."""

    kind: str
    subject: str
    record: dict[str, Any]


def _missing_objects(path: str, missing: list[_Missing], failures: list[Any]) -> str:
    """One message for every name nothing registers: each object once, then one install line per distribution."""
    objects: dict[tuple[str, str], list[_Missing]] = {}
    for item in missing:
        objects.setdefault((item.kind, item.record["name"]), []).append(item)
    if len(objects) == 1:
        first = missing[0]
        return _missing_message(path, first.kind, first.subject, first.record, failures)
    lines = [f"{path}: {len(objects)} objects the model needs are not registered by any installed plugin:"]
    installs: dict[str, list[str]] = {}
    for (kind, name), uses in objects.items():
        record = uses[0].record
        layers = [m.group(1) for u in uses if (m := re.match(r"layer (\d+)'s", u.subject))]
        where = f" (layer{'s' if len(layers) > 1 else ''} {', '.join(layers)})" if layers else ""
        lines.append(f"  {kind} {name!r}{where}: {_origin(record, failures)}")
        requirement = _requirement(record, failures)
        if requirement is not None:
            installs.setdefault(requirement, []).append(name)
    if installs:
        lines.append("Install them with:")
        lines += [f'  pip install "{req}"    # {", ".join(names)}' for req, names in installs.items()]
        lines.append("then call bpframe.reload_plugins() in a running session.")
    examples = ", ".join(f'"{name}": bpframe.{kind.capitalize()}("{name}", ...)' for kind, name in objects)
    lines.append(f"Or pass your own definitions: custom_objects={{{examples}}}")
    return "\n".join(lines)


def _origin(record: dict[str, Any], failures: list[Any]) -> str:
    """Where a missing object came from when the model was saved, and why it is not here now."""
    distribution = record.get("distribution")
    if record.get("user-defined"):
        return "defined in user code when the model was saved (no plugin registered it)"
    if distribution is None:
        return f"it came from plugin {record.get('plugin')!r}, not part of an installed distribution"
    saved = Provenance(str(record.get("plugin")), distribution, record.get("version")).describe()
    failure = next((f for f in failures if f.provenance.distribution == distribution), None)
    if failure is not None:
        return f"it came from {saved}, which is installed but was skipped when plugins loaded: {failure.error}"
    return f"it came from {saved}"


def _requirement(record: dict[str, Any], failures: list[Any]) -> str | None:
    """``dist==version`` to install for a missing object, or ``None`` when installing would not help."""
    distribution, version = record.get("distribution"), record.get("version")
    if record.get("user-defined") or distribution is None:
        return None
    if any(f.provenance.distribution == distribution for f in failures):
        return None
    return f"{distribution}=={version}" if version else distribution


def _missing_message(path: str, kind: str, subject: str, record: dict[str, Any], failures: list[Any]) -> str:
    """What to do about a saved name that nothing registers now."""
    name, distribution, version = record["name"], record.get("distribution"), record.get("version")
    example = f'custom_objects={{"{name}": bpframe.{kind.capitalize()}("{name}", ...)}}'
    if record.get("user-defined"):
        return (
            f"{path}: {subject} {name!r} was defined in user code when the model was saved (no plugin registered "
            f"it), so bpframe cannot recreate it; pass your definition when loading: {example}"
        )
    head = f"{path}: {subject} {name!r} is not registered by any installed plugin"
    if distribution is None:
        return (
            f"{head}; when the model was saved it came from plugin {record.get('plugin')!r}, not part of an "
            f"installed distribution. Register that plugin again, or pass {example}"
        )
    saved = Provenance(str(record.get("plugin")), distribution, version).describe()
    failure = next((f for f in failures if f.provenance.distribution == distribution), None)
    if failure is not None:
        return f"{head}; it came from {saved}, which is installed but was skipped when plugins loaded: {failure.error}"
    requirement = f"{distribution}=={version}" if version else distribution
    return (
        f'{head}; when the model was saved it came from {saved}. Install it with: pip install "{requirement}" '
        f"(then bpframe.reload_plugins() in a running session), or pass {example}"
    )


def _provenance_change(path: str, subject: str, record: dict[str, Any], now: Provenance) -> str | None:
    """A warning message when the installed definition may differ from the saved one, else ``None``."""
    name = record["name"]
    if record.get("user-defined"):
        return (
            f"{path}: {subject} {name!r} was defined in user code when the model was saved; loading the one "
            f"{now.describe()} registers under that name now (pass custom_objects={{{name!r}: ...}} to use yours)"
        )
    saved_distribution, saved_version = record.get("distribution"), record.get("version")
    if saved_distribution is None or (saved_distribution, saved_version) == (now.distribution, now.version):
        return None
    if saved_distribution == "bpframe" and now.distribution == "bpframe":
        return None  # a built-in: it follows bpframe's version, and format_version covers incompatible changes
    if saved_distribution == now.distribution:
        change = f"version {saved_version} of {saved_distribution}, but version {now.version} is installed"
    else:
        change = f"{saved_distribution} {saved_version}, but it now comes from {now.describe()}"
    return (
        f"{path}: {subject} {name!r} was saved with {change}; loading with the installed one, whose results may differ"
    )
