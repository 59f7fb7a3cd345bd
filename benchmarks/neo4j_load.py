"""Bolt load speed into a real Neo4j: the obvious loader against graphkit's, in one run.

Over the same synthetic trees (``graphkit.synth``, real schema, all text and
metadata), already decoded into :class:`~graphkit.tree.TreeBatch` batches, so
only the writing is timed:

* ``naive`` -- what a user writes first: one ``CREATE`` statement per node and
  one ``MATCH ... CREATE`` per relationship, each an auto-commit transaction
  (``session.run``), values as parameters, with the same uniqueness
  constraints in place (without them every ``MATCH`` scans all nodes and the
  comparison would be unfair to the naive loader). It runs on a small slice
  (``--naive-videos``), as it is too slow for the full data;
* ``graphkit`` -- :func:`graphkit.loaders.neo4j.writer.load_trees` with its
  default ``method="create"``, the fresh-database fast path: chunks of whole
  videos of about ``--batch-size`` entities, each one transaction running one
  statement that ``CREATE`` s the nodes (column-wise parameters) and joins the
  relationships to them by position on the server, ``--workers`` concurrent
  sessions, with the driver's Rust extension (``neo4j-rust-ext``);
* ``graphkit_merge`` -- ``method="merge"``, the loader as it was before the
  fast path (``UNWIND $rows`` batches of ``--merge-batch-size`` rows,
  ``MERGE`` on the unique keys), the same workers: the "before" figure;
* ``graphkit_pure_python`` -- the ``create`` load in a subprocess where the
  Rust extension cannot be imported (the driver then uses its pure-Python
  PackStream codec), to show what the extension gives (``--no-pure-python``
  skips it).

Each load starts from an empty database (the constraints stay). Entities are
nodes plus relationships; the rate is entities per second of wall time.

The server is the project's dev server (:class:`graphkit.loaders.neo4j.server.DevServer`,
default JVM flags: the JIT compiler fully on; heap and page cache sized from
the machine unless ``--heap`` / ``--page-cache`` say otherwise) started here, unless
``NEO4J_URI`` (with ``NEO4J_USERNAME`` and ``NEO4J_PASSWORD``) names one --
whose database is then cleared.

Usage::

    python benchmarks/neo4j_load.py                       # table
    python benchmarks/neo4j_load.py --json                # one JSON object
    python benchmarks/neo4j_load.py --videos 2000 --naive-videos 10
    python benchmarks/neo4j_load.py --videos 12000 --mean-duration 90 --json   # 10% of the preview
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphkit import schema  # noqa: E402
from graphkit.loaders.neo4j import cypher  # noqa: E402
from graphkit.loaders.neo4j.connection import connect  # noqa: E402
from graphkit.loaders.neo4j.rows import entity_counts  # noqa: E402
from graphkit.loaders.neo4j.writer import create_constraints, load_trees  # noqa: E402
from graphkit.synth import SynthConfig, generate_batch  # noqa: E402
from graphkit.tree import TreeBatch  # noqa: E402


def make_batches(num_videos: int, batch_size: int, seed: int, first_video: int = 0,
                 mean_duration: float | None = None) -> list[TreeBatch]:
    config = SynthConfig(mean_video_duration=mean_duration) if mean_duration else None
    return [
        TreeBatch.from_arrow(generate_batch(min(batch_size, num_videos - first), seed=seed,
                                            first_video=first_video + first, config=config))
        for first in range(0, num_videos, batch_size)
    ]


def clear(driver) -> None:
    with driver.session(database="neo4j") as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()


def naive_load(driver, batches: list[TreeBatch]) -> int:
    """One auto-commit CREATE per node and per relationship: the obvious loader."""
    entities = 0
    with driver.session(database="neo4j") as session:
        for trees in batches:
            uids = trees.video_uid.to_pylist()
            ids = trees.node_id.to_pylist()
            for uid, meta in zip(uids, trees.metadata.to_pylist()):
                transcript = meta["transcript"] or []
                props = {k: v for k, v in meta.items() if k != "transcript" and v is not None}
                props["transcript_time"] = [t["time"] for t in transcript]
                props["transcript_text"] = [t["text"] for t in transcript]
                session.run("CREATE (v:Video {video_uid: $uid}) SET v += $props", uid=uid, props=props).consume()
                entities += 1
            texts = {name: column.to_pylist() for name, column in trees.text.items()}
            video_index, level = trees.video_index.tolist(), trees.level.tolist()
            start, end, leaf = trees.start.tolist(), trees.end.tolist(), trees.is_leaf.tolist()
            for i, node_id in enumerate(ids):
                props = {"node_id": node_id, "video_uid": uids[video_index[i]], "level": level[i],
                         "start": start[i], "end": end[i], "duration": end[i] - start[i], "is_leaf": leaf[i]}
                props.update({name: values[i] for name, values in texts.items() if values[i] is not None})
                session.run("CREATE (s:Segment) SET s = $props", props=props).consume()
                entities += 1
            for spec in schema.EDGE_TYPES:
                edges = trees.edges(spec)
                sources = uids if spec.source is schema.VIDEO else ids
                attrs = {name: values.tolist() for name, values in edges.attrs.items()}
                query = (
                    f"MATCH (a:{spec.source.label} {{{spec.source.key}: $a}}) "
                    f"MATCH (b:{spec.target.label} {{{spec.target.key}: $b}}) "
                    f"CREATE (a)-[r:{spec.name}]->(b) SET r = $props"
                )
                for j, (s, t) in enumerate(zip(edges.source.tolist(), edges.target.tolist())):
                    props = {name: values[j] for name, values in attrs.items()}
                    session.run(query, a=sources[s], b=ids[t], props=props).consume()
                    entities += 1
    return entities


def pure_python_measure(args: argparse.Namespace, uri: str, user: str, password: str) -> dict:
    """The graphkit load in a fresh interpreter where ``neo4j-rust-ext`` cannot be imported.

    The driver picks its PackStream codec when its modules are imported, so
    the extension is hidden (``sys.modules["neo4j._rust"] = None``) before
    ``neo4j`` is imported, in a subprocess.
    """
    env = {**os.environ, "NEO4J_URI": uri, "NEO4J_USERNAME": user, "NEO4J_PASSWORD": password}
    command = [sys.executable, __file__, "--worker-pure-python", "--videos", str(args.videos),
               "--batch-size", str(args.batch_size), "--workers", str(args.workers),
               "--read-batch", str(args.read_batch), "--seed", str(args.seed)]
    if args.mean_duration:
        command += ["--mean-duration", str(args.mean_duration)]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def pure_python_worker(args: argparse.Namespace) -> None:
    sys.modules["neo4j._rust"] = None  # type: ignore[assignment] - makes the import fail
    from neo4j._codec.packstream import v1

    assert v1._rust_pack is None, "the Rust extension is still in use"
    with connect() as driver:
        batches = make_batches(args.videos, args.read_batch, args.seed, mean_duration=args.mean_duration)
        result = measure(driver, batches, args.batch_size, args.workers)
    print(json.dumps(result))


def measure(driver, batches: list[TreeBatch], batch_size: int, workers: int, method: str = "create") -> dict:
    clear(driver)
    report = load_trees(driver, batches, batch_size=batch_size, workers=workers, method=method)
    counts = {}
    for spec in (*schema.NODE_TYPES, *schema.EDGE_TYPES):
        query = cypher.count_query(spec)
        counts[getattr(spec, "label", None) or spec.name] = driver.execute_query(
            query, database_="neo4j").records[0]["count"]
    return {"entities": report.entities, "seconds": report.seconds, "entities_per_s": report.entities_per_s,
            "nodes": report.nodes, "relationships": report.relationships, "stored": counts}


def run(args: argparse.Namespace, driver, credentials: tuple[str, str, str], server_memory: dict) -> dict:
    batches = make_batches(args.videos, args.read_batch, args.seed, mean_duration=args.mean_duration)
    naive_batches = make_batches(args.naive_videos, args.read_batch, args.seed, first_video=10**6,
                                 mean_duration=args.mean_duration)
    counts = {k: 0 for k in entity_counts(batches[0])}
    for trees in batches:
        for k, v in entity_counts(trees).items():
            counts[k] += v
    from neo4j._codec.packstream import v1

    clear(driver)
    create_constraints(driver)

    started = time.perf_counter()
    naive_entities = naive_load(driver, naive_batches)
    naive_seconds = time.perf_counter() - started
    naive_rate = naive_entities / naive_seconds

    # Warm the server's JIT on a small load first, so the order of the runs matters less.
    measure(driver, batches[:1], args.batch_size, args.workers)
    measure(driver, batches[:1], args.merge_batch_size, args.workers, method="merge")
    ours = measure(driver, batches, args.batch_size, args.workers)
    merged = measure(driver, batches, args.merge_batch_size, args.workers, method="merge")
    assert ours["stored"] == merged["stored"] == counts, (ours["stored"], merged["stored"], counts)
    pure = pure_python_measure(args, *credentials) if args.pure_python else None
    clear(driver)
    return {
        "benchmark": "neo4j_load",
        "videos": args.videos,
        "counts": counts,
        "batch_size": args.batch_size,
        "workers": args.workers,
        "naive": {"videos": args.naive_videos, "entities": naive_entities, "seconds": naive_seconds,
                  "entities_per_s": naive_rate, "transactions": "auto-commit, one per statement"},
        "graphkit": ours,
        "graphkit_merge": merged,
        "graphkit_pure_python": pure,
        "entities_per_s": ours["entities_per_s"],
        "merge_entities_per_s": merged["entities_per_s"],
        "speedup_vs_naive": ours["entities_per_s"] / naive_rate,
        "speedup_vs_merge": ours["entities_per_s"] / merged["entities_per_s"],
        "rust_ext_speedup": ours["entities_per_s"] / pure["entities_per_s"] if pure else None,
        "server": server_memory,
        "rust_ext_installed": v1._rust_pack is not None,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=500, help="videos loaded by graphkit (default 500)")
    parser.add_argument("--naive-videos", type=int, default=20, help="videos loaded by the naive loader")
    parser.add_argument("--batch-size", type=int, default=10_000, help="entities per create transaction")
    parser.add_argument("--merge-batch-size", type=int, default=10_000, help="rows per MERGE transaction")
    parser.add_argument("--mean-duration", type=float, default=None, help="synthetic mean video duration (s)")
    parser.add_argument("--heap", default=None, help="dev server heap (default: sized from the machine)")
    parser.add_argument("--page-cache", default=None, help="dev server page cache (default: sized)")
    parser.add_argument("--no-pure-python", dest="pure_python", action="store_false",
                        help="skip the run without the Rust extension")
    parser.add_argument("--workers", type=int, default=2, help="concurrent writer sessions of graphkit's loader")
    parser.add_argument("--read-batch", type=int, default=256, help="videos per TreeBatch")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--worker-pure-python", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_pure_python:
        pure_python_worker(args)
        return

    server = None
    if os.environ.get("NEO4J_URI"):
        credentials = (os.environ["NEO4J_URI"], os.environ.get("NEO4J_USERNAME", "neo4j"),
                       os.environ.get("NEO4J_PASSWORD", ""))
    else:
        from graphkit.loaders.neo4j.server import DevServer

        server = DevServer(password="benchmark-pw", page_cache=args.page_cache, heap=args.heap)
        server.start(timeout=300.0)
        credentials = (server.uri, server.user, server.password)
    server_memory = {"heap": server.heap, "page_cache": server.page_cache} if server else {}
    try:
        with connect(*credentials) as driver:
            result = run(args, driver, credentials, server_memory)
    finally:
        if server is not None:
            server.stop()
    if args.json:
        print(json.dumps(result))
        return
    naive, ours, pure = result["naive"], result["graphkit"], result["graphkit_pure_python"]
    print(f"{'loader':<32}{'videos':>8}{'entities':>12}{'seconds':>10}{'entities/s':>14}")
    print(f"{'naive CREATE (auto-commit)':<32}{naive['videos']:>8}{naive['entities']:>12,}"
          f"{naive['seconds']:>10.1f}{naive['entities_per_s']:>14,.0f}")
    rows = [("graphkit create (rust ext)", ours), ("graphkit merge (rust ext)", result["graphkit_merge"])]
    if pure:
        rows.append(("graphkit create (pure Python)", pure))
    for name, row in rows:
        print(f"{name:<32}{args.videos:>8}{row['entities']:>12,}{row['seconds']:>10.1f}"
              f"{row['entities_per_s']:>14,.0f}")
    print(f"create vs merge: {result['speedup_vs_merge']:.2f}x; vs naive: {result['speedup_vs_naive']:.0f}x"
          + (f"; Rust extension: {result['rust_ext_speedup']:.2f}x" if pure else ""))


if __name__ == "__main__":
    main()
