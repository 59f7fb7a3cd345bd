from __future__ import annotations

import socket
import threading

import neo4j
import numpy as np
import pyarrow as pa
import pytest

from graphkit import schema
from graphkit.errors import Neo4jLoadError
from graphkit.loaders.neo4j import cypher
from graphkit.loaders.neo4j.connection import connect
from graphkit.loaders.neo4j.rows import entity_counts, video_chunks
from graphkit.loaders.neo4j.server import DevServer
from graphkit.loaders.neo4j.writer import LOAD_METHODS, LoadReport, load_trees
from graphkit.synth import generate_batch
from graphkit.tree import TreeBatch
from tests.neo4j_fixtures import FAST_START, clear_database


@pytest.fixture
def driver(neo4j_driver):
    return neo4j_driver


def _counts(driver: neo4j.Driver) -> dict[str, int]:
    return {
        getattr(spec, "label", None) or spec.name:
        driver.execute_query(cypher.count_query(spec), database_="neo4j").records[0]["count"]
        for spec in (*schema.NODE_TYPES, *schema.EDGE_TYPES)
    }


def _graph(driver: neo4j.Driver) -> tuple[list, list]:
    """Every node and relationship with its properties, in a comparable order."""
    nodes, _, _ = driver.execute_query(
        "MATCH (n) RETURN labels(n) AS labels, properties(n) AS props", database_="neo4j")
    rels, _, _ = driver.execute_query(
        "MATCH (a)-[r]->(b) RETURN type(r) AS type, coalesce(a.node_id, a.video_uid) AS a, "
        "b.node_id AS b, properties(r) AS props", database_="neo4j")
    return (sorted(repr((r["labels"], sorted(r["props"].items()))) for r in nodes),
            sorted(repr((r["type"], r["a"], r["b"], sorted(r["props"].items()))) for r in rels))


@pytest.fixture(scope="module")
def trees() -> TreeBatch:
    return TreeBatch.from_arrow(generate_batch(4, seed=11))


# --- without a server --------------------------------------------------------


def test_report_summary_is_one_line():
    report = LoadReport(videos=2, nodes=1000, relationships=3000, seconds=2.0, nodes_created=10)
    assert report.entities == 4000 and report.entities_per_s == 2000.0
    assert report.summary() == "loaded 2 videos: 1,000 nodes, 3,000 relationships in 2.00 s (2,000 entities/s)"
    assert LoadReport(0, 0, 0, 0.0).entities_per_s == 0.0


@pytest.mark.parametrize("batch_size", [0, -5, 2.5, True])
def test_a_bad_batch_size_is_refused_before_connecting(batch_size):
    with pytest.raises(ValueError, match=f"batch_size must be a positive integer, got {batch_size!r}"):
        load_trees(None, [], batch_size=batch_size)


def test_an_unknown_method_is_refused_before_connecting():
    with pytest.raises(ValueError, match="method must be one of 'create', 'merge', got 'upsert'"):
        load_trees(None, [], method="upsert")


def test_chunks_are_whole_videos_of_about_batch_size_entities(trees):
    per_video = [sum(entity_counts(trees.select([v])).values()) for v in range(trees.num_videos)]
    assert video_chunks(trees, 10**9) == [slice(0, 4)]
    assert video_chunks(trees, 1) == [slice(v, v + 1) for v in range(4)]
    chunks = video_chunks(trees, per_video[0] + per_video[1])
    assert chunks[0] == slice(0, 2) and chunks[-1].stop == 4
    assert [c.start for c in chunks[1:]] == [c.stop for c in chunks[:-1]]
    assert video_chunks(trees.select([]), 100) == []


def test_connect_needs_a_password(monkeypatch):
    monkeypatch.delenv("NEO4J_PASSWORD", raising=False)
    with pytest.raises(Neo4jLoadError, match="^no Neo4j password: pass --password or set NEO4J_PASSWORD$"):
        connect("bolt://127.0.0.1:7687", "neo4j")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_server_gives_one_clear_line(monkeypatch, trees):
    monkeypatch.setenv("NEO4J_URI", f"bolt://127.0.0.1:{_free_port()}")
    monkeypatch.setenv("NEO4J_PASSWORD", "whatever-pw")
    with connect() as driver, pytest.raises(Neo4jLoadError, match="^cannot reach the Neo4j server: ") as info:
        load_trees(driver, trees)
    assert "\n" not in str(info.value) and "whatever-pw" not in str(info.value)


# --- against the real server --------------------------------------------------


@pytest.mark.neo4j
@pytest.mark.parametrize("method", LOAD_METHODS)
@pytest.mark.parametrize("batch_size", [10_000, 97])
def test_counts_after_a_load_equal_the_batch_counts(driver, trees, batch_size, method):
    seen: list[LoadReport] = []
    report = load_trees(driver, trees, batch_size=batch_size, method=method, progress=seen.append)
    expected = entity_counts(trees)
    assert _counts(driver) == expected
    assert report.videos == 4 and report.nodes == expected["Video"] + expected["Segment"]
    assert report.relationships == sum(expected[s.name] for s in schema.EDGE_TYPES)
    assert report.nodes_created == report.nodes and report.relationships_created == report.relationships
    # Both methods: one call per transaction, i.e. per chunk of whole videos, and the final report.
    calls = 2 if batch_size == 10_000 else 5
    assert seen[-1] == report and len(seen) >= calls
    assert [r.entities for r in seen] == sorted(r.entities for r in seen)


@pytest.mark.neo4j
@pytest.mark.parametrize("method", LOAD_METHODS)
def test_a_second_load_creates_nothing_new(driver, trees, method):
    load_trees(driver, trees, method=method)
    before = _graph(driver)
    again = load_trees(driver, [trees.select([0, 1]), trees.select([2, 3])], method=method)
    assert again.nodes_created == 0 and again.relationships_created == 0
    assert again.entities == sum(entity_counts(trees).values())
    assert _graph(driver) == before


@pytest.mark.neo4j
@pytest.mark.parametrize("method", LOAD_METHODS)
def test_a_partial_then_full_load_equals_a_clean_load(driver, trees, method):
    load_trees(driver, trees, method=method)
    clean = _graph(driver)
    clear_database(driver)
    # An interrupted load: the first video complete, the second's nodes only.
    load_trees(driver, trees.select([0]), method=method)
    with driver.session(database="neo4j") as session:
        from graphkit.loaders.neo4j.rows import segment_rows
        second = trees.select([1])
        session.execute_write(lambda tx: tx.run(cypher.upsert_nodes_query(schema.SEGMENT),
                                                rows=segment_rows(second)[:50]).consume())
    resumed = load_trees(driver, trees, method=method)
    assert 0 < resumed.nodes_created < resumed.nodes
    assert _graph(driver) == clean


HOSTILE = [
    '"}) DETACH DELETE n //',
    "'}) MATCH (m) DETACH DELETE m RETURN 1 //",
    "back\\slash \\n \\u0041 $rows {rows}",
    "line one\nline two\r\n\ttab",
    "Ünïcödé ✂️ 紙を切る \u200b",
    "",
]


@pytest.mark.neo4j
def test_hostile_captions_are_stored_verbatim_and_nothing_runs(driver):
    rows = generate_batch(2, seed=3).to_pylist()
    rows[1]["video_uid"] = "x'}) DETACH DELETE n //"
    for row in rows:
        for i, node in enumerate(row["nodes"]):
            node["plm_caption"] = HOSTILE[i % len(HOSTILE)]
            if node["gpt"] is not None:
                node["gpt"]["action"]["brief"] = HOSTILE[(i + 1) % len(HOSTILE)]
    trees = TreeBatch.from_arrow(pa.Table.from_pylist(rows, schema=schema.SOURCE_SCHEMA))
    driver.execute_query("CREATE (:Sentinel {name: 'still here'})", database_="neo4j")
    load_trees(driver, trees)
    stored, _, _ = driver.execute_query(
        "MATCH (s:Segment) RETURN s.node_id AS id, s.plm_caption AS caption, s.action_brief AS brief",
        database_="neo4j")
    by_id = {r["id"]: (r["caption"], r["brief"]) for r in stored}
    ids = trees.node_id.to_pylist()
    assert {by_id[i] for i in ids} == set(zip(trees.text["plm_caption"].to_pylist(),
                                              trees.text["action_brief"].to_pylist()))
    assert [by_id[i][0] for i in ids] == trees.text["plm_caption"].to_pylist()
    assert _counts(driver) == entity_counts(trees)
    records, _, _ = driver.execute_query("MATCH (s:Sentinel) RETURN s.name AS name", database_="neo4j")
    assert [r["name"] for r in records] == ["still here"]
    uids, _, _ = driver.execute_query(cypher.read_video_uids_query(), database_="neo4j")
    assert "x'}) DETACH DELETE n //" in [r["video_uid"] for r in uids]


@pytest.mark.neo4j
def test_a_wrong_password_gives_one_clear_line(neo4j_server, trees):  # noqa: F811
    with connect(neo4j_server.uri, neo4j_server.user, "wrong-password-123") as driver:
        with pytest.raises(Neo4jLoadError) as info:
            load_trees(driver, trees)
    assert str(info.value) == "Neo4j refused the credentials: wrong user name or password"
    assert isinstance(info.value.__cause__, neo4j.exceptions.AuthError)


@pytest.mark.neo4j
def test_a_missing_database_gives_one_clear_line(driver, trees):
    with pytest.raises(Neo4jLoadError) as info:
        load_trees(driver, trees, database="no_such_db")
    assert str(info.value) == "Neo4j has no database 'no_such_db'"


@pytest.mark.neo4j
def test_batches_must_be_tree_batches(driver):
    with pytest.raises(TypeError, match="batches must hold TreeBatch objects, got dict"):
        load_trees(driver, [{"video_uid": "x"}])


@pytest.mark.neo4j
@pytest.mark.slow
def test_killing_the_server_mid_load_then_rerunning_ends_like_a_clean_load(tmp_path):
    trees = TreeBatch.from_arrow(generate_batch(40, seed=21))
    expected = entity_counts(trees)
    server = DevServer(tmp_path / "home", password="kill-test-pw", bolt_port=_free_port(),
                       page_cache="64m", heap="512m", jvm_options=FAST_START)
    server.start(timeout=300.0)
    try:
        started = threading.Event()

        def on_progress(report: LoadReport) -> None:
            if report.entities >= 3_000:
                started.set()

        def killer() -> None:
            started.wait(120)
            server._kill()  # SIGKILL, no clean shutdown: likely mid-transaction

        thread = threading.Thread(target=killer)
        thread.start()
        with connect(server.uri, server.user, server.password, max_transaction_retry_time=1.0) as driver:
            with pytest.raises(Neo4jLoadError, match="^cannot reach the Neo4j server") as info:
                load_trees(driver, trees, batch_size=500, progress=on_progress)
        thread.join()
        assert "\n" not in str(info.value)
        server.stop()
        server.start(timeout=300.0)  # same data directory, same port: the same command
        with connect(server.uri, server.user, server.password) as driver:
            partial = _counts(driver)
            assert 0 < sum(partial.values()) < sum(expected.values())
            resumed = load_trees(driver, trees, batch_size=500)
            assert 0 < resumed.nodes_created + resumed.relationships_created < resumed.entities
            assert _counts(driver) == expected
    finally:
        server.stop()


# --- the fast path: CREATE whole videos, replace on reload --------------------


def _rich_trees() -> TreeBatch:
    """Synthetic videos, the tricky-caption video and, when present, the real sample."""
    from graphkit.loaders.trees import read_trees
    from tests.factories import tricky_rows
    from tests.paths import SAMPLE

    parts = [TreeBatch.from_arrow(generate_batch(6, seed=5)), TreeBatch.from_arrow(tricky_rows())]
    if SAMPLE.is_file():
        parts.append(read_trees(SAMPLE, node_fields=None, metadata=True))
    return TreeBatch.concat(parts)


@pytest.mark.neo4j
@pytest.mark.parametrize(("batch_size", "workers"), [(10_000, 1), (300, 3)])
def test_fresh_database_create_path_equals_the_merge_path(driver, batch_size, workers):
    trees = _rich_trees()
    batches = [trees.select(slice(0, 3)), trees.select(slice(3, None))]
    load_trees(driver, batches, method="merge")
    merged = _graph(driver)
    clear_database(driver)
    report = load_trees(driver, batches, method="create", batch_size=batch_size, workers=workers)
    assert _graph(driver) == merged
    assert _counts(driver) == entity_counts(trees)
    assert report.nodes_created == report.nodes and report.relationships_created == report.relationships


def _renamed(table: pa.Table, uids: list[str]) -> pa.Table:
    """The same trees under other video ids (node ids follow, so they stay unique)."""
    rows = table.to_pylist()
    for row, uid in zip(rows, uids):
        old = row["video_uid"]
        row["video_uid"] = uid
        for node in row["nodes"]:
            node["node_id"] = node["node_id"].replace(old, uid) if old in node["node_id"] else uid + node["node_id"]
            if node["parent_id"] is not None:
                node["parent_id"] = (node["parent_id"].replace(old, uid) if old in node["parent_id"]
                                     else uid + node["parent_id"])
    return pa.Table.from_pylist(rows, schema=schema.SOURCE_SCHEMA)


@pytest.mark.neo4j
@pytest.mark.parametrize("workers", [1, 2])
def test_a_reload_leaves_exactly_the_new_source(driver, workers):
    old = generate_batch(3, seed=1)
    uids = old.column("video_uid").to_pylist()
    # The new source: video 0 with another (smaller or larger) tree and no title,
    # video 1 unchanged, video 2 absent from the new source; plus a new video.
    changed = _renamed(generate_batch(1, seed=99, first_video=7), [uids[0]]).to_pylist()
    changed[0]["metadata"]["title"] = None
    new_rows = changed + old.slice(1, 1).to_pylist() + generate_batch(1, seed=4, first_video=50).to_pylist()
    new = TreeBatch.from_arrow(pa.Table.from_pylist(new_rows, schema=schema.SOURCE_SCHEMA))
    kept = TreeBatch.from_arrow(old.slice(2, 1))
    # What the graph must be: a clean load of the new source and of video 2.
    load_trees(driver, [new, kept])
    expected = _graph(driver)
    clear_database(driver)
    load_trees(driver, TreeBatch.from_arrow(old))
    load_trees(driver, new, workers=workers, batch_size=500)
    assert _graph(driver) == expected
    titles, _, _ = driver.execute_query(
        "MATCH (v:Video {video_uid: $uid}) RETURN v.title AS title", {"uid": uids[0]}, database_="neo4j")
    assert [r["title"] for r in titles] == [None]


@pytest.mark.neo4j
def test_videos_that_appear_after_the_lookup_are_replaced_not_duplicated(driver, trees, monkeypatch):
    from graphkit.loaders.neo4j import writer

    load_trees(driver, trees)
    before = _graph(driver)
    # As if another loader wrote them between the lookup and the write.
    monkeypatch.setattr(writer, "_existing_videos", lambda d, db, t: np.zeros(t.num_videos, dtype=bool))
    again = load_trees(driver, trees, batch_size=700, workers=2)
    assert _graph(driver) == before
    assert again.nodes_created == 0 and again.relationships_created == 0


@pytest.mark.neo4j
def test_a_merge_load_over_a_create_load_changes_nothing(driver, trees):
    load_trees(driver, trees, method="create")
    before = _graph(driver)
    again = load_trees(driver, trees, method="merge")
    assert again.nodes_created == 0 and again.relationships_created == 0
    assert _graph(driver) == before
