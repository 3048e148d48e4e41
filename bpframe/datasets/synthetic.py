"""Small synthetic problems, generated on demand and seeded: XOR, two spirals, two moons."""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

from ._validate import check_float_dtype, check_int, check_real, make_rng

__all__ = ["moons", "two_spirals", "xor"]

Seed = int | np.random.Generator | None


def xor(*, dtype: DTypeLike = "float64") -> tuple[np.ndarray, np.ndarray]:
    """The four points of exclusive-or, the classic problem a network without a hidden layer cannot learn.

    Parameters
    ----------
    dtype : {"float64", "float32"}, default "float64"
        Element type of both arrays.

    Returns
    -------
    X : ndarray, shape (4, 2)
        The inputs ``(0, 0), (0, 1), (1, 0), (1, 1)``.
    Y : ndarray, shape (4, 1)
        The targets ``x1 XOR x2``: 0, 1, 1, 0.

    Raises
    ------
    ConfigurationError
        If ``dtype`` is not float32 or float64.

    Examples
    --------
    >>> from bpframe.datasets import xor
    >>> X, Y = xor()
    >>> X
    array([[0., 0.],
           [0., 1.],
           [1., 0.],
           [1., 1.]])
    >>> Y.ravel()
    array([0., 1., 1., 0.])
    """
    out_dtype = check_float_dtype(dtype)
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=out_dtype)
    Y = np.array([[0], [1], [1], [0]], dtype=out_dtype)
    return X, Y


def two_spirals(
    n: int = 200, *, noise: float = 0.0, turns: float = 1.5, seed: Seed = 0, dtype: DTypeLike = "float64"
) -> tuple[np.ndarray, np.ndarray]:
    r"""Two interleaved spirals (after Lang & Witbrock, 1988), a problem that needs curved decision boundaries.

    A point of class 0 at angle :math:`\theta` lies at radius :math:`r = \theta / (2\pi \cdot \text{turns})`:

    .. math::
        x = (r\cos\theta,\; r\sin\theta), \qquad \theta = 2\pi \cdot \text{turns} \cdot \sqrt{u},
        \quad u \sim U(0, 1)

    and class 1 is class 0 turned by half a circle, :math:`-x`. The square root spreads the points evenly
    over the area. Gaussian noise of standard deviation ``noise`` is then added to each coordinate.
    Rows come shuffled; a given seed gives the same clean points in the same order at every noise level.

    Parameters
    ----------
    n : int, default 200
        Number of points, at least 2; class 0 gets ``ceil(n / 2)`` of them, class 1 the rest.
    noise : float, default 0.0
        Standard deviation of the Gaussian noise, >= 0.
    turns : float, default 1.5
        How many times each spiral winds around the origin, > 0.
    seed : int, numpy.random.Generator or None, default 0
        Seed (>= 0) or generator for the angles, the noise and the shuffle; None draws fresh entropy.
    dtype : {"float64", "float32"}, default "float64"
        Element type of ``X``.

    Returns
    -------
    X : ndarray, shape (n, 2)
        The points; without noise they lie in the unit disc.
    y : ndarray of int64, shape (n,)
        The spiral each point belongs to, 0 or 1.

    Raises
    ------
    ConfigurationError
        If an argument is out of its allowed range.

    Examples
    --------
    >>> import numpy as np
    >>> from bpframe.datasets import two_spirals
    >>> X, y = two_spirals(100, noise=0.05, seed=1)
    >>> X.shape, X.dtype, y.shape, y.dtype
    ((100, 2), dtype('float64'), (100,), dtype('int64'))
    >>> np.bincount(y).tolist()
    [50, 50]
    """
    count = check_int("n", n, 2)
    sigma = check_real("noise", noise)
    winds = check_real("turns", turns, positive=True)
    out_dtype = check_float_dtype(dtype)
    rng = make_rng(seed)
    y = (np.arange(count) >= (count + 1) // 2).astype(np.int64)
    theta = 2 * np.pi * winds * np.sqrt(rng.random(count))
    radius = theta / (2 * np.pi * winds)
    sign = 1 - 2 * y  # class 1 is class 0 turned by half a circle
    X = (sign * radius)[:, None] * np.column_stack([np.cos(theta), np.sin(theta)])
    return _finish(X, y, sigma, rng, out_dtype)


def moons(
    n: int = 200, *, noise: float = 0.1, seed: Seed = 0, dtype: DTypeLike = "float64"
) -> tuple[np.ndarray, np.ndarray]:
    r"""Two interleaving half circles, a gentle non-linear problem.

    Class 0 lies on the upper unit half circle :math:`(\cos t, \sin t)`, class 1 on the lower half circle
    :math:`(1 - \cos t,\; \tfrac12 - \sin t)`, for :math:`t` evenly spaced over :math:`[0, \pi]`.
    Gaussian noise of standard deviation ``noise`` is added to each coordinate. Rows come shuffled; a given
    seed gives the same clean points in the same order at every noise level.

    Parameters
    ----------
    n : int, default 200
        Number of points, at least 2; class 0 gets ``ceil(n / 2)`` of them, class 1 the rest.
    noise : float, default 0.1
        Standard deviation of the Gaussian noise, >= 0.
    seed : int, numpy.random.Generator or None, default 0
        Seed (>= 0) or generator for the noise and the shuffle; None draws fresh entropy.
    dtype : {"float64", "float32"}, default "float64"
        Element type of ``X``.

    Returns
    -------
    X : ndarray, shape (n, 2)
        The points.
    y : ndarray of int64, shape (n,)
        The half circle each point belongs to, 0 or 1.

    Raises
    ------
    ConfigurationError
        If an argument is out of its allowed range.

    Examples
    --------
    >>> import numpy as np
    >>> from bpframe.datasets import moons
    >>> X, y = moons(51, seed=3)
    >>> X.shape, y.shape, np.bincount(y).tolist()
    ((51, 2), (51,), [26, 25])
    """
    count = check_int("n", n, 2)
    sigma = check_real("noise", noise)
    out_dtype = check_float_dtype(dtype)
    rng = make_rng(seed)
    n_upper = (count + 1) // 2
    t_upper = np.linspace(0, np.pi, n_upper)
    t_lower = np.linspace(0, np.pi, count - n_upper)
    upper = np.column_stack([np.cos(t_upper), np.sin(t_upper)])
    lower = np.column_stack([1 - np.cos(t_lower), 0.5 - np.sin(t_lower)])
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n_upper, count - n_upper])
    return _finish(np.vstack([upper, lower]), y, sigma, rng, out_dtype)


def _finish(
    X: np.ndarray, y: np.ndarray, noise: float, rng: np.random.Generator, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle the rows, add Gaussian noise, and convert ``X`` to ``dtype``.

    The shuffle is drawn before the noise, so the same seed gives the same points and order at every noise level.
    """
    order = rng.permutation(len(y))
    X, y = X[order], y[order]
    if noise > 0:
        X = X + rng.normal(scale=noise, size=X.shape)
    return X.astype(dtype), y
