"""Per-layer sequences indexed like the equations: ``w[1]`` is the first weight matrix, ``a[0]`` the input."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

__all__ = ["LayerList"]


class LayerList(Sequence[np.ndarray]):
    """A read-only sequence of arrays indexed by layer number, from ``first`` (0 or 1) to L.

    ``len()`` is the number of arrays and iteration yields them in layer order; ``x[-1]`` is the last layer.
    Index 0 of a list that starts at layer 1 is an error that says so, since layer 0 is the input layer.

    Examples
    --------
    >>> import numpy as np
    >>> w = LayerList([np.zeros((3, 2)), np.zeros((1, 3))], first=1, what="weights")
    >>> w[1].shape, w[2].shape, len(w)
    ((3, 2), (1, 3), 2)
    >>> w[0]
    Traceback (most recent call last):
    ...
    IndexError: weights[0] does not exist: layers are numbered 1 to 2 (layer 0 is the input, which has no weights)
    """

    def __init__(
        self,
        arrays: Sequence[np.ndarray],
        *,
        first: int,
        what: str,
        setter: Callable[[int, object], None] | None = None,
    ) -> None:
        self._arrays = list(arrays)
        self._first = first
        self._what = what
        self._setter = setter

    def _position(self, layer: int) -> int:
        if not isinstance(layer, (int, np.integer)) or isinstance(layer, bool):
            raise TypeError(f"{self._what} is indexed by a layer number (int), got {layer!r}")
        last = self._first + len(self._arrays) - 1
        if layer < 0 and -len(self._arrays) <= layer:
            return len(self._arrays) + int(layer)
        if self._first <= layer <= last:
            return int(layer) - self._first
        hint = " (layer 0 is the input, which has no " + self._what + ")" if layer == 0 and self._first == 1 else ""
        raise IndexError(f"{self._what}[{layer}] does not exist: layers are numbered {self._first} to {last}{hint}")

    def __getitem__(self, layer: int) -> np.ndarray:  # type: ignore[override]
        return self._arrays[self._position(layer)]

    def __setitem__(self, layer: int, value: object) -> None:
        if self._setter is None:
            raise TypeError(f"{self._what} cannot be assigned to")
        position = self._position(layer)
        self._setter(position + self._first, value)

    def __len__(self) -> int:
        return len(self._arrays)

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter(self._arrays)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{i}: {a.shape}" for i, a in enumerate(self._arrays, start=self._first))
        return f"<{self._what} {{{shapes}}}>"
