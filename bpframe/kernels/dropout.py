r"""Dropout's masks, and the L1 term: the two additions of the book's Chapter 3 to the four equations.

**Dropout** (inverted): while training, each neuron of a hidden layer l is dropped with probability p (its
output multiplied by 0) and kept otherwise (multiplied by :math:`1/(1-p)`, so that the expected input of the next
layer is what it will be at prediction time, when nothing is dropped). With the mask :math:`r^l` of those
factors, the forward pass and the equations become

.. math::
    \tilde a^l = r^l \odot a^l, \qquad z^{l+1} = w^{l+1} \tilde a^l + b^{l+1}, \qquad
    \delta^l = \big(r^l \odot (w^{l+1})^\mathsf{T} \delta^{l+1}\big) \odot \sigma'(z^l), \qquad
    \frac{\partial C}{\partial w^{l+1}} = \delta^{l+1} (\tilde a^l)^\mathsf{T}

(BP2 gains the mask, BP4 reads the kept activations; BP1 and BP3 are unchanged). The mask is not random in
the usual sense: :func:`draw_mask` derives it from a 64-bit key, the update's number and the layer, by a
hash (splitmix64's finaliser), so the same run draws the same masks whichever tier trains it, a resumed run
draws the masks the uninterrupted one would have, and :meth:`bpframe.Network.backprop` can show the mask of any
update.

**L1** regularisation adds :math:`\frac{\lambda_1}{n}\operatorname{sgn}(w)` to every weight's gradient (the
derivative of the cost term :math:`\frac{\lambda_1}{n}\sum_w |w|`, with :math:`\operatorname{sgn}(0) = 0` as in
the book), before the optimizer's update: :func:`add_l1`.

Each function comes twice: with array operations, for the NumPy tier, and as a plain loop (``*_loop``) that the
engine compiles (compiled into the engine, the array forms made ``train_batches`` take 16.1 s to compile, the
loops 9.6 s, against 8.7 s before these features; every cache empty, one process).
The twins do the same integer and floating-point operations in the same order, so both tiers compute the same
bits; ``tests/kernels/test_dropout.py`` checks each pair, and ``tests/kernels/test_tiers.py`` whole fits.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "add_l1",
    "add_l1_loop",
    "apply_mask",
    "apply_mask_loop",
    "draw_mask",
    "draw_mask_loop",
    "norm",
    "norm_loop",
]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S11, _S27, _S30, _S31 = np.uint64(11), np.uint64(27), np.uint64(30), np.uint64(31)
_TWO53 = 9007199254740992.0  # 2**53: the hash's top 53 bits are a uniform number in [0, 2**53)


def draw_mask(out: np.ndarray, key: int, step: int, l: int, rate: float) -> None:
    r"""Write layer ``l``'s dropout mask for update ``step`` into the flat ``out`` (row-major ``(m, sizes[l])``):
    0 with probability ``rate``, :math:`1/(1 - \text{rate})` otherwise.

    Entry i is kept when the top 53 bits of :math:`h(s + i\,\phi)` are at least :math:`\lfloor 2^{53} p \rfloor`,
    where h is splitmix64's finaliser, :math:`\phi` the golden-ratio constant and s the hash of (key, step, l).
    """
    seed = np.zeros(1, np.uint64)
    head = np.empty(3, np.uint64)
    head[0], head[1], head[2] = key, step, l
    for r in range(3):
        seed = seed ^ head[r : r + 1]
        seed = (seed ^ (seed >> _S30)) * _MIX1
        seed = (seed ^ (seed >> _S27)) * _MIX2
        seed = seed ^ (seed >> _S31)
    h = np.arange(out.shape[0]).astype(np.uint64) * _GOLDEN + seed[0]
    h = (h ^ (h >> _S30)) * _MIX1
    h = (h ^ (h >> _S27)) * _MIX2
    h = h ^ (h >> _S31)
    kept = (h >> _S11) >= np.uint64(rate * _TWO53)
    out[:] = np.where(kept, 1.0 / (1.0 - rate), 0.0)


def draw_mask_loop(out: np.ndarray, key: int, step: int, l: int, rate: float) -> None:
    """:func:`draw_mask` as a loop, for the engine."""
    salts = (np.uint64(key), np.uint64(step), np.uint64(l))
    seed = np.uint64(0)
    for salt in salts:
        seed = seed ^ salt
        seed = (seed ^ (seed >> _S30)) * _MIX1
        seed = (seed ^ (seed >> _S27)) * _MIX2
        seed = seed ^ (seed >> _S31)
    threshold = np.uint64(rate * _TWO53)
    scale = 1.0 / (1.0 - rate)
    for i in range(out.shape[0]):
        h = np.uint64(i) * _GOLDEN + seed
        h = (h ^ (h >> _S30)) * _MIX1
        h = (h ^ (h >> _S27)) * _MIX2
        h = h ^ (h >> _S31)
        out[i] = scale if (h >> _S11) >= threshold else 0.0


def apply_mask(values: np.ndarray, mask: np.ndarray, out: np.ndarray) -> None:
    """``out = values ⊙ mask`` on flat arrays of the network's dtype (``out`` may be ``values``)."""
    np.multiply(values, mask, out)


def apply_mask_loop(values: np.ndarray, mask: np.ndarray, out: np.ndarray) -> None:
    """:func:`apply_mask` as a loop, for the engine."""
    for i in range(out.shape[0]):
        out[i] = values[i] * mask[i]


def add_l1(grad: np.ndarray, theta: np.ndarray, n_weights: int, l1: float) -> None:
    r"""The L1 term: ``grad[i] += l1 * sgn(theta[i])`` for the weights (the first ``n_weights`` entries), added
    in float64 and rounded once to the dtype (sgn(0) = 0)."""
    w = theta[:n_weights]
    g = grad[:n_weights]
    sign = np.where(w > 0, 1.0, np.where(w < 0, -1.0, 0.0))
    g[:] = g.astype(np.float64) + l1 * sign


def add_l1_loop(grad: np.ndarray, theta: np.ndarray, n_weights: int, l1: float) -> None:
    """:func:`add_l1` as a loop, for the engine."""
    for i in range(n_weights):
        w = theta[i]
        sign = 1.0 if w > 0 else (-1.0 if w < 0 else 0.0)
        grad[i] = np.float64(grad[i]) + l1 * sign


def norm(values: np.ndarray) -> float:
    """The Euclidean norm of a flat array in float64: the squares of entries 0, 4, 8, ... summed in order, and so
    on for the entries 1, 5, ..., 2, 6, ... and 3, 7, ...; then the four sums as (s0 + s1) + (s2 + s3)."""
    squares = np.square(values.astype(np.float64))
    s = [float(np.cumsum(squares[k::4])[-1]) if k < squares.shape[0] else 0.0 for k in range(4)]
    return float(np.sqrt((s[0] + s[1]) + (s[2] + s[3])))


def norm_loop(values: np.ndarray) -> float:
    """:func:`norm` as a loop, for the engine (four independent sums run about four times as fast as one)."""
    n = values.shape[0]
    s0 = s1 = s2 = s3 = 0.0
    for i in range(0, n - 3, 4):
        v0, v1 = np.float64(values[i]), np.float64(values[i + 1])
        v2, v3 = np.float64(values[i + 2]), np.float64(values[i + 3])
        s0 += v0 * v0
        s1 += v1 * v1
        s2 += v2 * v2
        s3 += v3 * v3
    tail = n - n % 4
    if tail < n:
        v = np.float64(values[tail])
        s0 += v * v
    if tail + 1 < n:
        v = np.float64(values[tail + 1])
        s1 += v * v
    if tail + 2 < n:
        v = np.float64(values[tail + 2])
        s2 += v * v
    return float(np.sqrt((s0 + s1) + (s2 + s3)))
