"""Build every package in plugins/ as a wheel and install the wheels (without dependencies) into this Python.

Used by the tox ``plugins`` environment: ``python tools/install_plugins.py WHEEL_DIR``. Dependencies are not
resolved from an index because the packages depend on ``bpframe``, which tox has installed from this checkout.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(wheel_dir: str) -> int:
    wheels = Path(wheel_dir)
    wheels.mkdir(parents=True, exist_ok=True)
    packages = sorted(p for p in (ROOT / "plugins").iterdir() if (p / "pyproject.toml").exists())
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    for package in packages:
        build = [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(package)]
        subprocess.run(build, check=True)
    built = sorted(str(w) for w in wheels.glob("*.whl"))
    subprocess.run([*pip, "install", "--no-deps", "--force-reinstall", *built], check=True)
    print(f"installed {len(built)} plugin wheels: {', '.join(Path(w).name for w in built)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
