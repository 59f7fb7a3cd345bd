#!/usr/bin/env bash
# The test command: installs what is missing (Python packages; Debian's chromium for the
# viewer's browser tests), builds the Neo4j dev server (Java 17 + Maven), then runs the
# whole suite against a real Neo4j 5.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
# The viewer's browser tests (tests/graphkit/test_viewer_browser.py) drive Debian's chromium headless;
# they fail, never skip, without it. Installed once from the Debian archive (instant when present).
if ! command -v chromium > /dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null 2>&1; then
        log=$(mktemp)
        if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
               chromium; } > "$log" 2>&1; then
            cat "$log" >&2
            echo "error: installing chromium failed (log: $log)" >&2
            exit 1
        fi
        rm -f "$log"
    else
        echo "warning: chromium is missing (as root: apt-get install --no-install-recommends chromium);" \
             "the viewer's browser tests will fail" >&2
    fi
fi
if [ -f loaders/neo4j/devserver/pom.xml ]; then
    .venv/bin/python -c "from graphkit.loaders.neo4j.build import build_dev_server; build_dev_server()"
fi
# The slowest tests are listed so that a slow addition is seen in every CI log.
exec .venv/bin/python -m pytest -n 2 --durations=25 "$@"
