"""The checks of a weight initialisation: shapes and values, and that the seed alone decides them."""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from ..errors import PluginError
from ..init import Initializer, initialize_layer
from ._common import blame

__all__ = ["initializer_problems"]

#: (n_in, n_out) of the layers drawn: the smallest, a small one, one wider than tall.
SIZES = ((1, 1), (5, 3), (7, 20))
SEEDS = (1234, 4321)


def _draw(init: Initializer, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every layer of SIZES, drawn in turn from one generator seeded with ``seed``, as a network draws them."""
    rng = np.random.default_rng(seed)
    return [initialize_layer(init, n_in, n_out, rng) for n_in, n_out in SIZES]


def _same(a: list[tuple[np.ndarray, np.ndarray]], b: list[tuple[np.ndarray, np.ndarray]]) -> bool:
    return all(np.array_equal(x, y) for pa, pb in zip(a, b, strict=True) for x, y in zip(pa, pb, strict=True))


def initializer_problems(init: Initializer) -> list[str]:
    """Every failed check of an initializer."""
    culprits = [("draw", init.draw)]
    numpy_state, python_state = np.random.get_state(), random.getstate()  # noqa: NPY002 - watched, not used
    try:
        first, again, other = _draw(init, SEEDS[0]), _draw(init, SEEDS[0]), _draw(init, SEEDS[1])
    except PluginError as exc:
        return [blame(f"draws: {exc}", culprits)]
    problems = []
    if not _same(first, again):
        problems.append(blame(
            f"seed: two generators seeded with {SEEDS[0]} give different values; every random number must come from "
            "the rng argument (not numpy.random's global functions, random, or a generator made inside draw)",
            culprits))  # fmt: skip
    if init.random and _same(first, other):
        problems.append(blame(
            f"seed: generators seeded with {SEEDS[0]} and {SEEDS[1]} give the same values: draw ignores its rng "
            "argument (declare random=False for an initialisation that uses no random numbers)", culprits))  # fmt: skip
    if not init.random and not _same(first, other):
        problems.append(blame(
            f"seed: declared random=False, but generators seeded with {SEEDS[0]} and {SEEDS[1]} give different "
            "values", culprits))  # fmt: skip
    if not _global_state_unchanged(numpy_state, python_state):
        problems.append(blame(
            "seed: draw used the global random state of numpy.random or random; draw from the rng argument only",
            culprits))  # fmt: skip
    return problems


def _global_state_unchanged(numpy_state: Any, python_state: object) -> bool:
    now = np.random.get_state()  # noqa: NPY002 - watched, not used
    same_numpy = all(
        np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b for a, b in zip(numpy_state, now, strict=True)
    )
    return same_numpy and random.getstate() == python_state
