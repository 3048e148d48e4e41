"""Built-in weight initialisations: the book's two, Glorot and He, registered like any plugin's.

Each draws every random number from the generator it receives (the network's, seeded by ``Network(seed=...)``)
and returns float64 ``(w, b)`` of shapes ``(n_out, n_in)`` and ``(n_out,)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bpframe import Initializer, hookimpl


def normal(n_in: int, n_out: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """w, b ~ N(0, 1), as the book's network.py."""
    return rng.standard_normal((n_out, n_in)), rng.standard_normal(n_out)


def scaled_normal(n_in: int, n_out: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """w ~ N(0, 1/n_in), b ~ N(0, 1), the book's network2.py default."""
    return rng.standard_normal((n_out, n_in)) / np.sqrt(n_in), rng.standard_normal(n_out)


def glorot(n_in: int, n_out: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """w ~ U(−r, r) with r = √(6 / (n_in + n_out)), b = 0 (Glorot & Bengio, 2010)."""
    r = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-r, r, (n_out, n_in)), np.zeros(n_out)


def he(n_in: int, n_out: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """w ~ N(0, 2/n_in), b = 0 (He et al., 2015)."""
    return rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in), np.zeros(n_out)


@hookimpl
def bpframe_register_initializers(register: Callable[[Initializer], None]) -> None:
    register(Initializer("normal", normal, description="w, b ~ N(0, 1) (the book's network.py)"))
    register(Initializer("scaled_normal", scaled_normal,
                         description="w ~ N(0, 1/n_in), b ~ N(0, 1) (the book's network2.py default)"))  # fmt: skip
    register(Initializer("glorot", glorot, description="w ~ U(-r, r) with r = sqrt(6 / (n_in + n_out)), b = 0 "
                                                       "(for tanh, sigmoid, softmax, linear)"))  # fmt: skip
    register(Initializer("he", he, description="w ~ N(0, 2/n_in), b = 0 (for ReLU-like activations)"))
