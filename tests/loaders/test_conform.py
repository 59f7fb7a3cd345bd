from __future__ import annotations

import logging

import pyarrow as pa
import pytest

from graphkit.errors import SchemaError
from graphkit.loaders.conform import Conformer, required_columns, target_schema
from graphkit.schema import NODE_TYPE, SOURCE_SCHEMA, STRUCTURE_FIELDS
from tests import factories as f

STRUCTURE = target_schema(STRUCTURE_FIELDS, metadata=False)


def nodes_batch(node_type: pa.DataType, nodes: list[list[dict]], uids: list[str] | None = None) -> pa.RecordBatch:
    """A batch with ``video_uid`` and a ``nodes`` column of the given element type."""
    uids = uids or [f"v{i}" for i in range(len(nodes))]
    schema = pa.schema([("video_uid", pa.string()), ("nodes", pa.list_(node_type))])
    return pa.RecordBatch.from_pylist([{"video_uid": u, "nodes": n} for u, n in zip(uids, nodes)], schema=schema)


def structure_type(**overrides: pa.DataType) -> pa.StructType:
    return pa.struct([(name, overrides.get(name, NODE_TYPE.field(name).type)) for name in STRUCTURE_FIELDS])


ROOT = {"node_id": "a", "parent_id": None, "level": 0, "start": 0.0, "end": 2.5}


def test_target_schema_defaults_to_the_published_schema():
    assert target_schema() == SOURCE_SCHEMA
    assert str(target_schema()) == str(SOURCE_SCHEMA)


def test_target_schema_keeps_canonical_field_order():
    schema = target_schema(["end", "gpt", "node_id"], metadata=False)
    assert schema.names == ["video_uid", "nodes"]
    assert schema.field("nodes").type.value_type.names == ["node_id", "end", "gpt"]


@pytest.mark.parametrize("fields, match", [(["node_id", "colour"], "unknown node fields"), ([], "empty")])
def test_target_schema_rejects_bad_fields(fields, match):
    with pytest.raises(ValueError, match=match):
        target_schema(fields)


def test_required_columns_follow_the_projection():
    assert required_columns(target_schema()) == ["video_uid", "nodes", *(f"nodes.{n}" for n in STRUCTURE_FIELDS)]
    assert required_columns(target_schema(("plm_caption",))) == ["video_uid", "nodes"]


def test_identical_schema_passes_batches_through_unchanged():
    batch = f.table(f.rows(2)).to_batches()[0]
    out = Conformer(batch.schema, SOURCE_SCHEMA, source="t")(batch)
    assert out.schema.equals(SOURCE_SCHEMA)
    offsets = [b.column("nodes").buffers()[1].address for b in (batch, out)]
    assert offsets[0] == offsets[1]  # zero copy


@pytest.mark.parametrize(
    "overrides",
    [
        {"level": pa.int64()},
        {"level": pa.int32()},
        {"level": pa.uint8()},
        {"start": pa.float64(), "end": pa.float64()},
        {"node_id": pa.large_string(), "parent_id": pa.string_view()},
        {"parent_id": pa.null()},
    ],
    ids=["int64", "int32", "uint8", "float64", "large-string-view", "null"],
)
def test_accepted_types_are_cast_to_canonical(overrides):
    batch = nodes_batch(structure_type(**overrides), [[dict(ROOT, start=0.1)]])
    out = Conformer(batch.schema, STRUCTURE, source="t")(batch)
    assert str(out.schema) == str(STRUCTURE)
    got = out.column("nodes").to_pylist()[0][0]
    assert (got["node_id"], got["parent_id"], got["level"], got["end"]) == ("a", None, 0, 2.5)
    assert got["start"] == pytest.approx(0.1, rel=1e-7)


def test_dictionary_and_list_field_names_are_normalised():
    values = pa.StructArray.from_arrays(
        [pa.array(["a", "b"]).dictionary_encode(), pa.array([0, 1], pa.int16())], names=["node_id", "level"]
    )
    nodes = pa.LargeListArray.from_arrays(pa.array([0, 2], pa.int64()), values)
    batch = pa.RecordBatch.from_arrays([pa.array(["v"]), nodes], names=["video_uid", "nodes"])
    target = target_schema(("node_id", "level"), metadata=False)
    out = Conformer(batch.schema, target, source="t")(batch)
    assert str(out.schema.field("nodes").type) == "list<item: struct<node_id: string, level: int16>>"
    assert out.column("nodes").to_pylist() == [[{"node_id": "a", "level": 0}, {"node_id": "b", "level": 1}]]


def test_element_named_lists_are_renamed_without_changing_values():
    element = pa.list_(pa.field("element", structure_type()))
    batch = pa.RecordBatch.from_pylist([{"video_uid": "v", "nodes": [ROOT]}], schema=pa.schema(
        [("video_uid", pa.string()), ("nodes", element)]))
    out = Conformer(batch.schema, STRUCTURE, source="t")(batch)
    assert out.schema.field("nodes").type.value_field.name == "item"
    assert out.column("nodes").to_pylist() == [[ROOT]]


@pytest.mark.parametrize(
    "overrides, column, actual",
    [
        ({"start": pa.string()}, "nodes.start", "string"),
        ({"level": pa.float32()}, "nodes.level", "float"),
        ({"end": pa.int32()}, "nodes.end", "int32"),
        ({"node_id": pa.int64()}, "nodes.node_id", "int64"),
    ],
)
def test_wrong_types_name_column_actual_and_expected(overrides, column, actual):
    schema = pa.schema([("video_uid", pa.string()), ("nodes", pa.list_(structure_type(**overrides)))])
    with pytest.raises(SchemaError, match=rf"f\.parquet: column '{column}' has type {actual}; expected"):
        Conformer(schema, STRUCTURE, source="f.parquet")


@pytest.mark.parametrize(
    "schema, match",
    [
        (pa.schema([("nodes", pa.list_(structure_type()))]), "missing required column 'video_uid'"),
        (pa.schema([("video_uid", pa.string())]), "missing required column 'nodes'"),
        (
            pa.schema([("video_uid", pa.string()), ("nodes", pa.list_(pa.struct([("node_id", pa.string())])))]),
            "missing required column 'nodes.parent_id'",
        ),
        (pa.schema([("video_uid", pa.string()), ("nodes", pa.string())]), "column 'nodes' has type string"),
        (pa.schema([("video_uid", pa.string()), ("nodes", pa.list_(pa.string()))]), "expected struct"),
        (
            pa.schema([("video_uid", pa.string()), ("video_uid", pa.string()), ("nodes", pa.list_(structure_type()))]),
            "'video_uid' appears 2 times",
        ),
    ],
)
def test_missing_or_malformed_required_columns(schema, match):
    with pytest.raises(SchemaError, match=match):
        Conformer(schema, STRUCTURE, source="f")


def test_missing_optional_columns_are_nulls_and_logged(caplog):
    schema = pa.schema([("video_uid", pa.string()), ("nodes", pa.list_(structure_type()))])
    with caplog.at_level(logging.WARNING, logger="graphkit.loaders.conform"):
        conform = Conformer(schema, SOURCE_SCHEMA, source="old.parquet")
    assert conform.missing == ("metadata", "nodes.plm_action", "nodes.plm_caption", "nodes.llama3_caption", "nodes.gpt")
    assert "old.parquet: no column 'metadata'" in caplog.text
    out = conform(nodes_batch(structure_type(), [[ROOT]]))
    assert out.schema.equals(SOURCE_SCHEMA)
    assert out.column("metadata").null_count == 1
    assert out.column("nodes").to_pylist()[0][0]["gpt"] is None


def test_missing_struct_sub_fields_are_nulls():
    gpt = pa.struct([("action", pa.struct([("brief", pa.string())]))])
    node_type = pa.struct([*structure_type(), ("gpt", gpt)])
    batch = nodes_batch(node_type, [[dict(ROOT, gpt={"action": {"brief": "Cut paper"}})]])
    conform = Conformer(batch.schema, target_schema(("node_id", "parent_id", "level", "start", "end", "gpt"),
                                                    metadata=False), source="t")
    assert conform.missing == ("nodes.gpt.summary", "nodes.gpt.action.detailed", "nodes.gpt.action.actor")
    gpt_out = conform(batch).column("nodes").to_pylist()[0][0]["gpt"]
    assert gpt_out == {"summary": None, "action": {"brief": "Cut paper", "detailed": None, "actor": None}}


def test_leaves_list_exactly_the_needed_source_columns():
    batch = f.table(f.rows(1)).to_batches()[0]
    conform = Conformer(batch.schema, STRUCTURE, source="t")
    assert conform.leaves == (("video_uid",), *(("nodes", name) for name in STRUCTURE_FIELDS))


@pytest.mark.parametrize("level", [40000, -40000])
def test_out_of_range_integer_names_the_video(level):
    nodes = [[ROOT], [ROOT, dict(ROOT, node_id="b", level=1), dict(ROOT, node_id="c", level=level)]]
    batch = nodes_batch(structure_type(level=pa.int64()), nodes, uids=["good", "bad"])
    conform = Conformer(batch.schema, STRUCTURE, source="big.jsonl")
    with pytest.raises(SchemaError, match=rf"big\.jsonl, row 1: video 'bad': value_out_of_range: "
                                          rf"column 'nodes.level' holds {level}, which does not fit int16"):
        conform(batch)


def test_float_overflow_names_the_video():
    batch = nodes_batch(structure_type(end=pa.float64()), [[ROOT], [dict(ROOT, end=1e300)]], uids=["ok", "huge"])
    with pytest.raises(SchemaError, match=r"t, row 1: video 'huge': value_out_of_range: column 'nodes.end' holds 1e\+300"):
        Conformer(batch.schema, STRUCTURE, source="t")(batch)


def test_sliced_batches_convert_only_their_rows():
    nodes = [[dict(ROOT, node_id=f"n{i}", level=i)] for i in range(6)]
    batch = nodes_batch(structure_type(level=pa.int64()), nodes).slice(2, 3)
    out = Conformer(batch.schema, STRUCTURE, source="t")(batch)
    assert out.column("video_uid").to_pylist() == ["v2", "v3", "v4"]
    assert [n[0]["level"] for n in out.column("nodes").to_pylist()] == [2, 3, 4]
    assert len(out.column("nodes").values) == 3


def test_null_lists_and_structs_stay_null():
    batch = nodes_batch(structure_type(level=pa.int32()), [[ROOT], None, []])
    out = Conformer(batch.schema, STRUCTURE, source="t")(batch)
    assert out.column("nodes").to_pylist() == [[ROOT], None, []]


def test_repr_is_pinned():
    conform = Conformer(f.table(f.rows(1)).schema, STRUCTURE, source="x.parquet")
    assert repr(conform) == "Conformer(source='x.parquet', columns=['video_uid', 'nodes'], missing=[])"
