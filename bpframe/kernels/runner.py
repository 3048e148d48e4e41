"""Run an engine call the way a user expects: Ctrl-C within one mini-batch, plugin exceptions caught and kept.

Two things stand between a compiled loop and a well-behaved Python call:

- **Interruption.** Python handles a signal only between bytecodes, never inside compiled code. So a call made
  from the main thread runs in a worker thread (the engine releases the GIL) while the main thread waits; a
  ``KeyboardInterrupt`` there sets the engine's ``control[0]``, the engine stops after the mini-batch it is in,
  and the caller raises the interrupt again once the parameters are consistent.
- **Exceptions inside plugin functions.** A block is a C function: when the plugin function raises, numba's
  wrapper returns 0 and hands the exception to ``sys.unraisablehook``. While an engine call runs, a hook
  collects those exceptions for the calling thread (others go to the previous hook), so the error raised to the
  user carries the plugin's own exception.

Every call also runs under bpframe's BLAS thread limit (:mod:`bpframe.threads`).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..threads import blas_threads
from .lean import jit_enabled

__all__ = ["PluginExceptions", "run"]

_hook_lock = threading.Lock()
_collectors: dict[int, list[BaseException]] = {}
_previous: list[Callable[[Any], Any]] = []


def _hook(unraisable: Any) -> None:
    """Keep exceptions that numba's C wrappers report for a thread that is collecting; pass on the rest."""
    collector = _collectors.get(threading.get_ident())
    source = unraisable.object
    if collector is not None and isinstance(source, str) and source.startswith("<numba."):
        collector.append(unraisable.exc_value)
        return
    (_previous[-1] if _previous else sys.__unraisablehook__)(unraisable)


@contextmanager
def _collecting(thread_id: int) -> Iterator[list[BaseException]]:
    """Collect the plugin exceptions raised in ``thread_id`` while the block runs."""
    collected: list[BaseException] = []
    with _hook_lock:
        if not _collectors:
            _previous.append(sys.unraisablehook)
            sys.unraisablehook = _hook
        _collectors[thread_id] = collected
    try:
        yield collected
    finally:
        with _hook_lock:
            del _collectors[thread_id]
            if not _collectors:
                sys.unraisablehook = _previous.pop()


def _quiet() -> contextlib.AbstractContextManager[Any]:
    """Without the JIT the kernels run as Python on NumPy scalars, which warn on overflow where compiled code
    does not: silence that, so both report non-finite values the same way (through the engine's status)."""
    return contextlib.nullcontext() if jit_enabled() else np.errstate(all="ignore")


class PluginExceptions:
    """The exceptions plugin functions raised during the last :func:`run` (empty when none did)."""

    def __init__(self) -> None:
        self.raised: list[BaseException] = []


_executor: list[concurrent.futures.ThreadPoolExecutor] = []


def _worker() -> concurrent.futures.ThreadPoolExecutor:
    """One engine thread for the process, started on first use: a thread per call cost 50-100 µs, more under load
    (measured: a 50-epoch fit of a small network took 0.20 s with a thread per epoch, 0.04 s without)."""
    with _hook_lock:
        if not _executor:
            _executor.append(concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="bpframe-engine"))
    return _executor[0]


def _call(call: Callable[[], Any], caught: PluginExceptions) -> Any:
    with _collecting(threading.get_ident()) as collected, blas_threads(), _quiet():
        try:
            return call()
        finally:
            caught.raised = list(collected)


def run(call: Callable[[], Any], control: Any | None, caught: PluginExceptions, *, inline: bool = False) -> Any:
    """Run ``call()`` (an engine call) and return its result.

    From the main thread, with a ``control`` array, a compiled call runs in bpframe's engine thread so that Ctrl-C
    can ask it to stop after the current mini-batch: the signal handler of ``fit`` sets ``control[0] = 1``, and the
    caller, seeing it, raises ``KeyboardInterrupt`` once parameters, optimizer state and history agree. An
    ``inline`` call (the NumPy tier, which is Python and checks ``control`` between batches itself) runs in the
    calling thread. Exceptions raised by plugin functions inside blocks are stored in ``caught.raised``.
    """
    if inline or control is None or threading.current_thread() is not threading.main_thread():
        return _call(call, caught)
    future = _worker().submit(_call, call, caught)
    while True:
        try:
            return future.result(timeout=0.05)
        except concurrent.futures.TimeoutError:
            continue
        except KeyboardInterrupt:
            control[0] = 1  # the engine stops after this mini-batch; the caller raises once all is consistent
