from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from graphkit import schema
from graphkit.errors import Neo4jLoadError
from graphkit.loaders.neo4j.reader import read_trees, rows_to_source_table
from graphkit.loaders.neo4j.writer import load_trees
from graphkit.loaders.trees import iter_tree_batches
from graphkit.synth import generate_batch
from graphkit.testing import example_rows
from graphkit.tree import TreeBatch
from tests.paths import SAMPLE


@pytest.fixture
def driver(neo4j_driver):
    return neo4j_driver


def assert_same_trees(actual: TreeBatch, expected: TreeBatch) -> None:
    assert actual.video_uid.equals(expected.video_uid)
    np.testing.assert_array_equal(actual.node_offsets, expected.node_offsets)
    assert actual.node_id.equals(expected.node_id)
    for name in ("parent", "level", "start", "end"):
        got, want = getattr(actual, name), getattr(expected, name)
        assert got.dtype == want.dtype and np.array_equal(got, want), name
    assert list(actual.text) == list(expected.text)
    for name, column in expected.text.items():
        assert actual.text[name].equals(column), name
    assert actual.metadata.type == expected.metadata.type
    assert actual.metadata.equals(expected.metadata)


def _all_fields(table: pa.Table) -> TreeBatch:
    return TreeBatch.from_arrow(table)


@pytest.mark.neo4j
def test_real_sample_round_trips_exactly(driver):
    if not SAMPLE.is_file():
        pytest.skip(f"the real sample is not at {SAMPLE}")
    original = TreeBatch.concat(list(iter_tree_batches(SAMPLE, node_fields=None, metadata=True)))
    load_trees(driver, original)
    assert_same_trees(read_trees(driver, original.video_uid.to_pylist()), original)


@pytest.mark.neo4j
def test_synthetic_data_round_trips_exactly_and_all_videos_come_sorted(driver):
    original = _all_fields(generate_batch(6, seed=4))
    load_trees(driver, original, batch_size=500)
    order = np.argsort(np.array(original.video_uid.to_pylist()))
    assert_same_trees(read_trees(driver, chunk_size=4), original.select(order))
    assert_same_trees(read_trees(driver, original.video_uid.to_pylist()[::-1]), original.select(slice(None, None, -1)))


@pytest.mark.neo4j
def test_null_gpt_metadata_and_transcripts_round_trip(driver):
    rows = generate_batch(3, seed=8).to_pylist()
    rows[0]["metadata"]["transcript"] = None
    rows[1]["metadata"]["transcript"] = []
    rows[2]["metadata"]["title"] = None
    rows[2]["metadata"]["view_count"] = None
    root = rows[2]["nodes"][0]
    root["gpt"] = {"summary": {"brief": None, "detailed": None},
                   "action": {"brief": "Cut paper", "detailed": None, "actor": None}}
    root["plm_caption"] = None
    original = _all_fields(pa.Table.from_pylist(rows, schema=schema.SOURCE_SCHEMA))
    load_trees(driver, original)
    back = read_trees(driver, original.video_uid.to_pylist())
    assert_same_trees(back, original)
    meta = back.metadata.to_pylist()
    assert meta[0]["transcript"] is None and meta[1]["transcript"] == []


@pytest.mark.neo4j
def test_a_missing_video_is_named(driver):
    load_trees(driver, TreeBatch.from_arrow(example_rows(1)))
    with pytest.raises(Neo4jLoadError, match="^video 'nope' is not in Neo4j database 'neo4j' \\(and 1 more\\)$"):
        read_trees(driver, ["vid00000000", "nope", "nope2"])


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"video_uids": ["a", "b", "a"]}, "video_uids repeats 'a'"),
    ({"chunk_size": 0}, "chunk_size must be a positive integer, got 0"),
])
@pytest.mark.neo4j
def test_bad_arguments_are_refused(driver, kwargs, match):
    with pytest.raises(ValueError, match=match):
        read_trees(driver, **kwargs)


@pytest.mark.neo4j
def test_an_empty_database_reads_as_an_empty_batch(driver):
    trees = read_trees(driver)
    assert trees.num_videos == 0 and trees.num_nodes == 0


def test_rows_to_source_table_nests_gpt_only_where_a_field_is_set():
    video = {"video_uid": "v"}
    nodes = {"node_id": ["r", "a", "b"], "parent_id": [None, "r", "r"], "level": [0, 1, 1],
             "start": [0.0, 0.0, 1.0], "end": [2.0, 1.0, 2.0], "actor": [None, "a hand", None]}
    table = rows_to_source_table([video], [nodes])
    gpts = [n["gpt"] for n in table.to_pylist()[0]["nodes"]]
    assert gpts[0] is None and gpts[2] is None
    assert gpts[1] == {"summary": {"brief": None, "detailed": None},
                       "action": {"brief": None, "detailed": None, "actor": "a hand"}}
    assert table.to_pylist()[0]["metadata"]["transcript"] is None
