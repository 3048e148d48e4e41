#!/usr/bin/env bash
# Set up and run the whole test matrix (tox) from a fresh clone: the README's test command, and what CI runs.
# Usage: bash tools/test.sh [tox arguments]      e.g.  bash tools/test.sh -m quick
set -euo pipefail
cd "$(dirname "$0")/.."

# pyenv keeps one interpreter active; make every supported one visible so tox finds python3.10 ... python3.13.
if command -v pyenv >/dev/null 2>&1; then
    versions=$(pyenv versions --bare --skip-aliases 2>/dev/null | grep -E '^3\.(10|11|12|13)\.[0-9]+$' | sort -V || true)
    if [ -n "$versions" ]; then
        export PYENV_VERSION="$(pyenv version-name):$(echo "$versions" | paste -sd: -)"
    fi
fi

python=${PYTHON:-python3}
venv=.venv-tox
if [ ! -x "$venv/bin/tox" ]; then
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "tox>=4.23,<5"
fi
exec "$venv/bin/tox" "$@"
