r"""The guard of the in-place optimizer step: proof that no new parameter can overflow before taking it.

An optimizer with a fused form (SGD) has its step computed inside BP4's matrix product, overwriting the
parameters (:func:`~bpframe.kernels.equations.bp3_bp4_step_in_place`). That is only done when the new parameters
provably stay finite, so that a diverging step can still leave the last good ones untouched: the engine keeps an
upper bound on the largest parameter magnitude and checks the bound after the step first. When the bound cannot
prove it, the batch goes through the two-buffer path, which checks every new value as it is written.
"""

from __future__ import annotations

import math

import numpy as np
from numba.extending import overload

from .helpers import helper

__all__ = ["copy_row_magnitude", "magnitude_value", "max_abs", "step_bound"]

_MAGNITUDE_BITS = {  # dtype: (unsigned integer of its size, mask clearing the sign bit, bits of +inf)
    np.dtype(np.float32): (np.uint32, 0x7FFFFFFF, 0x7F800000),
    np.dtype(np.float64): (np.uint64, 0x7FFFFFFFFFFFFFFF, 0x7FF0000000000000),
}


#: dtype: (signed integer of its size, mask clearing the sign bit, bits of +inf). With the sign bit cleared a float's
#: bits are a non-negative signed integer too, and a signed maximum of 32-bit lanes vectorises where numba widens an
#: unsigned one to 64 bits (measured: 1.2 µs against 2 µs for a 10 × 784 float32 batch).
_SIGNED_BITS = {
    np.dtype(np.float32): (np.int32, 0x7FFFFFFF, 0x7F800000),
    np.dtype(np.float64): (np.int64, 0x7FFFFFFFFFFFFFFF, 0x7FF0000000000000),
}


def _max_abs_flat(flat: np.ndarray) -> float:
    """:func:`max_abs` of a 1-D contiguous float32 or float64 array (NumPy; compiled below, per dtype)."""
    unsigned, mask, inf_bits = _MAGNITUDE_BITS[flat.dtype]
    if flat.size == 0:
        return 0.0
    top = np.bitwise_and(flat.view(unsigned), unsigned(mask)).max()
    return np.inf if top >= inf_bits else float(np.array([top]).view(flat.dtype)[0])


@overload(_max_abs_flat, jit_options={"nogil": True})
def _max_abs_flat_compiled(flat):
    """One integer maximum over the bit patterns, compiled for the array's dtype only (numba would compile both
    branches of an ``if`` on the itemsize). With the sign bit cleared the bits are a non-negative signed integer:
    a signed maximum in the width of the float vectorises (see ``_SIGNED_BITS``)."""
    signed, mask_value, _ = _SIGNED_BITS[np.dtype(flat.dtype.name)]
    mask = signed(mask_value)

    def impl(flat):
        bits = flat.view(signed)
        top = signed(0)
        for i in range(bits.size):
            top = signed(max(top, signed(bits[i] & mask)))
        return magnitude_value(top, flat)

    return impl


@helper
def max_abs(x):
    """The largest :math:`|x_i|` of a contiguous float32 or float64 array, as a float; inf if an entry is NaN or
    inf; 0.0 for an empty array.

    It compares the bits with the sign cleared as integers, which order non-negative floats as the
    floats do and put inf and NaN above every finite number: one integer maximum, which vectorises.
    """
    return _max_abs_flat(x.reshape(x.size))


def copy_row_magnitude(source: np.ndarray, target: np.ndarray) -> int:
    """Copy the 1-D contiguous float row ``source`` into ``target`` and return the largest magnitude among its
    entries as bits: the float's bits with the sign cleared, as a signed integer (:func:`magnitude_value` turns it
    back into a float). NaN and inf have bits above every finite number's.

    The copy is of the bits, so it is exact; measuring in the copy's loop costs one AND and one integer maximum per
    entry (on Fashion-MNIST's W1 epoch, 6,000 shuffled mini-batches of 10 rows, about 3 ms over the plain copy's
    24-34 ms), where a separate pass over the inputs before training reads all of them again."""
    signed, mask, _ = _SIGNED_BITS[source.dtype]
    bits = source.view(signed)
    target.view(signed)[...] = bits
    return int(np.bitwise_and(bits, signed(mask)).max()) if bits.size else 0


@overload(copy_row_magnitude, jit_options={"nogil": True})
def _copy_row_magnitude_compiled(source, target):
    """The copy and the maximum in one loop, compiled for the row's dtype only."""
    signed, mask_value, _ = _SIGNED_BITS[np.dtype(source.dtype.name)]
    mask = signed(mask_value)

    def impl(source, target):
        bits, out = source.view(signed), target.view(signed)
        top = signed(0)
        for j in range(bits.shape[0]):
            v = bits[j]
            out[j] = v
            top = signed(max(top, signed(v & mask)))
        return top

    return impl


def magnitude_value(bits: int, like: np.ndarray) -> float:
    """The float whose magnitude bits (:func:`copy_row_magnitude`) are ``bits``, in ``like``'s dtype; inf for the bits
    of NaN or inf."""
    signed, _, inf_bits = _SIGNED_BITS[like.dtype]
    if bits >= inf_bits:
        return math.inf
    return float(np.array([bits], signed).view(like.dtype)[0])


@overload(magnitude_value, jit_options={"nogil": True})
def _magnitude_value_compiled(bits, like):
    signed, _, inf_value = _SIGNED_BITS[np.dtype(like.dtype.name)]
    inf_bits = signed(inf_value)

    def impl(bits, like):
        if bits >= inf_bits:
            return np.inf
        value = np.empty(1, signed)
        value[0] = bits
        return float(value.view(like.dtype)[0])

    return impl


@helper
def step_bound(bound, delta_max, a_max, m, step, keep, limit):
    r"""An upper bound on :math:`\max(|w|, |b|)` of a layer after an in-place step, or inf when it could exceed
    ``limit``.

    With :math:`B \ge \max(|w|, |b|)` (the engine keeps one bound for all parameters), :math:`D = \max|\delta|`,
    :math:`A = \max|a^{l-1}|`, the step size :math:`s` and the largest keep factor :math:`k` (see
    :func:`~bpframe.kernels.equations.bp3_bp4_step_in_place`), every entry of :math:`\frac{1}{m}\delta^\mathsf{T}
    a` and of :math:`\frac{1}{m}\sum_x \delta` is at most :math:`D\max(A, 1)` in size, so the new parameters are
    at most

    .. math:: \max(|k|, 1)\, B + s\, D \max(A, 1).

    The sums inside the matrix product reach :math:`m D A` before they are scaled: that must stay below
    ``limit`` too. ``limit`` is far below the dtype's largest number (1/16 of it), which covers rounding.
    Any NaN among the inputs gives inf.
    """
    a_term = max(a_max, 1.0)
    if not m * delta_max * a_term <= limit:
        return np.inf
    new = max(abs(keep), 1.0) * bound + step * delta_max * a_term
    return new if new <= limit else np.inf
