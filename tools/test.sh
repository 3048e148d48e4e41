#!/usr/bin/env bash
# Set up and run the whole test matrix (tox) from a fresh clone: the README's test command, and what CI runs.
# Usage: bash tools/test.sh [tox arguments]      e.g.  bash tools/test.sh -m quick
set -euo pipefail
cd "$(dirname "$0")/.."

# pyenv shims answer only for the active version; put every installed 3.10-3.13 interpreter's own bin folder on
# PATH so that tox finds python3.10 ... python3.13 (the newest patch release of each minor version first).
if command -v pyenv >/dev/null 2>&1; then
    for version in $(pyenv versions --bare --skip-aliases 2>/dev/null | grep -E '^3\.(10|11|12|13)\.[0-9]+$' | sort -V); do
        PATH="$(pyenv root)/versions/$version/bin:$PATH"
    done
    export PATH
fi

# tox-uv creates the environments with uv (tox.ini requires it); uv uses those interpreters and never downloads one
export UV_PYTHON_DOWNLOADS=never

python=${PYTHON:-python3}
venv=.venv-tox
if [ ! -x "$venv/bin/tox" ] || ! "$venv/bin/python" -c "import tox_uv" 2>/dev/null; then
    [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "tox>=4.23,<5" "tox-uv>=1.20,<2"
fi
rm -f .tox/*/junit*.xml
if [ $# -eq 0 ]; then
    # the whole matrix, two environments at a time (one per core); each environment's log is printed as it ends
    set -- run-parallel --parallel 2 --parallel-no-spinner
fi
status=0
"$venv/bin/tox" "$@" || status=$?
"$venv/bin/python" tools/summary.py || true
exit $status
