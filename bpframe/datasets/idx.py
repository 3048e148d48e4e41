"""Reading IDX files, the format of MNIST, Fashion-MNIST and their relatives, gzipped or not.

An IDX file is a 4-byte magic number ``00 00 TT DD`` (``TT`` the element type, ``DD`` the number of
dimensions), then ``DD`` big-endian uint32 dimension sizes, then the elements in C order, big-endian.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from collections.abc import Mapping
from types import MappingProxyType
from typing import BinaryIO

import numpy as np

from ..errors import DataError
from ..limits import format_bytes, memory_limit

_Stream = BinaryIO | gzip.GzipFile  # what _read_stream and its helpers read from

__all__ = ["IDX_TYPES", "read_idx"]

#: IDX type code -> NumPy dtype of the elements as stored (big-endian).
IDX_TYPES: Mapping[int, np.dtype] = MappingProxyType(
    {
        0x08: np.dtype(">u1"),
        0x09: np.dtype(">i1"),
        0x0B: np.dtype(">i2"),
        0x0C: np.dtype(">i4"),
        0x0D: np.dtype(">f4"),
        0x0E: np.dtype(">f8"),
    }
)
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 22  # read in pieces so a bogus header cannot make us allocate gigabytes up front


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file into an array of its declared shape and element type.

    A file starting with the gzip magic bytes ``1f 8b`` is decompressed first, whatever its name.
    The file is checked completely: the magic number, the type code, the header length, and that
    the data is exactly as long as the declared dimensions need (neither truncated nor followed by
    extra bytes).

    Parameters
    ----------
    path : str or os.PathLike
        The IDX file, plain or gzip-compressed.

    Returns
    -------
    ndarray, shape (d1, ..., dn)
        The elements, in native byte order, with dtype uint8, int8, int16, int32, float32 or float64
        according to the type code (0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E).

    Raises
    ------
    DataError
        If the contents are not a valid IDX file (bad magic number, unknown type code, no dimensions,
        truncated header or data, trailing bytes, damaged gzip stream), or a gzipped file declares more data
        than the machine's memory (checked before decompressing it); the message names the file, what was
        expected and what was found.
    OSError
        If the file cannot be opened or read (for example :class:`FileNotFoundError`).

    Examples
    --------
    >>> import os, tempfile
    >>> from bpframe.datasets import read_idx
    >>> header = bytes([0, 0, 0x08, 2]) + (2).to_bytes(4, "big") + (3).to_bytes(4, "big")
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "tiny-idx2-ubyte")
    ...     with open(path, "wb") as f:
    ...         _ = f.write(header + bytes(range(6)))
    ...     read_idx(path)
    array([[0, 1, 2],
           [3, 4, 5]], dtype=uint8)
    """
    name = os.fspath(path)
    with open(name, "rb") as raw:
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        if not compressed:
            return _read_stream(raw, name, "file")
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                return _read_stream(stream, name, "decompressed file", memory_limit())
        except (EOFError, gzip.BadGzipFile, zlib.error) as error:
            raise DataError(
                f"{name}: damaged gzip stream ({type(error).__name__}: {error}); "
                "the file may be incompletely downloaded: fetch it again"
            ) from error


def _read_stream(stream: _Stream, name: str, what: str, limit: int | None = None) -> np.ndarray:
    """Parse and check an IDX byte stream; ``what`` says whether sizes refer to the decompressed bytes.

    A plain file can only yield the bytes it has; a decompressed one may expand to whatever its header
    declares, so that is first compared with ``limit``, the machine's memory.
    """
    dtype, shape = _read_header(stream, name, what)
    header_size = 4 + 4 * len(shape)
    expected = math.prod(shape) * dtype.itemsize
    if limit is not None and expected > limit:
        raise DataError(
            f"{name}: the IDX header declares shape {shape} of {dtype.name}, {format_bytes(expected)} of data once "
            f"decompressed, more than the {format_bytes(limit)} of memory this machine (or its container) has; "
            "the file is not read"
        )
    data = _read_up_to(stream, expected)
    extra = _count_rest(stream)
    if len(data) != expected or extra:
        found = len(data) + extra
        problem = "truncated IDX data" if found < expected else "trailing bytes after the IDX data"
        advice = "; it may be incompletely downloaded: fetch it again" if found < expected else ""
        raise DataError(
            f"{name}: {problem}: the header declares shape {shape} of {dtype.name} "
            f"({expected} data bytes, {header_size + expected} bytes in all), but the {what} has "
            f"{found} bytes after the header ({header_size + found} in all){advice}"
        )
    array = np.frombuffer(data, dtype=dtype).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def _read_header(stream: _Stream, name: str, what: str) -> tuple[np.dtype, tuple[int, ...]]:
    """Read the magic number and the dimension sizes, raising :class:`DataError` on anything invalid."""
    magic = stream.read(4)
    if len(magic) < 4:
        raise DataError(
            f"{name}: truncated IDX header: expected a 4-byte magic number, the {what} has {len(magic)} bytes"
        )
    if magic[:2] != b"\x00\x00":
        raise DataError(
            f"{name}: not an IDX file: the magic number must start with bytes 0x00 0x00, "
            f"found 0x{magic[0]:02x} 0x{magic[1]:02x}"
        )
    type_code, ndim = magic[2], magic[3]
    if type_code not in IDX_TYPES:
        known = ", ".join(f"0x{code:02x} ({dtype.name})" for code, dtype in IDX_TYPES.items())
        raise DataError(f"{name}: unknown IDX type code 0x{type_code:02x}; expected one of {known}")
    if ndim == 0:
        raise DataError(f"{name}: the IDX header declares 0 dimensions; expected at least 1")
    sizes = stream.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise DataError(
            f"{name}: truncated IDX header: {ndim} dimension(s) need {4 + 4 * ndim} header bytes, "
            f"the {what} has {4 + len(sizes)}"
        )
    shape = tuple(int.from_bytes(sizes[4 * i : 4 * i + 4], "big") for i in range(ndim))
    return IDX_TYPES[type_code], shape


def _read_up_to(stream: _Stream, size: int) -> bytearray:
    """Read ``size`` bytes, or fewer if the stream ends first, growing the buffer as data arrives."""
    buffer = bytearray()
    while len(buffer) < size:
        chunk = stream.read(min(_CHUNK, size - len(buffer)))
        if not chunk:
            break
        buffer += chunk
    return buffer


def _count_rest(stream: _Stream) -> int:
    """Count the bytes left in ``stream`` without keeping them."""
    count = 0
    while chunk := stream.read(_CHUNK):
        count += len(chunk)
    return count
