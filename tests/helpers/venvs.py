"""Real virtual environments for the plugin-installation tests.

The venv sees this environment's packages (bpframe, numpy, numba, pytest, pip, setuptools) through a .pth file,
so nothing is downloaded, and it gets only the packages under test pip-installed into it: discovery then works
through real distributions and entry points, as it does for a user.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import sysconfig
import venv
from collections.abc import Iterable
from pathlib import Path


def make_venv(root: Path, extra_paths: Iterable[str] = ()) -> Path:
    """Create the venv at ``root`` and return its Python; pip comes through the .pth unless this environment
    has none (then ensurepip installs one, which takes a few seconds more)."""
    has_pip = importlib.util.find_spec("pip") is not None
    venv.EnvBuilder(with_pip=not has_pip).create(root)
    python = root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = [p for p in sys.path if p and Path(p).is_dir()] + [sysconfig.get_paths()["purelib"], *extra_paths]
    Path(purelib, "zz_parent_environment.pth").write_text("\n".join(dict.fromkeys(ours)) + "\n")
    return python
