"""Build (or fetch from cache) the compiled engine for one configuration of activations and loss."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from ..activation import Activation
from ..errors import KernelError, PluginError
from ..loss import Loss
from . import cache, codegen

__all__ = ["Engine", "get_engine"]

_INLINED_MODULES = ("equations.py", "memory.py", "optimizers.py", "metrics.py", "options.py")
_lock = threading.Lock()
_engines: dict[tuple[Any, ...], Engine] = {}


@dataclass
class Engine:
    """The compiled kernels of one configuration, and what is needed to explain their failures."""

    module: ModuleType
    plan: codegen.KernelPlan
    roles: dict[int, tuple[str, str]]  # id(fn) -> (role, owner description)
    cached: bool

    @property
    def source(self) -> str:
        """The generated Python source of the kernels."""
        return str(self.module.__dict__["__bpframe_source__"])

    def call(self, name: str, *args: Any) -> Any:
        """Call kernel ``name``; a compile failure is attributed to the plugin function that causes it."""
        from ..threads import blas_threads

        try:
            with blas_threads():
                return getattr(self.module, name)(*args)
        except Exception as exc:
            if not _from_numba(exc):
                raise
            raise self._diagnose(exc, args[0].dtype) from None

    def _diagnose(self, exc: Exception, dtype: Any) -> Exception:
        """Compile each plugin function alone to find the one numba rejects."""
        from numba import njit, types

        from .options import PLUGIN_OPTIONS

        scalar = types.float32 if dtype.itemsize == 4 else types.float64
        vector = types.Array(scalar, 1, "C")
        arity = {"sigma": 1, "sigma_prime": 1, "cost": 2, "nabla_a": 2, "output_error": 3}
        for fn in self.plan.functions:
            role, owner = self.roles[id(fn)]
            if role in arity:
                sig: tuple[Any, ...] = (scalar,) * arity[role]
            else:
                sig = (vector,) * (2 if role == "forward" else 4)
            try:
                njit(**PLUGIN_OPTIONS)(fn).compile(sig)
            except Exception as inner:
                if not _from_numba(inner):
                    raise
                first = str(inner).strip().splitlines()
                detail = "\n".join(first[:12])
                return PluginError(
                    f"{owner}: its {role} function {fn.__module__}.{fn.__qualname__} cannot be compiled by numba "
                    f"for {scalar} inputs. Plugin functions must use only numba's supported subset (math, "
                    f"scalar numpy, arithmetic, if/for) and call no plain Python functions.\n{detail}"
                )
        return KernelError(f"the compiled engine failed for {self.plan.title}: {exc}")


def _from_numba(exc: BaseException) -> bool:
    """True for numba's compile-time errors (not all of which derive from NumbaError)."""
    return type(exc).__module__.split(".")[0] == "numba"


def _roles(activations: Sequence[Activation], loss: Loss, owners: Callable[[Any], str]) -> dict[int, tuple[str, str]]:
    roles: dict[int, tuple[str, str]] = {}
    for act in activations:
        for role in ("sigma", "sigma_prime", "forward", "vjp"):
            fn = getattr(act, role)
            if fn is not None:
                roles.setdefault(id(fn), (role, owners(act)))
    for role in ("cost", "nabla_a"):
        roles.setdefault(id(getattr(loss, role)), (role, owners(loss)))
    for fn in loss.output_errors.values():
        roles.setdefault(id(fn), ("output_error", owners(loss)))
    return roles


def _import_line(index: int, fn: Callable[..., Any]) -> tuple[str, bytes] | None:
    """``from module import name as _f{index}`` and the module's source, if ``fn`` is importable by name."""
    module_name = getattr(fn, "__module__", None)
    name = getattr(fn, "__name__", "")
    module = sys.modules.get(module_name or "")
    if module is None or module_name == "__main__" or getattr(fn, "__qualname__", "") != name:
        return None
    if getattr(module, name, None) is not fn:
        return None
    file = getattr(module, "__file__", None)
    if not file or not file.endswith(".py"):
        return None
    try:
        source = Path(file).read_bytes()
    except OSError:
        return None
    return f"from {module_name} import {name} as _f{index}", source


def get_engine(
    activations: Sequence[Activation], loss: Loss, owners: Callable[[Any], str], versions: Sequence[str]
) -> Engine:
    """Return the engine for this configuration, generating and importing its kernels on first use.

    ``owners(spec)`` describes a spec for error messages; ``versions`` are the plugin distributions' versions,
    part of the cache key.
    """
    plan = codegen.plan(activations, loss)
    key = (*tuple(id(fn) for fn in plan.functions), plan.output_error, plan.layers)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _build(plan, _roles(activations, loss, owners), versions)
            _engines[key] = engine
    return engine


def _build(plan: codegen.KernelPlan, roles: dict[int, tuple[str, str]], versions: Sequence[str]) -> Engine:
    imports = [_import_line(i, fn) for i, fn in enumerate(plan.functions)]
    folder = cache.cache_dir() if all(imports) else None
    here = Path(__file__).parent
    inlined = [(here / name).read_bytes() for name in _INLINED_MODULES]
    if folder is not None:
        lines = [item[0] for item in imports if item]
        source = codegen.render(plan, lines, cache=True)
        key = cache.digest(source, *[item[1] for item in imports if item], *inlined, *versions)
        module = cache.load_module(folder, key, source)
        cached = True
    else:
        source = codegen.render(plan, None, cache=False)
        key = cache.digest(source, *inlined, *versions)
        namespace: dict[str, object] = {f"_f{i}": fn for i, fn in enumerate(plan.functions)}
        module = cache.exec_module(key, source, namespace)
        cached = False
    module.__dict__["__bpframe_source__"] = source
    return Engine(module=module, plan=plan, roles=roles, cached=cached)
