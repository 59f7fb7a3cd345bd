"""Reload: after any load, every loaded video equals its last source, replaced as a unit.

Each case id is one way a video's tree can change between two loads (new ids,
fewer nodes, root only, ...), for both Bolt methods: load the old source and
an untouched neighbour, load the changed video again, and the database must
equal a clean load of the new source and the neighbour -- nodes,
relationships, properties, read with plain Cypher and compared with the truth
derived from the rows. A reload whose transaction fails leaves the old video
whole. The bulk path cannot reload: importing into a database that exists is
refused (before anything is exported, from the command line), and an export
into a directory that holds an earlier export leaves exactly the new files.
"""

from __future__ import annotations

import copy
import subprocess
import sys

import pyarrow as pa
import pytest

from graphkit.errors import CsvExportError, Neo4jImportError, Neo4jLoadError
from graphkit.loaders.neo4j import writer
from graphkit.loaders.neo4j.admin_import import run_import
from graphkit.loaders.neo4j.csv import export_csv
from graphkit.loaders.neo4j.writer import LOAD_METHODS, load_trees
from graphkit.schema import SOURCE_SCHEMA
from graphkit.tree import TreeBatch
from tests.factories import video_row
from tests.paths import ROOT
from tests.sink_truth import expected_graph, neo4j_graph, renamed_ids, write_rows

UID = "vidReload01"


def _trees(rows: list[dict]) -> TreeBatch:
    return TreeBatch.from_arrow(pa.Table.from_pylist(copy.deepcopy(rows), schema=SOURCE_SCHEMA))


def _old() -> dict:
    return video_row(UID)  # 7 segments, depth 3


def _new_ids() -> dict:
    return renamed_ids(_old(), "renamed")


def _fewer_nodes() -> dict:
    return video_row(UID, splits={"": 8.0, "0": 4.0})


def _root_only() -> dict:
    return video_row(UID, splits={})


def _more_nodes() -> dict:
    return video_row(UID, splits={"": 8.0, "0": 4.0, "01": 6.0, "1": 12.0, "11": 14.0, "110": 13.0})


def _same_ids_other_tree() -> dict:
    """The same node ids and shape, other times (so other durations, gaps, gpt and captions)."""
    return video_row(UID, splits={"": 12.0, "0": 4.0, "01": 8.0}, duration=20.0)


def _values_removed() -> dict:
    row = _old()
    row["metadata"].update(title=None, like_count=None, transcript=None)
    for node in row["nodes"]:
        node["plm_caption"] = None
        node["gpt"] = None
    return row


def _values_changed() -> dict:
    row = _old()
    row["metadata"].update(title="Another title", view_count=99, transcript=[{"time": "9", "text": "bye"}])
    for node in row["nodes"]:
        node["plm_action"] = f"{node['plm_action']} (edited)"
    return row


def _transcript_emptied() -> dict:
    row = _old()
    row["metadata"]["transcript"] = []
    return row


#: How a video changes between two loads.
CHANGES = {
    "new-ids": _new_ids,
    "fewer-nodes": _fewer_nodes,
    "root-only": _root_only,
    "more-nodes": _more_nodes,
    "same-ids-other-tree": _same_ids_other_tree,
    "values-removed": _values_removed,
    "values-changed": _values_changed,
    "transcript-emptied": _transcript_emptied,
    "unchanged": _old,
}

NEIGHBOUR = video_row("vidNeighbr1", splits={"": 3.0, "1": 5.0}, duration=8.0)


@pytest.mark.neo4j
@pytest.mark.parametrize("first", LOAD_METHODS, ids=lambda m: f"first-{m}")
@pytest.mark.parametrize("method", LOAD_METHODS)
@pytest.mark.parametrize("change", list(CHANGES))
def test_a_reload_leaves_exactly_the_last_source(neo4j_driver, change, method, first):
    load_trees(neo4j_driver, _trees([_old(), NEIGHBOUR]), method=first)
    new = CHANGES[change]()
    again = load_trees(neo4j_driver, _trees([new]), method=method, batch_size=1)
    assert again.videos == 1
    assert neo4j_graph(neo4j_driver) == expected_graph([new, NEIGHBOUR])
    if change == "unchanged":
        assert again.nodes_created == 0 and again.relationships_created == 0


@pytest.mark.neo4j
@pytest.mark.parametrize("method", LOAD_METHODS)
def test_a_reload_whose_transaction_fails_leaves_the_old_video_whole(neo4j_driver, monkeypatch, method):
    old = [_old(), NEIGHBOUR]
    load_trees(neo4j_driver, _trees(old))
    before = neo4j_graph(neo4j_driver)
    work = writer._create_chunk if method == "create" else writer._merge_chunk

    def fail_after_deleting(tx, parameters, replace, halt):
        work(tx, parameters, replace, halt)  # the old copy deleted or reconciled, the new one written...
        tx.run("UNWIND [1, 0] AS x RETURN 1 / x").consume()  # ...then the transaction fails: all rolls back

    monkeypatch.setattr(writer, "_create_chunk" if method == "create" else "_merge_chunk", fail_after_deleting)
    with pytest.raises(Neo4jLoadError, match="/ by zero"):
        load_trees(neo4j_driver, _trees([_root_only()]), method=method)
    assert neo4j_graph(neo4j_driver) == before == expected_graph(old)


@pytest.mark.neo4j
def test_a_merge_reload_keeps_other_tools_relationships_to_segments_that_stay(neo4j_driver):
    load_trees(neo4j_driver, _trees([_old()]))
    neo4j_driver.execute_query(
        "MATCH (s:Segment {video_uid: $uid}) WHERE s.node_id IN $ids CREATE (:Note {text: s.node_id})-[:ABOUT]->(s)",
        uid=UID, ids=[f"{UID}-n0", f"{UID}-n010"], database_="neo4j")
    new = _fewer_nodes()  # keeps n0, drops n010
    load_trees(neo4j_driver, _trees([new]), method="merge")
    notes, _, _ = neo4j_driver.execute_query(
        "MATCH (n:Note) OPTIONAL MATCH (n)-[:ABOUT]->(s) RETURN n.text AS note, s.node_id AS segment ORDER BY note",
        database_="neo4j")
    assert [(r["note"], r["segment"]) for r in notes] == [(f"{UID}-n0", f"{UID}-n0"), (f"{UID}-n010", None)]
    neo4j_driver.execute_query("MATCH (n:Note) DETACH DELETE n", database_="neo4j")
    assert neo4j_graph(neo4j_driver) == expected_graph([new])


# --- the bulk path: import only into a fresh database ------------------------


def test_import_into_an_existing_database_is_refused_and_leaves_it(tmp_path):
    export = export_csv(_trees([_old()]), tmp_path / "csv")
    store = tmp_path / "home" / "data" / "databases" / "neo4j"
    store.mkdir(parents=True)
    (store / "neostore").write_bytes(b"the old store")
    with pytest.raises(Neo4jImportError, match=r"^database 'neo4j' already exists in .*home; import needs a fresh home$"):
        run_import(export, tmp_path / "home")
    assert sorted(p.name for p in store.iterdir()) == ["neostore"]
    assert (store / "neostore").read_bytes() == b"the old store"


RUN_CLI = "import sys; from graphkit.cli import main; sys.argv = ['graphkit', *sys.argv[1:]]; main()"


def test_cli_import_into_an_existing_home_is_refused_before_exporting(tmp_path):
    source = tmp_path / "source.parquet"
    write_rows(source, [_old()])
    (tmp_path / "home" / "data" / "databases" / "neo4j").mkdir(parents=True)
    result = subprocess.run(
        [sys.executable, "-c", RUN_CLI, "neo4j", "export-csv", str(source), "--out", str(tmp_path / "csv"),
         "--import-into", str(tmp_path / "home")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"error: database 'neo4j' already exists in {tmp_path / 'home'}; import needs a fresh home"]
    assert not (tmp_path / "csv").exists()


#: kind -> (first export's options, second export's options)
REEXPORTS = {
    "plain-over-gzip-shards": ({"compress": True, "shards": 3}, {}),
    "gzip-shards-over-plain": ({}, {"compress": True, "shards": 2}),
    "fewer-shards-over-more": ({"compress": True, "shards": 4}, {"compress": True, "shards": 2}),
}


@pytest.mark.parametrize("kind", list(REEXPORTS))
def test_an_export_over_an_earlier_one_leaves_exactly_its_own_files(tmp_path, kind):
    before, after = REEXPORTS[kind]
    out = tmp_path / "csv"
    export_csv([_trees([_old()]), _trees([NEIGHBOUR])], out, **before)
    (out / "notes.txt").write_text("a file graphkit did not write stays")
    export = export_csv(_trees([_root_only()]), out, **after)
    written = {p.name for paths in export.shard_files.values() for p in paths}
    assert {p.name for p in out.iterdir()} == written | {"notes.txt"}
    assert export.row_counts == {"Video": 1, "Segment": 1, "PARENT_OF": 0, "NEXT": 0, "NEXT_LEAF": 0, "HAS_ROOT": 1}


def test_an_export_that_fails_removes_its_own_files_and_leaves_the_earlier_ones(tmp_path):
    out = tmp_path / "csv"
    export_csv(_trees([_old()]), out, compress=True, shards=2)
    names = sorted(p.name for p in out.iterdir())
    contents = {name: (out / name).read_bytes() for name in names}
    bad = _old()
    bad["video_uid"] = "vidBadArr01"
    bad["metadata"]["transcript"] = [{"time": "1", "text": "has \x1f inside"}]
    with pytest.raises(CsvExportError, match="^video 'vidBadArr01': element 0 of transcript_text holds the array"):
        export_csv([_trees([NEIGHBOUR]), _trees([bad])], out)  # plain files: other names than the shards
    assert sorted(p.name for p in out.iterdir()) == names
    assert {name: (out / name).read_bytes() for name in names} == contents
