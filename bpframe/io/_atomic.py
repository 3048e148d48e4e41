"""The one atomic file writer of bpframe: model files (:mod:`bpframe.io`) and kernel cache files
(:mod:`bpframe.kernels.cache`) are both written through :func:`write_atomically`.

The data are written under a new temporary name in the target's folder, flushed and fsynced, then renamed onto
the target with ``os.replace``: a reader, or a crash at any moment, sees either the old complete file or the
new complete file; on an error the temporary file is removed and the old file is left as it was. The new file
gets the permissions of the file it replaces, or the default ones (umask) for a new file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import IO

__all__ = ["TemporaryFileError", "remove_quietly", "temporary_name", "write_atomically"]


class TemporaryFileError(OSError):
    """No temporary file could be created next to the target; the message says why."""


def temporary_name(target: Path, suffix: str) -> Path:
    """A new hidden name next to ``target``: ``.<name>.<12 hex digits><suffix>``."""
    return target.with_name(f".{target.name[:100]}.{secrets.token_hex(6)}{suffix}")


def write_atomically(target: Path, write: Callable[[IO[bytes]], object], suffix: str) -> None:
    """Call ``write`` on a temporary file next to ``target`` (named by ``temporary_name``), fsync it, and
    rename it onto ``target``.

    Raises
    ------
    TemporaryFileError
        When no temporary file can be created in the folder.
    OSError
        When writing or renaming fails; the temporary file is removed and ``target`` is unchanged.
    """
    fd, temporary = _create_temporary(target, suffix)
    try:
        with open(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        remove_quietly(temporary)
        raise
    _fsync_folder(target.parent)


def _create_temporary(target: Path, suffix: str) -> tuple[int, Path]:
    """Create a new, uniquely named file next to ``target``, with the permissions ``target`` will need.

    ``os.open`` with mode 0o666 lets the umask apply, as for any new file; ``tempfile.mkstemp`` would
    create it 0o600 and a saved model would be unreadable to the user's group.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temporary = temporary_name(target, suffix)
        try:
            fd = os.open(temporary, flags, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            reason = exc.strerror or exc
            raise TemporaryFileError(f"cannot create a file in the folder {target.parent}: {reason}") from exc
        _copy_mode(target, temporary)
        return fd, temporary
    raise TemporaryFileError(f"no free temporary name in {target.parent}")


def _copy_mode(source: Path, destination: Path) -> None:
    """Give ``destination`` the permission bits of ``source``, if it exists (best effort)."""
    with contextlib.suppress(OSError):
        os.chmod(destination, stat.S_IMODE(os.stat(source).st_mode))


def remove_quietly(path: Path) -> None:
    """Delete ``path`` if it exists."""
    with contextlib.suppress(OSError):
        os.unlink(path)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX only; best effort)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):  # some file systems cannot fsync a folder; the rename is done anyway
            os.fsync(fd)
    finally:
        os.close(fd)
