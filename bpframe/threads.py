"""The threading policy: bpframe's kernels run on one thread, and so does the BLAS they call, unless told otherwise.

Why: the engine is one compiled loop over mini-batches, and the matrix products inside it are the only part
that could use more cores. BLAS thread pools spin while they wait; measured on a 2-core machine shared with
another process, a spinning pool made each step 10× slower, and two threads changed the summation order (so
results differed from one thread). One thread is therefore the default: predictable, reproducible, and never
slower under load. On an idle machine with large layers, more threads can pay off: set ``BPFRAME_NUM_THREADS``
or call :func:`set_num_threads`. The variable is read once per operation (:mod:`bpframe.config`), so a bad
value is reported when ``fit`` starts, never in the middle of training.

The limit applies to the BLAS libraries (OpenBLAS and the like, found by ``threadpoolctl``) only while a bpframe
kernel runs, and is restored afterwards, so other code in the process keeps its own setting.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from . import config
from .errors import ConfigurationError

__all__ = ["blas_threads", "get_num_threads", "set_num_threads"]

_lock = threading.Lock()
_state: dict[str, Any] = {"controller": None, "limiter": None, "depth": 0, "threads": None}


def get_num_threads() -> int:
    """The number of BLAS threads bpframe's kernels use: :func:`set_num_threads`, else ``BPFRAME_NUM_THREADS``,
    else 1. Inside ``fit`` the variable is the one read when the fit started (:func:`bpframe.config.operation`).

    Raises
    ------
    ConfigurationError
        When ``BPFRAME_NUM_THREADS`` is not a whole number >= 1.
    """
    if _state["threads"] is not None:
        return int(_state["threads"])
    return config.settings().num_threads


def set_num_threads(threads: int | None) -> None:
    """Use ``threads`` BLAS threads inside bpframe's kernels (``None`` goes back to the environment's setting).

    Examples
    --------
    >>> import bpframe as bp
    >>> bp.set_num_threads(2); bp.get_num_threads()
    2
    >>> bp.set_num_threads(None); bp.get_num_threads()
    1
    """
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ConfigurationError(f"threads must be None or an int >= 1, got {threads!r}")
    _state["threads"] = threads


def _controller() -> Any:
    if _state["controller"] is None:
        from threadpoolctl import ThreadpoolController

        _state["controller"] = ThreadpoolController()
    return _state["controller"]


@contextmanager
def blas_threads() -> Iterator[None]:
    """Limit the BLAS pools while the block runs; nested and concurrent uses share one limit."""
    with _lock:
        if _state["depth"] == 0:
            _state["limiter"] = _controller().limit(limits=get_num_threads(), user_api="blas")
        _state["depth"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["depth"] -= 1
            if _state["depth"] == 0:
                _state["limiter"].restore_original_limits()
                _state["limiter"] = None
