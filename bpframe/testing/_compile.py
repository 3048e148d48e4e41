"""Compile each plugin function alone, for each dtype, with the options the engine uses (numba on first use)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

from ..kernels.alone import UPDATE, VECTOR_ROLES, compile_alone
from ._common import DTYPES, blame

__all__ = ["compile_all", "compile_update"]

_compiled: dict[tuple[Callable[..., Any], str, str], tuple[Any, str | None]] = {}


def compile_all(fns: Mapping[str, Callable[..., Any]]) -> tuple[list[str], dict[tuple[str, str], Any]]:
    """Compile each function alone per dtype; return the problems and ``{(role, dtype): dispatcher}``."""
    problems: list[str] = []
    compiled: dict[tuple[str, str], Any] = {}
    for role, fn in fns.items():
        for dtype in DTYPES:
            kind = "output_error" if role.startswith("output_errors") else role
            dispatcher, error = _compile(fn, kind, dtype)
            if error is not None:
                problems.append(blame(f"compiles: {role} {error}", [(role, fn)]))
                break  # the other dtype fails the same way, as a rule
            compiled[role, dtype] = dispatcher
    return problems, compiled


def compile_update(fn: Callable[..., Any], dtype: str) -> tuple[Any, str | None]:
    """An optimizer's update for ``dtype`` arrays: the dispatcher, or ``None`` and why it cannot compile."""
    return _compile(fn, UPDATE, dtype)


def _compile(fn: Callable[..., Any], role: str, dtype: str) -> tuple[Any, str | None]:
    """``njit`` with the engine's plugin options, for one signature only; memoised per function and dtype."""
    key = (fn, role, dtype)
    if key not in _compiled:
        _compiled[key] = _compile_uncached(fn, role, dtype)
    return _compiled[key]


def _compile_uncached(fn: Callable[..., Any], role: str, dtype: str) -> tuple[Any, str | None]:
    from numba import types

    try:
        with warnings.catch_warnings():
            # numba's performance and deprecation notes are not conformance failures (and -W error must not
            # turn them into "cannot be compiled"); the engine shows them when it compiles the kernels
            warnings.simplefilter("ignore")
            dispatcher = compile_alone(fn, role, dtype, cached=True)
    except Exception as exc:  # noqa: BLE001 - numba raises many kinds, not all NumbaError
        lines = [
            ln for ln in str(exc).strip().splitlines() if ln.strip() and not ln.startswith(("Failed in", "During:"))
        ]
        detail = "\n".join(lines[:8])
        return None, (
            f"cannot be compiled by numba for {dtype} inputs. Plugin functions must use only numba's subset "
            f"(math, scalar numpy, arithmetic, if/for) and call no plain Python functions:\n{detail}"
        )
    dispatcher.disable_compile()
    returned = dispatcher.nopython_signatures[0].return_type
    if role == UPDATE and not isinstance(returned, (types.Boolean, types.Integer)):
        return None, f"returns {returned} for {dtype} arrays; it must return True or False (all parameters finite)"
    if role not in (*VECTOR_ROLES, UPDATE) and not isinstance(returned, types.Number):
        return None, f"returns {returned} for {dtype} inputs; it must return a number on every path"
    return dispatcher, None
