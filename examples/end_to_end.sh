#!/usr/bin/env bash
# The main job, end to end on generated data: synthetic Action100M parquet ->
# validated statistics -> a compact on-disk PyG dataset (sharded, memory-mapped) ->
# one video's tree, timeline and interactive viewer -> a hierarchy-aware GNN baseline trained from that
# dataset on disk and evaluated (metrics printed as JSON) -> every hierarchy contrastive loss on a batch ->
# a dev Neo4j: the videos loaded, cookbook queries, full-text and vector search, predictions written back.
# Usage: bash examples/end_to_end.sh [OUT_DIR] [VIDEOS]
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
OUT=${1:-out}
VIDEOS=${2:-200}
mkdir -p "$OUT"
gk() { .venv/bin/graphkit "$@"; }

gk synth --videos "$VIDEOS" --seed 0 --out "$OUT/synthetic.parquet"
gk stats "$OUT/synthetic.parquet"
gk stats "$OUT/synthetic.parquet" --json > "$OUT/stats.json"
gk convert "$OUT/synthetic.parquet" --out "$OUT/pyg" --on-disk --json | tee "$OUT/convert.json"
gk show "$OUT/synthetic.parquet" --max-level 3 --png "$OUT/timeline.png" --html "$OUT/viewer.html" --overwrite
# Trains from the shards convert wrote (reused as they match their inputs, not processed again).
gk train "$OUT/synthetic.parquet" --dataset-root "$OUT/pyg" --on-disk --model hier --epochs 20 --seed 0 \
  --out "$OUT/hier"
gk evaluate "$OUT/hier" --json | tee "$OUT/hier/test_metrics.json"

# A batch of the dataset through every hierarchy contrastive loss, embedded by the trained encoder.
.venv/bin/python examples/tree_losses.py "$OUT/pyg" --run "$OUT/hier" --out "$OUT/losses.json"

# Neo4j: a dev server of our own (Java 17 + Maven), the videos loaded, cookbook queries.
outputs="synthetic.parquet stats.json convert.json pyg/ timeline.png viewer.html hier/ losses.json"
if ! command -v java > /dev/null || ! java -version 2>&1 | grep -Eq 'version "(1[7-9]|2[0-9])'; then
    echo "skipping the Neo4j part: it needs Java 17 or later on PATH (found: $(java -version 2>&1 | head -1 || echo none))"
elif ! command -v mvn > /dev/null; then
    echo "skipping the Neo4j part: building the dev server needs Maven (mvn) on PATH"
else
    mkdir -p "$OUT/neo4j"
    port=$(.venv/bin/python -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
    export NEO4J_URI="bolt://127.0.0.1:$port" NEO4J_USERNAME=neo4j NEO4J_PASSWORD=graphkit-dev
    # Not through gk: a function run in the background is a subshell, and SIGTERM to it would orphan the server.
    .venv/bin/graphkit neo4j serve --port "$port" > "$OUT/neo4j/server.log" 2>&1 &
    server=$!
    # SIGTERM, not SIGINT: a script's background job ignores SIGINT. The server stops and removes its home.
    trap 'kill -TERM $server 2> /dev/null; wait $server 2> /dev/null || true' EXIT
    for _ in $(seq 600); do  # up to 5 minutes: the first start builds the launcher with Maven
        grep -q '^bolt://' "$OUT/neo4j/server.log" && break
        kill -0 $server 2> /dev/null || { cat "$OUT/neo4j/server.log" >&2; exit 1; }
        sleep 0.5
    done
    grep -q '^bolt://' "$OUT/neo4j/server.log" || { echo "error: the Neo4j dev server did not start" >&2; exit 1; }
    # Hashed action-brief embeddings for the vector index (--embed minilm for meaning; slow on a CPU).
    gk neo4j load "$OUT/synthetic.parquet" --embed hashing
    gk neo4j query level_histogram --json > "$OUT/neo4j/level_histogram.json"
    gk neo4j query deepest_videos --param limit=5 --json > "$OUT/neo4j/deepest_videos.json"
    gk neo4j query deepest_videos --param limit=5
    gk neo4j search "cut the dough" --k 5
    gk neo4j search "cut the dough" --k 5 --json > "$OUT/neo4j/search.json"
    gk neo4j search "cut the dough" --vector --k 5 --json > "$OUT/neo4j/vector_search.json"
    # The trained model's predictions onto the segments, then where it disagrees with the gpt label.
    gk neo4j write-predictions "$OUT/hier"
    gk neo4j query prediction_disagreements_by_level --param split=test
    gk neo4j query prediction_disagreements_by_level --param split=test --json > "$OUT/neo4j/disagreements.json"
    outputs="$outputs neo4j/"
fi
for output in $outputs; do
    [ -e "$OUT/$output" ] || { echo "error: $OUT/$output was not written" >&2; exit 1; }
done
echo "outputs in $OUT/: $outputs"
