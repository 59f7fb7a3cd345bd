#!/usr/bin/env bash
# The main job, end to end on generated data: synthetic Action100M parquet ->
# validated statistics -> a compact on-disk PyG dataset (sharded, memory-mapped) ->
# one video's tree, timeline and interactive viewer -> a hierarchy-aware GNN baseline trained from that
# dataset on disk and evaluated (metrics printed as JSON).
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
echo "outputs in $OUT/: synthetic.parquet stats.json convert.json pyg/ timeline.png viewer.html hier/"
