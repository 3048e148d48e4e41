"""A network's program: its layout and the blocks of its functions, and the engine calls that run them.

The engine is compiled once per dtype; a network only contributes data (:class:`~bpframe.kernels.interface.Layout`)
and the blocks of its activations and loss, each compiled once per function and dtype. So a change of sizes,
depth or layer order compiles nothing, and a new activation compiles only its own block.
"""

from __future__ import annotations

import collections
import inspect
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import config
from ..activation import Activation
from ..loss import Loss
from . import cache, dropout, numpy_tier
from .blaslib import blas
from .build import Block, block, compiled_engine, engine_on_disk, jit_enabled, load_cached, product_block
from .interface import BATCH, INPUT_BOUNDS, Layout, Training, small_product
from .runner import PluginExceptions, run

__all__ = [
    "COMPILE_SECONDS",
    "LOAD_SECONDS",
    "NUMBA_IMPORT_SECONDS",
    "Program",
    "choose_tier",
    "load_seconds",
    "make_layout",
    "numpy_extra_seconds",
]


def _offsets(sizes: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Where w[l] and b[l] start in the flat parameters (weights first), neurons before each layer, and the
    number of weights."""
    L = len(sizes) - 1
    w_off, b_off = np.zeros(L + 1, np.int64), np.zeros(L + 1, np.int64)
    n_weights = sum(sizes[l] * sizes[l - 1] for l in range(1, L + 1))
    w, b = 0, n_weights
    for l in range(1, L + 1):
        w_off[l], b_off[l] = w, b
        w += sizes[l] * sizes[l - 1]
        b += sizes[l]
    units = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    return w_off, b_off, units, n_weights


def _table(addresses: Sequence[Any]) -> np.ndarray:
    """Block addresses by layer (index 0 unused) as the engine reads them; the blocks themselves without the JIT."""
    if all(isinstance(a, int) for a in addresses):
        return np.array([0, *addresses], np.int64)
    return np.array([None, *addresses], dtype=object)


def make_layout(sizes: Sequence[int], blocks: dict[str, Any]) -> Layout:
    """The engine's :class:`~bpframe.kernels.interface.Layout` of a network: ``blocks`` holds ``forward`` and
    ``backward`` (one address per layer 1..L, 0 where none is needed), ``output``, ``cost``, ``nabla`` and
    ``output_error`` (an address, or 0)."""
    w_off, b_off, units, n_weights = _offsets(sizes)
    return Layout(
        sizes=np.asarray(sizes, np.int64), w_off=w_off, b_off=b_off, units=units,
        forward=_table(blocks["forward"]), backward=_table(blocks["backward"]), output=blocks["output"],
        cost=blocks["cost"], nabla=blocks["nabla"], output_error=blocks["output_error"], n_weights=n_weights,
        widest=int(max(sizes)),
    )  # fmt: skip


@dataclass
class Program:
    """Everything the engine needs to run one network: layouts, blocks, and a record of plugin exceptions.

    Blocks are compiled only when a use needs them: an evaluation compiles the forward and cost blocks, training
    also the derivatives of the hidden layers, and for the output layer either the loss's combined output error
    or ∇ₐC with the output activation's derivative.
    """

    sizes: tuple[int, ...]
    activations: tuple[Activation, ...]
    loss: Loss
    dtype: np.dtype
    describe: Callable[[Any], str]
    caught: PluginExceptions = field(default_factory=PluginExceptions)
    #: The tiers that have trained this network ("numpy", "compiled"), for reports such as the CLI's.
    tiers: set[str] = field(default_factory=set)
    _layouts: dict[str, Layout] = field(default_factory=dict)

    # -- blocks --------------------------------------------------------------------------------------------

    def _block(self, kind: str, function: Any, owner: Activation | Loss | Any) -> Any:
        return block(kind, function, self.dtype, self.describe(owner)).address

    def _activation(self, act: Activation, use: str) -> Any:
        """The block of ``act`` for ``use``: "forward", "backward" (BP2) or "output" (BP1)."""
        if act.elementwise:
            return self._block(use, act.sigma if use == "forward" else act.sigma_prime, act)
        return self._block(f"vector_{use}", act.forward if use == "forward" else act.vjp, act)

    def update_block(self, optimizer: Any) -> Block:
        """The block of an optimizer's update (an :class:`~bpframe.OptimizerSpec`) in this dtype."""
        return block("update", optimizer.update, self.dtype, self.describe(optimizer))

    def forward_product(self, batch_size: int) -> Any:
        """The small-product kernel's address for training with mini-batches of ``batch_size`` rows when some layer
        of this network takes it (:func:`~bpframe.kernels.interface.small_product`), else 0; always 0 when the
        BLAS multiplies small matrices without packing them
        (:attr:`~bpframe.kernels.blaslib.Blas.small_matrix_kernels`), which is faster. Both tiers take the
        product this returns."""
        if blas().small_matrix_kernels:
            return 0
        if any(small_product(batch_size, inputs) for inputs in self.sizes[:-1]):
            return product_block(self.dtype).address
        return 0

    def layout(self, use: str = "train") -> Layout:
        """The engine's layout for ``use`` ("evaluate" or "train"), compiling what it needs on first use."""
        if use not in self._layouts:
            self._layouts[use] = make_layout(self.sizes, self._blocks(use))
        return self._layouts[use]

    def _blocks(self, use: str) -> dict[str, Any]:
        acts, loss = self.activations, self.loss
        chosen: dict[str, Any] = {"forward": [self._activation(act, "forward") for act in acts],
                                  "backward": [0] * len(acts), "output": 0, "nabla": 0, "output_error": 0,
                                  "cost": self._block("cost", loss.cost, loss)}  # fmt: skip
        if use == "train":
            chosen["backward"] = [self._activation(act, "backward") for act in acts[:-1]] + [0]
            combined = loss.output_errors.get(acts[-1].name)
            if combined is not None:
                chosen["output_error"] = self._block("output_error", combined, loss)
            else:
                chosen["nabla"] = self._block("nabla", loss.nabla_a, loss)
                chosen["output"] = self._activation(acts[-1], "output")
        return chosen

    # -- engine calls --------------------------------------------------------------------------------------

    def train(self, t: Training, first: int, stop: int, batches_left: int) -> str:
        """Train batches ``first .. stop-1`` (see :func:`~bpframe.kernels.engine.train_batches`) in the tier
        :func:`choose_tier` picks (``batches_left`` in the whole fit); returns the tier's name."""
        t = t._replace(x=_readonly(t.x), y=_readonly(t.y))
        layout = self.layout("train")
        extra = numpy_extra_seconds(self.sizes, t.batch_size)
        spent = _NUMPY_EXTRA[self.dtype.name]
        entry, tier = self._entry("train_batches", (layout, t, first, stop), batches_left * extra + spent)
        self.tiers.add(tier)
        run(lambda: entry(layout, t, first, stop), t.control, self.caught, inline=tier == "numpy")
        if tier == "numpy":
            _NUMPY_EXTRA[self.dtype.name] += (int(t.status[BATCH]) - first) * extra
        elif self.dtype.name not in INPUT_BOUNDS and jit_enabled():
            _add_input_bound(self.dtype)
        return tier

    def evaluate(self, theta: np.ndarray, x: np.ndarray, y: np.ndarray, out: np.ndarray, chunk: int,
                 status: np.ndarray) -> tuple[float, int]:  # fmt: skip
        """``out = a[L]`` for every row of x; (summed cost, correct predictions) when ``y`` has columns."""
        layout, x, y = self.layout("evaluate"), _readonly(x), _writable(y)
        args = (theta, layout, x, y, out, chunk, status)
        entry, _ = self._entry("evaluate", args, 0.0)
        cost, correct = run(lambda: entry(*args), None, self.caught)
        return float(cost), int(correct)

    def backprop(self, theta: np.ndarray, zs: np.ndarray, acts: np.ndarray, deltas: np.ndarray, y: np.ndarray,
                 grad: np.ndarray, status: np.ndarray, dropout: tuple[np.ndarray, int, int, np.ndarray, np.ndarray],
                 ) -> float:  # fmt: skip
        """The four equations on one batch whose inputs are layer 0 of ``acts``; returns the summed cost.
        ``dropout`` is (rates by layer, key, update number, mask buffer, kept-activation buffer); empty rates for
        none (:mod:`bpframe.kernels.dropout`)."""
        args = (theta, self.layout("train"), zs, acts, deltas, _writable(y), grad, status, *dropout)
        entry, _ = self._entry("backprop", args, 0.0)
        return float(run(lambda: entry(*args), None, self.caught))

    def _entry(self, name: str, args: tuple[Any, ...], numpy_seconds: float) -> tuple[Callable[..., Any], str]:
        """The compiled entry point ``name`` or its NumPy twin, as :func:`choose_tier` decides. numba is imported
        only when the compiled engine may run: when the disk cache holds a file of it, when this process has
        used it, or when compiling it is chosen."""
        tier = choose_tier(lambda: self._engine_ready(name, args, numpy_seconds), numpy_seconds)
        return (compiled_engine()[name], tier) if tier == "compiled" else (getattr(numpy_tier, name), tier)

    @staticmethod
    def _engine_ready(name: str, args: tuple[Any, ...], numpy_seconds: float) -> bool:
        """Whether the compiled entry point ``name`` is ready for these arguments: held by this process, or
        loaded now from the disk cache, but only when the NumPy tier would cost more than loading it
        (:func:`load_seconds`)."""
        if not engine_on_disk(name):
            return False
        if "bpframe.kernels.engine" in sys.modules and load_cached(compiled_engine()[name], args, disk=False):
            return True
        return numpy_seconds > load_seconds() and load_cached(compiled_engine()[name], args)

    # -- reading -------------------------------------------------------------------------------------------

    def source(self) -> str:
        """The readable source of what runs for this network: the equations first, then the blocks of its
        functions with the functions themselves, then the engine's training loop."""
        from . import blocks, engine, equations, products

        parts = [f"# bpframe kernels for {self.describe_network()}", "", "# ---- the equations", ""]
        parts += [_source(kernel) for kernel in _equations(equations)]
        parts += ["# the forward product of a small mini-batch of a wide layer, instead of BLAS", ""]
        parts.append(_source(products.small_forward))
        parts += ["# dropout's masks, and the L1 term of the weights' gradient", ""]
        parts += [_source(fn) for fn in (dropout.draw_mask, dropout.apply_mask, dropout.add_l1)]
        parts += ["# ---- the blocks: each plugin function applied to a whole layer", ""]
        seen: set[int] = set()
        specs: list[Activation | Loss] = [*self.activations, self.loss]
        for spec in specs:
            if id(spec) in seen:
                continue
            seen.add(id(spec))
            parts.append(f"# {self.describe(spec)}")
            parts += [_source(fn) for fn in _functions(spec)]
        parts += [_source(blocks.forward), _source(blocks.backward)]
        parts += ["# ---- the engine: one compiled loop over mini-batches, for every network of this dtype", ""]
        parts.append(_source(engine.train_batches))
        return "\n".join(parts)

    def describe_network(self) -> str:
        """``[64, 64, 10] relu, softmax; cross_entropy; float64``."""
        names = ", ".join(act.name for act in self.activations)
        return f"{list(self.sizes)} {names}; {self.loss.name}; {self.dtype.name}"


#: What compiling the engine's training loop for a dtype costs, about: measured 6.7-6.8 s on a 2-core AMD EPYC
#: (Zen 4), every cache empty, at eb50760 (a one-epoch fit with ``BPFRAME_ENGINE=compiled`` after the blocks were
#: compiled). It is paid once per machine (the engine is cached), and only when the NumPy tier would lose more.
COMPILE_SECONDS = 6.0

#: What making the cached engine ready costs a process that has not used it: importing numba (about 0.17 s,
#: when nothing imported it yet: a warm job in the NumPy tier links its blocks without it), the engine's modules
#: (0.08 s) and loading its file (0.10 s). Measured 0.35-0.38 s in three fresh processes on a 2-core AMD EPYC
#: (Zen 4) at f8b28b4. A job whose NumPy tier would cost less than this beyond the engine (the first-result
#: job: about 0.1 s) trains in the NumPy tier even with the engine on disk.
LOAD_SECONDS = 0.35
#: The part of :data:`LOAD_SECONDS` that is numba's import.
NUMBA_IMPORT_SECONDS = 0.17


def load_seconds() -> float:
    """What loading the cached engine would cost this process now (:data:`LOAD_SECONDS`, less numba's import when
    numba is imported already)."""
    return LOAD_SECONDS - (NUMBA_IMPORT_SECONDS if "numba" in sys.modules else 0.0)


#: What the NumPy tier has cost this process beyond the compiled engine, by dtype (estimated, see
#: :func:`numpy_extra_seconds`): many short fits (one epoch at a time, a hyper-parameter sweep) add up, and once
#: they pass what compiling costs, the engine is compiled.
_NUMPY_EXTRA: collections.defaultdict[str, float] = collections.defaultdict(float)


def numpy_extra_seconds(sizes: Sequence[int], batch_size: int) -> float:
    """What one mini-batch costs in the NumPy tier beyond the compiled engine, estimated on the high side.

    Both tiers call the same compiled blocks and the same BLAS ``gemm``, so the matrix products, which dominate
    wide layers and large mini-batches, cost the same in both: what differs is the Python and ctypes calls (per
    layer), NumPy's row gather and bias sums (per activation of the batch) and the bound of SGD's in-place step
    (per parameter). 25 µs a layer, 1 ns an activation, 0.15 ns a parameter; measured against the compiled
    engine on a 2-core AMD EPYC (Zen 4), one thread, at 384aee2: [8, ..., 8, 2] mini-batches of 8, 15-17 µs a
    layer (estimate 25 µs); [784, 30, 10] batch 10, 60 µs float32 and 78 µs float64 (estimate 62); [784, 128,
    10] batch 32 with Adam, 60 µs (95); [784, 100, 10] batch 128, 141 µs (176); [784, 784, 784, 2] batch 10,
    190 µs (283). Fashion-MNIST's 10 epochs with [784, 128, 10] took 8.4 s in the NumPy tier and 8.0-9.9 s in
    the warm compiled engine: compiling first (about 7 s) would have been a loss.
    """
    layers = len(sizes) - 1
    parameters = sum(sizes[l] * sizes[l - 1] + sizes[l] for l in range(1, len(sizes)))
    return 25e-6 * layers + 1e-9 * batch_size * sum(sizes) + 0.15e-9 * parameters


def _add_input_bound(dtype: np.dtype) -> None:
    """Make the engine's :func:`~bpframe.kernels.engine.input_bound` for ``dtype`` the check of later fits' inputs
    (:data:`~bpframe.kernels.interface.INPUT_BOUNDS`). Called after training in the compiled engine. When this
    process compiled the engine, the scan is compiled beside it now (0.36 s in float64, measured, beside the
    loop's 7 s), so the cache holds both; when the engine was loaded from the cache, the scan is loaded by the
    first fit that needs it (about 5 ms, which a single fit never pays), and compiled only if its file is missing
    or was damaged."""
    scan = compiled_engine()["input_bound"]
    if "engine-train_batches" in cache.stats().compiled:
        scan(np.zeros(1, dtype))  # compiles it (or loads it, if another process put it in the cache meanwhile)
        INPUT_BOUNDS[dtype.name] = scan
    else:
        INPUT_BOUNDS[dtype.name] = _FirstUse(dtype.name, scan)


class _FirstUse:
    """The engine's scan, loaded (or compiled) on its first call, which then puts the scan itself in its place."""

    def __init__(self, dtype_name: str, scan: Callable[[np.ndarray], float]) -> None:
        self.dtype_name, self.scan = dtype_name, scan

    def __call__(self, flat: np.ndarray) -> float:
        INPUT_BOUNDS[self.dtype_name] = self.scan
        return float(self.scan(flat))


def choose_tier(cached: Callable[[], bool], numpy_seconds: float) -> str:
    """``"compiled"`` or ``"numpy"``: ``BPFRAME_ENGINE`` decides when set; otherwise the compiled engine runs when
    it is ready (``cached()``: held by this process, or in the disk cache and worth loading, which loads it,
    see :func:`load_seconds`), or when the NumPy tier would lose more time than compiling costs
    (``numpy_seconds``: what the NumPy tier would cost this job beyond the compiled engine,
    :func:`numpy_extra_seconds`, plus what it has cost this process already). The tiers give the same numbers,
    so this only decides how soon they come."""
    mode = config.settings().engine
    if mode != "auto":
        return mode
    if not jit_enabled() or cached():
        return "compiled"
    return "compiled" if numpy_seconds > COMPILE_SECONDS else "numpy"


def _readonly(array: np.ndarray) -> np.ndarray:
    """A read-only view: the engine's data arguments always have that type, so a caller's read-only array and a
    writable one share one compiled signature."""
    view: np.ndarray = array.view()
    view.flags.writeable = False
    return view


def _writable(array: np.ndarray) -> np.ndarray:
    """``array`` itself when it is writable, else a writable copy (the engine never writes it): the targets that
    ``evaluate`` and ``backprop`` pass to BP1, the cost and the count of correct predictions then have the type of
    the training loop's own mini-batch buffer, so numba compiles those helpers once for every entry point (a
    read-only array is a type of its own: backprop then compiled in 1.7-1.8 s instead of 2.3-2.8 s, measured)."""
    return array if array.flags.writeable else array.copy()


def _equations(equations: Any) -> tuple[Callable[..., Any], ...]:
    """The four equations' kernels, in the order the source shows them."""
    return (
        equations.forward_layer,
        equations.bp1_output_error,
        equations.bp1_combined,
        equations.bp2_hidden_error,
        equations.bp3_bp4_mean_in_place,
        equations.bp3_bp4_step_in_place,
    )


def _functions(spec: Activation | Loss) -> list[Callable[..., Any]]:
    if isinstance(spec, Activation):
        fns = [spec.sigma, spec.sigma_prime] if spec.elementwise else [spec.forward, spec.vjp]
        return [fn for fn in fns if fn is not None]
    return [spec.cost, spec.nabla_a, *spec.output_errors.values()]


def _source(fn: Callable[..., Any]) -> str:
    """The source of a function (a numba dispatcher's Python function), or a line saying it is not available."""
    target = getattr(fn, "py_func", fn)
    try:
        return inspect.getsource(target)
    except (OSError, TypeError):
        return f"# (source of {getattr(target, '__qualname__', target)!r} not available)\n"
