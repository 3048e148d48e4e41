"""One benchmark subprocess. Started by run.py; speaks JSON lines on its original stdout.

    worker.py train --impl numpy --workload W2 --threads 1 --data DIR
        → {"event": "ready"}; then per stdin line "epoch" → {"event": "epoch", "seconds", "cpu_seconds"};
          "finish" → {"event": "done", "accuracy", "maxrss_mib", "info"}
    worker.py peak --threads 1
        → {"event": "peak", ...} best-of-N GFLOP/s of a 2048×2048 matrix product (numpy f32/f64, torch f32)

The thread variables are set here, before numpy is imported, whatever the parent passed.
"""

from __future__ import annotations

import os
import sys

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def _threads_from_argv(argv: list[str]) -> int:
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if arg.startswith("--threads="):
            return int(arg.split("=", 1)[1])
    return 1


_THREADS = _threads_from_argv(sys.argv)
for _var in THREAD_VARS:
    os.environ[_var] = str(_THREADS)

import argparse
import json
import resource
import time
import traceback

# Protocol replies go to a private copy of stdout; fd 1 itself is pointed at stderr so that a stray print in
# a library cannot corrupt the protocol.
_PROTO = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr


def send(**msg) -> None:
    _PROTO.write(json.dumps(msg) + "\n")
    _PROTO.flush()


def rss_mib() -> float:
    """Current resident set size."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def maxrss_mib() -> float:
    """Peak resident set size of this process image: VmHWM.

    Not ``getrusage().ru_maxrss``: Linux carries the parent's high-water mark into a child across
    fork/vfork + exec, so every worker would report at least the parent's peak (measured: 263 MiB for a
    NumPy W2 worker whose own peak was 102 MiB).
    """
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train(args: argparse.Namespace) -> None:
    import numpy as np
    from competitors import make_trainer
    from workloads import WORKLOADS

    wl = {w.key: w for w in WORKLOADS}[args.workload]
    stage = "import"
    try:
        trainer = make_trainer(args.impl, wl, args.threads)
        stage = "setup"
        # the parent wrote X in every dtype needed: no conversion copy inflates this process's peak RSS
        X = np.load(os.path.join(args.data, f"X_train.{wl.dtype}.npy"))
        y = np.load(os.path.join(args.data, "y_train.npy"))
        X_test = np.load(os.path.join(args.data, f"X_test.{wl.dtype}.npy"))
        y_test = np.load(os.path.join(args.data, "y_test.npy"))
        rss_data = rss_mib()
        trainer.setup(X, y, X_test, y_test)
        del X, y, X_test, y_test
        send(event="ready", rss_after_setup_mib=rss_mib(), rss_after_data_mib=rss_data)
        for line in sys.stdin:
            cmd = line.strip()
            if cmd == "epoch":
                stage = "epoch"
                c0, t0 = time.process_time(), time.perf_counter()
                trainer.epoch()
                t1, c1 = time.perf_counter(), time.process_time()
                send(event="epoch", seconds=t1 - t0, cpu_seconds=c1 - c0)
            elif cmd == "finish":
                stage = "evaluate"
                acc = trainer.accuracy()
                send(event="done", accuracy=acc, maxrss_mib=maxrss_mib(), info=trainer.info())
                return
            else:
                raise ValueError(f"unknown command {cmd!r}")
    except Exception as exc:  # reported to the parent, which prints it in the table
        send(event="error", stage=stage, error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
        sys.exit(1)


def _best_gflops(fn, flops: float, repeats: int) -> float:
    fn()  # warm-up: page-in, BLAS buffers
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return flops / best / 1e9


def peak(args: argparse.Namespace) -> None:
    import numpy as np
    import threadpoolctl

    n, out = args.size, {}
    flops = 2.0 * n**3
    rng = np.random.default_rng(0)
    for dt in ("float32", "float64"):
        a = rng.standard_normal((n, n)).astype(dt)
        b = rng.standard_normal((n, n)).astype(dt)
        c = np.empty((n, n), dtype=dt)
        out[f"numpy_{dt}"] = _best_gflops(lambda a=a, b=b, c=c: np.dot(a, b, out=c), flops, args.repeats)
    out["blas"] = [
        {k: p.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
        for p in threadpoolctl.threadpool_info()
        if p.get("user_api") == "blas"
    ]
    try:
        import torch

        torch.set_num_threads(args.threads)
        ta, tb = torch.randn(n, n), torch.randn(n, n)
        out["torch_float32"] = _best_gflops(lambda: torch.mm(ta, tb), flops, args.repeats)
    except ImportError:
        out["torch_float32"] = None
    send(event="peak", size=n, repeats=args.repeats, **out)


def main() -> None:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    t = sub.add_parser("train")
    t.add_argument("--impl", required=True)
    t.add_argument("--workload", required=True)
    t.add_argument("--data", required=True)
    t.add_argument("--threads", type=int, default=1)
    k = sub.add_parser("peak")
    k.add_argument("--threads", type=int, default=1)
    k.add_argument("--size", type=int, default=2048)
    k.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    {"train": train, "peak": peak}[args.mode](args)


if __name__ == "__main__":
    main()
