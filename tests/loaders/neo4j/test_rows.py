from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from graphkit import schema
from graphkit.arrays import shortest_decimal
from graphkit.loaders.neo4j.rows import create_parameters, entity_counts, relationship_rows, segment_rows, video_rows
from graphkit.synth import generate_batch
from graphkit.testing import example_rows
from graphkit.tree import TreeBatch

NODES = [
    {"node_id": "r", "parent_id": None, "level": 0, "start": 0.0, "end": 4.5, "plm_caption": "whole",
     "gpt": {"summary": {"brief": "s", "detailed": "sd"},
             "action": {"brief": "Cut paper", "detailed": None, "actor": "N/A"}}},
    {"node_id": "a", "parent_id": "r", "level": 1, "start": 0.0, "end": 1.25, "llama3_caption": "left"},
    {"node_id": "b", "parent_id": "r", "level": 1, "start": 1.25, "end": 4.5, "llama3_caption": None},
]
METADATA = {"title": "T", "description": None, "view_count": 3, "like_count": None, "duration": 5,
            "upload_date": "20240101", "transcript": [{"time": "0.5", "text": "hi"}, {"time": "1", "text": "yo"}]}


def _trees(metadata=METADATA, nodes=NODES, uid="vid00000001") -> TreeBatch:
    rows = [{"video_uid": uid, "metadata": metadata, "nodes": nodes}]
    return TreeBatch.from_arrow(pa.Table.from_pylist(rows, schema=schema.SOURCE_SCHEMA))


def test_segment_rows_hold_every_segment_property_with_none_for_null():
    rows = segment_rows(_trees())
    assert list(rows[0]) == list(schema.SEGMENT.property_names)
    assert rows[0] == {
        "node_id": "r", "video_uid": "vid00000001", "level": 0, "start": 0.0, "end": 4.5,
        "duration": 4.5, "is_leaf": False, "plm_action": None, "plm_caption": "whole",
        "llama3_caption": None, "summary_brief": "s", "summary_detailed": "sd",
        "action_brief": "Cut paper", "action_detailed": None, "actor": "N/A", "verb": "cut",
    }
    assert [r["is_leaf"] for r in rows] == [False, True, True]
    assert rows[2]["summary_brief"] is None and rows[1]["llama3_caption"] == "left"
    assert all(type(r["level"]) is int and type(r["start"]) is float for r in rows)


def test_the_verb_is_the_training_label_and_absent_without_a_gpt_action():
    nodes = [dict(NODES[0], gpt={"summary": None, "action": {"brief": "Opening the lid.", "detailed": None,
                                                            "actor": None}}),
             dict(NODES[1], gpt={"summary": None, "action": {"brief": "n/a", "detailed": None, "actor": None}}),
             dict(NODES[2], gpt=None)]
    trees = _trees(nodes=nodes)
    assert [r["verb"] for r in segment_rows(trees)] == ["open", None, None]
    assert create_parameters(trees)["segments"]["verb"] == ["open", None, None]


def test_segment_rows_of_a_structure_only_batch_hold_structure_only():
    trees = TreeBatch.from_arrow(example_rows(1).select(["video_uid", "nodes"]))
    trees = TreeBatch(**{**{k: getattr(trees, k) for k in TreeBatch.__dataclass_fields__}, "text": {}})
    assert set(segment_rows(trees)[0]) == {"node_id", "video_uid", "level", "start", "end", "duration", "is_leaf"}


@pytest.mark.parametrize(("rows", "expected"), [(slice(1, 3), ["a", "b"]), (slice(2, None), ["b"]),
                                                (slice(5, 9), []), (None, ["r", "a", "b"])])
def test_rows_slice_bounds_the_batch(rows, expected):
    assert [r["node_id"] for r in segment_rows(_trees(), rows)] == expected


def test_a_strided_slice_is_refused():
    with pytest.raises(ValueError, match="rows must be a contiguous slice, got step 2"):
        segment_rows(_trees(), slice(0, 3, 2))


def test_video_rows_flatten_the_metadata_and_the_transcript():
    assert video_rows(_trees()) == [{
        "video_uid": "vid00000001", "title": "T", "description": None, "view_count": 3,
        "like_count": None, "duration": 5, "upload_date": "20240101",
        "transcript_time": ["0.5", "1"], "transcript_text": ["hi", "yo"],
    }]


@pytest.mark.parametrize(("transcript", "expected"), [(None, None), ([], [])])
def test_a_null_transcript_stays_null_and_an_empty_one_empty(transcript, expected):
    row = video_rows(_trees({**METADATA, "transcript": transcript}))[0]
    assert row["transcript_time"] == expected and row["transcript_text"] == expected


def test_video_rows_without_metadata_hold_the_key_only():
    trees = TreeBatch.from_arrow(example_rows(2).select(["video_uid", "nodes"]))
    assert video_rows(trees) == [{"video_uid": "vid00000000"}, {"video_uid": "vid00000001"}]


def test_video_rows_of_a_slice_of_a_synthetic_batch_match_its_metadata():
    trees = TreeBatch.from_arrow(generate_batch(5, seed=2))
    rows = video_rows(trees, slice(1, 4))
    expected = trees.metadata.to_pylist()[1:4]
    assert [r["video_uid"] for r in rows] == trees.video_uid.to_pylist()[1:4]
    for row, meta in zip(rows, expected):
        assert row["title"] == meta["title"] and row["view_count"] == meta["view_count"]
        assert row["transcript_time"] == [t["time"] for t in meta["transcript"]]
        assert row["transcript_text"] == [t["text"] for t in meta["transcript"]]


_V = {"video_uid": "vid00000001"}  # every row names its video: endpoints are matched within it


@pytest.mark.parametrize(("edge_type", "expected"), [
    ("PARENT_OF", [{**_V, "source": "r", "target": "a", "order": 0}, {**_V, "source": "r", "target": "b", "order": 1}]),
    ("NEXT", [{**_V, "source": "a", "target": "b", "gap": 0.0}]),
    ("NEXT_LEAF", [{**_V, "source": "a", "target": "b"}]),
    ("HAS_ROOT", [{**_V, "source": "vid00000001", "target": "r"}]),
])
def test_relationship_rows_carry_endpoint_keys_and_properties(edge_type, expected):
    assert relationship_rows(_trees(), edge_type) == expected


@pytest.mark.parametrize("spec", schema.EDGE_TYPES, ids=lambda s: s.name)
def test_relationship_rows_follow_the_edge_index_on_synthetic_data(spec):
    trees = TreeBatch.from_arrow(generate_batch(4, seed=5))
    edges = trees.edges(spec)
    rows = relationship_rows(trees, spec)
    keys = trees.video_uid if spec.source is schema.VIDEO else trees.node_id
    assert [r["source"] for r in rows] == keys.take(pa.array(edges.source)).to_pylist()
    assert [r["target"] for r in rows] == trees.node_id.take(pa.array(edges.target)).to_pylist()
    uids = trees.video_uid.take(pa.array(trees.video_index[edges.target])).to_pylist()
    assert [r["video_uid"] for r in rows] == uids
    for prop in spec.properties:
        values = np.array([r[prop.name] for r in rows])
        # Floats as their shortest decimal (70.67, not 70.66999816894531): the same float32 bits.
        expected = shortest_decimal(edges.attrs[prop.name]) if prop.name == "gap" else edges.attrs[prop.name]
        np.testing.assert_array_equal(values, expected)
        np.testing.assert_array_equal(values.astype(edges.attrs[prop.name].dtype), edges.attrs[prop.name])
    middle = relationship_rows(trees, spec.name.lower(), slice(1, 3))
    assert middle == rows[1:3]


def test_an_unknown_edge_type_is_refused():
    with pytest.raises(ValueError, match="unknown edge type 'SIBLING'"):
        relationship_rows(_trees(), "SIBLING")


def test_entity_counts_sum_nodes_and_each_edge_type():
    trees = TreeBatch.from_arrow(generate_batch(3, seed=1))
    counts = entity_counts(trees)
    assert counts["Segment"] == trees.num_nodes and counts["Video"] == 3
    assert counts["PARENT_OF"] == trees.num_nodes - 3
    assert counts["NEXT_LEAF"] == int(trees.is_leaf.sum()) - 3
    assert list(counts) == ["Video", "Segment", "PARENT_OF", "NEXT", "NEXT_LEAF", "HAS_ROOT"]
