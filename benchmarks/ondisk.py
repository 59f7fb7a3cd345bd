"""The on-disk dataset against PyG's ``OnDiskDataset``, side by side in one run.

Both store the same videos with the same features, labels and masks, built
from the same tree batches:

* **pyg** — the obvious code: each video's ``HeteroData`` (cloned, so a record
  holds only its own tensors) appended to PyG's SQLite ``OnDiskDataset``,
  read back through PyG's ``DataLoader``;
* **graphkit** — :func:`graphkit.loaders.ondisk.build_shards` (compact
  memory-mapped shards) read back through
  :meth:`graphkit.loaders.batches.ShardedVideos.loader`.

Prints bytes per segment on disk, write and read segments/s and the ratios;
``--json`` prints one object.

Usage:
    .venv/bin/python benchmarks/ondisk.py --videos 1200 [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from torch_geometric.data import OnDiskDataset
from torch_geometric.loader import DataLoader

from graphkit.loaders.batches import ShardedVideos
from graphkit.loaders.ondisk import build_shards
from graphkit.loaders.synth import write_parquet
from graphkit.loaders.trees import iter_tree_batches
from graphkit.pyg import to_hetero_batch
from graphkit.synth import SynthConfig
from graphkit.tasks import NodeTask


class _SQLiteVideos(OnDiskDataset):
    def __init__(self, root: str) -> None:
        super().__init__(root, log=False)

    def process(self) -> None:  # filled by the benchmark
        pass


def _directory_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def run_pyg(source: str, work: Path, task: NodeTask, batch_size: int) -> dict:
    started = time.perf_counter()
    vocabulary = task.fit_vocabulary(iter_tree_batches(source, node_fields=task.node_fields))
    dataset = _SQLiteVideos(str(work / "pyg"))
    segments = 0
    for trees in iter_tree_batches(source, node_fields=task.node_fields):
        arrays = task.arrays(trees, vocabulary)
        batch = to_hetero_batch(trees, {k: v for k, v in arrays.items() if k != "split"})
        graphs = [graph.clone() for graph in batch.to_data_list()]
        dataset.extend(graphs)
        segments += trees.num_nodes
    written = time.perf_counter() - started
    started = time.perf_counter()
    read = sum(b["segment"].num_nodes for b in DataLoader(dataset, batch_size=batch_size))
    reading = time.perf_counter() - started
    size = _directory_bytes(work / "pyg")
    dataset.close()
    return {"segments": segments, "bytes_per_segment": size / segments, "write_segments_per_s": segments / written,
            "read_segments_per_s": read / reading}


def run_graphkit(source: str, work: Path, task: NodeTask, batch_size: int) -> dict:
    started = time.perf_counter()
    manifest = build_shards([source], work / "graphkit", task)
    written = time.perf_counter() - started
    videos = ShardedVideos(work / "graphkit", manifest)
    started = time.perf_counter()
    read = sum(b["segment"].num_nodes for b in videos.loader(np.arange(len(videos)), batch_size=batch_size))
    reading = time.perf_counter() - started
    return {"segments": manifest["segments"], "bytes_per_segment": manifest["bytes"] / manifest["segments"],
            "write_segments_per_s": manifest["segments"] / written, "read_segments_per_s": read / reading}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=1200)
    parser.add_argument("--mean-duration", type=float, default=90.0)
    parser.add_argument("--batch-size", type=int, default=32, help="videos per read batch")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    task = NodeTask()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = str(work / "videos.parquet")
        write_parquet(source, args.videos, seed=0, config=SynthConfig(mean_video_duration=args.mean_duration))
        pyg = run_pyg(source, work, task, args.batch_size)
        ours = run_graphkit(source, work, task, args.batch_size)
    result = {
        "videos": args.videos, "segments": ours["segments"], "pyg": pyg, "graphkit": ours,
        "smaller": pyg["bytes_per_segment"] / ours["bytes_per_segment"],
        "write_speedup": ours["write_segments_per_s"] / pyg["write_segments_per_s"],
        "read_speedup": ours["read_segments_per_s"] / pyg["read_segments_per_s"],
        "cpus": len(os.sched_getaffinity(0)), "load_average": os.getloadavg()[0],
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"{args.videos} videos, {ours['segments']:,} segments")
    print("| method | bytes/segment | write segments/s | read segments/s |\n|---|---|---|---|")
    for name in ("pyg", "graphkit"):
        r = result[name]
        print(f"| {name} | {r['bytes_per_segment']:,.1f} | {r['write_segments_per_s']:,.0f} | "
              f"{r['read_segments_per_s']:,.0f} |")
    print(f"graphkit: {result['smaller']:.1f}x smaller, writes {result['write_speedup']:.1f}x and reads "
          f"{result['read_speedup']:.1f}x faster (load average {result['load_average']:.1f})")


if __name__ == "__main__":
    main()
