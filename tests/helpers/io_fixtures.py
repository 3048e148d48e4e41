"""Helpers for the model-file tests: taking saved files apart, damaging them, and hostile payloads."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bpframe import Activation

# -- a user-defined activation (not registered by any plugin) ---------------------------------------------------


def softsign(z):
    return z / (1.0 + abs(z))


def softsign_prime(z):
    return 1.0 / (1.0 + abs(z)) ** 2


def softsign_activation() -> Activation:
    return Activation("softsign", softsign, softsign_prime)


# -- reading and rewriting the members of a saved file ---------------------------------------------------------


def read_members(path: Path) -> dict[str, bytes]:
    """Every ZIP entry's raw bytes, by entry name (``theta.npy``), in archive order."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_members(path: Path, members: dict[str, bytes]) -> None:
    """Write a fresh uncompressed ZIP archive holding exactly ``members``."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def npy_bytes(array: np.ndarray, *, allow_pickle: bool = False) -> bytes:
    """``array`` serialised as a ``.npy`` file."""
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def json_bytes(text: str) -> bytes:
    """JSON text as the uint8 ``metadata.npy`` member bpframe stores."""
    return npy_bytes(np.frombuffer(text.encode("utf-8"), dtype=np.uint8))


def replace_member(path: Path, name: str, data: bytes | None) -> None:
    """Replace (or with ``None`` remove, or add) one entry of the archive at ``path``."""
    members = read_members(path)
    if data is None:
        del members[name]
    else:
        members[name] = data
    write_members(path, members)


def read_metadata(path: Path) -> dict[str, Any]:
    """The metadata JSON object of a saved model."""
    raw = np.lib.format.read_array(io.BytesIO(read_members(path)["metadata.npy"]), allow_pickle=False)
    return json.loads(raw.tobytes().decode("utf-8"))


def edit_metadata(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Apply ``change`` to the metadata object in place and write it back."""
    metadata = read_metadata(path)
    change(metadata)
    replace_member(path, "metadata.npy", json_bytes(json.dumps(metadata)))


def read_theta(path: Path) -> np.ndarray:
    return np.lib.format.read_array(io.BytesIO(read_members(path)["theta.npy"]), allow_pickle=False)


# -- a hostile payload -------------------------------------------------------------------------------------------


class MarkerOnUnpickle:
    """Unpickling this object creates the folder ``marker``: proof that a pickle inside a file was executed."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


# -- child processes for the atomic-write tests ----------------------------------------------------------------

#: Saves ever newer models into argv[1] and prints the number of each completed save; the k-th model has every
#: parameter equal to k and history.epoch == [k], so a file mixing two saves is recognisable.
REPEATED_SAVER = """
import sys
import numpy as np
from bpframe.io import save_network
from bpframe.network import Network

path, k = sys.argv[1], int(sys.argv[2])
net = Network([400, 400, 400], "sigmoid", "quadratic", seed=0)
n = net.parameters().size
while True:
    k += 1
    net.set_parameters(np.full(n, float(k)))
    net.history.epoch[:] = [k]
    save_network(net, path)
    print(k, flush=True)
"""

#: Saves model number argv[3] into argv[1] and SIGKILLs itself at the stage named by argv[2]: "start" (nothing
#: written), "half" (half the archive written), "written" (all written and flushed, not renamed), "renamed"
#: (just after os.replace). With argv[4] == "plain" it overwrites the file in place instead of using bpframe.
SELF_KILLING_SAVER = """
import io, os, signal, sys
import numpy as np
import bpframe.io as bio
import bpframe.io._save as save_module
from bpframe.network import Network

path, stage, k, how = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
net = Network([40, 30, 5], "sigmoid", "quadratic", seed=0)
net.set_parameters(np.full(net.parameters().size, float(k)))
net.history.epoch[:] = [k]
real_write, real_replace = save_module.write_npz, os.replace

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def dying_write(file, arrays):
    buffer = io.BytesIO()
    real_write(buffer, arrays)
    data = buffer.getvalue()
    if stage == "start":
        die()
    file.write(data if stage != "half" else data[: len(data) // 2])
    file.flush()
    os.fsync(file.fileno())
    if stage in ("half", "written"):
        die()

def dying_replace(src, dst):
    real_replace(src, dst)
    die()

save_module.write_npz = dying_write
if stage == "renamed":
    os.replace = dying_replace
if how == "plain":
    with open(path, "wb") as file:
        dying_write(file, save_module.arrays_to_save(net._model, False))
else:
    bio.save_network(net, path)
print("not killed", flush=True)
"""
