"""The boundary between Python and the compiled engine: its arguments and the status it reports.

The engine takes two small structs (named tuples, which numba passes as one typed argument): a
:class:`Layout` (the network's shape as data and the addresses of its blocks) and, for training, a
:class:`Training` (data, parameters, optimizer, outputs). It reports what happened in a ``status`` array of
``STATUS_FIELDS`` integers: ``status[OUTCOME]`` is one of ``DONE``, ``NONFINITE_COST``,
``NONFINITE_UPDATE``, ``FAILED_PLUGIN``, ``INTERRUPTED``, ``NONFINITE_INPUT``; ``status[BATCH]`` the batch where it
stopped (or the end); ``status[LAYER]`` and ``status[ROLE]`` which block failed. This module imports no numba.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "BATCH",
    "BLOCK_KINDS",
    "C_SIGNATURES",
    "DONE",
    "FAILED",
    "FAILED_PLUGIN",
    "INPUT_BOUNDS",
    "INTERRUPTED",
    "LAYER",
    "NONFINITE",
    "NONFINITE_COST",
    "NONFINITE_INPUT",
    "NONFINITE_UPDATE",
    "OK",
    "OUTCOME",
    "ROLE",
    "ROLES",
    "SMALL_DEPTH",
    "SMALL_ROWS",
    "STATUS_FIELDS",
    "Layout",
    "Training",
    "small_product",
]

# status[OUTCOME], and what the other fields mean for each outcome
OUTCOME, BATCH, LAYER, ROLE = 0, 1, 2, 3
#: Length of the status array: outcome, batch, layer, role.
STATUS_FIELDS = 4
DONE = 0  # every batch of [first, stop) trained
NONFINITE_COST = 1  # the cost of batch status[BATCH] is not finite; that batch is not trained
NONFINITE_UPDATE = 2  # the update of batch status[BATCH] would make a parameter non-finite; not taken
FAILED_PLUGIN = 3  # a plugin function raised in batch status[BATCH], layer status[LAYER], role status[ROLE]
INTERRUPTED = 4  # control[0] was set: batches before status[BATCH] are trained, the others are not
NONFINITE_INPUT = 5  # an input of batch status[BATCH] is NaN or inf (found when Training.check_rows); not trained

#: What status[ROLE] names when a plugin function raised: the kind of block that failed.
ROLES = ("forward", "backward", "cost", "nabla_a", "output_error", "update", "output")
FORWARD_ROLE, BACKWARD_ROLE, COST_ROLE, NABLA_ROLE, OUTPUT_ERROR_ROLE, UPDATE_ROLE, OUTPUT_ROLE = range(7)


#: What a block returns when it finished; an update block returns ``NONFINITE`` when a new value is not
#: finite (nothing is committed then); numba's wrapper returns ``FAILED`` when the plugin function raised.
OK = 1
NONFINITE = 2
FAILED = 0

#: The kinds of block (:mod:`bpframe.kernels.blocks` has their templates): kind -> (its C signature, which of
#: :mod:`bpframe.kernels.abi`'s ``SIGNATURES``; the role of the plugin function it applies, for error messages).
BLOCK_KINDS: dict[str, tuple[str, str]] = {
    "forward": ("layer", "sigma"),
    "backward": ("layer", "sigma_prime"),
    "output": ("layer", "sigma_prime"),
    "vector_forward": ("layer", "forward"),
    "vector_backward": ("layer", "vjp"),
    "vector_output": ("layer", "vjp"),
    "cost": ("layer", "cost"),
    "nabla": ("layer", "nabla_a"),
    "output_error": ("layer", "output_error"),
    "update": ("update", "update"),
}

_P, _I = ctypes.c_void_p, ctypes.c_int64

#: Each C signature as a ctypes function type, which the NumPy tier calls blocks through (the same signatures
#: as :mod:`bpframe.kernels.abi`'s ``SIGNATURES``, which compiled code uses).
C_SIGNATURES: dict[str, Any] = {
    "layer": ctypes.CFUNCTYPE(_I, _P, _P, _P, _P, _I, _I),
    "update": ctypes.CFUNCTYPE(_I, _P, _P, _P, _P, _P, _P, _I, _I, _I, _I),
    "product": ctypes.CFUNCTYPE(_I, _P, _P, _P, _I, _I, _I),
}


#: dtype name -> the engine's compiled :func:`~bpframe.kernels.engine.input_bound` (the largest magnitude of a
#: fit's inputs, one pass over a flat C-contiguous array), once this process has trained in the compiled engine
#: with that dtype (:class:`~bpframe.kernels.program.Program` adds it then, compiled beside the engine or loaded
#: with it from the cache). A fit checks its inputs with it when it is here, else with NumPy; the value is the
#: same, so this changes only how long the check takes.
INPUT_BOUNDS: dict[str, Callable[[np.ndarray], float]] = {}


#: The forward product of a layer takes :mod:`bpframe.kernels.products`' kernel instead of BLAS for mini-batches
#: of at most ``SMALL_ROWS`` rows when the layer has at least ``SMALL_DEPTH`` inputs (where it was measured
#: faster, and worth compiling); both tiers follow this rule.
SMALL_ROWS, SMALL_DEPTH = 16, 256


def small_product(rows: int, inputs: int) -> bool:
    """Whether the forward product of ``rows`` samples with ``inputs`` each takes the small-product kernel."""
    return rows <= SMALL_ROWS and inputs >= SMALL_DEPTH


class Layout(NamedTuple):
    """Where everything of a network lives: its shape as data, and the blocks of its functions.

    A block is only compiled when something needs it, so an address is 0 where the use at hand needs none: an
    evaluation needs forward and cost blocks only, and BP1 takes either the combined output error or ∇ₐC with
    the output activation's ``output`` block.
    """

    sizes: np.ndarray  # int64 (L + 1,): neurons per layer, input first
    w_off: np.ndarray  # int64 (L + 1,): w[l] is theta[w_off[l] : w_off[l] + sizes[l] * sizes[l-1]]
    b_off: np.ndarray  # int64 (L + 1,): b[l] is theta[b_off[l] : b_off[l] + sizes[l]]
    units: np.ndarray  # int64 (L + 2,): neurons before layer l (units[L + 1] is the total)
    forward: np.ndarray  # int64 (L + 1,): block applying layer l's activation (index 0 unused)
    backward: np.ndarray  # int64 (L + 1,): block applying its derivative in BP2 (layers 1..L-1)
    output: int  # block applying the output activation's derivative to ∇ₐC in BP1, or 0
    cost: int  # block summing the loss over a batch
    nabla: int  # block writing ∇ₐC, or 0
    output_error: int  # block writing the loss's combined output error for the output activation, or 0
    n_weights: int  # weights come first in theta, then the biases
    widest: int  # max(sizes)


class Training(NamedTuple):
    """One call of :func:`~bpframe.kernels.engine.train_batches`: the data, the parameters and their spare
    buffers, the optimizer."""

    x: np.ndarray  # (n, sizes[0]) inputs
    y: np.ndarray  # (n, sizes[-1]) targets
    order: np.ndarray  # int64 (n,): this epoch's order of the rows
    batch_size: int
    x_max: float  # >= every |x| (unless check_rows): bounds how far one in-place step can move a first-layer weight
    check_rows: bool  # check each batch's inputs as they are gathered, and bound the step by the batch's own |x|
    x_seen: np.ndarray  # float64 (1,): the largest |x| of the batches checked so far (with check_rows)
    theta: np.ndarray  # the parameters, updated in place
    spare: np.ndarray  # a second parameter buffer (two-buffer updates)
    grad: np.ndarray  # the mean gradient of a batch
    state: np.ndarray  # (rows, theta.size) optimizer state, updated in place
    state_spare: np.ndarray  # its second buffer
    hyper: np.ndarray  # float64 (HYPER_SLOTS,): eta, decay, hyper-parameters
    update: int  # the optimizer's update block
    fused: np.ndarray  # float64 (3,): keep_w, keep_b, step of the in-place form; NaN when there is none
    counter: np.ndarray  # int64 (1,): updates made so far (Adam's t is counter + 1)
    costs: np.ndarray  # float64 (num_batches,): mean cost of each batch
    correct: np.ndarray  # int64 (num_batches,): correct predictions of each batch
    status: np.ndarray  # int64 (STATUS_FIELDS,)
    control: np.ndarray  # int64 (1,): set to 1 by another thread to stop after the current batch
    product: int  # the small forward-product kernel (bpframe.kernels.products), or 0: BLAS for every product
    l1: float  # the L1 term of the weights' gradient, lambda_1 / n per unit of sgn(w); 0 turns it off
    drop: np.ndarray  # float64 (L + 1,): probability of dropping a neuron of layer l (0: no dropout there)
    key: int  # 0 <= key < 2**63: with the update count, it decides every dropout mask (bpframe.kernels.dropout)
    speeds: np.ndarray  # float64 (2, L + 1): sums over batches of |dC/db^l| and |dC/dw^l|, or (0, 0): not recorded
    speed_every: int  # >= 1: the norms are added for the batches k with k % speed_every == 0
