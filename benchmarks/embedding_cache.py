"""Sentence-embedding features with the on-disk cache against encoding every segment, side by side in one run.

On the same synthetic videos, with the same encoder (``--encoder``, default
``minilm``), and the text each segment's features embed (its captions joined
with a space, never ``gpt`` text):

* **uncached** — the obvious code: the encoder run on every segment's text,
  batch by batch (model load included);
* **convert, first run** — :func:`graphkit.loaders.ondisk.build_shards` with
  ``FeatureConfig(text_encoder=...)`` and an empty embedding cache: each
  distinct text is embedded once and stored (model load included);
* **convert, rerun** — the same build into a new directory, as a rerun of
  ``graphkit convert --on-disk --text-encoder ...`` on the same data does:
  every text hits the cache and the model is never loaded.

Prints texts (segments) per second of each, the cache-hit rate of each
convert run, and the ratios (rerun vs first run is the issue's ≥ 20× claim);
``--json`` prints one object.

Usage:
    .venv/bin/python benchmarks/embedding_cache.py --videos 200 [--encoder minilm] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.compute as pc

from graphkit.features import FeatureConfig, text_encoder
from graphkit.loaders.embedding_cache import cached_text_encoder, clear_cached_encoders
from graphkit.loaders.ondisk import build_shards
from graphkit.loaders.synth import write_parquet
from graphkit.loaders.trees import iter_tree_batches
from graphkit.synth import SynthConfig
from graphkit.tasks import NodeTask


def run_uncached(source: str, task: NodeTask, batch_size: int) -> dict:
    started = time.perf_counter()
    encoder = text_encoder(task.features.text_encoder)
    texts = segments = 0
    for trees in iter_tree_batches(source, node_fields=task.node_fields, batch_size=batch_size):
        columns = [trees.text[name] for name in task.features.text_fields]
        joined = pc.binary_join_element_wise(*columns, " ", null_handling="skip")
        vectors = np.asarray(encoder.encode(joined), dtype=np.float32)
        segments += trees.num_nodes
        texts += int(pc.sum(pc.greater(pc.binary_length(joined), 0)).as_py() or 0)
        assert vectors.shape[0] == trees.num_nodes
    seconds = time.perf_counter() - started
    return {"segments": segments, "texts_encoded": texts, "seconds": seconds, "texts_per_s": segments / seconds}


def run_convert(source: str, out: Path, task: NodeTask, cache: Path, batch_size: int) -> dict:
    os.environ["GRAPHKIT_EMBEDDING_CACHE"] = str(cache)
    clear_cached_encoders()  # as in a new process: the model is loaded only on a miss
    started = time.perf_counter()
    manifest = build_shards([source], out, task, batch_size=batch_size)
    seconds = time.perf_counter() - started
    encoder = cached_text_encoder(task.features.text_encoder)
    asked = encoder.hits + encoder.misses
    return {"segments": manifest["segments"], "seconds": seconds, "texts_per_s": manifest["segments"] / seconds,
            "distinct_texts": asked, "cache_hits": encoder.hits, "cache_misses": encoder.misses,
            "hit_rate": encoder.hits / asked if asked else None, "model_loaded": encoder.loaded,
            "checksum": manifest["checksum"], "bytes_per_segment": manifest["bytes"] / manifest["segments"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=200)
    parser.add_argument("--mean-duration", type=float, default=None,
                        help="mean video length in seconds (default: the synthetic default)")
    parser.add_argument("--encoder", default="minilm", help="a graphkit.features.TEXT_ENCODERS name")
    parser.add_argument("--batch-size", type=int, default=256, help="videos per tree batch")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    task = NodeTask(features=FeatureConfig(text_encoder=args.encoder))
    config = SynthConfig() if args.mean_duration is None else SynthConfig(mean_video_duration=args.mean_duration)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = str(work / "videos.parquet")
        write_parquet(source, args.videos, seed=0, config=config)
        uncached = run_uncached(source, task, args.batch_size)
        first = run_convert(source, work / "first", task, work / "cache", args.batch_size)
        rerun = run_convert(source, work / "rerun", task, work / "cache", args.batch_size)
    assert first["checksum"] == rerun["checksum"], "a rerun from the cache must store the same dataset"
    result = {
        "videos": args.videos, "segments": first["segments"], "encoder": args.encoder,
        "uncached": uncached, "convert_first": first, "convert_rerun": rerun,
        "first_vs_uncached": first["texts_per_s"] / uncached["texts_per_s"],
        "rerun_vs_first": first["seconds"] / rerun["seconds"],
        "rerun_vs_uncached": rerun["texts_per_s"] / uncached["texts_per_s"],
        "cpus": len(os.sched_getaffinity(0)), "load_average": os.getloadavg()[0],
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"{args.videos} videos, {first['segments']:,} segments, {first['distinct_texts']:,} distinct texts, "
          f"encoder {args.encoder}")
    print("| method | seconds | texts/s | cache-hit rate |\n|---|---|---|---|")
    for name, r in (("uncached (every segment)", uncached), ("convert, first run", first),
                    ("convert, rerun", rerun)):
        rate = "-" if r.get("hit_rate") is None else f"{r['hit_rate']:.1%}"
        print(f"| {name} | {r['seconds']:,.2f} | {r['texts_per_s']:,.0f} | {rate} |")
    print(f"rerun {result['rerun_vs_first']:.1f}x faster than the first run and {result['rerun_vs_uncached']:.1f}x "
          f"than encoding every segment; first run {result['first_vs_uncached']:.2f}x the uncached speed "
          f"(load average {result['load_average']:.1f} on {result['cpus']} CPUs)")


if __name__ == "__main__":
    main()
