from __future__ import annotations

import copy
import gzip
import io
import json

import pyarrow as pa
import pytest

from graphkit.errors import SchemaError, SourceError
from graphkit.loaders.config import ReaderConfig
from graphkit.loaders.json import iter_json_batches, iter_jsonl_batches, json_schema
from graphkit.schema import SOURCE_SCHEMA, STRUCTURE_FIELDS
from tests import factories as f

STRUCTURE = ReaderConfig(node_fields=STRUCTURE_FIELDS, metadata=False)
ROWS = f.rows(5)


def column_form(rows: list[dict]) -> dict:
    return {key: [row[key] for row in rows] for key in ("video_uid", "metadata", "nodes")}


def jsonl(rows: list) -> bytes:
    return "\n".join(json.dumps(row) for row in rows).encode()


def read_json(data: bytes, config: ReaderConfig = ReaderConfig()) -> pa.Table:
    return pa.Table.from_batches(list(iter_json_batches(io.BytesIO(data), config, source="t.json")), config.schema)


def read_jsonl(data: bytes, config: ReaderConfig = ReaderConfig()) -> pa.Table:
    return pa.Table.from_batches(list(iter_jsonl_batches(io.BytesIO(data), config, source="t.jsonl")), config.schema)


@pytest.mark.parametrize(
    "layout",
    ["rows", "columns", "jsonl", "rows.gz", "jsonl.gz"],
)
def test_every_layout_reads_the_same_canonical_table(layout):
    expected = f.table(ROWS)
    data = {
        "rows": json.dumps(ROWS).encode(),
        "columns": json.dumps(column_form(ROWS)).encode(),
        "jsonl": jsonl(ROWS),
        "rows.gz": gzip.compress(json.dumps(ROWS).encode()),
        "jsonl.gz": gzip.compress(jsonl(ROWS)),
    }[layout]
    read = read_jsonl if layout.startswith("jsonl") else read_json
    table = read(data, ReaderConfig(batch_size=2))
    assert str(table.schema) == str(SOURCE_SCHEMA)
    assert table.equals(expected)


def test_a_single_row_object():
    table = read_json(json.dumps(ROWS[0]).encode(), STRUCTURE)
    assert table["video_uid"].to_pylist() == ["video000000"]
    assert table.schema.equals(STRUCTURE.schema)


@pytest.mark.parametrize("read, data", [(read_json, json.dumps(ROWS).encode()), (read_jsonl, jsonl(ROWS))])
def test_batches_of_batch_size_rows(read, data):
    source = io.BytesIO(data)
    reader = iter_json_batches if read is read_json else iter_jsonl_batches
    assert [b.num_rows for b in reader(source, ReaderConfig(batch_size=2))] == [2, 2, 1]


def test_jsonl_is_streamed_one_batch_at_a_time():
    good = jsonl(ROWS[:2])
    batches = iter_jsonl_batches(io.BytesIO(good + b"\n{broken\n"), ReaderConfig(batch_size=2), source="s.jsonl")
    assert next(batches).num_rows == 2  # yielded before the broken line is parsed
    with pytest.raises(SourceError, match=r"s\.jsonl:3: malformed_row: invalid JSON at column 2"):
        next(batches)


def test_blank_lines_and_unknown_keys_are_ignored_missing_keys_are_null():
    row = copy.deepcopy(ROWS[0])
    row["extra"] = {"anything": 1}
    del row["metadata"]
    for node in row["nodes"]:
        node.pop("gpt")
        node["colour"] = "red"
    table = read_jsonl(b"\n" + jsonl([row]) + b"\n\n")
    assert table["metadata"].to_pylist() == [None]
    assert all(node["gpt"] is None for node in table["nodes"].to_pylist()[0])


def test_integral_floats_are_accepted_as_integers():
    row = copy.deepcopy(ROWS[0])
    row["nodes"][0]["level"] = 0.0
    row["nodes"][1]["start"] = 0  # and integers where floats are expected
    table = read_jsonl(jsonl([row]), STRUCTURE)
    assert table.equals(f.table([ROWS[0]]).select(["video_uid", "nodes"]).cast(STRUCTURE.schema))


def test_json_schema_widens_numbers_only():
    wide = json_schema(SOURCE_SCHEMA)
    node = wide.field("nodes").type.value_type
    assert (node.field("level").type, node.field("start").type) == (pa.int64(), pa.float64())
    assert node.field("gpt").type == SOURCE_SCHEMA.field("nodes").type.value_type.field("gpt").type
    assert wide.field("metadata").type.field("view_count").type == pa.int64()


def bad_row(path: str, value) -> list[dict]:
    rows = copy.deepcopy(ROWS[:3])
    target = rows[2]
    if path == "root":
        return [*rows[:2], value]
    node = target["nodes"][1]
    if value is KeyError:
        del target[path]
    else:
        node[path] = value
    return rows


@pytest.mark.parametrize(
    "rows, error, match",
    [
        (bad_row("start", "1.5"), SchemaError,
         r"t\.jsonl:3: video 'video000002': wrong_type: column 'nodes.start': .*'1\.5'"),
        (bad_row("level", 2.5), SchemaError,
         r"t\.jsonl:3: video 'video000002': wrong_type: column 'nodes.level' holds 2\.5, which is not an integer"),
        (bad_row("level", True), SchemaError, r"t\.jsonl:3: video 'video000002': wrong_type: column 'nodes.level'"),
        (bad_row("level", 40000), SchemaError,
         r"t\.jsonl:3: video 'video000002': value_out_of_range: column 'nodes.level' holds 40000, "
         r"which does not fit int16"),
        (bad_row("node_id", {"a": 1}), SchemaError, r"t\.jsonl:3: .*wrong_type: column 'nodes.node_id'"),
        (bad_row("nodes", KeyError), SchemaError, r"t\.jsonl:3: video 'video000002': malformed_row: the row has no 'nodes'"),
        (bad_row("video_uid", KeyError), SchemaError, r"t\.jsonl:3: malformed_row: the row has no 'video_uid'"),
        (bad_row("root", [1, 2]), SchemaError, r"t\.jsonl:3: malformed_row: a JSON array, not a row object"),
    ],
)
def test_bad_rows_name_file_line_video_and_column(rows, error, match):
    with pytest.raises(error, match=match):
        read_jsonl(jsonl(rows))


def test_fractional_metadata_count_is_refused():
    rows = copy.deepcopy(ROWS[:2])
    rows[1]["metadata"]["view_count"] = 10.5
    with pytest.raises(SchemaError, match=r"t\.jsonl:2: video 'video000001': wrong_type: "
                                          r"column 'metadata.view_count' holds 10\.5"):
        read_jsonl(jsonl(rows))


def test_rows_in_a_json_list_are_named_by_index():
    with pytest.raises(SchemaError, match=r"t\.json, row 2: video 'video000002': wrong_type: column 'nodes.start'"):
        read_json(json.dumps(bad_row("start", "x")).encode())


@pytest.mark.parametrize(
    "data, match",
    [
        (b'[{"video_uid": "a",\n "nodes": [}]', r"t\.json: invalid JSON at line 2, column 12"),
        (b'"just a string"', r"t\.json: the document is a JSON string; expected a row object"),
        (b"\xff\xfe\x00garbage", r"t\.json: (not UTF-8 text|invalid JSON)"),
        (json.dumps({"video_uid": ["a", "b"], "nodes": [[]]}).encode(), r"different lengths"),
        (json.dumps({"video_uid": ["a"], "nodes": {"x": 1}}).encode(), r"'nodes' is a JSON object, not an array"),
        (json.dumps({"video_uid": ["a"]}).encode(), r"column form without 'nodes'"),
    ],
)
def test_bad_json_documents(data, match):
    with pytest.raises(SourceError, match=match):
        read_json(data)


def test_bad_utf8_line_is_named():
    with pytest.raises(SourceError, match=r"t\.jsonl:2: malformed_row: not UTF-8 text"):
        read_jsonl(jsonl(ROWS[:1]) + b'\n{"video_uid": "\xff"}')


def test_truncated_gzip_is_a_source_error():
    data = gzip.compress(jsonl(ROWS))[:-20]
    with pytest.raises(SourceError, match=r"t\.jsonl: cannot be read"):
        read_jsonl(data)


def test_reads_local_paths(tmp_path):
    path = tmp_path / "rows.jsonl.gz"
    path.write_bytes(gzip.compress(jsonl(ROWS)))
    batches = list(iter_jsonl_batches(path, STRUCTURE))
    assert sum(b.num_rows for b in batches) == 5
    with pytest.raises(SourceError, match="rows.json: invalid JSON"):
        (tmp_path / "rows.json").write_text("{")
        list(iter_json_batches(tmp_path / "rows.json", STRUCTURE))
