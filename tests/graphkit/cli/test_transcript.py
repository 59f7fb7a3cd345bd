"""``graphkit transcript`` and ``--transcript`` on the Neo4j exports, run as users run them."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from graphkit.schema import SOURCE_SCHEMA
from tests.graphkit.cli.runner import graphkit

NODES = [{"node_id": "r", "parent_id": None, "level": 0, "start": 0.0, "end": 4.0},
         {"node_id": "a", "parent_id": "r", "level": 1, "start": 0.0, "end": 1.5},
         {"node_id": "b", "parent_id": "r", "level": 1, "start": 1.5, "end": 4.0}]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    def video(uid, times):
        lines = [{"time": t, "text": f"{uid} {i}"} for i, t in enumerate(times)]
        return {"video_uid": uid, "nodes": NODES, "metadata": {"title": uid, "transcript": lines}}

    rows = [video("good", ["0.5", "2"]), video("bad", ["1", "later", "-3", "9.5", "1e99"])]
    path = tmp_path_factory.mktemp("transcript") / "rows.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=SOURCE_SCHEMA), path)
    return path


def test_report_names_each_video_with_a_problem(source):
    result = graphkit("transcript", str(source))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "video 'bad': transcript: 1 outside, 1 unparsable, 1 negative, 1 non-finite of 5 lines "
        "(not stored: no valid time)",
        "7 transcript lines: 4 stored, 3 in a leaf, 1 outside every leaf, 1 unparsable, 1 negative, 1 non-finite",
    ]
    assert "WARNING" not in result.stderr


def test_json_has_every_video(source):
    result = graphkit("transcript", str(source), "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["videos"] == [
        {"video_uid": "good", "lines": 2, "stored": 2, "during": 2, "outside": 0, "unparsable": 0, "negative": 0,
         "non_finite": 0},
        {"video_uid": "bad", "lines": 5, "stored": 2, "during": 1, "outside": 1, "unparsable": 1, "negative": 1,
         "non_finite": 1},
    ]
    assert out["totals"] == {"lines": 7, "stored": 4, "during": 3, "outside": 1, "unparsable": 1, "negative": 1,
                             "non_finite": 1}


def test_export_csv_with_transcript_reports_and_writes_the_lines(source, tmp_path):
    result = graphkit("neo4j", "export-csv", str(source), "--out", str(tmp_path / "csv"), "--transcript")
    assert result.returncode == 0, result.stderr
    assert "video 'bad': transcript: 1 outside" in result.stderr
    assert "transcript: 4 of 7 lines stored, 3 in a leaf, 1 outside every leaf, 3 with an invalid time" in result.stderr
    assert len((tmp_path / "csv" / "transcripts.csv").read_text().splitlines()) == 1 + 4
    assert "--nodes=" + str(tmp_path / "csv" / "transcripts.csv") in result.stdout


def test_a_missing_source_is_one_error_line(tmp_path):
    result = graphkit("transcript", str(tmp_path / "missing.parquet"))
    assert result.returncode == 2 and result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1


@pytest.mark.neo4j
def test_neo4j_load_with_transcript_writes_and_reports(neo4j_server, neo4j_driver, source):
    result = graphkit("neo4j", "load", str(source), "--uri", neo4j_server.uri, "--user", neo4j_server.user,
                      "--password", neo4j_server.password, "--transcript")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("loaded 2 videos: ")
    assert "video 'bad': transcript: 1 outside, 1 unparsable, 1 negative, 1 non-finite of 5 lines" in result.stderr
    assert "transcript: 4 of 7 lines stored" in result.stderr
    records, _, _ = neo4j_driver.execute_query(
        "MATCH (t:Transcript) OPTIONAL MATCH (t)-[:DURING]->(s:Segment) "
        "RETURN t.video_uid AS uid, t.index AS i, t.time AS time, s.node_id AS leaf ORDER BY uid, i",
        database_="neo4j")
    assert [tuple(r.values()) for r in records] == [
        ("bad", 0, 1.0, "a"), ("bad", 3, 9.5, None), ("good", 0, 0.5, "a"), ("good", 1, 2.0, "b")]
