"""Draw the benchmark's epoch times with their spread, from the JSON that ``benchmarks/run.py --json`` writes.

    python docs/figures/benchmark_chart.py docs/_generated/benchmark_chart.png [benchmarks/results.json]

For every workload and implementation: a dot at the median of the timed rounds, a bar from the fastest to the
slowest round, and a tick for each round, on a log scale of seconds (the workloads' epochs range from a tenth
of a second to several seconds); below, the cold-start rows (a fresh process each round) the same way. The
run's command, date, commit, machine and load average go into the chart and into ``benchmark_chart.inc``
beside the PNG, the figure directive with its caption that ``docs/benchmarks.rst`` includes. A run that
cannot be a measurement (``--quick``, part of the training set, or fewer than 5 rounds) is labelled a
pipeline check in both, in red, so its numbers are never read as results.

The docs build runs this (see ``make_figures`` in ``docs/conf.py``) on the committed ``benchmarks/results.json``;
it only draws, it measures nothing.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after choosing the non-interactive backend

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent
DEFAULT_JSON = DOCS.parent / "benchmarks" / "results.json"
JSON_FORMAT = "bpframe-benchmark-rounds/1"  # benchmarks/run.py's JSON_FORMAT
FULL_TRAINING_SET = 60_000
MIN_ROUNDS = 5

COLOURS = {
    "bpframe": "#1f5fa8",
    "v1": "#7fa7d6",
    "torch": "#d9661f",
    "numpy": "#3a8f3a",
    "sklearn": "#8a4fb0",
    "floor": "#6b6b6b",
}
NAMES = {"v1": "bpframe 0.1", "torch": "PyTorch", "numpy": "NumPy", "sklearn": "scikit-learn"}


def load(path: Path) -> dict:
    record = json.loads(path.read_text())
    if record.get("format") != JSON_FORMAT:
        raise SystemExit(f"{path}: not a benchmarks/run.py --json file of format {JSON_FORMAT!r}")
    return record


def pipeline_check_reasons(record: dict) -> list[str]:
    """Why a run cannot stand as a measurement (empty when it can)."""
    settings = record["settings"]
    reasons = []
    if settings.get("quick"):
        reasons.append("--quick")
    if settings.get("n_train") and settings["n_train"] < FULL_TRAINING_SET:
        reasons.append(f"{settings['n_train']:,} of the {FULL_TRAINING_SET:,} training images")
    if settings.get("rounds", 0) < MIN_ROUNDS:
        reasons.append(f"{settings.get('rounds')} rounds (fewer than {MIN_ROUNDS})")
    return reasons


def _label(impl: str, threads: int) -> str:
    name = NAMES.get(impl, impl)
    return name if threads == 1 else f"{name} ({threads} threads)"


def _rows(record: dict) -> list[tuple[str, str, str, list[float], str]]:
    """(group, row label, implementation, round times, note) for the training rows, then the cold-start rows."""
    rows = []
    for r in record["training"]:
        label = _label(r["implementation"], r["threads"])
        rows.append((r["workload"], label, r["implementation"], r["round_seconds"], r["note"]))
    for c in record.get("cold_start", []):
        impl = c["label"].split()[0]
        label = NAMES.get(impl, impl) + c["label"][len(impl) :]
        rows.append(("cold start", label, impl, c["round_wall_seconds"], c["note"]))
    return rows


def _seconds(x: float) -> str:
    return f"{x:.3g} s" if x < 100 else f"{x:,.0f} s"


def draw(record: dict, path: Path) -> None:
    rows = _rows(record)
    groups = list(dict.fromkeys(group for group, *_ in rows))
    pipeline = pipeline_check_reasons(record)
    height = 1.3 + 0.28 * len(rows) + 0.3 * len(groups)
    fig, ax = plt.subplots(figsize=(9.0, height), layout="constrained")

    timed = [t for *_, times, _ in rows for t in times]
    if not timed:
        raise SystemExit("the JSON holds no timed round")
    lo, hi = min(timed), max(timed)
    y, ticks, labels = 0.0, [], []
    for group in groups:
        ax.text(lo / 1.9, y + 0.15, group, fontweight="bold", va="bottom", ha="left", fontsize=9)
        y += 0.9
        for g, label, impl, times, note in rows:
            if g != group:
                continue
            ticks.append(y)
            labels.append(label)
            colour = COLOURS.get(impl, "black")
            if times:
                median = statistics.median(times)
                ax.plot([min(times), max(times)], [y, y], color=colour, lw=5, alpha=0.35, solid_capstyle="butt")
                ax.plot(times, [y] * len(times), "|", color=colour, ms=9, mew=1.2)
                ax.plot([median], [y], "o", color=colour, ms=6.5, zorder=3)
                ax.text(max(times) * 1.06, y, _seconds(median), va="center", fontsize=8)
            else:
                ax.text(lo / 1.6, y, note or "not run", va="center", fontsize=7.5, color="0.45", style="italic")
            y += 1.0
        y += 0.3
    ax.set_xscale("log")
    ax.set_xlim(lo / 2.0, hi * 2.2)
    ax.set_ylim(y - 0.6, -0.5)
    ax.set_yticks(ticks, labels, fontsize=8.5)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x", which="both", color="0.9", lw=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    settings = record["settings"]
    ax.set_xlabel(
        "seconds (log scale): one training epoch; cold start: a fresh process's wall time\n"
        f"dot: median of {settings['rounds']} rounds; bar: fastest to slowest round; ticks: each round",
        fontsize=8,
    )
    machine = record["machine"]
    title = (
        f"{record['started'][:10]}, bpframe commit {record['commit']}, one thread each\n"
        f"Fashion-MNIST, {settings['n_train']:,} training images, {settings['rounds']} rounds; "
        f"load average {machine['load_average_start'].split()[0]} at the start, "
        f"{machine['load_average_end'].split()[0]} at the end ({machine['cores']} cores)"
    )
    ax.set_title(title, fontsize=8.5, loc="left")
    if pipeline:
        fig.suptitle(
            "PIPELINE CHECK, NOT A MEASUREMENT (" + "; ".join(pipeline) + ")",
            color="#b00020",
            fontweight="bold",
            fontsize=10,
        )
    fig.savefig(path, dpi=130)
    plt.close(fig)


def caption(record: dict, figure: str, json_shown: str) -> str:
    """The reStructuredText that the benchmarks page includes: a warning for a pipeline check, the figure."""
    settings, machine = record["settings"], record["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items() if v != "not installed")
    lines = []
    pipeline = pipeline_check_reasons(record)
    if pipeline:
        lines += [
            ".. warning::",
            "",
            "   This chart was drawn from a quick run that only checks the pipeline from ``benchmarks/run.py "
            "--json`` to this page (" + "; ".join(pipeline) + "). Its numbers are not measurements; the "
            "tables above are. The real run replaces it.",
            "",
        ]
    alt = "Epoch times of each workload and implementation on a log scale: median, fastest and slowest rounds."
    lines += [
        f".. figure:: {figure}",
        f"   :alt: {alt}",
        "",
        f"   Every timed round of one run of ``{record['command']}`` ({record['started'][:10]}, bpframe commit "
        f"{record['commit']}; {machine['cpu']}; Python {machine['python']}, {versions}; one thread each; "
        f"load average {machine['load_average_start']} at the start, {machine['load_average_end']} at the end). "
        f"{settings['n_train']:,} training images, {settings['rounds']} timed rounds after one warm-up epoch, "
        "the implementations interleaved round by round. The rounds of a row differ because of the machine, not "
        f"the code: the bar's length is the noise to keep in mind when comparing medians. Data: ``{json_shown}``.",
    ]
    return "\n".join(lines) + "\n"


def main(out: Path, source: Path) -> None:
    record = load(source)
    draw(record, out)
    try:
        figure = "/" + out.resolve().relative_to(DOCS).as_posix()  # relative to the docs' source folder
    except ValueError:
        figure = str(out.resolve())
    try:
        shown = source.resolve().relative_to(DOCS.parent).as_posix()
    except ValueError:
        shown = str(source)
    out.with_suffix(".inc").write_text(caption(record, figure, shown))
    check = " (a pipeline check, labelled so)" if pipeline_check_reasons(record) else ""
    print(f"{out.name}: {len(record['training'])} training and {len(record['cold_start'])} cold-start rows{check}")


if __name__ == "__main__":
    main(
        Path(sys.argv[1]) if len(sys.argv) > 1 else Path("benchmark_chart.png"),
        Path(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_JSON,
    )
