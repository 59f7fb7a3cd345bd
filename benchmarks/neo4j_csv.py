"""Bulk-import CSV export speed, and the real importer's rate, side by side in one run.

Over the same synthetic trees (``graphkit.synth``, real schema, all text and
metadata), already decoded into :class:`~graphkit.tree.TreeBatch` batches:

* ``naive`` — what a user writes without graphkit: every node and
  relationship as a Python dict, written with :class:`csv.DictWriter` (one
  file per label and type, the same headers and values);
* ``graphkit`` — :func:`graphkit.loaders.neo4j.csv.export_csv`: Arrow columns written by
  ``pyarrow.csv``, batch by batch;
* ``gzip_one_thread`` — ``export_csv(compress=True, shards=1,
  compression_level=9)``: one gzip file per type at Arrow's default level,
  what ``--gzip`` did before the parallel shards (the "before" figure);
* ``gzip`` — ``export_csv(compress=True)``: one gzip shard per core and type
  (at most 8), written by as many threads, gzip level 1;
* ``import`` and ``import_gzip`` — the real ``neo4j-admin database import
  full`` on graphkit's plain files and on its gzip shards, each into a fresh
  Neo4j home (:func:`graphkit.loaders.neo4j.admin_import.run_import`; wall
  time including the JVM start), with the store's size on disk. Synthetic
  captions hold newlines, so the importer runs its slower multi-line parser,
  as it must on real data.

Rows are nodes plus relationships (all CSV data rows). ``graphkit`` takes the
best of ``--repeat`` runs; the others run once. With ``--source`` the trees
stream from a parquet file (``graphkit synth --videos 12000 --mean-duration 90``
is 10% of the preview), as ``graphkit neo4j export-csv`` reads them, and
``naive`` is skipped (it needs every batch in memory); the export times then
exclude the reading, as ``CsvExport.seconds`` does. ``--workdir`` puts the
files (several GB at that scale) somewhere with room; they are deleted at the
end.

Usage::

    python benchmarks/neo4j_csv.py                 # table, ~1.35M rows
    python benchmarks/neo4j_csv.py --json          # one JSON object
    python benchmarks/neo4j_csv.py --no-import     # skip the importer
    python benchmarks/neo4j_csv.py --source /tmp/p10.parquet --repeat 1 --workdir /tmp --json
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphkit import schema  # noqa: E402
from graphkit.loaders.neo4j.csv import ARRAY_DELIMITER, csv_file_name, edge_header, export_csv, node_header  # noqa: E402
from graphkit.loaders.neo4j.shards import default_shards  # noqa: E402
from graphkit.loaders.trees import iter_tree_batches  # noqa: E402
from graphkit.synth import generate_batch  # noqa: E402
from graphkit.tree import TreeBatch  # noqa: E402


def make_batches(num_videos: int, batch_size: int, seed: int) -> list[TreeBatch]:
    return [
        TreeBatch.from_arrow(generate_batch(min(batch_size, num_videos - first), seed=seed, first_video=first))
        for first in range(0, num_videos, batch_size)
    ]


def naive_export(batches: list[TreeBatch], out: Path) -> int:
    """Row dicts and csv.DictWriter: the obvious per-row Python code."""
    out.mkdir(parents=True, exist_ok=True)
    specs = [*schema.NODE_TYPES, *schema.EDGE_TYPES]
    handles = {spec: open(out / csv_file_name(spec), "w", newline="", encoding="utf-8") for spec in specs}
    writers = {}
    for spec, handle in handles.items():
        header = node_header(spec) if isinstance(spec, schema.NodeTypeSpec) else edge_header(spec)
        writers[spec] = csv.DictWriter(handle, fieldnames=header)
        writers[spec].writeheader()
    rows = 0
    first_video = first_segment = 0  # the integer import ids run on over the batches
    for trees in batches:
        uids = trees.video_uid.to_pylist()
        video_ids = list(range(first_video, first_video + len(uids)))
        for video_id, uid, meta in zip(video_ids, uids, trees.metadata.to_pylist()):
            transcript = meta["transcript"] or []
            writers[schema.VIDEO].writerow({
                ":ID(Video)": video_id, "video_uid:string": uid, "title:string": meta["title"],
                "description:string": meta["description"], "view_count:long": meta["view_count"],
                "like_count:long": meta["like_count"], "duration:long": meta["duration"],
                "upload_date:string": meta["upload_date"],
                "transcript_time:string[]": ARRAY_DELIMITER.join(t["time"] for t in transcript),
                "transcript_text:string[]": ARRAY_DELIMITER.join(t["text"] for t in transcript),
                ":LABEL": "Video",
            })
            rows += 1
        ids = trees.node_id.to_pylist()
        texts = {name: column.to_pylist() for name, column in trees.text.items()}
        video_index, level = trees.video_index.tolist(), trees.level.tolist()
        start, end, leaf = trees.start.tolist(), trees.end.tolist(), trees.is_leaf.tolist()
        keys = list(range(first_segment, first_segment + len(ids)))
        first_video, first_segment = first_video + len(uids), first_segment + len(ids)
        for i, node_id in enumerate(ids):
            row = {
                ":ID(Segment)": keys[i], "node_id:string": node_id, "video_uid:string": uids[video_index[i]],
                "level:int": level[i], "start:double": start[i], "end:double": end[i],
                "duration:double": end[i] - start[i], "is_leaf:boolean": "true" if leaf[i] else "false",
                ":LABEL": "Segment",
            }
            for name, values in texts.items():
                row[f"{name}:string"] = values[i]
            writers[schema.SEGMENT].writerow(row)
            rows += 1
        for spec in schema.EDGE_TYPES:
            edges = trees.edges(spec)
            sources = video_ids if spec.source is schema.VIDEO else keys
            header = edge_header(spec)
            attrs = [edges.attrs[p.name].tolist() for p in spec.properties]
            for k, (s, t) in enumerate(zip(edges.source.tolist(), edges.target.tolist())):
                row = {header[0]: sources[s], header[1]: keys[t], ":TYPE": spec.name}
                for column, values in zip(header[3:], attrs):
                    row[column] = values[k]
                writers[spec].writerow(row)
                rows += 1
    for handle in handles.values():
        handle.close()
    return rows


def _disk(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=1000, help="synthetic videos (~1,350 rows each)")
    parser.add_argument("--batch-size", type=int, default=250, help="videos per TreeBatch")
    parser.add_argument("--repeat", type=int, default=3, help="graphkit runs; the best counts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source", type=Path, default=None, help="stream this parquet file instead")
    parser.add_argument("--workdir", type=Path, default=None, help="where the files go (default: $TMPDIR)")
    parser.add_argument("--no-import", action="store_true", help="skip the real importer")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    if args.source is not None:
        def batches():
            return iter_tree_batches(args.source, node_fields=None, metadata=True, batch_size=args.batch_size)
        first = None
    else:
        first = make_batches(args.videos, args.batch_size, args.seed)
        for trees in first:  # derive the edges once, outside every timing
            for spec in schema.EDGE_TYPES:
                trees.edges(spec)

        def batches():
            return first
    report: dict[str, object] = {"source": str(args.source) if args.source else f"synth {args.videos} videos",
                                 "cpus": os.cpu_count()}
    if first is not None:
        report["videos"] = args.videos
    with tempfile.TemporaryDirectory(prefix="graphkit-bench-csv-", dir=args.workdir) as tmp:
        best = None
        for run in range(max(args.repeat, 1)):
            export = export_csv(batches(), Path(tmp) / f"graphkit{run}")
            if best is None or export.seconds < best.seconds:
                if best is not None:
                    shutil.rmtree(best.out_dir)
                best = export
            else:
                shutil.rmtree(export.out_dir)
        report.update(rows=best.rows, nodes=best.nodes, megabytes=round(best.bytes_written / 1e6, 1),
                      seconds=round(best.seconds, 3), rows_per_s=round(best.rows_per_s),
                      multiline=bool(best.multiline_files))
        before = export_csv(batches(), Path(tmp) / "gzip1", compress=True, shards=1, compression_level=9)
        report["gzip_one_thread"] = {"seconds": round(before.seconds, 3), "megabytes": round(before.bytes_written / 1e6, 1),
                                     "rows_per_s": round(before.rows_per_s), "level": 9}
        shutil.rmtree(before.out_dir)
        packed = export_csv(batches(), Path(tmp) / "gzip", compress=True)
        assert packed.row_counts == best.row_counts
        report["gzip"] = {"seconds": round(packed.seconds, 3), "megabytes": round(packed.bytes_written / 1e6, 1),
                          "rows_per_s": round(packed.rows_per_s), "shards": default_shards(True), "level": 1}
        report["gzip_speedup_vs_one_thread"] = round(before.seconds / packed.seconds, 2)
        if first is not None:
            started = time.perf_counter()
            naive_rows = naive_export(first, Path(tmp) / "naive")
            naive_seconds = time.perf_counter() - started
            shutil.rmtree(Path(tmp) / "naive")
            assert naive_rows == best.rows, (naive_rows, best.rows)
            report.update(naive_seconds=round(naive_seconds, 3), naive_rows_per_s=round(naive_rows / naive_seconds),
                          speedup_vs_naive=round(naive_seconds / best.seconds, 1))
        if not args.no_import:
            from graphkit.loaders.neo4j.admin_import import run_import

            for name, export in (("import", best), ("import_gzip", packed)):
                home = Path(tmp) / f"home-{name}"
                imported = run_import(export, home)
                report[name] = {"seconds": round(imported.seconds, 2), "rows_per_s": round(imported.rows_per_s),
                                "importer_reported_seconds": round(imported.importer_seconds, 2),
                                "store_megabytes": round(_disk(home / "data") / 1e6, 1)}
                shutil.rmtree(home)
    if args.json:
        print(json.dumps(report))
        return
    print(f"{report['rows']:,} rows ({report['nodes']:,} nodes), {report['megabytes']} MB of CSV")
    if "naive_seconds" in report:
        print(f"  naive (csv.DictWriter)     {report['naive_seconds']:8.2f} s {report['naive_rows_per_s']:>12,} rows/s")
    print(f"  graphkit export_csv        {report['seconds']:8.2f} s {report['rows_per_s']:>12,} rows/s"
          + (f"   ({report['speedup_vs_naive']}x)" if "speedup_vs_naive" in report else ""))
    for key, label in (("gzip_one_thread", "gzip, 1 file, level 9"), ("gzip", "gzip, shards, level 1")):
        row = report[key]
        print(f"  {label:<26} {row['seconds']:8.2f} s {row['rows_per_s']:>12,} rows/s   {row['megabytes']} MB")
    for key in ("import", "import_gzip"):
        if key in report:
            row = report[key]
            print(f"  neo4j-admin {key:<14} {row['seconds']:8.2f} s {row['rows_per_s']:>12,} rows/s"
                  f"   store {row['store_megabytes']} MB")


if __name__ == "__main__":
    main()
