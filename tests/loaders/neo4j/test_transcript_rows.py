"""Transcript lines in Neo4j: rows without a server; Bolt load, read-back and reload against a real one."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from graphkit import schema
from graphkit.loaders.neo4j import cypher
from graphkit.loaders.neo4j.reader import read_transcripts, read_trees
from graphkit.loaders.neo4j.transcript_rows import (
    transcript_index_lists,
    transcript_node_rows,
    transcript_relationship_rows,
)
from graphkit.loaders.neo4j.writer import LOAD_METHODS, load_trees
from graphkit.synth import generate_batch
from graphkit.transcript import align_transcript
from graphkit.tree import TreeBatch
from tests.paths import SAMPLE
from tests.sink_truth import expected_transcript, transcript_counts


def _count(driver, spec) -> int:
    return driver.execute_query(cypher.count_query(spec), database_="neo4j").records[0]["count"]


def _as_rows(table: pa.Table) -> list[dict]:
    return table.to_pylist()


@pytest.fixture(scope="module")
def source() -> pa.Table:
    return pa.Table.from_batches([generate_batch(5, seed=21)])


def test_rows_follow_the_lines(source):
    trees = TreeBatch.from_arrow(source)
    lines = align_transcript(trees)
    everything = slice(0, trees.num_videos)
    nodes = transcript_node_rows(trees, lines, everything)
    assert [(r["video_uid"], r["index"], r["time"], r["text"]) for r in nodes] == [
        (r["video_uid"], r["index"], r["time"], r["text"]) for r in expected_transcript(source)]
    during = transcript_relationship_rows(trees, lines, "DURING", everything)
    assert [(r["video_uid"], r["source"], r["target"]) for r in during] == [
        (r["video_uid"], r["index"], segment) for r in expected_transcript(source) for segment in r["segments"]]
    assert len(transcript_relationship_rows(trees, lines, "IN_VIDEO", everything)) == len(nodes)
    one = transcript_index_lists(trees, lines, slice(1, 2))
    assert one == [{"video_uid": trees.video_uid[1].as_py(),
                    "indexes": [r["index"] for r in nodes if r["video_uid"] == trees.video_uid[1].as_py()]}]
    with pytest.raises(ValueError, match="DURING"):
        transcript_relationship_rows(trees, lines, "NEXT", everything)


@pytest.mark.neo4j
@pytest.mark.parametrize("method", LOAD_METHODS)
def test_bolt_round_trip_is_exact(neo4j_driver, source, method):
    trees = TreeBatch.from_arrow(source)
    report = load_trees(neo4j_driver, trees, method=method, transcript=True, batch_size=500)
    expected = expected_transcript(source)
    uids = trees.video_uid.to_pylist()
    assert _as_rows(read_transcripts(neo4j_driver, uids)) == expected
    assert read_transcripts(neo4j_driver, uids).equals(align_transcript(trees).to_table(trees))
    counts = transcript_counts(source)
    assert _count(neo4j_driver, schema.TRANSCRIPT) == counts["Transcript"] > 0
    assert _count(neo4j_driver, schema.DURING) == counts["DURING"]
    assert _count(neo4j_driver, schema.IN_VIDEO) == counts["IN_VIDEO"]
    assert report.transcript.total("stored") == counts["Transcript"]
    # The trees read back as they were (the Video's transcript lists too).
    back = read_trees(neo4j_driver, uids)
    assert back.metadata.equals(trees.metadata) and back.node_id.equals(trees.node_id)
    # Rerunning leaves the same lines, and every one joins its own video.
    load_trees(neo4j_driver, trees, method=method, transcript=True)
    assert _as_rows(read_transcripts(neo4j_driver, uids)) == expected
    records, _, _ = neo4j_driver.execute_query(
        "MATCH (t:Transcript)-[:IN_VIDEO]->(v:Video) WHERE t.video_uid <> v.video_uid RETURN count(*) AS n "
        "UNION ALL MATCH (t:Transcript)-[:DURING]->(s:Segment) WHERE t.video_uid <> s.video_uid "
        "RETURN count(*) AS n", database_="neo4j")
    assert [r["n"] for r in records] == [0, 0]


def _edited(source: pa.Table) -> pa.Table:
    """The first video with fewer, moved and reworded lines; the second with none."""
    rows = source.to_pylist()
    transcript = rows[0]["metadata"]["transcript"]
    rows[0]["metadata"]["transcript"] = [{"time": "0.25", "text": "new first line"}] + [
        {"time": line["time"], "text": line["text"].upper()} for line in transcript[2:5]] + [
        {"time": "not a time", "text": "dropped"}]
    rows[1]["metadata"]["transcript"] = []
    return pa.Table.from_pylist(rows, schema=schema.SOURCE_SCHEMA)


@pytest.mark.neo4j
@pytest.mark.parametrize("first", LOAD_METHODS)
@pytest.mark.parametrize("second", LOAD_METHODS)
def test_reload_replaces_the_lines(neo4j_driver, source, first, second):
    load_trees(neo4j_driver, TreeBatch.from_arrow(source), method=first, transcript=True)
    edited = _edited(source)
    trees = TreeBatch.from_arrow(edited)
    uids = trees.video_uid.to_pylist()
    report = load_trees(neo4j_driver, trees, method=second, transcript=True)
    assert _as_rows(read_transcripts(neo4j_driver, uids)) == expected_transcript(edited)
    assert _count(neo4j_driver, schema.TRANSCRIPT) == transcript_counts(edited)["Transcript"]
    assert _count(neo4j_driver, schema.DURING) == transcript_counts(edited)["DURING"]
    assert report.transcript.problems()[0]["unparsable"] == 1
    # A reload without the transcript leaves none of the videos' lines behind.
    load_trees(neo4j_driver, trees.select([0, 1]), method=second)
    remaining = _as_rows(read_transcripts(neo4j_driver, uids))
    assert remaining == [line for line in expected_transcript(edited) if line["video_uid"] not in uids[:2]]
    assert _count(neo4j_driver, schema.IN_VIDEO) == len(remaining)


@pytest.mark.neo4j
@pytest.mark.skipif(not SAMPLE.exists(), reason="the real sample lives in ../shared/data")
def test_real_sample_counts_equal_an_independent_count(neo4j_driver):
    table = pq.read_table(SAMPLE)
    trees = TreeBatch.from_arrow(table)
    report = load_trees(neo4j_driver, trees, transcript=True)
    # Independently, straight from pyarrow's rows: every line, its time, the leaves holding it.
    counts = transcript_counts(table)
    lines = sum(len(row["metadata"]["transcript"] or []) for row in table.to_pylist())
    assert counts["Transcript"] == lines == 585  # every real line has a valid time
    assert _count(neo4j_driver, schema.TRANSCRIPT) == counts["Transcript"]
    assert _count(neo4j_driver, schema.DURING) == counts["DURING"]
    assert _count(neo4j_driver, schema.IN_VIDEO) == counts["IN_VIDEO"]
    assert report.transcript.total("outside") == counts["outside"]
    uids = trees.video_uid.to_pylist()
    assert _as_rows(read_transcripts(neo4j_driver, uids)) == expected_transcript(table)


@pytest.mark.neo4j
def test_the_line_identity_is_a_composite_uniqueness_constraint(neo4j_driver):
    import neo4j

    from graphkit.loaders.neo4j.writer import create_constraints

    create_constraints(neo4j_driver)
    names = neo4j_driver.execute_query("SHOW CONSTRAINTS YIELD name RETURN collect(name) AS names",
                                       database_="neo4j").records[0]["names"]
    assert "transcript_video_uid_index_unique" in names
    neo4j_driver.execute_query("CREATE (:Transcript {video_uid: 'v', index: 0})", database_="neo4j")
    neo4j_driver.execute_query("CREATE (:Transcript {video_uid: 'w', index: 0})", database_="neo4j")  # another video
    with pytest.raises(neo4j.exceptions.ConstraintError):
        neo4j_driver.execute_query("CREATE (:Transcript {video_uid: 'v', index: 0})", database_="neo4j")
