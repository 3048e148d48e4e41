"""Build the hostile model files of issue 13 and report what loading each costs: error, peak memory, time.

Usage: python tools/hostile_files_report.py [--only NAME ...] [--how load|describe|info|evaluate] [--code DIR]

``--code DIR`` loads with another source tree of bpframe instead of this one, e.g. the code before a change:
``mkdir /tmp/old && git archive 9409583 bpframe | tar -x -C /tmp/old``, then ``--code /tmp/old``.

Each file is loaded in a fresh interpreter (``tests/helpers/hostile_files.py``'s LOADER), whose peak resident
memory (VmHWM) is compared with the same process loading a valid [2, 3, 1] model. Building the 4 GiB bzip2 bomb
takes about half a minute.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "helpers"))

from hostile_files import (
    MIB,
    Entry,
    bzip2ed,
    deflated,
    measure,
    metadata,
    metadata_member,
    model_with,
    npy_header,
    stored,
    theta_member,
    write_zip,
)

GIB = 1 << 30


def _meta_text(**changes: object) -> str:
    return json.dumps(metadata(**changes))


def _with_metadata(text: str) -> Callable[[Path], Path]:
    return lambda path: model_with(path, meta=stored("metadata.npy", metadata_member(text)))


def _with_extra_field(field: str) -> Callable[[Path], Path]:
    """The valid metadata with one more top-level field, written as raw JSON text."""
    return _with_metadata(_meta_text()[:-1] + f', "extra": {field}}}')


def _deep_layers(path: Path) -> Path:
    layers = 100_001
    text = _meta_text(sizes=[1] * (layers + 1), activations=[{"name": "identity"}] * layers)
    theta = stored("theta.npy", theta_member(2 * layers))
    return model_with(path, meta=stored("metadata.npy", metadata_member(text)), theta=theta)


def _many_entries(path: Path) -> Path:
    entries = [stored(f"x{i}.npy", b"") for i in range(100_000)]
    return write_zip(path, [stored("metadata.npy", metadata_member(_meta_text())), *entries])


def _lying_theta_header(path: Path) -> Path:
    return model_with(path, theta=stored("theta.npy", npy_header("<f8", (10_001_100_010,)) + bytes(104)))


def _spaces_metadata(build: Callable[..., Entry]) -> Callable[[Path], Path]:
    def make(path: Path) -> Path:
        size = GIB
        head = npy_header("uint8", (size,))
        if build is deflated:
            entry = deflated("metadata.npy", head + b"{", len(head) + size, fill=b" ")
        else:
            entry = build("metadata.npy", head, len(head) + size)
        return model_with(path, meta=entry)

    return make


def _data_bomb(build: Callable[..., Entry], size: int) -> Callable[[Path], Path]:
    def make(path: Path) -> Path:
        head = npy_header("<f8", (size // 8,))
        return model_with(path, theta=build("theta.npy", head, len(head) + size))

    return make


CASES: dict[str, Callable[[Path], Path]] = {
    "valid": model_with,
    "deflate-data-2GiB": _data_bomb(deflated, 2 * GIB),
    "bzip2-data-4GiB": _data_bomb(bzip2ed, 4 * GIB),
    "deflate-metadata-1GiB": _spaces_metadata(deflated),
    "bzip2-metadata-1GiB": _spaces_metadata(bzip2ed),
    "stored-metadata-50MB": _with_extra_field('"' + "x" * (50 * MIB) + '"'),
    "int-5000-digits": _with_extra_field("7" * 5000),
    "nested-100000": _with_extra_field("[" * 100_000 + "]" * 100_000),
    "layers-100001": _deep_layers,
    "sizes-100000x100000": _with_metadata(_meta_text(sizes=[100000, 100000, 10])),
    "theta-header-claims-80GB": _lying_theta_header,
    "entries-100000": _many_entries,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=list(CASES), help="the cases to run (default: all)")
    parser.add_argument("--how", choices=("load", "describe", "info", "evaluate"), default="load")
    parser.add_argument("--code", metavar="DIR", help="load with the bpframe source tree in DIR")
    args = parser.parse_args()
    names = ["valid", *[name for name in args.only or CASES if name != "valid"]]
    with tempfile.TemporaryDirectory() as folder:
        base = None
        for name in names:
            path = CASES[name](Path(folder) / f"{name}.npz")
            started = time.perf_counter()
            result = measure(path, args.how, timeout=600, code=args.code)
            seconds = time.perf_counter() - started
            peak = result["peak_kib"] / 1024
            if base is None:
                base = peak
                print(f"bpframe from {result['bpframe']}", flush=True)
            message = (result["message"] or "")[:150].replace("\n", " ")
            print(f"{name:<26} {path.stat().st_size:>11,} B  peak {peak:8.0f} MiB ({peak - base:+8.0f})  "
                  f"{seconds:5.1f} s  {result['error']}: {message}", flush=True)  # fmt: skip
            path.unlink()


if __name__ == "__main__":
    main()
