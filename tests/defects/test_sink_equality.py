"""Every sink holds exactly its source, property for property, read back without graphkit.

The source is written to parquet and its truth derived from the rows as pyarrow
reads them (:mod:`tests.sink_truth`: plain Python, no ``TreeBatch``); each sink
is read with its own means: Neo4j with plain Cypher over the driver, networkx
from the graph's nodes and edges, the PyG datasets from their stores. The rows
mix synthetic videos, the tricky-caption video, two videos that share every
node id, an empty transcript, a video without metadata and, when present, the
real sample.
"""

from __future__ import annotations

import secrets

import neo4j
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from graphkit.loaders.neo4j.admin_import import run_import
from graphkit.loaders.neo4j.csv import export_csv
from graphkit.loaders.neo4j.reader import read_trees as read_back
from graphkit.loaders.neo4j.server import DevServer
from graphkit.loaders.neo4j.writer import LOAD_METHODS, load_trees
from graphkit.loaders.pyg_dataset import Action100MDataset, Action100MOnDiskDataset
from graphkit.loaders.trees import iter_tree_batches, read_trees
from graphkit.nx import to_networkx
from graphkit.schema import SOURCE_SCHEMA
from tests.neo4j_fixtures import FAST_START
from tests.paths import SAMPLE
from tests.sink_truth import (
    expected_graph,
    expected_pyg_videos,
    mixed_rows,
    neo4j_graph,
    networkx_graph,
    pyg_videos,
    write_rows,
)


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> tuple[str, list[dict]]:
    """The parquet file and its rows as pyarrow reads them back (what every sink is compared with)."""
    path = tmp_path_factory.mktemp("sink-equality") / "source.parquet"
    write_rows(path, mixed_rows(sample=SAMPLE))
    return str(path), pq.read_table(path).to_pylist()


def _batches(path: str, size: int = 4):
    return iter_tree_batches(path, node_fields=None, metadata=True, batch_size=size)


def test_the_source_holds_every_shape(source):
    _, rows = source
    uids = [row["video_uid"] for row in rows]
    assert {"trickyVID01", "vidShareA01", "vidShareB02", "vidEmptyTr1", "vidNoMeta01"} <= set(uids)
    ids = [[n["node_id"] for n in row["nodes"]] for row in rows if row["video_uid"].startswith("vidShare")]
    assert sorted(ids[0]) == sorted(ids[1])  # two videos, the same node ids


def test_networkx_holds_exactly_the_source(source):
    path, rows = source
    assert networkx_graph(to_networkx(read_trees(path, node_fields=None, metadata=True))) == expected_graph(rows)


@pytest.mark.neo4j
@pytest.mark.parametrize("method", LOAD_METHODS)
def test_bolt_load_holds_exactly_the_source(neo4j_driver, source, method):
    path, rows = source
    report = load_trees(neo4j_driver, _batches(path), method=method, batch_size=400, workers=2)
    assert report.videos == len(rows)
    assert neo4j_graph(neo4j_driver) == expected_graph(rows)


@pytest.mark.neo4j
def test_bolt_read_back_is_the_source(neo4j_driver, source):
    path, rows = source
    load_trees(neo4j_driver, _batches(path))
    back = read_back(neo4j_driver)  # graphkit's read-back, in canonical order
    table = pa.Table.from_pylist(rows, schema=SOURCE_SCHEMA)
    assert sorted(back.video_uid.to_pylist()) == sorted(table.column("video_uid").to_pylist())
    rows_back = _rows_of(back)
    assert expected_graph(rows_back) == expected_graph(rows)


def _rows_of(trees) -> list[dict]:
    """A read-back batch as source rows (the nested gpt struct and transcript rebuilt by the reader)."""
    from graphkit.loaders.neo4j.rows import segment_rows, video_rows

    videos = video_rows(trees)
    segments = segment_rows(trees)
    parents = trees.parent.tolist()
    out = []
    for v, video in enumerate(videos):
        lo, hi = int(trees.node_offsets[v]), int(trees.node_offsets[v + 1])
        nodes = []
        for i in range(lo, hi):
            seg = segments[i]
            gpt = {"summary": {"brief": seg.get("summary_brief"), "detailed": seg.get("summary_detailed")},
                   "action": {"brief": seg.get("action_brief"), "detailed": seg.get("action_detailed"),
                              "actor": seg.get("actor")}}
            nodes.append({"node_id": seg["node_id"], "parent_id": None if parents[i] < 0 else
                          segments[parents[i]]["node_id"], "level": seg["level"], "start": seg["start"],
                          "end": seg["end"], "plm_action": seg.get("plm_action"),
                          "plm_caption": seg.get("plm_caption"), "llama3_caption": seg.get("llama3_caption"),
                          "gpt": gpt})
        times, texts = video.get("transcript_time"), video.get("transcript_text")
        metadata = {k: video.get(k) for k in ("title", "description", "view_count", "like_count", "duration",
                                               "upload_date")}
        metadata["transcript"] = None if times is None else [{"time": t, "text": x} for t, x in zip(times, texts)]
        out.append({"video_uid": video["video_uid"], "metadata": metadata, "nodes": nodes})
    return out


@pytest.fixture(scope="module")
def imported(tmp_path_factory, source):
    """The source exported as gzip shards (batches of three videos), imported by the real neo4j-admin, served."""
    path, _ = source
    root = tmp_path_factory.mktemp("sink-equality-import")
    export = export_csv(_batches(path, 3), root / "csv", compress=True, shards=2)
    run_import(export, root / "home")
    server = DevServer(root / "home", password=secrets.token_urlsafe(12), jvm_options=FAST_START)
    server.start(timeout=300.0)
    try:
        with neo4j.GraphDatabase.driver(server.uri, auth=server.auth) as driver:
            yield driver
    finally:
        server.stop()


@pytest.mark.neo4j
@pytest.mark.slow
def test_csv_import_holds_exactly_the_source(imported, source):
    _, rows = source
    # Neo4j's importer cannot write an empty array: an empty transcript is absent there.
    assert neo4j_graph(imported) == expected_graph(rows, empty_lists=False)


@pytest.mark.parametrize("cls", [Action100MDataset, Action100MOnDiskDataset], ids=["in-memory", "on-disk"])
def test_pyg_dataset_holds_exactly_the_source(tmp_path, source, cls):
    path, rows = source
    dataset = cls(str(tmp_path / "dataset"), [path], batch_size=5, log=False)
    assert dataset.video_uids == [row["video_uid"] for row in rows]
    assert pyg_videos(dataset) == expected_pyg_videos(rows)
