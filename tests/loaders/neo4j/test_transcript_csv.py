"""Transcript lines through the CSV export and the real neo4j-admin import, read back exactly."""

from __future__ import annotations

import secrets

import neo4j
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from graphkit import schema
from graphkit.loaders.neo4j import cypher
from graphkit.loaders.neo4j.admin_import import run_import
from graphkit.loaders.neo4j.csv import edge_header, export_csv, node_header
from graphkit.loaders.neo4j.reader import read_transcripts, read_trees
from graphkit.loaders.neo4j.server import DevServer
from graphkit.synth import generate_batch
from graphkit.tree import TreeBatch
from tests.neo4j_fixtures import FAST_START
from tests.paths import SAMPLE
from tests.sink_truth import expected_transcript, transcript_counts


def _source() -> pa.Table:
    tables = [pa.Table.from_batches([generate_batch(6, seed=4)])]
    if SAMPLE.is_file():
        tables.append(pq.read_table(SAMPLE))
    return pa.concat_tables(tables)


def test_headers_and_ids_follow_the_node_scheme(tmp_path):
    trees = TreeBatch.from_arrow(_source())
    export = export_csv([trees.select(slice(0, 3)), trees.select(slice(3, trees.num_videos))], tmp_path,
                        transcript=True)
    counts = transcript_counts(_source())
    assert {k: export.row_counts[k] for k in ("Transcript", "DURING", "IN_VIDEO")} == {
        k: counts[k] for k in ("Transcript", "DURING", "IN_VIDEO")}
    assert export.transcript.total("stored") == counts["Transcript"]
    lines = export.files["Transcript"].read_text().splitlines()
    assert lines[0] == ",".join(node_header(schema.TRANSCRIPT))
    assert export.files["DURING"].read_text().splitlines()[0] == ",".join(edge_header(schema.DURING))
    assert export.files["IN_VIDEO"].read_text().splitlines()[0] == ",".join(edge_header(schema.IN_VIDEO))
    # Import ids run on over the batches: each line has its own, each relationship names a real one.
    read = pacsv.ParseOptions(newlines_in_values=True)
    ids = pacsv.read_csv(export.files["Transcript"], parse_options=read).column(0).to_pylist()
    assert ids == list(range(counts["Transcript"]))
    for key in ("DURING", "IN_VIDEO"):
        starts = pacsv.read_csv(export.files[key], parse_options=read).column(0).to_pylist()
        assert set(starts) <= set(ids) and len(starts) == counts[key]
    args = export.import_args()
    assert sum(a.startswith("--nodes=") for a in args) == 3 and sum(a.startswith("--relationships=") for a in args) == 6
    # An export without the transcript into the same directory leaves no transcript file behind.
    again = export_csv(trees, tmp_path)
    assert "Transcript" not in again.files and again.transcript is None
    assert not any(p.name.startswith(("transcripts", "during", "in_video")) for p in tmp_path.iterdir())


@pytest.mark.neo4j
@pytest.mark.slow
def test_import_then_read_back_is_exact(tmp_path):
    source = _source()
    trees = TreeBatch.from_arrow(source)
    export = export_csv([trees.select(slice(i, i + 4)) for i in range(0, trees.num_videos, 4)],
                        tmp_path / "csv", compress=True, shards=2, transcript=True)
    run_import(export, tmp_path / "home")
    server = DevServer(tmp_path / "home", password=secrets.token_urlsafe(12), jvm_options=FAST_START)
    server.start(timeout=300.0)
    try:
        with neo4j.GraphDatabase.driver(server.uri, auth=server.auth) as driver:
            uids = trees.video_uid.to_pylist()
            assert read_transcripts(driver, uids).to_pylist() == expected_transcript(source)
            counts = transcript_counts(source)
            for spec in (schema.TRANSCRIPT, schema.DURING, schema.IN_VIDEO):
                key = getattr(spec, "label", None) or spec.name
                found = driver.execute_query(cypher.count_query(spec), database_="neo4j").records[0]["count"]
                assert found == counts[key], key
            back = read_trees(driver, uids)
            assert back.node_id.equals(trees.node_id)
    finally:
        server.stop()
