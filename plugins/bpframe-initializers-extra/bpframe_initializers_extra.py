r"""bpframe-initializers-extra: more ways for a layer's weights to start.

Each is an :class:`bpframe.Initializer`: a name and a function ``draw(n_in, n_out, rng) -> (w, b)`` returning the
weights, shape ``(n_out, n_in)``, and the biases, shape ``(n_out,)``. Every random number comes from ``rng``, the
generator the network seeds (``Network(seed=...)``), so the same seed gives the same network; the deterministic
``identity`` says so with ``random=False``. Use them by name: ``bp.Network(sizes, init="orthogonal")``, or as an
activation's ``default_init``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bpframe import Initializer, hookimpl

__version__ = "0.1.0"


def lecun_normal(n_in: int, n_out: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """w ~ N(0, 1/n_in), b = 0 (LeCun et al., 1998; the one SELU needs)."""
    return rng.standard_normal((n_out, n_in)) / np.sqrt(n_in), np.zeros(n_out)


def he_uniform(n_in: int, n_out: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """w ~ U(−r, r) with r = √(6/n_in), so Var w = 2/n_in as He's normal; b = 0."""
    r = np.sqrt(6.0 / n_in)
    return rng.uniform(-r, r, (n_out, n_in)), np.zeros(n_out)


def glorot_normal(n_in: int, n_out: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """w ~ N(0, 2/(n_in + n_out)), b = 0 (Glorot & Bengio, 2010, normal form)."""
    return rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / (n_in + n_out)), np.zeros(n_out)


def orthogonal(n_in: int, n_out: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """w with orthonormal rows (n_out <= n_in) or columns (n_out > n_in), uniformly distributed (Saxe et al.,
    2014): the QR factor of a normal matrix, its signs fixed by R's diagonal; b = 0."""
    a = rng.standard_normal((max(n_in, n_out), min(n_in, n_out)))
    q, r = np.linalg.qr(a)
    q = q * np.where(np.diag(r) < 0.0, -1.0, 1.0)  # makes the distribution uniform (Mezzadri, 2007)
    return (q.T if n_out <= n_in else q), np.zeros(n_out)


def identity(n_in: int, n_out: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """w = I (ones on the diagonal, zeros elsewhere, for any shape), b = 0: no random numbers at all (Le et al.,
    2015). Every neuron of a square layer starts as a copy of its input; zero rows of a wider layer never learn
    apart from each other, so use it where the layers keep their width."""
    return np.eye(n_out, n_in), np.zeros(n_out)


@hookimpl
def bpframe_register_initializers(register: Callable[[Initializer], None]) -> None:
    """Register this package's initializers: call ``register`` once per object."""
    register(Initializer("lecun_normal", lecun_normal, description="w ~ N(0, 1/n_in), b = 0 (for SELU)"))
    register(Initializer("he_uniform", he_uniform, description="w ~ U(-r, r), r = sqrt(6/n_in), b = 0 (ReLU-like)"))
    register(Initializer("glorot_normal", glorot_normal, description="w ~ N(0, 2/(n_in + n_out)), b = 0"))
    register(Initializer("orthogonal", orthogonal, description="w with orthonormal rows or columns, b = 0"))
    register(Initializer("identity", identity, random=False, description="w = I, b = 0 (deterministic)"))
