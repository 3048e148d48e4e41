"""A network's program: its layout and the blocks of its functions, and the engine calls that run them.

The engine is compiled once per dtype; a network only contributes data (:class:`~bpframe.kernels.Layout`)
and the blocks of its activations and loss, each compiled once per function and dtype. So a change of sizes,
depth or layer order compiles nothing, and a new activation compiles only its own block.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..activation import Activation
from ..loss import Loss
from . import blocks, engine, equations, numpy_tier
from .build import Block, block, compiled_engine, jit_enabled, load_cached
from .interface import Layout, Training
from .runner import PluginExceptions, run

__all__ = ["Program", "make_layout"]


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


def make_layout(sizes: Sequence[int], activation_blocks: Sequence[int], loss: int, output_error: int) -> Layout:
    """The engine's :class:`~bpframe.kernels.Layout` of a network."""
    w_off, b_off, units, n_weights = _offsets(sizes)
    table = np.zeros(len(sizes), np.int64) if all(isinstance(a, int) for a in activation_blocks) else None
    if table is not None:
        table[1:] = activation_blocks
    return Layout(
        sizes=np.asarray(sizes, np.int64), w_off=w_off, b_off=b_off, units=units,
        blocks=table if table is not None else np.array([None, *activation_blocks], dtype=object),
        loss=loss, output_error=output_error, n_weights=n_weights, widest=int(max(sizes)),
    )  # fmt: skip


@dataclass
class Program:
    """Everything the engine needs to run one network: layout, blocks, and a record of plugin exceptions."""

    sizes: tuple[int, ...]
    activations: tuple[Activation, ...]
    loss: Loss
    dtype: np.dtype
    describe: Callable[[Any], str]
    caught: PluginExceptions = field(default_factory=PluginExceptions)
    _layout: Layout | None = None
    _blocks: dict[str, Block] = field(default_factory=dict)

    # -- blocks --------------------------------------------------------------------------------------------

    def activation_block(self, act: Activation) -> Block:
        """The block of an activation in this dtype."""
        if act.elementwise:
            return block("activation", (act.sigma, act.sigma_prime), self.dtype, self.describe(act))  # type: ignore[arg-type]
        return block("vector_activation", (act.forward, act.vjp), self.dtype, self.describe(act))  # type: ignore[arg-type]

    def loss_block(self) -> Block:
        """The block of the loss (its cost and ∇ₐC)."""
        return block("loss", (self.loss.cost, self.loss.nabla_a), self.dtype, self.describe(self.loss))

    def output_error_block(self) -> Block | None:
        """The block of the loss's combined output error for the output activation, if it declares one."""
        combined = self.loss.output_errors.get(self.activations[-1].name)
        if combined is None:
            return None
        return block("output_error", (combined,), self.dtype, self.describe(self.loss))

    def update_block(self, optimizer: Any) -> Block:
        """The block of an optimizer's update (an :class:`~bpframe.optimizers.OptimizerSpec`) in this dtype."""
        return block("update", (optimizer.update,), self.dtype, self.describe(optimizer))

    @property
    def layout(self) -> Layout:
        """The engine's layout of this network (compiling the blocks on first use)."""
        if self._layout is None:
            acts = [self.activation_block(act).address for act in self.activations]
            combined = self.output_error_block()
            self._layout = make_layout(self.sizes, acts, self.loss_block().address, combined.address if combined else 0)
        return self._layout

    # -- engine calls --------------------------------------------------------------------------------------

    def train(self, t: Training, first: int, stop: int, batches_left: int) -> str:
        """Train batches ``first .. stop-1`` (see :func:`~bpframe.kernels.engine.train_batches`) in the tier
        :func:`choose_tier` picks (``batches_left`` in the whole fit); returns the tier's name."""
        t = t._replace(x=_readonly(t.x), y=_readonly(t.y))
        layout = self.layout
        seconds = batches_left * _batch_seconds(self.sizes, t.batch_size)
        entry, tier = self._entry("train_batches", (layout, t, first, stop), seconds)
        run(lambda: entry(layout, t, first, stop), t.control, self.caught)
        return tier

    def evaluate(self, theta: np.ndarray, x: np.ndarray, y: np.ndarray, out: np.ndarray, chunk: int,
                 status: np.ndarray) -> tuple[float, int]:  # fmt: skip
        """``out = a[L]`` for every row of x; (summed cost, correct predictions) when ``y`` has columns."""
        layout, x, y = self.layout, _readonly(x), _readonly(y)
        args = (theta, layout, x, y, out, chunk, status)
        entry, _ = self._entry("evaluate", args, 0.0)
        cost, correct = run(lambda: entry(*args), None, self.caught)
        return float(cost), int(correct)

    def backprop(self, theta: np.ndarray, zs: np.ndarray, acts: np.ndarray, deltas: np.ndarray, y: np.ndarray,
                 grad: np.ndarray, status: np.ndarray) -> float:  # fmt: skip
        """The four equations on one batch whose inputs are layer 0 of ``acts``; returns the summed cost."""
        args = (theta, self.layout, zs, acts, deltas, _readonly(y), grad, status)
        entry, _ = self._entry("backprop", args, 0.0)
        return float(run(lambda: entry(*args), None, self.caught))

    def _entry(self, name: str, args: tuple[Any, ...], numpy_seconds: float) -> tuple[Callable[..., Any], str]:
        """The compiled entry point ``name`` or its NumPy twin, as :func:`choose_tier` decides."""
        compiled = compiled_engine()[name]
        tier = choose_tier(lambda: load_cached(compiled, args), numpy_seconds)
        return (compiled, tier) if tier == "compiled" else (getattr(numpy_tier, name), tier)

    # -- reading -------------------------------------------------------------------------------------------

    def source(self) -> str:
        """The readable source of what runs for this network: the equations first, then the blocks of its
        functions with the functions themselves, then the engine's training loop."""
        parts = [f"# bpframe kernels for {self.describe_network()}", "", "# ---- the equations", ""]
        parts += [_source(kernel) for kernel in _EQUATIONS]
        parts += ["# ---- the blocks: each plugin function applied to a whole layer", ""]
        seen: set[int] = set()
        specs: list[Activation | Loss] = [*self.activations, self.loss]
        for spec in specs:
            if id(spec) in seen:
                continue
            seen.add(id(spec))
            parts.append(f"# {self.describe(spec)}")
            parts += [_source(fn) for fn in _functions(spec)]
        parts.append(_source(blocks.activation_block))
        parts += ["# ---- the engine: one compiled loop over mini-batches, for every network of this dtype", ""]
        parts.append(_source(engine.train_batches))
        return "\n".join(parts)

    def describe_network(self) -> str:
        """``[64, 64, 10] relu, softmax; cross_entropy; float64``."""
        names = ", ".join(act.name for act in self.activations)
        return f"{list(self.sizes)} {names}; {self.loss.name}; {self.dtype.name}"


#: What compiling the engine's training loop for a dtype costs, about: measured 4.1–4.2 s on a 2-core AMD EPYC
#: (Zen 4), every cache empty. The NumPy tier runs a job that it would finish sooner than that.
COMPILE_SECONDS = 4.0


def _batch_seconds(sizes: Sequence[int], batch_size: int) -> float:
    """A rough time for one mini-batch in the NumPy tier: ~40 µs of Python and ctypes calls per layer and pass,
    plus the matrix products at a conservative 5 GFLOP/s."""
    flops = 6.0 * batch_size * sum(sizes[l] * sizes[l - 1] for l in range(1, len(sizes)))
    return 40e-6 * (len(sizes) - 1) * 3 + flops / 5e9


def choose_tier(cached: Callable[[], bool], numpy_seconds: float) -> str:
    """``"compiled"`` or ``"numpy"``: ``BPFRAME_ENGINE`` decides when set; otherwise the compiled engine runs when
    it is already compiled or in the disk cache (``cached()`` loads it), or when the NumPy tier would take longer
    than compiling it. The tiers give the same numbers, so this only decides how soon they come."""
    from ..config import env_choice

    mode = env_choice("BPFRAME_ENGINE", ("auto", "compiled", "numpy"), "auto")
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


_EQUATIONS = (
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
