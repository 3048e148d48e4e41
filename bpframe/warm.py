"""Compile ahead of use: the blocks of every installed activation, loss and optimizer, and the engine, into the
kernel cache (``bpframe cache warm``, :func:`warm_cache`).

A network compiles only what is new about it, and only once per machine: a new activation costs its blocks,
0.1-0.3 s, the first long job of a dtype the engine, about 7 s. Where that first time should not be a user's (a
container image, a Dask cluster's shared cache, a classroom's machines, a CI cache), warming pays it in advance:
afterwards any network of the warmed dtypes built from installed functions compiles nothing. A function that does
not compile is reported, with its plugin, and the others are warmed all the same.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import config
from .activation import Activation
from .errors import ConfigurationError, DivergenceError, PluginError
from .kernels import build, cache
from .loss import Loss
from .network import Network
from .optimizer_spec import OptimizerSpec
from .plugins import get_registry
from .specs import describe

__all__ = ["DTYPES", "WarmItem", "WarmReport", "blocks_of", "warm_cache"]

#: The dtypes a network can have, and so the ones the cache can be warmed for.
DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class WarmItem:
    """What warming one thing did: compiled kernels, kernels found in the cache, seconds, or the error."""

    dtype: str
    what: str  # "activation 'tanh' (from ...)", "the engine", ...
    compiled: int  # compiled now, or earlier in this process and written to the cache now
    loaded: int  # found in the cache
    seconds: float
    error: str | None = None

    def line(self) -> str:
        """One line for the command's report."""
        if self.error is not None:
            return f"{self.dtype}  {self.what}: FAILED: {self.error}"
        counts = f"{self.compiled} compiled, {self.loaded} already cached"
        return f"{self.dtype}  {self.what}: {counts} ({self.seconds:.2f} s)"


@dataclass
class WarmReport:
    """Everything :func:`warm_cache` did, in order."""

    folder: Path | None
    items: list[WarmItem] = field(default_factory=list)

    @property
    def failures(self) -> list[WarmItem]:
        """The items that could not be compiled."""
        return [item for item in self.items if item.error is not None]

    def summary(self) -> str:
        """One line: totals and where the kernels are."""
        compiled = sum(item.compiled for item in self.items)
        loaded = sum(item.loaded for item in self.items)
        seconds = sum(item.seconds for item in self.items)
        failed = f"; {len(self.failures)} failed" if self.failures else ""
        return (f"warmed {len(self.items) - len(self.failures)} of {len(self.items)}: {compiled} kernels compiled, "
                f"{loaded} already cached, in {seconds:.1f} s{failed}; cache: {self.folder}")  # fmt: skip


def blocks_of(spec: Activation | Loss) -> list[tuple[str, Callable[..., Any]]]:
    """Every block a network may need for this activation or loss, as (kind, plugin function): an activation's
    forward pass and its derivative in BP2 and in BP1, a loss's cost, ∇ₐC and each combined output error (see
    :mod:`bpframe.kernels.blocks`)."""
    if isinstance(spec, Activation):
        if spec.elementwise:
            pairs = [("forward", spec.sigma), ("backward", spec.sigma_prime), ("output", spec.sigma_prime)]
        else:
            pairs = [("vector_forward", spec.forward), ("vector_backward", spec.vjp), ("vector_output", spec.vjp)]
        return [(kind, fn) for kind, fn in pairs if fn is not None]
    return [("cost", spec.cost), ("nabla", spec.nabla_a), *(("output_error", fn) for fn in spec.output_errors.values())]


def warm_cache(
    dtypes: Sequence[str] = DTYPES,
    *,
    engine: bool = True,
    activations: Iterable[str] | None = None,
    losses: Iterable[str] | None = None,
    optimizers: Iterable[str] | None = None,
    progress: Callable[[WarmItem], None] | None = None,
) -> WarmReport:
    """Compile into the kernel cache the blocks of the installed activations, losses and optimizers (all of them,
    or the names given) and, with ``engine``, the compiled engine, for each of ``dtypes``.

    ``progress`` is called with each :class:`WarmItem` as it is done. A function that numba cannot compile is
    reported in its item and does not stop the others.

    Raises
    ------
    ConfigurationError
        For a dtype that is not float32 or float64, when nothing would be kept (the kernel cache is off, or numba's
        compiler is: ``BPFRAME_NO_KERNEL_CACHE=1``, ``NUMBA_DISABLE_JIT=1``), or for an engine variable with a
        value that is not accepted.
    UnknownNameError
        For a name that no installed plugin registers.
    """
    dtypes = list(dtypes)
    for dtype in dtypes:
        if dtype not in DTYPES:
            raise ConfigurationError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    if not dtypes:
        raise ConfigurationError("no dtype to warm the cache for; give float32, float64 or both")
    if not build.jit_enabled():
        raise ConfigurationError("numba's compiler is off (NUMBA_DISABLE_JIT=1): there is nothing to compile")
    registry = get_registry()
    specs: list[Activation | Loss | OptimizerSpec] = [
        *(registry.activation(n) for n in (registry.activations.names() if activations is None else activations)),
        *(registry.loss(n) for n in (registry.losses.names() if losses is None else losses)),
        *(registry.optimizer(n) for n in (registry.optimizers.names() if optimizers is None else optimizers)),
    ]
    with config.operation(engine="compiled"):  # the engine part trains in the compiled tier
        if config.settings().no_kernel_cache:
            raise ConfigurationError("the kernel cache is off (BPFRAME_NO_KERNEL_CACHE=1): nothing would be kept")
        report = WarmReport(cache.cache_dir())
        if report.folder is None:
            raise ConfigurationError(f"the kernel cache folder {cache.cache_base()} is not writable: nothing would be "
                                     "kept; set BPFRAME_CACHE_DIR to a writable folder")  # fmt: skip

        def done(item: WarmItem) -> None:
            report.items.append(item)
            if progress is not None:
                progress(item)

        for dtype in dtypes:
            good: list[Activation | Loss | OptimizerSpec] = []
            for spec in specs:
                item = _measured(dtype, describe(spec), functools.partial(_warm_spec, spec, dtype))
                done(item)
                if item.error is None:
                    good.append(spec)
            product = functools.partial(build.product_block, np.dtype(dtype), store=True)
            done(_measured(dtype, "the small forward product", product))
            if engine:
                done(_measured(dtype, "the engine (train, evaluate, backprop)",
                               functools.partial(_warm_engine, dtype, good)))  # fmt: skip
    return report


def _warm_spec(spec: Activation | Loss | OptimizerSpec, dtype: str) -> None:
    owner = describe(spec)
    if isinstance(spec, OptimizerSpec):
        build.store_block("update", spec.update, np.dtype(dtype), owner)
        return
    for kind, fn in blocks_of(spec):
        build.store_block(kind, fn, np.dtype(dtype), owner)


def _warm_engine(dtype: str, warmed: list[Activation | Loss | OptimizerSpec]) -> int:
    """Run the engine's entry points once on a tiny network, in the compiled tier: they are compiled (or loaded)
    for exactly the argument types every network of this dtype passes them, whichever its functions (a block is
    an address to the engine). The network takes an elementwise activation and a loss that ``warmed`` holds, else
    any installed ones; when a plugin function raises on the tiny network's numbers, the next pair is tried (at
    most :data:`_ENGINE_TRIES`), since the engine compiled all the same."""
    registry = get_registry()
    installed = [*(registry.activation(n) for n in registry.activations.names()),
                 *(registry.loss(n) for n in registry.losses.names())]  # fmt: skip
    candidates = [*warmed, *installed]
    activations = list(dict.fromkeys(s.name for s in candidates if isinstance(s, Activation) and s.elementwise))
    losses = list(dict.fromkeys(s.name for s in candidates if isinstance(s, Loss)))
    if not activations or not losses:
        raise ConfigurationError("the engine needs an elementwise activation and a loss, and none is installed")
    raised: list[PluginError] = []
    for activation, loss in itertools.islice(itertools.product(activations, losses), _ENGINE_TRIES):
        try:
            _tiny_job(activation, loss, dtype)
        except PluginError as exc:  # that function failed on these numbers, not the engine
            raised.append(exc)
            continue
        break
    else:
        raise raised[0]
    build.compiled_engine()["input_bound"](np.zeros(1, dtype))  # the fits' input scan, held so it is stored too
    return build.store_engine()  # what this process compiled before the cache folder it now uses had it


#: How many (activation, loss) pairs :func:`_warm_engine` tries before it reports the first one's error.
_ENGINE_TRIES = 8


def _tiny_job(activation: str, loss: str, dtype: str) -> None:
    net = Network([2, 3, 2], activation, loss, dtype=dtype, seed=0)
    X = np.linspace(-1.0, 1.0, 8, dtype=dtype).reshape(4, 2)
    Y = np.eye(2, dtype=dtype)[[0, 1, 1, 0]] * 0.5 + 0.25
    with contextlib.suppress(DivergenceError):  # the engine compiled and ran: the tiny job's numbers do not matter
        net.fit(X, Y, epochs=1, batch_size=2, eta=0.01, verbose=0)
    net.evaluate(X, Y)
    net.backprop(X, Y)


def _measured(dtype: str, what: str, work: Callable[[], object]) -> WarmItem:
    """Do ``work`` and count the kernels it compiled and loaded; a failure becomes the item's error."""
    stats = cache.stats()
    compiled, loaded, started = len(stats.compiled), len(stats.loaded), time.perf_counter()
    error, written = None, 0
    try:
        result = work()
        written = result if isinstance(result, int) else 0
    except Exception as exc:  # noqa: BLE001 - a broken plugin is reported, and the others are still warmed
        error = f"{type(exc).__name__}: {' '.join(str(exc).split())[:400]}"
    return WarmItem(dtype, what, len(stats.compiled) - compiled + written, len(stats.loaded) - loaded,
                    time.perf_counter() - started, error)  # fmt: skip
