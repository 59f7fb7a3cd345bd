#!/usr/bin/env bash
# Creates .venv (if missing) and installs graphkit with pinned dependencies.
# Needs only Python >= 3.10 and the package index; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.graphkit-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
    # pip's and setuptools' own chatter goes to a log, shown only if the install fails.
    log=.venv/install.log
    if ! { .venv/bin/python -m pip install --upgrade pip \
           && .venv/bin/python -m pip install -c constraints.txt -e ".[dev]"; } > "$log" 2>&1; then
        cat "$log" >&2
        echo "error: installing graphkit failed (log: $log)" >&2
        exit 1
    fi
    touch "$stamp"
fi
