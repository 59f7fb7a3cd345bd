"""Identity across videos: a segment is (video_uid, node_id) in every sink; one video_uid twice is refused.

Each case id is one defect kind, made from valid rows (:mod:`tests.factories`,
:mod:`tests.sink_truth`). Two kinds of input used to go wrong:

* videos that share ``node_id`` s (valid: ids are unique within a video) were
  merged by the Bolt load (3 segments of 6, both ``HAS_ROOT`` on one root),
  by ``to_networkx``, and refused late by the importer; now every sink holds
  each video as its own tree, compared with the source's truth read with
  pyarrow and the sink read without graphkit;
* the same ``video_uid`` twice in one stream is refused with an
  :class:`~graphkit.errors.InvariantError` naming the video and both
  positions, and the sink holds exactly the videos before it -- never a merge
  of the two copies.
"""

from __future__ import annotations

import copy
import os
import secrets
import subprocess
import sys

import neo4j
import pyarrow as pa
import pytest

from graphkit.errors import InvariantError
from graphkit.loaders.neo4j.admin_import import run_import
from graphkit.loaders.neo4j.cookbook import run_query
from graphkit.loaders.neo4j.csv import export_csv
from graphkit.loaders.neo4j.reader import read_trees as read_back
from graphkit.loaders.neo4j.server import DevServer
from graphkit.loaders.neo4j.writer import load_trees
from graphkit.nx import to_networkx
from graphkit.schema import SOURCE_SCHEMA
from graphkit.tree import TreeBatch
from tests.factories import video_row
from tests.neo4j_fixtures import FAST_START
from tests.paths import ROOT
from tests.sink_truth import expected_graph, neo4j_graph, networkx_graph, shared_id_pair, subgraph, write_rows


def _trees(rows: list[dict]) -> TreeBatch:
    return TreeBatch.from_arrow(pa.Table.from_pylist(copy.deepcopy(rows), schema=SOURCE_SCHEMA))


def _uid_as_node_id() -> list[dict]:
    """Video A's root has the id of video B (the old networkx keys made them one node)."""
    a, b = video_row("vidClashA01"), video_row("vidClashB02", splits={"": 6.0})
    root = a["nodes"][0]["node_id"]
    for node in a["nodes"]:
        node["node_id"] = "vidClashB02" if node["node_id"] == root else node["node_id"]
        node["parent_id"] = "vidClashB02" if node["parent_id"] == root else node["parent_id"]
    return [a, b]


def _partly_shared() -> list[dict]:
    """Two videos whose roots and first children share ids, their other segments not."""
    from tests.sink_truth import renamed_ids

    a = video_row("vidPartA001", splits={"": 8.0})
    b = video_row("vidPartB002", splits={"": 4.0, "1": 10.0}, duration=16.0)
    b = renamed_ids(b, "vidPartA001")
    for node in b["nodes"]:
        if node["node_id"].endswith("-n10") or node["node_id"].endswith("-n11"):
            node["node_id"] = node["node_id"].replace("vidPartA001", "vidPartB002")
    return [a, b]


#: Valid videos that must stay apart: kind -> rows.
SHARING = {
    "all-node-ids-shared": shared_id_pair,
    "root-and-children-ids-shared": _partly_shared,
    "root-id-equals-another-video-uid": _uid_as_node_id,
}


# --- videos that share node ids stay apart, in every sink ----------------------


@pytest.mark.parametrize("kind", list(SHARING))
def test_networkx_keeps_videos_that_share_ids_apart(kind):
    rows = SHARING[kind]()
    graph = to_networkx(_trees(rows))
    assert networkx_graph(graph) == expected_graph(rows)
    assert graph.number_of_nodes() == len(rows) + sum(len(r["nodes"]) for r in rows)


@pytest.mark.neo4j
@pytest.mark.parametrize("split", ["one-load", "a-load-each"])
@pytest.mark.parametrize("method", ["create", "merge"])
@pytest.mark.parametrize("kind", list(SHARING))
def test_bolt_keeps_videos_that_share_ids_apart(neo4j_driver, kind, method, split):
    rows = SHARING[kind]()
    loads = [rows] if split == "one-load" else [[row] for row in rows]
    for part in loads:
        load_trees(neo4j_driver, _trees(part), method=method, batch_size=1)  # a chunk, and a worker, each
    assert neo4j_graph(neo4j_driver) == expected_graph(rows)


@pytest.mark.neo4j
def test_read_back_of_videos_that_share_ids_is_each_source(neo4j_driver):
    rows = shared_id_pair()
    load_trees(neo4j_driver, _trees(rows))
    back = read_back(neo4j_driver, [r["video_uid"] for r in rows])
    assert back.nodes_per_video.tolist() == [len(r["nodes"]) for r in rows]
    assert back.text["plm_caption"].to_pylist() == [n["plm_caption"] for r in rows for n in
                                                    sorted(r["nodes"], key=lambda n: (n["level"], n["start"]))]


@pytest.mark.neo4j
@pytest.mark.parametrize("query", ["path_to_segment", "subtree_captions"])
def test_cookbook_queries_about_one_segment_stay_in_its_video(neo4j_driver, query):
    a, b = shared_id_pair()
    load_trees(neo4j_driver, _trees([a, b]))
    leaf = "vidShareA01-n010"
    got = run_query(neo4j_driver, query, {"video_uid": "vidShareB02", "node_id": leaf})
    b_starts = {n["node_id"]: n["start"] for n in b["nodes"]}
    if query == "path_to_segment":
        assert [r["node_id"] for r in got] == ["vidShareA01-nroot", "vidShareA01-n0", "vidShareA01-n01", leaf]
        assert {r["video_uid"] for r in got} == {"vidShareB02"}
    else:
        assert [r["node_id"] for r in got] == [leaf]
    assert [r["start"] for r in got] == [b_starts[r["node_id"]] for r in got]  # B's times, not A's


@pytest.mark.neo4j
def test_a_database_with_the_old_node_id_constraint_takes_videos_that_share_ids(neo4j_driver):
    neo4j_driver.execute_query("CREATE CONSTRAINT segment_node_id_unique IF NOT EXISTS "
                               "FOR (n:Segment) REQUIRE n.node_id IS UNIQUE", database_="neo4j")
    rows = shared_id_pair()
    try:
        load_trees(neo4j_driver, _trees(rows))
        assert neo4j_graph(neo4j_driver) == expected_graph(rows)
        names = {r["name"] for r in neo4j_driver.execute_query("SHOW CONSTRAINTS YIELD name", database_="neo4j")[0]}
        assert "segment_node_id_unique" not in names and "segment_video_uid_node_id_unique" in names
    finally:
        neo4j_driver.execute_query("DROP CONSTRAINT segment_node_id_unique IF EXISTS", database_="neo4j")


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """Every SHARING kind exported and imported by the real neo4j-admin, and served."""
    rows = [row for make in SHARING.values() for row in make()]
    root = tmp_path_factory.mktemp("identity-import")
    run_import(export_csv([_trees([row]) for row in rows], root / "csv"), root / "home")
    server = DevServer(root / "home", password=secrets.token_urlsafe(12), jvm_options=FAST_START)
    server.start(timeout=300.0)
    try:
        with neo4j.GraphDatabase.driver(server.uri, auth=server.auth) as driver:
            yield neo4j_graph(driver)
    finally:
        server.stop()


@pytest.mark.neo4j
@pytest.mark.slow
@pytest.mark.parametrize("kind", list(SHARING))
def test_csv_import_keeps_videos_that_share_ids_apart(imported, kind):
    rows = SHARING[kind]()
    assert subgraph(imported, [r["video_uid"] for r in rows]) == expected_graph(rows)


# --- one video_uid twice in a stream is refused, never merged ----------------


def _dup() -> dict:
    return video_row("vidDupl0001")


def _dup_changed() -> dict:
    """The same video_uid with another tree: still the same video twice."""
    return video_row("vidDupl0001", splits={"": 2.0}, duration=4.0)


#: kind -> (batches of rows, message positions, rows that must be written)
REPEATS = {
    "twice-in-one-batch": ([[_dup(), _dup()]], "#1 and #2", []),
    "in-two-batches": ([[video_row("vidFirst001"), _dup()], [video_row("vidOther001"), _dup()]], "#2 and #4",
                       [video_row("vidFirst001"), _dup()]),
    "changed-copy-in-a-later-batch": ([[_dup()], [_dup_changed()]], "#1 and #2", [_dup()]),
}
_MESSAGE = "video 'vidDupl0001': duplicate_video_uid: video_uid occurs twice in {stream}, as videos {where}"


def _batches(kind: str) -> list[TreeBatch]:
    batches, _, _ = REPEATS[kind]
    # Each batch is valid on its own; concat skips the per-batch duplicate check, as a caller's batches might.
    return [TreeBatch.concat([_trees([row]) for row in rows]) for rows in batches]


@pytest.mark.neo4j
@pytest.mark.parametrize("method", ["create", "merge"])
@pytest.mark.parametrize("kind", list(REPEATS))
def test_bolt_refuses_a_video_twice_and_holds_exactly_the_videos_before(neo4j_driver, kind, method):
    _, where, written = REPEATS[kind]
    with pytest.raises(InvariantError, match="^" + _MESSAGE.format(stream="the load", where=where)):
        load_trees(neo4j_driver, _batches(kind), method=method, batch_size=1)
    assert neo4j_graph(neo4j_driver) == expected_graph(written)


@pytest.mark.parametrize("kind", list(REPEATS))
def test_csv_export_refuses_a_video_twice(tmp_path, kind):
    _, where, _ = REPEATS[kind]
    with pytest.raises(InvariantError, match="^" + _MESSAGE.format(stream="the CSV export", where=where)):
        export_csv(_batches(kind), tmp_path / "csv")


def test_networkx_refuses_a_video_twice():
    with pytest.raises(InvariantError, match="^" + _MESSAGE.format(stream="the graph", where="#1 and #2")):
        to_networkx(_batches("twice-in-one-batch")[0])


RUN_CLI = "import sys; from graphkit.cli import main; sys.argv = ['graphkit', *sys.argv[1:]]; main()"


def _two_files(tmp_path) -> list[str]:
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    write_rows(first, [video_row("vidFirst001"), _dup()])
    write_rows(second, [video_row("vidOther001"), _dup_changed()])
    return [str(first), str(second)]


@pytest.mark.neo4j
def test_cli_load_of_two_files_holding_one_video_is_one_line_and_loads_the_first_file(
        neo4j_server, neo4j_driver, tmp_path):  # noqa: F811
    env = {**os.environ, "NEO4J_URI": neo4j_server.uri, "NEO4J_USERNAME": neo4j_server.user,
           "NEO4J_PASSWORD": neo4j_server.password}
    result = subprocess.run([sys.executable, "-c", RUN_CLI, "neo4j", "load", *_two_files(tmp_path)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: video 'vidDupl0001': duplicate_video_uid: "), lines
    assert neo4j_graph(neo4j_driver) == expected_graph([video_row("vidFirst001"), _dup()])


def test_cli_export_of_two_files_holding_one_video_is_one_line_and_no_import_command(tmp_path):
    result = subprocess.run([sys.executable, "-c", RUN_CLI, "neo4j", "export-csv", *_two_files(tmp_path),
                             "--out", str(tmp_path / "csv")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: video 'vidDupl0001': duplicate_video_uid: "), lines
    assert "neo4j-admin" not in result.stdout
