"""All numba options of the engine, in one place.

The engine's own arithmetic is compiled *without* fastmath: every floating-point operation it does (the bias
sums, the scaled updates) happens in a fixed order that the NumPy tier (:mod:`bpframe.kernels.numpy_tier`)
repeats exactly, so a seed gives the same numbers whichever tier trained. Its only sums run across the rows of a
batch, column by column, which vectorise without reassociation. ``error_model="numpy"`` makes a division by zero
give inf/nan like NumPy instead of raising.

Plugin functions and the blocks around them (:mod:`bpframe.kernels.blocks`) are compiled without fastmath too,
for a different reason: a plugin author's careful numerics must mean what they say. With fastmath, reassociation
turned a bent identity written to avoid overflow back into the form that overflows (σ(−1e200) = inf), and
``math.isfinite`` always returned True in an update, so a diverging step went through (both found by the
conformance kit). What fastmath bought there was small: the elementwise loops vectorise without it (ReLU, a
select), ``exp`` is a scalar call either way, and the one reduction, a loss's sum, runs over the output layer of
a batch only.
"""

from __future__ import annotations

from typing import Any

#: Options of the engine's kernels (compiled once per dtype; cached by bpframe, never by numba's ``cache=True``).
ENGINE_OPTIONS: dict[str, Any] = {"nogil": True, "error_model": "numpy"}

#: Options of a plugin's function, compiled on its own or inlined into its block: IEEE arithmetic, as written.
PLUGIN_OPTIONS: dict[str, Any] = {"nogil": True, "error_model": "numpy"}

#: Options of the blocks: the loops around a plugin's function.
BLOCK_OPTIONS: dict[str, Any] = {"nogil": True, "error_model": "numpy"}

#: Options of the small forward-product kernel (:mod:`bpframe.kernels.products`), bpframe's own code: its sums
#: may be reassociated (vectorised along the shared dimension, as BLAS does) and fused into multiply-adds. Both
#: tiers call the same compiled kernel, so they still agree bit for bit.
PRODUCT_OPTIONS: dict[str, Any] = {**BLOCK_OPTIONS, "fastmath": {"reassoc", "contract"}}
