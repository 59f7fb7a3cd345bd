"""Conversion speed: parquet → one PyG graph per video, side by side in one run.

Three ways over the same synthetic parquet (``graphkit.synth``, real schema):

* ``floor`` — only decode the structural columns (``video_uid`` and the
  nodes' ``node_id``, ``parent_id``, ``level``, ``start``, ``end``) into Arrow
  and numpy: the least any converter must do;
* ``naive`` — what a user writes without graphkit: rows as Python dicts, one
  ``networkx.MultiDiGraph`` per video with parent/child, same-level-next and
  next-leaf edges, then ``torch_geometric.utils.from_networkx``;
* ``graphkit`` — :func:`graphkit.loaders.trees.iter_tree_batches` (reading ahead in a
  background thread, validating every invariant) then
  :func:`graphkit.pyg.to_hetero_batch`, a PyG ``Batch`` holding one
  ``HeteroData`` per video with all typed edges and their reverses.

Each measurement runs in a fresh subprocess so its peak memory (max RSS above
the interpreter's baseline after imports) is its own. ``floor`` and
``graphkit`` take the best of ``--repeat`` runs on a warm page cache; ``naive``
runs once. Scales 1%, 10% and 100% of ``--nodes`` show how time and memory grow.

Usage::

    python benchmarks/convert.py --nodes 1000000          # table
    python benchmarks/convert.py --nodes 1000000 --json   # one JSON object
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

METHODS = ("floor", "naive", "graphkit")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _structure_batches(path: str, batch_size: int):
    import pyarrow.parquet as pq

    from graphkit.schema import STRUCTURE_FIELDS, leaf_paths

    columns = leaf_paths(STRUCTURE_FIELDS, metadata=False)
    yield from pq.ParquetFile(path).iter_batches(batch_size=batch_size, columns=columns)


def run_floor(path: str, batch_size: int) -> int:
    import pyarrow.compute as pc

    nodes = 0
    for batch in _structure_batches(path, batch_size):
        values = batch.column("nodes").flatten()
        for name in ("node_id", "parent_id"):
            pc.struct_field(values, name)
        for name in ("level", "start", "end"):
            pc.struct_field(values, name).to_numpy()
        nodes += len(values)
    return nodes


def run_naive(path: str, batch_size: int) -> int:
    import networkx as nx
    from torch_geometric.utils import from_networkx

    edge_code = {"parent_of": 0, "next": 1, "next_leaf": 2}
    nodes = 0
    for batch in _structure_batches(path, batch_size):
        for row in batch.to_pylist():
            graph = nx.MultiDiGraph()
            children: dict[str, list[str]] = {}
            by_level: dict[int, list[dict]] = {}
            for node in row["nodes"]:
                graph.add_node(node["node_id"], level=node["level"], start=node["start"], end=node["end"])
                by_level.setdefault(node["level"], []).append(node)
                if node["parent_id"] is not None:
                    children.setdefault(node["parent_id"], []).append(node["node_id"])
            for node in row["nodes"]:
                if node["parent_id"] is not None:
                    graph.add_edge(node["parent_id"], node["node_id"], edge_type=edge_code["parent_of"])
            for level_nodes in by_level.values():
                ordered = sorted(level_nodes, key=lambda n: n["start"])
                for a, b in zip(ordered, ordered[1:]):
                    graph.add_edge(a["node_id"], b["node_id"], edge_type=edge_code["next"])
            leaves = sorted((n for n in row["nodes"] if n["node_id"] not in children), key=lambda n: n["start"])
            for a, b in zip(leaves, leaves[1:]):
                graph.add_edge(a["node_id"], b["node_id"], edge_type=edge_code["next_leaf"])
            from_networkx(graph)
            nodes += len(row["nodes"])
    return nodes


def run_graphkit(path: str, batch_size: int) -> int:
    from graphkit.loaders.trees import iter_tree_batches
    from graphkit.pyg import to_hetero_batch

    nodes = 0
    for trees in iter_tree_batches(path, batch_size=batch_size):
        to_hetero_batch(trees)
        nodes += trees.num_nodes
    return nodes


def worker(method: str, path: str, batch_size: int, repeat: int) -> dict:
    """Run one method in this process; report best seconds and peak memory."""
    import networkx  # noqa: F401  (imports are not part of the measurement)
    import pyarrow.parquet  # noqa: F401
    import torch_geometric  # noqa: F401

    import graphkit.loaders.trees  # noqa: F401
    import graphkit.pyg  # noqa: F401

    baseline = _peak_rss_mb()
    run = {"floor": run_floor, "naive": run_naive, "graphkit": run_graphkit}[method]
    times, nodes = [], 0
    for _ in range(1 if method == "naive" else repeat):
        start = time.perf_counter()
        nodes = run(path, batch_size)
        times.append(time.perf_counter() - start)
    return {"seconds": min(times), "nodes": nodes, "peak_mb": _peak_rss_mb() - baseline}


def measure(method: str, path: str, batch_size: int, repeat: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", method, path, "--batch-size", str(batch_size),
         "--repeat", str(repeat)],
        check=True, capture_output=True, text=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["nodes_per_s"] = result["nodes"] / result["seconds"]
    return result


def make_data(directory: Path, nodes: int, seed: int) -> list[tuple[float, Path, int]]:
    """Synthetic files at 1%, 10% and 100% of ``nodes`` (the smaller ones are prefixes)."""
    from graphkit.loaders.synth import write_parquet

    pilot = directory / "pilot.parquet"
    write_parquet(pilot, 200, seed=seed)
    per_video = _count_nodes(pilot) / 200
    files = []
    for fraction in (0.01, 0.1, 1.0):
        videos = max(1, round(nodes * fraction / per_video))
        path = directory / f"synthetic-{fraction:g}.parquet"
        write_parquet(path, videos, seed=seed)
        files.append((fraction, path, videos))
    return files


def _count_nodes(path: Path) -> int:
    return sum(len(b.column("nodes").flatten()) for b in _structure_batches(str(path), 4096))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=1_000_000, help="segments at the 100%% scale")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=1024, help="videos per record batch")
    parser.add_argument("--repeat", type=int, default=3, help="runs of floor/graphkit (best is kept)")
    parser.add_argument("--data-dir", type=Path, default=None, help="keep the generated files here")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--worker", nargs=2, metavar=("METHOD", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        method, path = args.worker
        print(json.dumps(worker(method, path, args.batch_size, args.repeat)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        directory = args.data_dir or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        files = make_data(directory, args.nodes, args.seed)
        scales = []
        for fraction, path, videos in files:
            results = {m: measure(m, str(path), args.batch_size, args.repeat) for m in METHODS}
            nodes = {r["nodes"] for r in results.values()}
            assert len(nodes) == 1, f"methods saw different node counts: {nodes}"
            scales.append({
                "fraction": fraction,
                "videos": videos,
                "nodes": nodes.pop(),
                **{m: {k: round(v, 4) for k, v in r.items()} for m, r in results.items()},
                "speedup_vs_naive": results["naive"]["seconds"] / results["graphkit"]["seconds"],
                "ratio_to_floor": results["graphkit"]["seconds"] / results["floor"]["seconds"],
            })
    full = scales[-1]
    report = {
        "benchmark": "convert",
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "batch_size": args.batch_size,
        "nodes": full["nodes"],
        "speedup_vs_naive": round(full["speedup_vs_naive"], 2),
        "ratio_to_floor": round(full["ratio_to_floor"], 3),
        "nodes_per_s": {m: round(full[m]["nodes_per_s"]) for m in METHODS},
        "peak_mb": {m: round(full[m]["peak_mb"], 1) for m in METHODS},
        "scales": scales,
    }
    if args.json:
        print(json.dumps(report))
        return
    print(f"{'scale':>6} {'videos':>7} {'nodes':>9} | " + " | ".join(
        f"{m:>8} nodes/s  peak MB" for m in METHODS) + " | vs naive | vs floor")
    for s in scales:
        cells = " | ".join(f"{s[m]['nodes_per_s']:>16,.0f} {s[m]['peak_mb']:>8.1f}" for m in METHODS)
        print(f"{s['fraction']:>6.0%} {s['videos']:>7} {s['nodes']:>9} | {cells} | "
              f"{s['speedup_vs_naive']:>7.1f}x | {s['ratio_to_floor']:>7.2f}x")


if __name__ == "__main__":
    main()
