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


@pytest.mark.parametrize("spec", schema.EDGE_TYPES, ids=lambda s: s.name)
def test_relationship_upserts_match_endpoints_with_their_label(spec):
    query = cypher.upsert_relationships_query(spec)
    assert query.startswith("UNWIND $rows AS row\n")
    assert f"MATCH (source:{spec.source.label} {{{spec.source.key}: row.source}})" in query
    assert f"MATCH (target:{spec.target.label} {{{spec.target.key}: row.target}})" in query
    assert f"MERGE (source)-[r:{spec.name}]->(target)" in query
    for prop in spec.properties:
        assert f"r.{prop.name} = row.{prop.name}" in query


@pytest.mark.parametrize("spec", schema.NODE_TYPES, ids=lambda s: s.label)
def test_node_upserts_merge_on_the_key(spec):
    query = cypher.upsert_nodes_query(spec)
    assert f"MERGE (n:{spec.label} {{{spec.key}: row.{spec.key}}})" in query


def test_constraint_queries_use_neo4j_5_syntax():
    assert cypher.create_constraint_queries()[1] == (
        "CREATE CONSTRAINT segment_node_id_unique IF NOT EXISTS "
        "FOR (n:Segment) REQUIRE n.node_id IS UNIQUE"
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
    assert {"video_video_uid_unique", "segment_node_id_unique"} <= set(records[0]["names"])
    driver.execute_query("CREATE (:Segment {node_id: 'x'})", database_="neo4j")
    with pytest.raises(neo4j.exceptions.ConstraintError):
        driver.execute_query("CREATE (:Segment {node_id: 'x'})", database_="neo4j")


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
