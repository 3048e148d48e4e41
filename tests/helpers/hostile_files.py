"""Hostile model files built byte by byte, and a child process that measures what loading one costs.

A ZIP archive is written here by hand (local headers, central directory, end records, ZIP64 where a size needs
it) so that a test can put anything in it: a compressed member whose header claims gigabytes, sizes that lie,
or a hundred thousand entries. Zeros compress to almost nothing, and a deflate stream of zeros can be built
without compressing them: after a full flush the compressor forgets its window, so every 1 MiB block of zeros
compresses to the same bytes, and a stream of N MiB is those bytes repeated N times.
"""

from __future__ import annotations

import bz2
import io
import json
import os
import struct
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MIB = 1 << 20
_ZIP64_LIMIT = 0xFFFFFFFF


@dataclass(frozen=True)
class Entry:
    """One ZIP member: its name, compression method, the bytes stored, their CRC-32 and expanded size."""

    name: str
    method: int
    payload: bytes
    crc: int
    size: int
    flags: int = 0


def npy_header(dtype: str, shape: tuple[int, ...]) -> bytes:
    """The ``.npy`` header (magic, version 1.0, padded dictionary) of an array of ``dtype`` and ``shape``."""
    buffer = io.BytesIO()
    header = {"descr": np.dtype(dtype).str, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def stored(name: str, data: bytes) -> Entry:
    """A member stored as is, the way bpframe writes every member."""
    return Entry(name, zipfile.ZIP_STORED, data, zlib.crc32(data), len(data))


def _crc_of(head: bytes, fill: bytes, count: int, tail: bytes) -> int:
    """CRC-32 of ``head + fill * count + tail`` without building it."""
    crc = zlib.crc32(head)
    for _ in range(count):
        crc = zlib.crc32(fill, crc)
    return zlib.crc32(tail, crc)


def deflated(name: str, head: bytes, size: int, fill: bytes = b"\0") -> Entry:
    """A deflate member expanding to ``head`` followed by ``fill`` repeated up to ``size`` bytes in all."""
    block = fill * (MIB // len(fill))
    count, rest = divmod(size - len(head), MIB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeated = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    last = compressor.compress(block[:rest]) + compressor.flush(zlib.Z_FINISH)
    payload = first + repeated * count + last
    return Entry(name, zipfile.ZIP_DEFLATED, payload, _crc_of(head, block, count, block[:rest]), size)


def bzip2ed(name: str, head: bytes, size: int) -> Entry:
    """A bzip2 member expanding to ``head`` followed by zeros, ``size`` bytes in all (about 6 s per GiB to build)."""
    compressor = bz2.BZ2Compressor(9)
    chunk = bytes(16 * MIB)
    parts = [compressor.compress(head)]
    count, rest = divmod(size - len(head), len(chunk))
    parts += [compressor.compress(chunk) for _ in range(count)]
    parts += [compressor.compress(chunk[:rest]), compressor.flush()]
    return Entry(name, zipfile.ZIP_BZIP2, b"".join(parts), _crc_of(head, chunk, count, chunk[:rest]), size)


def _zip64_extra(*values: int) -> bytes:
    return struct.pack("<HH", 1, 8 * len(values)) + struct.pack(f"<{len(values)}Q", *values)


def write_zip(path: Path, entries: list[Entry]) -> Path:
    """Write ``entries`` as a ZIP archive, with ZIP64 fields for any size that needs them."""
    with open(path, "wb") as file:
        central = [_local(file, entry) for entry in entries]
        start = file.tell()
        for record in central:
            file.write(record)
        count, length = len(entries), file.tell() - start
        if count > 0xFFFF or start > _ZIP64_LIMIT:
            _zip64_end(file, count, length, start)
            count, start = min(count, 0xFFFF), min(start, _ZIP64_LIMIT)
        file.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, length, start, 0))
    return path


def _local(file: Any, entry: Entry) -> bytes:
    """Write the local header and payload of ``entry``; return its central directory record."""
    offset, name = file.tell(), entry.name.encode()
    big = max(entry.size, len(entry.payload)) > _ZIP64_LIMIT
    sizes = (_ZIP64_LIMIT, _ZIP64_LIMIT) if big else (len(entry.payload), entry.size)
    extra = _zip64_extra(entry.size, len(entry.payload)) if big else b""
    version = 45 if big else 20
    common = (entry.flags, entry.method, 0, 0x21, entry.crc, *sizes, len(name), len(extra))
    file.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, version, *common) + name + extra)
    file.write(entry.payload)
    return struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, version, version, *common, 0, 0, 0, 0, offset) + name + extra


def _zip64_end(file: Any, count: int, length: int, start: int) -> None:
    """The ZIP64 end of central directory record and its locator."""
    where = file.tell()
    file.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, length, start))
    file.write(struct.pack("<IIQI", 0x07064B50, 0, where, 1))


# -- the members of a small valid model -------------------------------------------------------------------------

SIZES = [2, 3, 1]
N_PARAMS = 13  # 2*3 + 3*1 weights, 3 + 1 biases


def metadata(**changes: Any) -> dict[str, Any]:
    """The metadata of a [2, 3, 1] sigmoid/quadratic float64 model, format 1, with ``changes`` applied."""
    record = {"name": "sigmoid", "plugin": "bpframe.default_plugins.activations", "distribution": "bpframe",
              "version": None, "user-defined": False}  # fmt: skip
    base = {"format": "bpframe-model", "format_version": 1, "bpframe_version": "0.1.0", "sizes": SIZES,
            "dtype": "float64", "activations": [record, record], "loss": dict(record, name="quadratic"),
            "seed": 0, "history": {}, "optimizer": None}  # fmt: skip
    base.update(changes)
    return base


def metadata_member(text: str | bytes) -> bytes:
    """JSON text as the ``metadata.npy`` member: a uint8 ``.npy`` array."""
    data = text.encode() if isinstance(text, str) else text
    return npy_header("uint8", (len(data),)) + data


def theta_member(n: int = N_PARAMS) -> bytes:
    return npy_header("<f8", (n,)) + np.linspace(-1.0, 1.0, n).tobytes()


def model_with(
    path: Path, *, meta: Entry | None = None, theta: Entry | None = None, more: tuple[Entry, ...] = ()
) -> Path:
    """A model file whose metadata or theta member (or both) are replaced, plus ``more`` members."""
    meta = meta or stored("metadata.npy", metadata_member(json.dumps(metadata())))
    theta = theta or stored("theta.npy", theta_member())
    return write_zip(path, [meta, theta, *more])


# -- measuring a load in a child process -------------------------------------------------------------------------

#: Loads argv[2] with bp.load, describe_model, `bpframe info` or `bpframe evaluate` (argv[1]) and prints one JSON
#: line: the error's type and message (or None), the peak resident memory of the process in KiB, and which bpframe.
LOADER = """
import contextlib, io, json, os, resource, sys

def peak_kib():
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak // 1024 if sys.platform == "darwin" else peak

how, path = sys.argv[1], sys.argv[2]
import bpframe as bp
from bpframe.cli import main
from bpframe.io import describe_model
error = message = None
out, err = io.StringIO(), io.StringIO()
try:
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        if how == "load":
            bp.load(path)
        elif how == "describe":
            describe_model(path)
        else:
            status = main([how, path] + (["--dataset", "xor"] if how == "evaluate" else []))
            error = None if status == 0 else "exit status %d" % status
            message = err.getvalue().strip() or None
except BaseException as exc:
    error, message = type(exc).__name__, str(exc)[:2000]
print(json.dumps({"error": error, "message": message, "peak_kib": peak_kib(), "bpframe": bp.__file__}))
"""


def measure(path: Path, how: str = "load", timeout: float = 300, code: str | None = None) -> dict[str, Any]:
    """Run :data:`LOADER` on ``path`` in a fresh interpreter; its JSON result (``error``, ``message``, ``peak_kib``).

    ``code`` is another source tree of bpframe to load with instead (an export of an older commit, to measure
    what a change did): the child then starts without ``site`` (``-S``), so that an editable install of this
    tree cannot take its place, with that tree and this environment's packages on its path.
    """
    repo = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    paths, flags = [repo, env.get("PYTHONPATH", "")], []
    if code is not None:
        paths, flags = [code, sysconfig.get_paths()["purelib"]], ["-S"]
    env["PYTHONPATH"] = os.pathsep.join(paths).rstrip(os.pathsep)
    child = subprocess.run([sys.executable, *flags, "-c", LOADER, how, str(path)], env=env, capture_output=True,
                           text=True, timeout=timeout, check=False, cwd=tempfile.gettempdir())  # fmt: skip
    lines = child.stdout.strip().splitlines()
    if child.returncode != 0 or not lines:
        raise AssertionError(f"the loader died with status {child.returncode}: {child.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result
