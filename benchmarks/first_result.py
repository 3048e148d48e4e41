#!/usr/bin/env python
"""How long a user waits for a first result: ``bpframe train`` end to end against PyTorch doing the same job.

    python benchmarks/first_result.py                  # 5 rounds; ~5 minutes
    python benchmarks/first_result.py --rounds 7 --markdown docs/_generated/first_result.md
    python benchmarks/first_result.py --python /work/venv-bench/bin/python   # bpframe and torch installed there
    python benchmarks/first_result.py --rst docs/first_result.inc              # the table the docs include

Each round starts from an empty kernel cache (fresh ``BPFRAME_CACHE_DIR`` and ``NUMBA_CACHE_DIR``) and runs the
rows below in order, each a fresh process timed from start to exit, so every row meets the cache the rows before
it left, as a user trying one configuration after another does. PyTorch runs the same job (benchmarks/torch_job.py)
right after each bpframe row, one thread each. The table reports medians over rounds, the ratio to PyTorch, the
issue's target, and for bpframe which tier trained and how many kernels the process compiled and loaded (from
the line ``bpframe train`` prints). Python's bytecode cache is left on (``PYTHONDONTWRITEBYTECODE`` unset), as it
is for an installed package, and one untimed import warms it before the first round. The last row first runs
``bpframe cache warm`` (not timed): what a new activation costs once the cache was warmed ahead of use.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")

#: The job, pinned with explicit flags so that later changes of the CLI's defaults do not move it.
BASE = {"--dataset": "digits", "--hidden": "64", "--activation": "relu,softmax", "--loss": "cross_entropy",
        "--optimizer": "momentum", "--mu": "0.9", "--eta": "0.05", "--batch-size": "16", "--epochs": "30",
        "--seed": "0", "--dtype": "float64"}  # fmt: skip


def flags_of(changes: tuple[str, ...]) -> list[str]:
    """The base job's flags with ``changes`` (flag, value, ...) applied; the value ``"-"`` drops a flag."""
    flags = dict(BASE)
    for flag, value in zip(changes[::2], changes[1::2], strict=True):
        flags[flag] = value
    return [item for flag, value in flags.items() if value != "-" for item in (flag, value)] + ["-q"]


@dataclass(frozen=True)
class Row:
    """One configuration: the flags changed from the base job, how PyTorch does the same, and the target."""

    key: str
    what: str
    flags: tuple[str, ...] = ()
    torch: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    target: str = ""  # "≤ 0.5×", "≤ 0.15×", "0 compiled"
    before: tuple[str, ...] = ()  # a bpframe command run first, not timed (e.g. warming the cache)


ROWS = (
    Row("cold", "`bpframe train`, every cache empty", target="≤ 0.5×"),
    Row("warm", "again, warm cache"),
    Row("activation", "then `--activation tanh,softmax` (a new activation)", ("--activation", "tanh,softmax"),
        ("--activation", "tanh"), target="≤ 0.15×"),
    Row("depth", "then `--hidden 32,32` (new depth, same functions)",
        ("--hidden", "32,32", "--activation", "tanh,tanh,softmax"), ("--hidden", "32,32", "--activation", "tanh"),
        target="0 compiled"),
    Row("dtype", "then `--dtype float32`", ("--activation", "tanh,softmax", "--dtype", "float32"),
        ("--activation", "tanh", "--dtype", "float32"), target="≤ 0.15×"),
    Row("optimizer", "then `--optimizer adam --eta 0.005`", ("--optimizer", "adam", "--mu", "-", "--eta", "0.005"),
        ("--optimizer", "adam", "--eta", "0.005"), target="≤ 0.15×"),
    Row("loss", "then `--loss quadratic` (a new loss)", ("--loss", "quadratic"), ("--loss", "quadratic"),
        target="≤ 0.15×"),
    Row("plugin", "then `--activation swish,softmax` (a third-party plugin's)", ("--activation", "swish,softmax"),
        ("--activation", "swish"), target="≤ 0.15×"),
    Row("compiled", "`BPFRAME_ENGINE=compiled`, base job (compiles the engine once)",
        env=(("BPFRAME_ENGINE", "compiled"),)),
    Row("plugin-compiled", "then `--activation gelu,softmax`, compiled path forced", ("--activation", "gelu,softmax"),
        ("--activation", "gelu"), env=(("BPFRAME_ENGINE", "compiled"),), target="≤ 0.15×"),
    Row("warmed", "after `bpframe cache warm --dtype float64` (not timed), `--activation softplus,softmax`",
        ("--activation", "softplus,softmax"), ("--activation", "softplus"), before=("cache", "warm", "--dtype",
        "float64", "-q")),
)  # fmt: skip

_DONE = re.compile(
    r"done: \d+ epochs in [\d.]+ s \((?P<tier>[^;]+); (?P<compiled>\d+) kernels compiled, (?P<loaded>\d+) loaded"
    r" from cache\); test accuracy (?P<accuracy>[\d.]+)"
)


@dataclass
class Result:
    seconds: list[float] = field(default_factory=list)
    torch_seconds: list[float] = field(default_factory=list)
    tiers: set[str] = field(default_factory=set)
    compiled: list[int] = field(default_factory=list)
    loaded: list[int] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    torch_accuracy: list[float] = field(default_factory=list)


def environment(cache: Path | None, extra: tuple[tuple[str, str], ...] = ()) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONDONTWRITEBYTECODE", "BPFRAME_ENGINE")}
    for var in THREAD_VARS:
        env[var] = "1"
    if cache is not None:
        env["BPFRAME_CACHE_DIR"], env["NUMBA_CACHE_DIR"] = str(cache / "bpframe"), str(cache / "numba")
    env.update(extra)
    return env


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return seconds, done.stdout


def bpframe_command(python: str) -> list[str]:
    script = Path(python).parent / "bpframe"
    return [str(script)] if script.exists() else [python, "-m", "bpframe"]


def digits_file(python: str) -> str:
    code = "import importlib.resources as r; print(r.files('bpframe.datasets') / 'data' / 'digits.npz')"
    return subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def run_round(python: str, results: dict[str, Result], workdir: Path) -> None:
    cache = Path(tempfile.mkdtemp(prefix="round-", dir=workdir))
    digits = digits_file(python)
    for row in ROWS:
        flags = flags_of(row.flags)
        if row.before:
            timed([*bpframe_command(python), *row.before], environment(cache, row.env))
        seconds, out = timed([*bpframe_command(python), "train", *flags], environment(cache, row.env))
        found = _DONE.search(out)
        if found is None:
            raise RuntimeError(f"unexpected output of bpframe train: {out!r}")
        result = results[row.key]
        result.seconds.append(seconds)
        result.tiers.add(found["tier"])
        result.compiled.append(int(found["compiled"]))
        result.loaded.append(int(found["loaded"]))
        result.accuracy.append(float(found["accuracy"]))
        torch_seconds, torch_out = timed([python, str(HERE / "torch_job.py"), digits, *row.torch], environment(None))
        result.torch_seconds.append(torch_seconds)
        result.torch_accuracy.append(float(torch_out.strip().split()[-1]))
        print(f"  {row.key:16s} bpframe {seconds:6.2f} s  torch {torch_seconds:6.2f} s  ({found['tier']}; "
              f"{found['compiled']} compiled)", file=sys.stderr, flush=True)  # fmt: skip
    shutil.rmtree(cache, ignore_errors=True)


def first_step(python: str, workdir: Path, rounds: int) -> tuple[list[float], list[float]]:
    """benchmarks/coldstart.py: a fresh process to its first trained step, warm cache; and PyTorch's."""
    cache = Path(tempfile.mkdtemp(prefix="coldstart-", dir=workdir))
    command = [python, str(HERE / "coldstart.py")]
    timed([*command, "bpframe"], environment(cache))  # fills the cache: not counted
    ours = [timed([*command, "bpframe"], environment(cache))[0] for _ in range(rounds)]
    theirs = [timed([*command, "torch"], environment(None))[0] for _ in range(rounds)]
    return ours, theirs


def ratio_text(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}"


def verdict(row: Row, ours: float, theirs: float, compiled: list[int]) -> str:
    if row.target.startswith("≤"):
        limit = float(row.target.strip("≤ ×"))
        return f"{row.target} {'✓' if ours / theirs <= limit else '✗'}"
    if row.target == "0 compiled":
        return f"0 compiled {'✓' if max(compiled) == 0 else '✗'}"
    return ""


def report(results: dict[str, Result], step: tuple[list[float], list[float]], python: str, rounds: int) -> str:
    lines = [
        "# First result: `bpframe train` against PyTorch's same job",
        "",
        f"- {datetime.datetime.now():%Y-%m-%d %H:%M}; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} logical cores; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end",
        f"- Python {platform.python_version()} ({python}); one thread everywhere; {rounds} rounds, each from an "
        "empty kernel cache; medians",
        f"- the job: `bpframe train {' '.join(flags_of(()))}`, and the same network, optimizer, batch size and "
        "epochs in PyTorch (benchmarks/torch_job.py)",
        "",
        "| row | bpframe (median) | PyTorch (median) | bpframe ÷ PyTorch | target | tier that trained | compiled / "
        "loaded kernels | test accuracy bpframe / PyTorch |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in ROWS:
        r = results[row.key]
        ours, theirs = statistics.median(r.seconds), statistics.median(r.torch_seconds)
        lines.append(
            f"| {row.what} | {ours:.2f} s | {theirs:.2f} s | {ratio_text(ours, theirs)} | "
            f"{verdict(row, ours, theirs, r.compiled)} | {', '.join(sorted(r.tiers))} | "
            f"{statistics.median(r.compiled):g} / {statistics.median(r.loaded):g} | "
            f"{statistics.median(r.accuracy):.4f} / {statistics.median(r.torch_accuracy):.4f} |"
        )
    ours, theirs = statistics.median(step[0]), statistics.median(step[1])
    lines += [
        f"| fresh process to the first trained step, warm cache (benchmarks/coldstart.py) | {ours:.2f} s | "
        f"{theirs:.2f} s | {ratio_text(ours, theirs)} | ≤ 0.5 s {'✓' if ours <= 0.5 else '✗'} | | | |",
        "",
        "Times are whole processes (interpreter start-up and exit included), measured by the parent. "
        '"Compiled / loaded" counts what bpframe\'s kernel cache compiled and read in that process.',
    ]
    return "\n".join(lines) + "\n"


def rst_table(markdown: str) -> str:
    """The report's table as a reStructuredText list-table (what the docs include)."""
    rows = [line.strip()[1:-1].split("|") for line in markdown.splitlines() if line.startswith("| ")]
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in rows:
        for i, cell in enumerate(row):
            text = re.sub(r"(?<!`)`([^`]+)`(?!`)", r"``\1``", cell.strip())  # Markdown code to reST literal
            lines.append(f"   {'* -' if i == 0 else '  -'} {text}".rstrip())
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--python", default=sys.executable, help="the interpreter with bpframe and torch installed")
    parser.add_argument("--markdown", help="also write the report to this file")
    parser.add_argument("--rst", help="also write the table as a reStructuredText list-table to this file")
    parser.add_argument("--rst-from", metavar="MARKDOWN", help="only convert an earlier --markdown report for --rst")
    args = parser.parse_args()
    if args.rst_from:
        Path(args.rst).write_text(rst_table(Path(args.rst_from).read_text()))
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="bpframe-first-result-"))
    warm = "import bpframe.cli, bpframe.kernels.build, bpframe.kernels.numpy_tier, bpframe.kernels.engine, torch"
    subprocess.run([args.python, "-c", warm], env=environment(workdir / "pyc-warmup"), check=True)
    results = {row.key: Result() for row in ROWS}
    for i in range(args.rounds):
        print(f"round {i + 1}/{args.rounds}", file=sys.stderr, flush=True)
        run_round(args.python, results, workdir)
    step = first_step(args.python, workdir, args.rounds)
    text = report(results, step, args.python, args.rounds)
    print(text)
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(text)
    if args.rst:
        Path(args.rst).write_text(rst_table(text))
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
