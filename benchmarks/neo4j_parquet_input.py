"""neo4j-admin's Parquet input (``--input-type=parquet``, beta since 5.25) against CSV, on the same trees.

The question: should graphkit's bulk path write Parquet for the importer
instead of CSV? Only if the import is faster *and* exact. This script writes
the same :func:`graphkit.loaders.neo4j.csv.import_tables` both ways:

* ``csv`` -- :func:`graphkit.loaders.neo4j.csv.export_csv` (plain files, the
  importer's multi-line parser, as real captions need);
* ``parquet`` -- one Parquet file per type, columns named by the same
  importer header (``:ID(Segment)``, ``:LABEL``...), ``string[]``
  columns as Parquet lists, float columns widened to float64 through their
  shortest decimal and declared ``:double`` (the value the CSV importer
  stores; declared ``:float`` the importer widens the float32 by value, so
  ``11.27`` became ``11.270000457763672``), snappy-compressed;

imports each into a fresh Neo4j home with the real importer, and, with
``--compare``, starts a dev server on each store and compares every node and
relationship with its properties *and their Cypher types* (``valueType``).

Neo4j 5.26's import tool reads Parquet through Hadoop classes whose
dependencies ``org.neo4j:neo4j-import-tool`` leaves out of its Maven POM
(``woodstox-core``, ``stax2-api``, ``commons-collections4``,
``hadoop-shaded-guava``); ``--classpath`` adds them (``mvn dependency:get``
puts them in ``~/.m2``). The dev server's jar does not carry them, because
the verdict (measured: slower than CSV) is not to use Parquet input.

Usage::

    mvn -q dependency:get -Dartifact=com.fasterxml.woodstox:woodstox-core:7.0.0   # and the other three
    python benchmarks/neo4j_parquet_input.py --source /tmp/p10.parquet --workdir /tmp --json
    python benchmarks/neo4j_parquet_input.py --videos 30 --compare        # exactness on a small set
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphkit import schema  # noqa: E402
from graphkit.loaders.neo4j.admin_import import admin_command, run_import  # noqa: E402
from graphkit.loaders.neo4j.build import build_dev_server  # noqa: E402
from graphkit.loaders.neo4j.csv import ARRAY_DELIMITER, ImportIds, csv_file_name, export_csv, import_tables  # noqa: E402
from graphkit.loaders.trees import iter_tree_batches  # noqa: E402
from graphkit.synth import generate_batch  # noqa: E402
from graphkit.tree import TreeBatch  # noqa: E402

M2 = Path.home() / ".m2" / "repository"
EXTRA_JARS = (
    "com/fasterxml/woodstox/woodstox-core/7.0.0/woodstox-core-7.0.0.jar",
    "org/codehaus/woodstox/stax2-api/4.2.2/stax2-api-4.2.2.jar",
    "org/apache/commons/commons-collections4/4.4/commons-collections4-4.4.jar",
    "org/apache/hadoop/thirdparty/hadoop-shaded-guava/1.4.0/hadoop-shaded-guava-1.4.0.jar",
)


def parquet_table(table: pa.Table) -> pa.Table:
    """The importer table as Parquet input: lists for ``string[]``, floats as the CSV importer stores them."""
    for index, field in enumerate(table.schema):
        column = table.column(index).combine_chunks()
        if field.name.endswith(":string[]"):
            # As in CSV, an empty list is stored as absent.
            empty = pc.fill_null(pc.equal(column, ""), False)
            lists = pc.split_pattern(column, ARRAY_DELIMITER)
            table = table.set_column(index, field.name, pc.if_else(empty, pa.nulls(len(column), lists.type), lists))
        elif pa.types.is_float32(field.type):
            # A ':float' Parquet column is read as float32 and widened by value
            # (11.270000457763672); the CSV importer parses the decimal as a
            # double (11.27). Declared ':double', the decimal's double is kept.
            name = field.name.removesuffix(":float") + ":double"
            table = table.set_column(index, name, column.cast(pa.string()).cast(pa.float64()))
    return table


def export_parquet(batches, out: Path) -> tuple[dict[str, Path], float]:
    out.mkdir(parents=True, exist_ok=True)
    writers: dict[str, pq.ParquetWriter] = {}
    paths: dict[str, Path] = {}
    busy = 0.0
    import_ids = ImportIds()
    for trees in batches:
        started = time.perf_counter()
        for key, table in import_tables(trees, import_ids.batch(trees)).items():
            table = parquet_table(table)
            if key not in writers:
                spec = next(s for s in (*schema.NODE_TYPES, *schema.EDGE_TYPES)
                            if getattr(s, "label", None) == key or getattr(s, "name", None) == key)
                paths[key] = out / csv_file_name(spec).replace(".csv", ".parquet")
                writers[key] = pq.ParquetWriter(paths[key], table.schema, compression="snappy")
            writers[key].write_table(table)
        busy += time.perf_counter() - started
    for writer in writers.values():
        writer.close()
    return paths, busy


def import_parquet(paths: dict[str, Path], home: Path, classpath: str) -> float:
    (home / "logs").mkdir(parents=True, exist_ok=True)
    nodes = {s.label for s in schema.NODE_TYPES}
    args = ["database", "import", "full", "neo4j", "--input-type=parquet", "--id-type=integer",
            "--normalize-types=true", "--skip-bad-relationships=false", "--skip-duplicate-nodes=false",
            "--bad-tolerance=0", f"--report-file={home / 'logs' / 'import.report'}"]
    args += [f"--nodes={p}" for k, p in paths.items() if k in nodes]
    args += [f"--relationships={p}" for k, p in paths.items() if k not in nodes]
    started = time.perf_counter()
    done = subprocess.run(admin_command(args, jar=classpath), env={**os.environ, "NEO4J_HOME": str(home)},
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0 or "IMPORT DONE" not in done.stdout:
        raise SystemExit(f"parquet import failed:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return seconds


def dump(home: Path) -> tuple[list[str], list[str]]:
    """Every node and relationship with each property's value and Cypher type, sorted."""
    import neo4j

    from graphkit.loaders.neo4j.server import DevServer

    with DevServer(home, password="compare-pw") as server, \
            neo4j.GraphDatabase.driver(server.uri, auth=server.auth) as driver:
        nodes = driver.execute_query(
            "MATCH (n) RETURN labels(n) AS l, [k IN keys(n) | [k, n[k], valueType(n[k])]] AS p",
            database_="neo4j").records
        rels = driver.execute_query(
            "MATCH (a)-[r]->(b) RETURN type(r) AS t, coalesce(a.node_id, a.video_uid) AS a, b.node_id AS b, "
            "[k IN keys(r) | [k, r[k], valueType(r[k])]] AS p", database_="neo4j").records
    return (sorted(repr((r["l"], sorted(map(tuple, r["p"])))) for r in nodes),
            sorted(repr((r["t"], r["a"], r["b"], sorted(map(tuple, r["p"])))) for r in rels))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=200, help="synthetic videos (without --source)")
    parser.add_argument("--source", type=Path, default=None, help="stream this parquet file instead")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--classpath", default=None,
                        help="extra jars for Parquet input, ':'-separated (default: the four in ~/.m2)")
    parser.add_argument("--compare", action="store_true", help="compare both stores entity by entity")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    extra = args.classpath or ":".join(str(M2 / jar) for jar in EXTRA_JARS)
    classpath = f"{build_dev_server()}:{extra}"

    def batches():
        if args.source is not None:
            return iter_tree_batches(args.source, node_fields=None, metadata=True)
        return [TreeBatch.from_arrow(generate_batch(args.videos, seed=0))]

    report: dict[str, object] = {"source": str(args.source) if args.source else f"synth {args.videos} videos"}
    with tempfile.TemporaryDirectory(prefix="graphkit-bench-parquet-", dir=args.workdir) as tmp:
        root = Path(tmp)
        exported = export_csv(batches(), root / "csv")
        imported = run_import(exported, root / "home-csv")
        report["csv"] = {"export_seconds": round(exported.seconds, 2), "megabytes": round(exported.bytes_written / 1e6, 1),
                         "import_seconds": round(imported.seconds, 2), "rows": exported.rows}
        shutil.rmtree(root / "csv")
        paths, busy = export_parquet(batches(), root / "parquet")
        size = sum(p.stat().st_size for p in paths.values())
        seconds = import_parquet(paths, root / "home-parquet", classpath)
        report["parquet"] = {"export_seconds": round(busy, 2), "megabytes": round(size / 1e6, 1),
                             "import_seconds": round(seconds, 2)}
        shutil.rmtree(root / "parquet")
        report["parquet_import_speedup"] = round(imported.seconds / seconds, 2)
        if args.compare:
            csv_graph, parquet_graph = dump(root / "home-csv"), dump(root / "home-parquet")
            report["exact"] = csv_graph == parquet_graph
            report["counts"] = {"csv": [len(x) for x in csv_graph], "parquet": [len(x) for x in parquet_graph]}
            if not report["exact"]:
                report["first_difference"] = sorted(set(parquet_graph[0]) ^ set(csv_graph[0]))[:2] or \
                    sorted(set(parquet_graph[1]) ^ set(csv_graph[1]))[:2]
    print(json.dumps(report) if args.json else json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
