from __future__ import annotations

import re

import neo4j
import pytest

from graphkit import schema
from graphkit.loaders.neo4j import cypher
from graphkit.loaders.neo4j.writer import create_constraints, load_trees
from graphkit.schema import NodeTypeSpec, Property
from graphkit.testing import example_rows
from graphkit.tree import TreeBatch

ALL_QUERIES = [
    *cypher.create_constraint_queries(),
    *(cypher.upsert_nodes_query(spec) for spec in schema.NODE_TYPES),
    *(cypher.upsert_relationships_query(spec) for spec in schema.EDGE_TYPES),
    cypher.read_video_uids_query(),
    cypher.read_videos_query(),
    cypher.read_segments_query(),
    cypher.delete_videos_query(),
    cypher.delete_stale_segments_query(),
    cypher.delete_relationships_query(),
]


@pytest.mark.parametrize("query", ALL_QUERIES)
def test_queries_hold_no_literal_values(query):
    # Values only travel as $rows: no string or number literals in the text
    # (the one number is the property-free count in awaitIndexes elsewhere).
    assert "'" not in query and '"' not in query
    assert not re.search(r"[=:]\s*\d", query)
    labels = set(re.findall(r":(\w+)", query))
    known = {s.label for s in schema.NODE_TYPES} | {s.name for s in schema.EDGE_TYPES}
    assert labels <= known | {"row"}, labels


def _identity(spec, end: str) -> str:
    # A segment is (video_uid, node_id); a relationship stays within the row's video.
    value = {"video_uid": "row.video_uid"}
    return "{" + ", ".join(f"{p}: {value.get(p, end)}" for p in spec.identity) + "}"


@pytest.mark.parametrize("spec", schema.EDGE_TYPES, ids=lambda s: s.name)
def test_relationship_upserts_match_endpoints_by_label_and_identity_within_one_video(spec):
    query = cypher.upsert_relationships_query(spec)
    assert query.startswith("UNWIND $rows AS row\n")
    assert f"MATCH (source:{spec.source.label} {_identity(spec.source, 'row.source')})" in query
    assert f"MATCH (target:{spec.target.label} {_identity(spec.target, 'row.target')})" in query
    assert f"MERGE (source)-[r:{spec.name}]->(target)" in query
    for prop in spec.properties:
        assert f"r.{prop.name} = row.{prop.name}" in query


@pytest.mark.parametrize("spec", schema.NODE_TYPES, ids=lambda s: s.label)
def test_node_upserts_merge_on_the_identity_and_set_exactly_the_row(spec):
    query = cypher.upsert_nodes_query(spec)
    assert f"MERGE (n:{spec.label} {_identity(spec, 'row.' + spec.key)})" in query
    assert query.endswith("SET n = row")


def test_constraint_queries_use_neo4j_5_syntax():
    queries = cypher.create_constraint_queries()
    assert queries[0] == "DROP CONSTRAINT segment_node_id_unique IF EXISTS"
    assert queries[2] == (
        "CREATE CONSTRAINT segment_video_uid_node_id_unique IF NOT EXISTS "
        "FOR (n:Segment) REQUIRE (n.video_uid, n.node_id) IS UNIQUE"
    )


@pytest.mark.parametrize("label", ["Bad Label", "x}) DETACH DELETE n //", "1abc", ""])
def test_a_name_that_is_not_an_identifier_is_refused(label):
    spec = NodeTypeSpec(label=label, pyg_name="x", key="id", properties=(Property("id", None, "string"),))
    with pytest.raises(ValueError, match="is not a plain Cypher identifier"):
        cypher.upsert_nodes_query(spec)


# --- against the real server --------------------------------------------------


@pytest.fixture
def driver(neo4j_driver):
    return neo4j_driver


@pytest.mark.neo4j
def test_constraints_are_created_once_and_enforced(driver):
    create_constraints(driver)
    create_constraints(driver)  # IF NOT EXISTS: a second run is a no-op
    records, _, _ = driver.execute_query("SHOW CONSTRAINTS YIELD name RETURN collect(name) AS names",
                                         database_="neo4j")
    names = set(records[0]["names"])
    assert {"video_video_uid_unique", "segment_video_uid_node_id_unique"} <= names
    assert "segment_node_id_unique" not in names
    driver.execute_query("CREATE (:Segment {video_uid: 'v', node_id: 'x'})", database_="neo4j")
    driver.execute_query("CREATE (:Segment {video_uid: 'w', node_id: 'x'})", database_="neo4j")  # another video
    with pytest.raises(neo4j.exceptions.ConstraintError):
        driver.execute_query("CREATE (:Segment {video_uid: 'v', node_id: 'x'})", database_="neo4j")


@pytest.mark.neo4j
def test_every_query_runs_and_delete_removes_only_the_given_videos(driver):
    trees = TreeBatch.from_arrow(example_rows(3))
    load_trees(driver, trees)
    records, _, _ = driver.execute_query(cypher.read_video_uids_query(), database_="neo4j")
    assert [r["video_uid"] for r in records] == ["vid00000000", "vid00000001", "vid00000002"]
    records, _, _ = driver.execute_query(cypher.read_segments_query(), rows=["vid00000001"], database_="neo4j")
    assert records[0]["node_id"] == ["vid00000001-r", "vid00000001-a", "vid00000001-b"]
    assert records[0]["parent_id"] == [None, "vid00000001-r", "vid00000001-r"]
    driver.execute_query(cypher.delete_videos_query(), rows=["vid00000001", "not-there"], database_="neo4j")
    counts = {
        spec.label if hasattr(spec, "label") else spec.name:
        driver.execute_query(cypher.count_query(spec), database_="neo4j").records[0]["count"]
        for spec in (*schema.NODE_TYPES, *schema.EDGE_TYPES)
    }
    assert counts == {"Video": 2, "Segment": 6, "PARENT_OF": 4, "NEXT": 2, "NEXT_LEAF": 2, "HAS_ROOT": 2}
