"""Tests of bpframe.datasets.idx.read_idx: files written here byte by byte, read back exactly."""

from __future__ import annotations

import doctest
import gzip
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpframe.datasets import idx, read_idx
from bpframe.errors import DataError

# Our own table, written from the IDX specification, not imported from the code under test.
TYPE_CODES = {"uint8": 0x08, "int8": 0x09, "int16": 0x0B, "int32": 0x0C, "float32": 0x0D, "float64": 0x0E}


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode ``array`` as IDX: magic, big-endian uint32 sizes, big-endian elements."""
    header = struct.pack(">BBBB", 0, 0, TYPE_CODES[array.dtype.name], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(path: Path, data: bytes, *, compress: bool = False) -> Path:
    """Write ``data`` to ``path``, gzip-compressed when asked; return ``path``."""
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def sample(dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    """A deterministic array that uses each type's extremes, so a byte-order slip cannot go unnoticed."""
    info = np.iinfo(dtype) if dtype.startswith(("int", "uint")) else np.finfo(dtype)
    values = np.resize(np.array([0, 1, info.max, info.min, 7, 100], dtype=dtype), int(np.prod(shape)))
    return values.reshape(shape)


@pytest.mark.parametrize("dtype", list(TYPE_CODES))
@pytest.mark.parametrize("shape", [(6,), (2, 3), (3, 2, 2), (1, 2, 1, 3), (0,), (4, 0, 2)])
@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_round_trip(tmp_path: Path, dtype: str, shape: tuple[int, ...], compress: bool) -> None:
    array = sample(dtype, shape)
    # A misleading suffix on both: compression must be detected from the magic bytes, not the name.
    path = write(tmp_path / ("data.idx" if compress else "data.idx.gz"), idx_bytes(array), compress=compress)
    result = read_idx(path)
    assert result.dtype == np.dtype(dtype) and result.dtype.isnative
    assert result.shape == shape
    assert np.array_equal(result, array)
    assert result.flags.writeable and result.flags.c_contiguous


def test_big_endian_values_from_hand_written_bytes(tmp_path: Path) -> None:
    int16 = bytes([0, 0, 0x0B, 1, 0, 0, 0, 2, 0x01, 0x02, 0xFF, 0xFE])
    float32 = bytes([0, 0, 0x0D, 1, 0, 0, 0, 2, 0x3F, 0x80, 0, 0, 0xC0, 0x20, 0, 0])
    assert read_idx(write(tmp_path / "a", int16)).tolist() == [258, -2]
    assert read_idx(write(tmp_path / "b", float32)).tolist() == [1.0, -2.5]


def test_accepts_str_paths(tmp_path: Path) -> None:
    path = write(tmp_path / "labels-idx1-ubyte", idx_bytes(np.arange(10, dtype=np.uint8)))
    assert read_idx(str(path)).tolist() == list(range(10))


def test_multi_member_gzip(tmp_path: Path) -> None:
    data = idx_bytes(np.arange(12, dtype=np.int32).reshape(3, 4))
    path = tmp_path / "two-members.gz"
    path.write_bytes(gzip.compress(data[:20]) + gzip.compress(data[20:]))
    assert np.array_equal(read_idx(path), np.arange(12).reshape(3, 4))


@settings(max_examples=60, deadline=None)
@given(
    dtype=st.sampled_from(list(TYPE_CODES)),
    shape=st.lists(st.integers(0, 4), min_size=1, max_size=4).map(tuple),
    compress=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_round_trip_random_contents(dtype: str, shape: tuple[int, ...], compress: bool, seed: int) -> None:
    raw = np.random.default_rng(seed).integers(0, 256, size=int(np.prod(shape)) * np.dtype(dtype).itemsize)
    array = np.frombuffer(raw.astype(np.uint8).tobytes(), dtype=dtype).reshape(shape)
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder) / "x", idx_bytes(array), compress=compress)
        result = read_idx(path)
    assert result.tobytes() == array.tobytes() and result.shape == shape


# --- errors -------------------------------------------------------------------------------------------------

GOOD = idx_bytes(np.arange(6, dtype=np.int16).reshape(2, 3))  # 12-byte header + 12 data bytes
REFETCH = "; it may be incompletely downloaded: fetch it again"
BAD_MAGIC = "not an IDX file: the magic number must start with bytes 0x00 0x00, found "


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            GOOD[:-1],
            "truncated IDX data: the header declares shape (2, 3) of int16 (12 data bytes, 24 bytes in all), "
            "but the {what} has 11 bytes after the header (23 in all)" + REFETCH,
        ),
        (
            GOOD[:12],
            "truncated IDX data: the header declares shape (2, 3) of int16 (12 data bytes, 24 bytes in all), "
            "but the {what} has 0 bytes after the header (12 in all)" + REFETCH,
        ),
        (
            GOOD + b"\x00\x00\x07",
            "trailing bytes after the IDX data: the header declares shape (2, 3) of int16 "
            "(12 data bytes, 24 bytes in all), but the {what} has 15 bytes after the header (27 in all)",
        ),
        (b"PK\x03\x04" + GOOD[4:], BAD_MAGIC + "0x50 0x4b"),
        (b"\x00\x01" + GOOD[2:], BAD_MAGIC + "0x00 0x01"),
        (
            b"\x00\x00\x0a\x02" + GOOD[4:],
            "unknown IDX type code 0x0a; expected one of 0x08 (uint8), 0x09 (int8), 0x0b (int16), "
            "0x0c (int32), 0x0d (float32), 0x0e (float64)",
        ),
        (b"\x00\x00\x08\x00", "the IDX header declares 0 dimensions; expected at least 1"),
        (b"", "truncated IDX header: expected a 4-byte magic number, the {what} has 0 bytes"),
        (GOOD[:3], "truncated IDX header: expected a 4-byte magic number, the {what} has 3 bytes"),
        (GOOD[:10], "truncated IDX header: 2 dimension(s) need 12 header bytes, the {what} has 10"),
    ],
    ids=[
        "truncated-data",
        "header-only",
        "trailing-bytes",
        "zip-magic",
        "nonzero-magic",
        "bad-type-code",
        "zero-dims",
        "empty",
        "short-magic",
        "short-dims",
    ],
)
def test_invalid_contents_raise_data_error_naming_the_file(
    tmp_path: Path, data: bytes, message: str, compress: bool
) -> None:
    path = write(tmp_path / "bad-idx", data, compress=compress)
    with pytest.raises(DataError) as info:
        read_idx(path)
    what = "decompressed file" if compress else "file"
    assert str(info.value) == f"{path}: " + message.format(what=what)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "damage",
    [lambda z: z[: len(z) // 2], lambda z: z[:-4], lambda z: z[:10] + bytes([z[10] ^ 0xFF]) + z[11:]],
    ids=["cut-in-half", "no-size-trailer", "corrupted-byte"],
)
def test_damaged_gzip_raises_data_error(tmp_path: Path, damage: object) -> None:
    data = idx_bytes(np.arange(600, dtype=np.int32))
    path = tmp_path / "damaged.gz"
    path.write_bytes(damage(gzip.compress(data)))  # type: ignore[operator]
    with pytest.raises(DataError, match=r"damaged gzip stream \(") as info:
        read_idx(path)
    assert str(info.value).startswith(f"{path}: ")
    assert str(info.value).endswith("the file may be incompletely downloaded: fetch it again")


def test_trailing_garbage_after_gzip_stream(tmp_path: Path) -> None:
    path = tmp_path / "garbage-after.gz"
    path.write_bytes(gzip.compress(GOOD) + b"not gzip")
    with pytest.raises(DataError, match="damaged gzip stream"):
        read_idx(path)


def test_huge_declared_size_fails_without_allocating_it(tmp_path: Path) -> None:
    header = bytes([0, 0, 0x0E, 3]) + struct.pack(">3I", 2**32 - 1, 2**32 - 1, 2**20)
    path = write(tmp_path / "huge", header + b"x")
    with pytest.raises(DataError, match=r"truncated IDX data: the header declares shape \(4294967295, 4294967295, "):
        read_idx(path)


def test_gzip_declaring_more_than_the_memory_is_refused_before_decompressing(tmp_path: Path) -> None:
    shape = (2**32 - 1, 2**32 - 1, 2**20)
    header = bytes([0, 0, 0x0E, 3]) + struct.pack(">3I", *shape)
    path = write(tmp_path / "bomb.gz", header + bytes(2**20), compress=True)
    declared = (2**32 - 1) ** 2 * 2**20 * 8
    with pytest.raises(DataError) as info:
        read_idx(path)
    message = str(info.value)
    assert message.startswith(
        f"{path}: the IDX header declares shape {shape} of float64, {declared:,} bytes, 128.0 YiB of data once "
        "decompressed, more than the "
    )
    assert message.endswith(" of memory this machine (or its container) has; the file is not read")


def test_gzip_within_the_memory_limit_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    array = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    path = write(tmp_path / "small.gz", idx_bytes(array), compress=True)
    monkeypatch.setattr(idx, "memory_limit", lambda: array.nbytes)
    assert np.array_equal(read_idx(path), array)
    monkeypatch.setattr(idx, "memory_limit", lambda: array.nbytes - 1)
    with pytest.raises(DataError, match=r"declares shape \(2, 3, 4\) of float64, 192 bytes of data once decompressed"):
        read_idx(path)


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no-such-file"):
        read_idx(tmp_path / "no-such-file")


def test_docstring_examples_run() -> None:
    result = doctest.testmod(idx)
    assert result.attempted > 0 and result.failed == 0
