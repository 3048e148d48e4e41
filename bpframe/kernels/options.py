"""All numba options of the engine, in one place.

The engine's own arithmetic is compiled *without* fastmath: every floating-point operation it does (the bias
sums, the scaled updates) happens in a fixed order that the NumPy tier (:mod:`bpframe.kernels.numpy_tier`)
repeats exactly, so a seed gives the same numbers whichever tier trained. Its only sums run across the rows of a
batch, column by column, which vectorise without reassociation. ``error_model="numpy"`` makes a division by zero
give inf/nan like NumPy instead of raising.

Plugin functions and the blocks around them (:mod:`bpframe.kernels.blocks`) keep ``fastmath`` (measured 2.4–4.6×
on reductions such as a loss's sum), but without ``nnan`` and ``ninf`` so that NaN and inf keep their meaning:
divergence detection depends on it. Both tiers call the same compiled block, so this costs no reproducibility.
"""

from __future__ import annotations

from typing import Any

FASTMATH = frozenset({"nsz", "arcp", "contract", "afn", "reassoc"})

#: Options of the engine's kernels (compiled once per dtype; cached by bpframe, never by numba's ``cache=True``).
ENGINE_OPTIONS: dict[str, Any] = {"nogil": True, "error_model": "numpy"}

#: Options of a plugin's function, compiled on its own or inlined into its block.
PLUGIN_OPTIONS: dict[str, Any] = {"nogil": True, "fastmath": set(FASTMATH), "error_model": "numpy"}

#: Options of the blocks: the loops around a plugin's function.
BLOCK_OPTIONS: dict[str, Any] = {"nogil": True, "fastmath": set(FASTMATH), "error_model": "numpy"}
