"""Weight initialisations: the :class:`Initializer` spec a plugin registers, and the draw of one layer.

An initialisation is a plain Python function ``draw(n_in, n_out, rng) -> (w, b)`` that draws every random number
from ``rng``, the :class:`numpy.random.Generator` the network seeds: the same seed then gives the same network.
bpframe's own four (``normal``, ``scaled_normal``, ``glorot``, ``he``) are registered by
``bpframe.default_plugins.initializers`` through the ``bpframe_register_initializers`` hook, exactly as a
third-party plugin registers its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .activation import _check_callable, check_name
from .errors import ConfigurationError, PluginError

__all__ = ["Initializer", "initialize_layer"]

#: ``draw(n_in, n_out, rng) -> (w, b)``
DrawFunction = Callable[[int, int, np.random.Generator], Any]


@dataclass(frozen=True, eq=False)
class Initializer:
    r"""How a layer's weights and biases start, as a plugin registers it.

    Parameters
    ----------
    name : str
        The registry name, a lower-case identifier (``"he"``); ``Network(init=name)`` and an activation's
        ``default_init`` refer to it.
    draw : callable ``(n_in: int, n_out: int, rng: numpy.random.Generator) -> (w, b)``
        Returns the weights, shape ``(n_out, n_in)``, and the biases, shape ``(n_out,)``, of a layer of ``n_out``
        neurons fed by ``n_in`` inputs, as real arrays (bpframe stores them in the network's dtype). Every random
        number must come from ``rng``, the generator the network seeds; never from ``numpy.random``'s global
        functions, ``random``, or a generator made inside the function.
    random : bool, default True
        ``False`` for a deterministic initialisation (zeros, an identity): the conformance kit then checks that
        different seeds give the same values instead of different ones.
    description : str
        One line for listings (``bpframe plugins``).

    Examples
    --------
    >>> import numpy as np
    >>> def lecun_normal(n_in, n_out, rng):
    ...     return rng.standard_normal((n_out, n_in)) / np.sqrt(n_in), np.zeros(n_out)
    >>> init = Initializer("lecun_normal", lecun_normal, description="w ~ N(0, 1/n_in), b = 0")
    >>> w, b = init.draw(3, 2, np.random.default_rng(0))
    >>> w.shape, b.tolist()
    ((2, 3), [0.0, 0.0])
    """

    name: str
    draw: DrawFunction
    random: bool = True
    description: str = ""

    def __post_init__(self) -> None:
        check_name("initializer", self.name)
        owner = f"initializer {self.name!r}"
        _check_callable(owner, "draw", self.draw)
        if not isinstance(self.random, bool):
            raise ConfigurationError(f"{owner}: random must be True or False, got {self.random!r}")

    def __repr__(self) -> str:
        return f"Initializer({self.name!r})"


def initialize_layer(
    init: Initializer, n_in: int, n_out: int, rng: np.random.Generator, owner: str = ""
) -> tuple[np.ndarray, np.ndarray]:
    """Float64 ``(w, b)`` of shapes ``(n_out, n_in)`` and ``(n_out,)`` drawn by ``init`` from ``rng``.

    Parameters
    ----------
    init : Initializer
    n_in, n_out : int
        Inputs and neurons of the layer.
    rng : numpy.random.Generator
        The network's seeded generator.
    owner : str, optional
        How messages name the initializer (with its plugin); default ``initializer '<name>'``.

    Raises
    ------
    PluginError
        When the draw function raises, or returns anything but two real arrays of the right shapes with finite
        values; the message names the initializer, its function and what it returned.
    """
    owner = owner or f"initializer {init.name!r}"
    where = f"{owner}: its draw function {_qualname(init.draw)}"
    try:
        drawn = init.draw(n_in, n_out, rng)
    except Exception as exc:
        raise PluginError(f"{where} raised {type(exc).__name__}: {exc} for n_in={n_in}, n_out={n_out}") from exc
    if not (isinstance(drawn, tuple) and len(drawn) == 2):
        raise PluginError(f"{where} must return a tuple (w, b), got {type(drawn).__name__}")
    w = _checked(where, "w", drawn[0], (n_out, n_in), "(n_out, n_in)")
    b = _checked(where, "b", drawn[1], (n_out,), "(n_out,)")
    return w, b


def _checked(where: str, what: str, value: object, shape: tuple[int, ...], names: str) -> np.ndarray:
    """``value`` as a float64 array if it is real, of ``shape`` and finite; else a PluginError saying which."""
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise PluginError(f"{where} returned {what} of dtype {array.dtype}; expected real numbers")
    if array.shape != shape:
        raise PluginError(f"{where} returned {what} of shape {array.shape}; expected {names} = {shape}")
    if not np.isfinite(array).all():
        raise PluginError(f"{where} returned {what} with {np.count_nonzero(~np.isfinite(array))} NaN or inf values")
    return array.astype(np.float64)


def _qualname(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
