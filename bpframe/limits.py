"""Every size limit of bpframe, in one place: the largest network it builds and the largest model file it reads.

A network is checked before any of it is allocated, by :class:`~bpframe.Network` and when a model file is
loaded: at most :data:`MAX_LAYERS` layers after the input, :data:`MAX_WIDTH` neurons in any layer and
:data:`MAX_PARAMETERS` weights and biases in all, and never more bytes than the machine's memory (or the
memory limit of its container). A model file's metadata is at most :data:`MAX_METADATA_BYTES` of JSON text,
nested at most :data:`MAX_JSON_DEPTH` deep, with no number written longer than :data:`MAX_JSON_NUMBER_LENGTH`
characters; everything that can grow with training is stored as arrays whose size the metadata fixes.

Examples
--------
>>> import bpframe as bp
>>> from bpframe.limits import MAX_LAYERS, MAX_PARAMETERS, MAX_WIDTH
>>> MAX_LAYERS, MAX_WIDTH, MAX_PARAMETERS
(1024, 16777216, 2147483647)
>>> bp.Network([100_000, 100_000, 10])  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
bpframe.errors.ConfigurationError: the network needs 10,001,100,010 parameters (80,008,800,080 bytes, 74.5 GiB as ...
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence

import numpy as np

from .errors import ConfigurationError

__all__ = [
    "MAX_ARCHIVE_ENTRIES",
    "MAX_JSON_DEPTH",
    "MAX_JSON_NUMBER_LENGTH",
    "MAX_JSON_VALUES",
    "MAX_LAYERS",
    "MAX_METADATA_BYTES",
    "MAX_PARAMETERS",
    "MAX_WIDTH",
    "check_depth",
    "check_network_size",
    "format_bytes",
    "memory_limit",
]

#: Layers after the input (weight matrices): ``len(sizes) - 1``.
MAX_LAYERS = 1024
#: Neurons in one layer, the input and output layers included.
MAX_WIDTH = 2**24
#: Weights and biases of a whole network (2**31 - 1: any index into the parameters fits a 32-bit int).
MAX_PARAMETERS = 2**31 - 1
#: Entries in a model file's ZIP archive (a model has two to four).
MAX_ARCHIVE_ENTRIES = 16
#: Bytes of JSON text in a model file's metadata member.
MAX_METADATA_BYTES = 16 * 2**20
#: Values (numbers, strings, arrays, objects) in a model file's metadata: bounds the memory parsing it takes.
MAX_JSON_VALUES = 1_000_000
#: How deeply arrays and objects may nest in a model file's metadata.
MAX_JSON_DEPTH = 32
#: Characters in one number of a model file's metadata (a float needs at most 24, a 64-bit seed 20).
MAX_JSON_NUMBER_LENGTH = 1000

_INIT_DTYPE_BYTES = 8  # the initializers draw float64 weights before they are copied into the parameters
_INIT_TEMPORARIES = 2  # the draw and a scaled copy of it (init.scaled_normal, init.he)
_CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def format_bytes(count: int) -> str:
    """``80,000,000,000 bytes, 74.5 GiB``: the exact count and a binary-prefixed approximation."""
    value, unit = float(count), "bytes"
    for prefix in ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"):
        if value < 1024:
            break
        value, unit = value / 1024, prefix
    return f"{count:,} bytes" if unit == "bytes" else f"{count:,} bytes, {value:.1f} {unit}"


def check_depth(n_sizes: int) -> None:
    """Refuse more than :data:`MAX_LAYERS` layers after the input (``n_sizes`` entries in ``sizes``)."""
    if n_sizes - 1 > MAX_LAYERS:
        raise ConfigurationError(
            f"sizes lists {n_sizes:,} layers, {n_sizes - 1:,} after the input; bpframe allows at most "
            f"{MAX_LAYERS:,} layers after the input (bpframe.limits.MAX_LAYERS)"
        )


def check_network_size(sizes: Sequence[int], dtype: np.dtype) -> int:
    """Refuse a network beyond the limits or the machine's memory, before anything is allocated.

    Parameters
    ----------
    sizes : sequence of int
        Layer sizes, each already checked to be an int >= 1.
    dtype : numpy.dtype
        float32 or float64.

    Returns
    -------
    int
        The number of parameters (weights and biases).

    Raises
    ------
    ConfigurationError
        Naming the layer at fault and the bytes the network would need.
    """
    check_depth(len(sizes))
    _check_widths(sizes, dtype)
    weights = [sizes[l] * sizes[l - 1] for l in range(1, len(sizes))]
    n_params = sum(weights) + sum(sizes[1:])
    largest = max(range(1, len(sizes)), key=lambda l: weights[l - 1])
    if n_params > MAX_PARAMETERS:
        raise ConfigurationError(
            f"the network needs {n_params:,} parameters ({format_bytes(n_params * dtype.itemsize)} as {dtype.name}), "
            f"most of them {_layer_weights(sizes, largest, dtype.itemsize)}; bpframe allows at most "
            f"{MAX_PARAMETERS:,} parameters (bpframe.limits.MAX_PARAMETERS)"
        )
    _check_memory(sizes, dtype, n_params, largest)
    return n_params


def _layer_weights(sizes: Sequence[int], l: int, itemsize: int) -> str:
    """``layer 1's 100000 x 100000 weights (80,000,000,000 bytes, 74.5 GiB)``."""
    return f"{_weights_of(sizes, l)} ({format_bytes(sizes[l] * sizes[l - 1] * itemsize)})"


def _weights_of(sizes: Sequence[int], l: int) -> str:
    """``layer 1's 100000 x 100000 weights``."""
    return f"layer {l}'s {sizes[l]} x {sizes[l - 1]} weights"


def _check_widths(sizes: Sequence[int], dtype: np.dtype) -> None:
    """Refuse the first layer wider than :data:`MAX_WIDTH`, with the bytes of the weights it feeds or receives."""
    for l, width in enumerate(sizes):
        if width > MAX_WIDTH:
            fed = max(l, 1)  # the input layer feeds layer 1; any other layer receives its own weights
            needed = sizes[fed] * sizes[fed - 1] * dtype.itemsize
            raise ConfigurationError(
                f"layer {l} has {width:,} neurons; bpframe allows at most {MAX_WIDTH:,} in one layer "
                f"(bpframe.limits.MAX_WIDTH); {_weights_of(sizes, fed)} alone would need "
                f"{format_bytes(needed)} as {dtype.name}"
            )


def _check_memory(sizes: Sequence[int], dtype: np.dtype, n_params: int, largest: int) -> None:
    """Refuse a network whose parameters and initialisation need more memory than the machine has."""
    limit = memory_limit()
    parameters = n_params * dtype.itemsize
    workspace = _INIT_TEMPORARIES * _INIT_DTYPE_BYTES * sizes[largest] * sizes[largest - 1]
    if limit is not None and parameters + workspace > limit:
        raise ConfigurationError(
            f"building the network as {dtype.name} needs {format_bytes(parameters + workspace)}: "
            f"{parameters:,} bytes for its {n_params:,} parameters and {workspace:,} bytes while the initialiser "
            f"draws {_weights_of(sizes, largest)}; this machine (or its container) has {format_bytes(limit)} of "
            "memory. Use fewer or narrower layers" + (", or dtype='float32'" if dtype.itemsize > 4 else "")
        )


def memory_limit() -> int | None:
    """The bytes of memory this process can have at most: the machine's, or its container's if lower.

    ``None`` where the operating system does not say (then only the fixed limits apply).
    """
    try:
        physical: int | None = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        physical = None
    limits = [value for value in (physical, _cgroup_limit()) if value is not None and value > 0]
    return min(limits) if limits else None


def _cgroup_limit() -> int | None:
    """The memory limit of a Linux control group (a container), if one is set."""
    for name in _CGROUP_LIMITS:
        with contextlib.suppress(OSError, ValueError), open(name) as file:
            return int(file.read().strip())  # "max" (no limit) raises ValueError
    return None
