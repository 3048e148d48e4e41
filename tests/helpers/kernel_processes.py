"""Small programs run in fresh interpreters against a chosen kernel cache folder, as users and tox environments
run bpframe: what they computed, and what the cache says they loaded, compiled and removed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

__all__ = ["PACKING_BLAS", "TRAIN", "copy_cache", "packing_blas", "run", "train"]


def run(code: str, cache_dir: Path, *, cwd: Path | None = None, env: dict[str, str] | None = None) -> dict:
    """Run ``code`` in a fresh interpreter with this cache; it prints one JSON line, returned with the cache's
    record of what it loaded and compiled, and the warnings it printed."""
    program = textwrap.dedent(code) + textwrap.dedent(
        """
        import json as _json, warnings as _warnings
        from bpframe.kernels import cache as _cache
        _stats = _cache.stats()
        print(_json.dumps({"result": RESULT, "loaded": _stats.loaded, "compiled": _stats.compiled,
                           "removed": _stats.removed}))
        """
    )
    environment = {**os.environ, "BPFRAME_CACHE_DIR": str(cache_dir), **(env or {})}
    environment.pop("BPFRAME_NO_KERNEL_CACHE", None)
    done = subprocess.run([sys.executable, "-W", "always", "-c", program], capture_output=True, text=True,
                          env=environment, cwd=cwd, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["stderr"] = done.stderr
    return out


TRAIN = """
import numpy as np
import bpframe as bp
rng = np.random.default_rng(0)
X, y = rng.normal(size=(40, 6)), rng.integers(0, 3, 40)
net = bp.Network(SIZES, ACTS, "cross_entropy", dtype=DTYPE, seed=1)
for _ in range(2):  # the second fit trains again: its first epoch checks the inputs
    net.fit(X, y, epochs=1, batch_size=8, eta=0.1, optimizer="momentum", verbose=0)
other = bp.Network(SIZES, ACTS, "cross_entropy", dtype=DTYPE, seed=2)
# a first fit checks its inputs before any work, with the engine's scan when the engine ran before
other.fit(X, y, epochs=1, batch_size=8, eta=0.1, optimizer="momentum", verbose=0)
RESULT = [float(v) for v in net.parameters()[:20]] + [net.evaluate(X, y)["cost"], other.evaluate(X, y)["cost"]]
"""


def train(sizes, acts, dtype="float64"):
    return TRAIN.replace("SIZES", repr(sizes)).replace("ACTS", repr(acts)).replace("DTYPE", repr(dtype))


def copy_cache(template: Path, tmp_path: Path, name: str = "cache") -> Path:
    """A private copy of a cache folder, ``tmp_path / name`` (tests that damage or extend a warm cache start
    from one)."""
    target = tmp_path / name
    shutil.copytree(template, target)
    return target


def packing_blas(monkeypatch) -> None:
    """Have the engine take bpframe's small-product kernel wherever its rule says, as it does with a BLAS that packs
    small matrices (OpenBLAS's Haswell kernels), whatever the BLAS of this machine is: with OpenBLAS's SkylakeX
    kernels it leaves those products to BLAS (``Program.forward_product``), and the kernel's tests would test
    nothing. The BLAS itself is the real one; only its core's name is changed."""
    from bpframe.kernels import blaslib, program

    real = blaslib.blas()
    packing = blaslib.Blas(real.sgemm, real.dgemm, real.int_bytes, real.name, "Haswell")
    monkeypatch.setattr(program, "blas", lambda: packing)


#: The same for a program run by :func:`run`: put it before the code.
PACKING_BLAS = """
from bpframe.kernels import blaslib as _blaslib, program as _program
_real = _blaslib.blas()
_packing = _blaslib.Blas(_real.sgemm, _real.dgemm, _real.int_bytes, _real.name, "Haswell")
_program.blas = lambda: _packing
"""
