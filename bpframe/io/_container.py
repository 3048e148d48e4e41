"""The ZIP container of a model file, checked before any member is read, and read within the file's real size.

bpframe writes a model as a handful of ``.npy`` members stored uncompressed in a ZIP archive, and reads back only
that: the archive's directory is refused when it lists more than :data:`~bpframe.limits.MAX_ARCHIVE_ENTRIES`
entries (before ``zipfile`` builds an object per entry); every member must be stored (a compressed member is
refused, so nothing is ever expanded), unencrypted and inside the file; and a member's ``.npy`` header (its dtype
and shape) is checked by the caller before any byte of its data is read, then its data must be exactly that many
bytes. Reading a member therefore allocates what the file holds, never what a header claims.

Every problem raises :class:`~bpframe.errors.ModelFileError`, whose message starts with the file's path.
"""

from __future__ import annotations

import math
import os
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

import numpy as np

from ..errors import ModelFileError
from ..limits import MAX_ARCHIVE_ENTRIES

__all__ = ["ModelArchive", "NpyHeader", "write_npz"]

#: What zipfile and the .npy header parser raise on a damaged archive.
_DAMAGED_ZIP = (
    zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError,
)  # fmt: skip
#: Leading bytes of common files that are not models, to say what a file is instead.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"%PDF", "a PDF document"),
    (b"\x89HDF\r\n\x1a\n", "an HDF5 file (a Keras .h5 model?)"),
    (b"\x93NUMPY", "a single NumPy array (.npy)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x80", "a Python pickle"),
)
_END = b"PK\x05\x06"  # end of central directory record: 22 bytes and a comment of up to 65,535
_END64_LOCATOR = b"PK\x06\x07"  # 20 bytes, just before the end record of a ZIP64 archive
_END64_SIZE = 56
_MAX_DIRECTORY_BYTES = MAX_ARCHIVE_ENTRIES * (46 + 2 * 1024)  # fixed part, and a name and extra field each
_METHODS = {zipfile.ZIP_DEFLATED: "deflate", zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma"}


@dataclass(frozen=True)
class NpyHeader:
    """What a member's ``.npy`` header declares."""

    shape: tuple[int, ...]
    fortran_order: bool
    dtype: np.dtype

    @property
    def nbytes(self) -> int:
        """The bytes of data the header promises."""
        return math.prod(self.shape) * self.dtype.itemsize


class ModelArchive:
    """An open model file: its members by array name (``theta.npy`` -> ``theta``), each read with its size checked.

    Parameters
    ----------
    path : str
        The file; it is checked to be a regular file that starts like a ZIP archive, and its directory to be small.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        _check_is_file(path)
        size = _check_signature(path)
        try:
            _check_directory(path, size)
            self._zip = zipfile.ZipFile(path)
        except ModelFileError:
            raise
        except _DAMAGED_ZIP as exc:
            raise ModelFileError(
                f"{path}: the file is truncated or damaged: it starts like a ZIP archive (.npz) but its end is "
                f"missing or unreadable ({exc}); it may be an incomplete copy or download"
            ) from None
        self.size = size
        try:
            self.members = _members(path, self._zip)
        except ModelFileError:
            self._zip.close()
            raise

    def __enter__(self) -> ModelArchive:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._zip.close()

    def check_stored(self) -> None:
        """Refuse the archive if any member is compressed, encrypted or reaches past the end of the file."""
        for info in self.members.values():
            _check_stored(self.path, info, self.size)

    def read_array(self, name: str, expect: Callable[[NpyHeader], None]) -> np.ndarray:
        """Read member ``name`` after ``expect`` accepted its header (it raises otherwise); a writable native copy.

        :meth:`check_stored` must have accepted the archive first.
        """
        header, data = self._read(name, expect)
        flat: np.ndarray = np.frombuffer(data, dtype=header.dtype)
        array: np.ndarray = flat.reshape(header.shape, order="F" if header.fortran_order else "C")
        copy: np.ndarray = array.astype(header.dtype.newbyteorder("="), order="C")
        return copy

    def read_bytes(self, name: str, expect: Callable[[NpyHeader], None]) -> bytes:
        """The data bytes of member ``name`` (a uint8 array's contents), after ``expect`` accepted its header."""
        return self._read(name, expect)[1]

    def _read(self, name: str, expect: Callable[[NpyHeader], None]) -> tuple[NpyHeader, bytes]:
        """The header of member ``name`` and, once ``expect`` accepted it, exactly the data it promises."""
        info = self.members[name]
        try:
            with self._zip.open(info) as stream:
                header = _read_npy_header(self.path, name, stream)
                expect(header)
                return header, _read_data(stream, header, info)
        except ModelFileError:
            raise
        except _DAMAGED_ZIP as exc:
            raise ModelFileError(
                f"{self.path}: the file is damaged: its entry {name!r} cannot be read ({exc})"
            ) from None


def _check_is_file(path: str) -> None:
    """Raise unless ``path`` is an existing regular file."""
    if not os.path.exists(path):
        raise ModelFileError(f"{path}: no such file")
    if not os.path.isfile(path):
        raise ModelFileError(f"{path}: is not a file (a folder or a device); give the model file's path")


def _check_signature(path: str) -> int:
    """The file's size; raises, saying what the file looks like, unless it starts like a ZIP archive."""
    try:
        with open(path, "rb") as file:
            head = file.read(64)
            size = os.fstat(file.fileno()).st_size
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    if head.startswith(b"PK\x03\x04"):
        return size
    if not head:
        what = "an empty file"
    elif head.startswith(_END):
        what = "an empty ZIP archive"
    else:
        what = next((name for sig, name in _SIGNATURES if head.startswith(sig)), None) or _guess_kind(head)
    raise ModelFileError(
        f"{path}: not a bpframe model file: it is {what}, not an .npz (ZIP) archive (it starts with {head[:8]!r})"
    )


def _guess_kind(head: bytes) -> str:
    """``'a text file'`` if the first bytes are printable UTF-8, else ``'a binary file of unknown kind'``."""
    for cut in range(4):  # the 64 bytes read may end inside a multi-byte character
        try:
            text = head[: len(head) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
        if all(c.isprintable() or c.isspace() for c in text):
            return "a text file"
        break
    return "a binary file of unknown kind"


def _check_directory(path: str, size: int) -> None:
    """Refuse an archive whose directory lists more entries, or more bytes, than a model file ever has.

    Read from the end records as ``zipfile`` reads them (the ZIP64 record when there is one), before
    ``zipfile`` parses the directory into one object per entry. An archive without end records is left to
    ``zipfile``, which reports it damaged.
    """
    with open(path, "rb") as file:
        tail_size = min(size, 22 + 0xFFFF + 20 + _END64_SIZE)
        file.seek(size - tail_size)
        tail = file.read(tail_size)
    at = len(tail) - 22 if tail[-22:-18] == _END and tail[-2:] == b"\0\0" else tail.rfind(_END)
    if at < 0 or len(tail) - at < 22:
        return
    entries, directory = struct.unpack("<HI", tail[at + 10 : at + 16])
    if at >= 20 + _END64_SIZE and tail[at - 20 : at - 16] == _END64_LOCATOR:
        record = tail[at - 20 - _END64_SIZE : at - 20]
        entries, directory = struct.unpack("<QQ", record[32:48])
    if entries > MAX_ARCHIVE_ENTRIES or directory > _MAX_DIRECTORY_BYTES:
        raise ModelFileError(
            f"{path}: not a bpframe model: its ZIP directory lists {entries:,} entries in {directory:,} bytes; a "
            f"bpframe model has at most {MAX_ARCHIVE_ENTRIES} (bpframe.limits.MAX_ARCHIVE_ENTRIES), so the file "
            "is refused before its directory is read"
        )


def _members(path: str, archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The archive's entries by array name (``theta.npy`` -> ``theta``), refusing duplicates."""
    members: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        if name in members:
            raise ModelFileError(f"{path}: the file is damaged: it contains the entry {info.filename!r} twice")
        members[name] = info
    return members


def _check_stored(path: str, info: zipfile.ZipInfo, size: int) -> None:
    """Refuse a member that is compressed, encrypted, or not wholly inside the file, before opening it."""
    where = f"{path}: the entry {info.filename!r}"
    if info.compress_type != zipfile.ZIP_STORED:
        method = _METHODS.get(info.compress_type, f"method {info.compress_type}")
        raise ModelFileError(
            f"{where} is compressed ({method}, {info.compress_size:,} bytes claiming to expand to "
            f"{info.file_size:,}); bpframe writes every entry uncompressed and never expands one, so this file was "
            "not written by bpframe or was repacked: extract it and pack it again without compression (zip -0)"
        )
    if info.flag_bits & 0x1:
        raise ModelFileError(f"{where} is encrypted; bpframe model files are never encrypted")
    if info.compress_size != info.file_size or info.header_offset + info.compress_size > size:
        raise ModelFileError(
            f"{where} is damaged: it claims {info.file_size:,} bytes stored in {info.compress_size:,} from offset "
            f"{info.header_offset:,}, in a file of {size:,} bytes"
        )


def _read_npy_header(path: str, name: str, stream: IO[bytes]) -> NpyHeader:
    """A member's ``.npy`` header (versions 1.0 and 2.0), refusing object arrays before any of their data."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version == (2, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise ValueError(f"unsupported .npy format version {version}")
    if dtype.hasobject:
        raise ModelFileError(
            f"{path}: the entry {name!r} contains a pickled object; refusing to load it "
            "(bpframe files never contain pickles)"
        )
    return NpyHeader(tuple(shape), bool(fortran_order), dtype)


def _read_data(stream: IO[bytes], header: NpyHeader, info: zipfile.ZipInfo) -> bytes:
    """The member's data, which must be exactly as long as its header promises (the CRC is checked at its end)."""
    if info.file_size - stream.tell() != header.nbytes:
        raise ValueError(f"its data has a different size than its header's shape {header.shape} promises")
    data = stream.read(header.nbytes)
    if len(data) != header.nbytes or stream.read(1):
        raise ValueError(f"its data has a different size than its header's shape {header.shape} promises")
    return data


def write_npz(file: IO[bytes], arrays: dict[str, np.ndarray]) -> None:
    """The members as ``numpy.savez`` writes them (uncompressed, ZIP64 headers), but never with a pickle."""
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)
