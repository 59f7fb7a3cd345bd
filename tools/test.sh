#!/usr/bin/env bash
# The test command: installs what is missing, builds the Neo4j dev server
# (Java 17 + Maven), then runs the whole suite against a real Neo4j 5.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
if [ -f loaders/neo4j/devserver/pom.xml ]; then
    .venv/bin/python -c "from graphkit.loaders.neo4j.build import build_dev_server; build_dev_server()"
fi
exec .venv/bin/python -m pytest -n 2 "$@"
