"""What compiling the engine costs, function by function, with every kernel cache empty.

    python benchmarks/engine_compile.py [--dtype float64] [--entries train,evaluate,backprop] [--top 25]

Trains, evaluates and back-propagates a small network with the compiled engine forced, in this process, with
empty temporary kernel caches (``BPFRAME_CACHE_DIR`` and ``NUMBA_CACHE_DIR`` are set before bpframe is
imported; the network's blocks are compiled first and not counted). It prints the wall time of each entry
point's first call, then every function numba compiled for it: how many times, the seconds spent compiling it
exclusive of the functions it compiled in turn, and, for a function compiled more than once, the argument types
of each compilation. numba compiles a function once per tuple of argument types, and a literal constant
(``Literal[int](0)``) or a read-only array is a type of its own, so a shared helper called with different types
from two entry points compiles twice (``docs/api/internals.rst``).
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time

ENTRIES = ("train", "evaluate", "backprop")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--entries", default=",".join(ENTRIES),
                        help="entry points to compile, in order, from: " + ", ".join(ENTRIES))  # fmt: skip
    parser.add_argument("--top", type=int, default=25, help="functions listed, most expensive first")
    args = parser.parse_args(argv)
    entries = [name.strip() for name in args.entries.split(",") if name.strip()]
    unknown = [name for name in entries if name not in ENTRIES]
    if unknown or not entries:
        parser.error(f"--entries takes names from {', '.join(ENTRIES)}, got {args.entries!r}")

    os.environ["BPFRAME_CACHE_DIR"] = tempfile.mkdtemp(prefix="bpframe-compile-")
    os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="numba-compile-")
    import numpy as np
    from numba.core import event

    import bpframe as bp
    from bpframe import config

    records: list[tuple[str, float, str]] = []  # (function, seconds exclusive of nested compiles, argument types)
    stack: list[list[float]] = []

    class Compilations(event.Listener):
        def on_start(self, ev: event.Event) -> None:
            if ev.kind == "numba:compile":
                stack.append([time.perf_counter(), 0.0])

        def on_end(self, ev: event.Event) -> None:
            if ev.kind != "numba:compile":
                return
            started, nested = stack.pop()
            seconds = time.perf_counter() - started
            function = ev.data["dispatcher"].py_func
            name = f"{function.__module__}.{function.__qualname__}".replace("bpframe.kernels.", "")
            records.append((name, seconds - nested, str(ev.data.get("args"))))
            if stack:
                stack[-1][1] += seconds

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 6)), rng.integers(0, 3, 40)
    net = bp.Network([6, 5, 3], ["tanh", "softmax"], "cross_entropy", dtype=args.dtype, seed=1)
    fit = {"epochs": 1, "batch_size": 8, "eta": 0.1, "optimizer": "momentum", "verbose": 0}
    with config.operation(engine="numpy"):
        net.fit(X, y, **fit)  # the blocks, compiled before counting
    calls = {"train": lambda: net.fit(X, y, **fit), "evaluate": lambda: net.evaluate(X, y),
             "backprop": lambda: net.backprop(X[:8], y[:8])}  # fmt: skip
    event.register("numba:compile", Compilations())
    print(f"engine ({args.dtype}), every cache empty; first call of each entry point:")
    total = 0.0
    with config.operation(engine="compiled"):
        for name in entries:
            started = time.perf_counter()
            calls[name]()
            seconds = time.perf_counter() - started
            total += seconds
            print(f"  {name:<9} {seconds:6.2f} s")
    print(f"  {'total':<9} {total:6.2f} s, {len(records)} compilations")

    by_function: dict[str, list[tuple[float, str]]] = collections.defaultdict(list)
    for name, seconds, types in records:
        by_function[name].append((seconds, types))
    ranked = sorted(by_function.items(), key=lambda item: -sum(seconds for seconds, _ in item[1]))
    print(f"\n{'seconds':>8} {'times':>5}  function (exclusive of the functions it compiled in turn)")
    for name, compiles in ranked[: args.top]:
        print(f"{sum(seconds for seconds, _ in compiles):8.2f} {len(compiles):5d}  {name}")
    repeated = [(name, compiles) for name, compiles in ranked if len(compiles) > 1]
    if repeated:
        print("\ncompiled more than once, with the argument types of each compilation:")
        for name, compiles in repeated:
            print(f"  {name}")
            for seconds, types in compiles:
                print(f"    {seconds:5.2f} s  {types}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
