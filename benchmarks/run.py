#!/usr/bin/env python
"""bpframe against PyTorch, scikit-learn and plain NumPy, measured in the same run.

    python benchmarks/run.py                         # W1 (f32, f64), W2, W3, cold start; 5 rounds
    python benchmarks/run.py --quick                 # 6,000 training images, 2 rounds: a sanity check
    python benchmarks/run.py --workloads W1,cold --rounds 7 --markdown docs/benchmarks.md
    python benchmarks/run.py --threads 1,2 --impls bpframe,torch
    python benchmarks/run.py --rounds 7 --json benchmarks/results.json   # every round's time, for the docs' chart

Each (workload, implementation, thread count) trains in its own worker process (benchmarks/worker.py) that
loads its library and the data once, then waits for commands; the parent asks the workers for one epoch
each in turn, round by round, so a slow minute on the shared machine hits every competitor alike. Round 0
is a warm-up (JIT compilation, page-in) and is not counted. See benchmarks/README.md for every column.
"""

from __future__ import annotations

import os
import sys

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
for _var in THREAD_VARS:  # before numpy is imported; the workers set their own count again
    os.environ[_var] = "1"

import argparse
import datetime
import importlib.metadata
import json
import platform
import select
import shlex
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(HERE), str(REPO)]

import contextlib

from competitors import IMPLEMENTATIONS, missing, not_applicable
from workloads import Workload, epoch_flops, select_workloads


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


#: Where --v1's bpframe is extracted, when the v1 implementation runs (set by main).
V1_SOURCE: list[Path] = []


def worker_env(threads: int, extra: dict[str, str] | None = None, impl: str = "") -> dict[str, str]:
    """The environment of a worker: the repo first on PYTHONPATH (for ``v1``, the old commit's source and its
    own kernel cache), the thread count (OPENBLAS_CORETYPE untouched)."""
    env = dict(os.environ)
    first = str(V1_SOURCE[0]) if impl == "v1" and V1_SOURCE else str(REPO)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [first, str(HERE), env.get("PYTHONPATH", "")]))
    if impl == "v1" and V1_SOURCE:
        env["BPFRAME_CACHE_DIR"] = str(V1_SOURCE[0] / "kernel-cache")
    for var in THREAD_VARS:
        env[var] = str(threads)
    env.update(extra or {})
    return env


# ----------------------------------------------------------------------------------------------------- workers
@dataclass
class Row:
    """Everything measured for one (workload, implementation, threads)."""

    wl: Workload
    impl: str
    threads: int
    note: str = ""  # n/a, not installed, or an error: shown instead of numbers
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    warmup_s: float | None = None
    accuracy: float | None = None
    maxrss_mib: float | None = None
    baseline_rss_mib: float | None = None
    info: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.impl if self.threads == 1 else f"{self.impl} ({self.threads} threads)"


class Worker:
    """A running worker process and its row."""

    def __init__(self, row: Row, data_dir: Path, log_dir: Path, timeout: float) -> None:
        self.row, self.timeout = row, timeout
        self.log_path = log_dir / f"{row.wl.key}-{row.impl}-{row.threads}.log"
        self.log_file = open(self.log_path, "w")  # noqa: SIM115 - closed in close(), lives as long as the worker
        cmd = [
            sys.executable,
            str(HERE / "worker.py"),
            "train",
            "--impl",
            row.impl,
            "--workload",
            row.wl.key,
            "--data",
            str(data_dir),
            "--threads",
            str(row.threads),
        ]
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log_file,
            text=True,
            env=worker_env(row.threads, impl=row.impl),
            cwd=str(REPO),
        )

    def _reply(self) -> dict:
        ready, _, _ = select.select([self.proc.stdout], [], [], self.timeout)
        if not ready:
            self.proc.kill()
            return {"event": "error", "error": f"no reply within {self.timeout:g} s (--timeout); killed"}
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            tail = self.log_path.read_text().strip().splitlines()[-3:]
            return {"event": "error", "error": f"worker exited with code {self.proc.returncode}: " + " | ".join(tail)}
        return json.loads(line)

    def ask(self, command: str | None) -> dict:
        """Send a command (None: just read the next reply); an error reply is recorded in the row."""
        if self.row.note:
            return {"event": "error"}
        if command is not None:
            try:
                self.proc.stdin.write(command + "\n")
                self.proc.stdin.flush()
            except BrokenPipeError:
                pass
        reply = self._reply()
        if reply["event"] == "error":
            self.row.note = f"error ({reply.get('stage', 'worker')}): {reply['error']}"
            if reply.get("traceback"):
                log(reply["traceback"])
            self.close()
        return reply

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()


def run_workload(
    wl: Workload, impls: list[str], threads: list[int], rounds: int, data_dir: Path, log_dir: Path, timeout: float
) -> list[Row]:
    """Start one worker per (impl, threads), warm up, then interleave ``rounds`` timed epochs."""
    rows, workers = [], []
    for impl in impls:
        for t in threads:
            row = Row(wl, impl, t)
            rows.append(row)
            row.note = missing(impl) or not_applicable(impl, wl) or ""
            if row.note:
                log(f"[{wl.key}] {row.label}: {row.note}")
                continue
            w = Worker(row, data_dir, log_dir, timeout)
            reply = w.ask(None)
            if reply["event"] == "ready":
                row.baseline_rss_mib = reply["rss_after_data_mib"]
                workers.append(w)
            else:
                log(f"[{wl.key}] {row.label}: {row.note}")
    for r in range(rounds + 1):
        line = []
        for w in workers:
            reply = w.ask("epoch")
            if reply["event"] != "epoch":
                line.append(f"{w.row.label} failed")
                continue
            if r == 0:
                w.row.warmup_s = reply["seconds"]
            else:
                w.row.seconds.append(reply["seconds"])
                w.row.cpu_seconds.append(reply["cpu_seconds"])
            line.append(f"{w.row.label} {reply['seconds']:.3g}s")
        log(f"[{wl.key}] {'warm-up' if r == 0 else f'round {r}/{rounds}'}: " + ", ".join(line))
    for w in workers:
        reply = w.ask("finish")
        if reply["event"] == "done":
            w.row.accuracy, w.row.maxrss_mib, w.row.info = reply["accuracy"], reply["maxrss_mib"], reply["info"]
        w.close()
    return rows


# ------------------------------------------------------------------------------------------- peak, cold start
def measure_peak(threads: int) -> dict:
    """GFLOP/s of a 2048×2048 np.dot (float32, float64) and torch.mm (float32), best of 5, in a subprocess."""
    cmd = [sys.executable, str(HERE / "worker.py"), "peak", "--threads", str(threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=worker_env(threads), cwd=str(REPO))
    if out.returncode != 0:
        raise SystemExit(f"peak measurement failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


@dataclass
class ColdRow:
    label: str
    note: str = ""
    wall: list[float] = field(default_factory=list)
    import_s: list[float] = field(default_factory=list)
    step_s: list[float] = field(default_factory=list)
    maxrss: list[float] = field(default_factory=list)


def run_cold(impls: list[str], rounds: int, log_dir: Path) -> list[ColdRow]:
    """Fresh processes: bpframe with an empty then a filled kernel cache, torch, numpy; interleaved by round."""
    plan: list[tuple[ColdRow, str, str | None]] = []
    if "bpframe" in impls:
        plan += [
            (ColdRow("bpframe", missing("bpframe") or ""), "bpframe", "cold"),
            (ColdRow("bpframe", missing("bpframe") or ""), "bpframe", "warm"),
        ]
    for impl in ("torch", "numpy"):
        if impl in impls:
            plan.append((ColdRow(impl, missing(impl) or ""), impl, None))
    for r in range(rounds):
        cache = Path(tempfile.mkdtemp(prefix="bpframe-cold-", dir=log_dir))
        extra = {"BPFRAME_CACHE_DIR": str(cache / "bpframe"), "NUMBA_CACHE_DIR": str(cache / "numba")}
        line = []
        for row, impl, state in plan:
            if row.note:
                continue
            cmd = [sys.executable, str(HERE / "coldstart.py"), impl, "--threads", "1"]
            t0 = time.perf_counter()
            out = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                cwd=str(REPO),
                env=worker_env(1, extra if impl == "bpframe" else None),
            )
            wall = time.perf_counter() - t0
            if out.returncode != 0:
                tail = out.stderr.strip().splitlines()[-1:] or ["(no output)"]
                row.note = f"error: {tail[0]}"
                log(out.stderr)
                continue
            res = json.loads(out.stdout.strip().splitlines()[-1])
            row.wall.append(wall)
            row.import_s.append(res["import_s"])
            row.step_s.append(res["step_s"])
            row.maxrss.append(res["maxrss_mib"])
            line.append(f"{impl}{'/' + state if state else ''} {wall:.2f}s")
        shutil.rmtree(cache, ignore_errors=True)
        log(f"[cold start] round {r + 1}/{rounds}: " + ", ".join(line))
    for row, _, state in plan:
        row.label = f"{row.label} ({state} cache)" if state else row.label
    return [row for row, _, _ in plan]


# ------------------------------------------------------------------------------------------------ environment
def machine_info() -> dict[str, str]:
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    cpu = (
        f"{fields.get('model name', 'unknown CPU')} (family {fields.get('cpu family', '?')} "
        f"model {fields.get('model', '?')})"
    )
    flags = set(fields.get("flags", "").split())
    simd = ", ".join(f for f in ("avx2", "fma", "avx512f") if f in flags) or "none of avx2/fma/avx512f"
    versions = {}
    for dist in ("numpy", "numba", "scipy", "torch", "scikit-learn", "bpframe"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = "not installed" if dist != "bpframe" else "from the source tree"
    try:
        commit = (
            subprocess.run(
                ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
            ).stdout.strip()
            or "no commit yet"
        )
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain"], capture_output=True, text=True
        ).stdout.strip()
        commit += " (working tree modified)" if dirty else ""
    except OSError:
        commit = "git unavailable"
    return {
        "cpu": f"{cpu} ({simd}); {os.cpu_count()} logical cores",
        "python": platform.python_version(),
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items()),
        "commit": commit,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "unset"),
        "library_versions": versions,
    }


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


# ------------------------------------------------------------------------------------------------------ table
def fmt(x: float | None, digits: int = 3) -> str:
    if x is None:
        return ""
    return f"{x:.{digits}g}" if abs(x) < 10**digits else f"{x:,.0f}"


def training_table(rows: list[Row], peaks: dict[int, dict], n_train: int) -> list[str]:
    head = [
        "workload",
        "implementation",
        "epoch min s",
        "epoch median s",
        "warm-up epoch s",
        "samples/s",
        "time ÷ PyTorch",
        "÷ floor",
        "÷ v1",
        "GFLOP/s",
        "% of matmul peak",
        "CPU/wall",
        "test acc %",
        "peak RSS MiB (Δ training)",
    ]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    medians = {(r.impl, r.wl.key, r.threads): statistics.median(r.seconds) for r in rows if r.seconds}
    torch_median = {(key, threads): m for (impl, key, threads), m in medians.items() if impl == "torch"}
    for r in rows:
        if r.note or not r.seconds:
            note = r.note or "no timed epochs"
            out.append(f"| {r.wl.key} | {r.label} | {note} |" + " |" * (len(head) - 3))
            continue
        med, best = statistics.median(r.seconds), min(r.seconds)
        flops = epoch_flops(r.wl.sizes, n_train, r.wl.batch_size)
        gflops = flops / med / 1e9
        peak = peaks[r.threads][f"numpy_{r.wl.dtype}"]
        ref = torch_median.get((r.wl.key, r.threads), torch_median.get((r.wl.key, 1)))
        ratio = f"{med / ref:.2f}" if ref else "no torch"
        floor, v1 = medians.get(("floor", r.wl.key, r.threads)), medians.get(("v1", r.wl.key, r.threads))
        to_floor, to_v1 = (f"{med / x:.2f}" if x else "" for x in (floor, v1))
        cpu = statistics.median(c / s for c, s in zip(r.cpu_seconds, r.seconds, strict=False))
        acc = f"{100 * r.accuracy:.2f}" if r.accuracy is not None else ""
        mem = (
            f"{r.maxrss_mib:,.0f} ({r.maxrss_mib - r.baseline_rss_mib:+,.0f})"
            if r.maxrss_mib is not None and r.baseline_rss_mib is not None
            else ""
        )
        out.append(
            f"| {r.wl.key} | {r.label} | {fmt(best)} | {fmt(med)} | {fmt(r.warmup_s)} | {n_train / med:,.0f} "
            f"| {ratio} | {to_floor} | {to_v1} | "
            f"{gflops:.2f} | {100 * gflops / peak:.1f} | {cpu:.2f} | {acc} | {mem} |"
        )
    return out


def cold_table(rows: list[ColdRow]) -> list[str]:
    head = [
        "implementation",
        "process wall s min",
        "median",
        "imports s (median)",
        "build + first step s (median)",
        "peak RSS MiB",
    ]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        if r.note or not r.wall:
            out.append(f"| {r.label} | {r.note or 'not run'} |" + " |" * (len(head) - 2))
            continue
        out.append(
            f"| {r.label} | {min(r.wall):.2f} | {statistics.median(r.wall):.2f} | "
            f"{statistics.median(r.import_s):.2f} | {statistics.median(r.step_s):.2f} | "
            f"{max(r.maxrss):,.0f} |"
        )
    return out


def notes_for(rows: list[Row]) -> list[str]:
    """Facts a reader needs next to the numbers: dtypes actually used, BLAS, bpframe's path."""
    notes = []
    for r in rows:
        dt = r.info.get("param_dtype")
        if dt and r.wl.dtype not in dt:
            notes.append(f"- {r.wl.key} {r.label}: parameters were {dt}, not {r.wl.dtype}")
        if r.impl == "bpframe" and r.info.get("path"):
            notes.append(f"- bpframe {r.info.get('version')} imported from {r.info['path']}")
        if r.impl == "floor" and r.seconds:
            notes.append(
                "- floor: the workload's matrix products and shuffled row gather alone (benchmarks/floor.py, "
                "numba calling the BLAS bpframe uses): no epoch can be shorter with this BLAS. It learns nothing."
            )
    return sorted(set(notes))


# ------------------------------------------------------------------------------------------------------- main
def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--workloads",
        default="W1,W2,W3,cold",
        help="comma list of W1, W2, W3 (or W1-f32, W1-f64) and cold (default: all)",
    )
    p.add_argument(
        "--impls", default=",".join(IMPLEMENTATIONS), help=f"comma list of {', '.join(IMPLEMENTATIONS)} (default: all)"
    )
    p.add_argument(
        "--rounds", type=int, default=None, help="timed epochs per implementation (default 5; 2 with --quick)"
    )
    p.add_argument("--quick", action="store_true", help="6,000 training images and 2 rounds: a sanity check")
    p.add_argument("--n-train", type=int, default=None, help="use the first N training images (default all)")
    p.add_argument("--threads", default="1", help="thread count(s) for every implementation, e.g. 1 or 1,2")
    p.add_argument(
        "--timeout",
        type=float,
        default=1800.0,
        help="seconds to wait for any one worker reply (an epoch) before killing it (default 1800)",
    )
    p.add_argument("--markdown", metavar="FILE", help="also write the report as Markdown to FILE")
    p.add_argument(
        "--json",
        metavar="FILE",
        help="also write every timed round (and the warm-up, accuracy, memory, machine, commit and command) as "
        "JSON to FILE: what docs/figures/benchmark_chart.py draws",
    )
    p.add_argument(
        "--v1", default="9409583", metavar="REV", help="the commit the v1 implementation runs (default: 9409583)"
    )
    args = p.parse_args(argv)
    args.rounds = args.rounds or (2 if args.quick else 5)
    args.n_train = args.n_train or (6000 if args.quick else None)
    args.threads = [int(t) for t in args.threads.split(",")]
    args.impls = [i.strip() for i in args.impls.split(",") if i.strip()]
    bad = set(args.impls) - set(IMPLEMENTATIONS)
    if bad:
        p.error(f"unknown implementation(s) {sorted(bad)}")
    return args


def extract_v1(rev: str, folder: Path) -> Path:
    """The ``bpframe/`` package of commit ``rev``, extracted into ``folder/v1`` (git archive: no checkout)."""
    target = folder / "v1"
    target.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "bpframe"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    log(f"v1: bpframe of commit {rev} extracted to {target}")
    return target


def prepare_data(n_train: int | None, folder: Path, dtypes: set[str]) -> tuple[int, str]:
    """Load Fashion-MNIST once and write the arrays every worker reads, X in each dtype needed."""
    import numpy as np
    from data import load

    X, y, source = load("train")
    X_test, y_test, _ = load("test")
    if n_train:
        X, y = X[:n_train], y[:n_train]
    for dt in dtypes:
        np.save(folder / f"X_train.{dt}.npy", np.ascontiguousarray(X, dtype=dt))
        np.save(folder / f"X_test.{dt}.npy", np.ascontiguousarray(X_test, dtype=dt))
    np.save(folder / "y_train.npy", y)
    np.save(folder / "y_test.npy", y_test)
    return len(X), source


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    names = args.workloads.split(",")
    workloads = select_workloads(names)
    do_cold = any(n.strip().lower() == "cold" for n in names)
    command = "python " + " ".join(shlex.quote(a) for a in [os.path.relpath(__file__), *argv])
    started = datetime.datetime.now().astimezone()
    load_start = loadavg()
    tmp = Path(tempfile.mkdtemp(prefix="bpframe-bench-"))
    try:
        if "v1" in args.impls:
            V1_SOURCE.append(extract_v1(args.v1, tmp))
        n_train, source = prepare_data(args.n_train, tmp, {w.dtype for w in workloads}) if workloads else (0, "")
        peaks = {t: measure_peak(t) for t in args.threads}
        rows: list[Row] = []
        for wl in workloads:
            log(f"== {wl.title}")
            rows += run_workload(wl, args.impls, args.threads, args.rounds, tmp, tmp, args.timeout)
        cold = run_cold(args.impls, args.rounds, tmp) if do_cold else []
        for t, after in ((t, measure_peak(t)) for t in args.threads):  # the best of before and after
            for k, v in after.items():
                if k.startswith(("numpy_", "torch_")) and v is not None:
                    peaks[t][k] = max(peaks[t][k] or 0.0, v)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load_end = loadavg()
    report = render(args, command, started, load_start, n_train, source, peaks, rows, cold)
    print("\n".join(report))
    if args.markdown:
        Path(args.markdown).write_text("\n".join(report) + "\n")
        log(f"wrote {args.markdown}")
    if args.json:
        record = json_record(args, command, started, (load_start, load_end), n_train, source, peaks, rows, cold)
        Path(args.json).write_text(json.dumps(record, indent=1) + "\n")
        log(f"wrote {args.json}")
    return 0


#: The layout of --json's file; a reader checks it (docs/figures/benchmark_chart.py).
JSON_FORMAT = "bpframe-benchmark-rounds/1"


def json_record(args, command, started, loads, n_train, source, peaks, rows, cold) -> dict:
    """Everything a chart or a later comparison needs, every round's time included, as plain JSON values."""
    m = machine_info()
    finished = datetime.datetime.now().astimezone()
    return {
        "format": JSON_FORMAT,
        "command": command,
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "machine": {
            "cpu": m["cpu"],
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            "python": m["python"],
            "versions": m["library_versions"],
            "openblas_coretype": m["openblas_coretype"],
            "load_average_start": loads[0],
            "load_average_end": loads[1],
        },
        "commit": m["commit"],
        "settings": {
            "quick": args.quick,
            "rounds": args.rounds,
            "threads": args.threads,
            "implementations": args.impls,
            "workloads": args.workloads,
            "n_train": n_train,
            "data": source,
            "v1_commit": args.v1 if "v1" in args.impls else None,
        },
        "matmul_peak_gflops": {str(t): p for t, p in peaks.items()},
        "training": [
            {
                "workload": r.wl.key,
                "title": r.wl.title,
                "sizes": list(r.wl.sizes),
                "dtype": r.wl.dtype,
                "batch_size": r.wl.batch_size,
                "implementation": r.impl,
                "threads": r.threads,
                "label": r.label,
                "note": r.note,
                "warmup_seconds": r.warmup_s,
                "round_seconds": r.seconds,
                "round_cpu_seconds": r.cpu_seconds,
                "test_accuracy": r.accuracy,
                "peak_rss_mib": r.maxrss_mib,
                "rss_after_data_mib": r.baseline_rss_mib,
                "flops_per_epoch": epoch_flops(r.wl.sizes, n_train, r.wl.batch_size) if n_train else None,
                "info": r.info,
            }
            for r in rows
        ],
        "cold_start": [
            {
                "label": c.label,
                "note": c.note,
                "round_wall_seconds": c.wall,
                "round_import_seconds": c.import_s,
                "round_step_seconds": c.step_s,
                "round_peak_rss_mib": c.maxrss,
            }
            for c in cold
        ],
    }


def render(args, command, started, load_start, n_train, source, peaks, rows, cold) -> list[str]:
    m = machine_info()
    out = [
        f"# bpframe benchmark — {started:%Y-%m-%d %H:%M %Z}",
        "",
        f"- command: `{command}`",
        f"- machine: {m['cpu']}; load average {load_start} at start, {loadavg()} at end",
        f"- Python {m['python']}; {m['versions']}; bpframe commit {m['commit']}",
        f"- threads: {', '.join(map(str, args.threads))} (OMP/OPENBLAS/MKL/NUMBA_NUM_THREADS, "
        f"torch.set_num_threads); OPENBLAS_CORETYPE {m['openblas_coretype']}",
        f"- rounds: {args.rounds} timed epochs per implementation, interleaved round by round, "
        "after one untimed warm-up epoch",
    ]
    for t, p in peaks.items():
        blas = "; ".join(
            f"{b['internal_api']} {b['version']} {b['architecture']} ×{b['num_threads']}" for b in p.get("blas", [])
        )
        torch_peak = f", torch.mm f32 {p['torch_float32']:.1f}" if p.get("torch_float32") else ""
        out.append(
            f"- matmul peak, {t} thread(s), {p['size']}² best of {p['repeats']} (before and after): "
            f"np.dot f32 {p['numpy_float32']:.1f}, f64 {p['numpy_float64']:.1f}{torch_peak} GFLOP/s "
            f"({blas})"
        )
    busy = float(load_start.split()[0]) if load_start[:1].isdigit() else 0.0
    slow = sorted(
        {
            r.label
            for r in rows
            if r.cpu_seconds
            and r.threads == 1
            and statistics.median(c / s for c, s in zip(r.cpu_seconds, r.seconds, strict=False)) < 0.9
        }
    )
    if busy >= 0.5 or slow:
        out.append(
            f"- **shared machine**: load average {load_start} at start on {os.cpu_count()} cores"
            + (f"; descheduled (CPU/wall < 0.9): {', '.join(slow)}" if slow else "")
            + ". Other processes were running: compare rows of this run only; multi-thread rows are "
            "unreliable while another core is busy."
        )
    if rows:
        out += [
            f"- data: Fashion-MNIST, {n_train:,} training images, 10,000 test images, via {source}",
            "",
            "## One epoch of training",
            "",
        ]
        for wl in dict.fromkeys(r.wl for r in rows):
            flops = epoch_flops(wl.sizes, n_train, wl.batch_size)
            out.append(f"- {wl.title}: {flops / 1e9:.2f} GFLOP per epoch")
        out += ["", *training_table(rows, peaks, n_train)]
        extra = notes_for(rows)
        out += (["", *extra]) if extra else []
        out += [
            "",
            f"Test accuracy is measured after all {args.rounds + 1} epochs (warm-up included). "
            "GFLOP/s and % of peak use the median epoch; % is of np.dot in the workload's dtype at the "
            "same thread count. time ÷ PyTorch < 1 means faster than PyTorch. CPU/wall ≈ threads when "
            "the process had its cores to itself.",
        ]
    if cold:
        out += ["", "## Cold start: fresh process, import, build [784,30,10], one step on 10 samples", ""]
        out += cold_table(cold)
        out += [
            "",
            "cold cache: BPFRAME_CACHE_DIR and NUMBA_CACHE_DIR point at a new empty folder (first run "
            "ever); warm cache: the same folders, second run. Process wall time includes interpreter "
            "start-up.",
        ]
    return out


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
