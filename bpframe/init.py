"""Weight initializers: the book's two, Glorot and He."""

from __future__ import annotations

import numpy as np

from .errors import ConfigurationError

__all__ = ["INITIALIZERS", "initialize_layer"]

#: name -> one-line description
INITIALIZERS = {
    "normal": "w, b ~ N(0, 1) (the book's network.py)",
    "scaled_normal": "w ~ N(0, 1/n_in), b ~ N(0, 1) (the book's network2.py default)",
    "glorot": "w ~ U(-r, r) with r = sqrt(6 / (n_in + n_out)), b = 0 (for tanh, sigmoid, softmax, linear)",
    "he": "w ~ N(0, 2/n_in), b = 0 (for ReLU-like activations)",
}


def initialize_layer(name: str, n_in: int, n_out: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Return float64 ``(w, b)`` of shapes ``(n_out, n_in)`` and ``(n_out,)`` drawn by initializer ``name``."""
    if name == "normal":
        return rng.standard_normal((n_out, n_in)), rng.standard_normal(n_out)
    if name == "scaled_normal":
        return rng.standard_normal((n_out, n_in)) / np.sqrt(n_in), rng.standard_normal(n_out)
    if name == "glorot":
        r = np.sqrt(6.0 / (n_in + n_out))
        return rng.uniform(-r, r, (n_out, n_in)), np.zeros(n_out)
    if name == "he":
        return rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in), np.zeros(n_out)
    raise ConfigurationError(f"unknown initializer {name!r}; available: {', '.join(INITIALIZERS)}")
