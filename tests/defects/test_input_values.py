"""Values of the wrong type or out of range, one defect at a time, in every reader that can hold them.

JSON cases write six valid rows as JSON Lines and change one value of the
third (``video000002``, line 3); parquet cases store a column in a wider
type than the published one, holding one value it cannot be narrowed to;
the direct cases hand :meth:`TreeBatch.from_arrow` such a table. Each case
asserts the exact error without skipping (its class, rule and the words
naming the line or video) and, with skipping, exactly the other five
videos kept and the bad one reported once.
"""

from __future__ import annotations

import copy
import json
import math
import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from graphkit.errors import InvariantError, RowError
from graphkit.loaders.trees import iter_tree_batches
from graphkit.nx import from_networkx, to_networkx
from graphkit.schema import METADATA_TYPE, NODE_TYPE, SOURCE_SCHEMA
from graphkit.tree import TreeBatch
from graphkit.validation import ValidationConfig, ValidationReport
from tests import factories as f

UIDS = [f"video{v:06d}" for v in range(6)]
BAD = "video000002"
GOOD = [uid for uid in UIDS if uid != BAD]


def node(path: str):
    return lambda row: f.node(row, path)


def set_node(path: str, key: str, value):
    return lambda row: node(path)(row).__setitem__(key, value)


def set_row(key: str, value):
    return lambda row: row.__setitem__(key, value)


def set_meta(key: str, value):
    return lambda row: row["metadata"].__setitem__(key, value)


def text(old: str, new: str):
    """Change the JSON text of the line itself (for what a dict cannot hold: a repeated key)."""
    return ("text", old, new)


# id -> (change to video BAD's row or line, error class, rule, reported video_uid, message regex)
JSON_CASES = {
    "start-false": (set_node("0", "start", False), RowError, "wrong_type", BAD,
                    r"column 'nodes\.start' holds a boolean, which is not a number"),
    "end-true": (set_node("1", "end", True), RowError, "wrong_type", BAD, r"column 'nodes\.end' holds a boolean"),
    "level-true": (set_node("1", "level", True), RowError, "wrong_type", BAD,
                   r"column 'nodes\.level': Expected integer, got bool"),
    "level-string": (set_node("1", "level", "1"), RowError, "wrong_type", BAD, r"column 'nodes\.level'"),
    "start-string": (set_node("1", "start", "8.0"), RowError, "wrong_type", BAD, r"column 'nodes\.start'.*'8\.0'"),
    "level-fraction": (set_node("1", "level", 1.5), RowError, "wrong_type", BAD,
                       r"column 'nodes\.level' holds 1\.5, which is not an integer"),
    "level-beyond-int16": (set_node("1", "level", 40000), RowError, "value_out_of_range", BAD,
                           r"column 'nodes\.level' holds 40000, which does not fit int16"),
    "level-beyond-int64": (set_node("1", "level", 2**64), RowError, "value_out_of_range", BAD,
                           r"column 'nodes\.level'"),
    "view_count-beyond-int64": (set_meta("view_count", 2**64), RowError, "value_out_of_range", BAD,
                                r"column 'metadata'"),
    "view_count-true": (set_meta("view_count", True), RowError, "wrong_type", BAD, r"column 'metadata'"),
    "like_count-fraction": (set_meta("like_count", 0.5), RowError, "wrong_type", BAD,
                            r"column 'metadata\.like_count' holds 0\.5"),
    "video_uid-key-twice": (text('{"video_uid": "video000002"', '{"video_uid": "video000002", "video_uid": "x"'),
                            RowError, "malformed_row", None, r"the key 'video_uid' appears more than once in the row$"),
    "node-key-twice": (text('"start": 8.0, "end": 16.0', '"start": 8.0, "start": 9.0, "end": 16.0'), RowError,
                       "malformed_row", BAD, r"the key 'start' appears more than once in the row\['nodes'\]\[6\]"),
    "metadata-key-twice": (text('"view_count": 10', '"view_count": 10, "view_count": 11'), RowError,
                           "malformed_row", BAD, r"the key 'view_count' appears more than once in the row\['metadata'\]"),
    "video_uid-number": (set_row("video_uid", 123), RowError, "wrong_type", None, r"column 'video_uid'"),
    "video_uid-null": (set_row("video_uid", None), RowError, "null_video_uid", None, r"video_uid is null"),
    "video_uid-empty": (set_row("video_uid", ""), InvariantError, "empty_id", "", r"video_uid is empty"),
    "nodes-not-a-list": (set_row("nodes", 5), RowError, "wrong_type", BAD, r"column 'nodes'"),
    "node-not-an-object": (lambda row: row["nodes"].append(5), RowError, "wrong_type", BAD,
                           r"a node is a JSON number, not an object"),
    "start-NaN": (set_node("1", "start", math.nan), InvariantError, "non_finite_time", BAD, r"start=nan"),
    "end-Infinity": (set_node("1", "end", math.inf), InvariantError, "non_finite_time", BAD, r"end=inf"),
    "parent_id-empty": (set_node("1", "parent_id", ""), InvariantError, "missing_parent", BAD,
                        r"parent_id '' is not a node of this video"),
    "node_id-null": (set_node("1", "node_id", None), InvariantError, "null_field", BAD, r"must be set"),
}


def _jsonl(tmp_path, change) -> str:
    rows = copy.deepcopy(f.rows(6))
    lines = []
    for row in rows:
        if row["video_uid"] == BAD and not isinstance(change, tuple):
            change(row)
        line = json.dumps(row)
        if row["video_uid"] == BAD and isinstance(change, tuple):
            _, old, new = change
            assert old in line
            line = line.replace(old, new, 1)
        lines.append(line)
    path = tmp_path / "videos.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _read(path, errors: str, **kwargs) -> tuple[list[str], ValidationReport]:
    report = ValidationReport()
    batches = iter_tree_batches(path, node_fields=None, metadata=True, validation=ValidationConfig(errors=errors),
                                report=report, **kwargs)
    return [uid for trees in batches for uid in trees.video_uid.to_pylist()], report


@pytest.mark.parametrize("case", list(JSON_CASES))
def test_json_value_defect(tmp_path, case):
    change, error, rule, uid, message = JSON_CASES[case]
    path = _jsonl(tmp_path, change)
    with pytest.raises(error) as info:
        _read(path, "raise")
    err = info.value
    assert type(err) is error and err.rule == rule and err.video_uid == uid
    if error is RowError:
        assert err.source == f"{path}:3"  # the file and the line
    assert re.search(message, str(err)), str(err)
    kept, report = _read(path, "skip")
    assert kept == GOOD
    assert [(v.rule, v.video_uid) for v in report.skipped] == [(rule, uid)]


def _retyped(rows: list[dict], meta: dict | None = None, node_types: dict | None = None) -> pa.Table:
    """Rows written with some fields stored in wider types than the published ones."""
    metadata = pa.struct([pa.field(x.name, (meta or {}).get(x.name, x.type)) for x in METADATA_TYPE])
    nodes = pa.struct([pa.field(x.name, (node_types or {}).get(x.name, x.type)) for x in NODE_TYPE])
    schema = pa.schema([("video_uid", pa.string()), ("metadata", metadata), ("nodes", pa.list_(nodes))])
    return pa.Table.from_pylist(rows, schema=schema)


def _bad_rows(change):
    rows = copy.deepcopy(f.rows(6))
    change(rows[UIDS.index(BAD)])
    return rows


PARQUET_CASES = {
    "view_count-uint64-beyond-int64": (
        lambda: _retyped(_bad_rows(set_meta("view_count", 2**63 + 1)), meta={"view_count": pa.uint64()}),
        r"column 'metadata\.view_count' holds 9223372036854775809, which does not fit int64"),
    "level-int32-beyond-int16": (
        lambda: _retyped(_bad_rows(set_node("1", "level", 40000)), node_types={"level": pa.int32()}),
        r"column 'nodes\.level' holds 40000, which does not fit int16"),
    "end-float64-beyond-float32": (
        lambda: _retyped(_bad_rows(set_node("1", "end", 1e39)), node_types={"end": pa.float64()}),
        r"column 'nodes\.end' holds 1e\+39, which does not fit float"),
}


@pytest.mark.parametrize("case", list(PARQUET_CASES))
def test_parquet_value_that_does_not_fit(tmp_path, case):
    make, message = PARQUET_CASES[case]
    path = tmp_path / "videos.parquet"
    pq.write_table(make(), path)
    with pytest.raises(RowError) as info:
        _read(str(path), "raise")
    assert info.value.rule == "value_out_of_range" and info.value.video_uid == BAD
    assert info.value.source == f"{path}, row 2"
    assert re.search(message, str(info.value)), str(info.value)
    kept, report = _read(str(path), "skip")
    assert kept == GOOD
    assert [(v.rule, v.video_uid, v.source) for v in report.skipped] == [("value_out_of_range", BAD, f"{path}, row 2")]


def test_uint64_view_count_above_2_53_is_read_exactly(tmp_path):
    path = tmp_path / "videos.parquet"
    pq.write_table(_retyped(_bad_rows(set_meta("view_count", 2**53 + 1)), meta={"view_count": pa.uint64()}), path)
    trees = list(iter_tree_batches(str(path), metadata=True))
    assert trees[0].metadata.field("view_count").to_pylist()[2] == 2**53 + 1  # not rounded through a double


DIRECT_CASES = {
    "level-int64-beyond-int16": ({"level": pa.int64()}, set_node("1", "level", 70000), "level_out_of_range",
                                 r"level does not fit int16"),
    "end-float64-beyond-float32": ({"end": pa.float64()}, set_node("1", "end", 1e39), "non_finite_time", r"end=inf"),
}


@pytest.mark.parametrize("case", list(DIRECT_CASES))
def test_tree_batch_from_a_wider_table_reports_the_one_video(case):
    node_types, change, rule, message = DIRECT_CASES[case]
    table = _retyped(_bad_rows(change), node_types=node_types)
    with pytest.raises(InvariantError) as info:
        TreeBatch.from_arrow(table)
    assert (info.value.rule, info.value.video_uid, info.value.node_id) == (rule, BAD, f"{BAD}-n1")
    assert re.search(message, str(info.value))
    trees = TreeBatch.from_arrow(table, errors="skip")
    assert trees.video_uid.to_pylist() == GOOD and [v.rule for v in trees.violations] == [rule]


def _fan(children: int) -> pa.Table:
    """One video: a root with ``children`` consecutive leaves (n-ary: valid only when not strict)."""
    nodes = [{"node_id": "root", "parent_id": None, "level": 0, "start": 0.0, "end": float(children)}]
    order = np.random.default_rng(0).permutation(children)  # listed out of time order
    nodes += [{"node_id": f"leaf{i}", "parent_id": "root", "level": 1, "start": float(i), "end": i + 1.0}
              for i in order.tolist()]
    return pa.Table.from_pylist([{"video_uid": "fan", "nodes": nodes}], schema=SOURCE_SCHEMA)


def test_child_order_does_not_wrap_above_127_children():
    trees = TreeBatch.from_arrow(_fan(300), strict=False)
    edges = trees.edges("PARENT_OF")
    starts = trees.start[edges.target]
    assert edges.attrs["order"].dtype == np.int32
    assert np.array_equal(edges.attrs["order"], starts.astype(np.int64))  # child i starts at i: its order is i
    assert edges.attrs["order"].max() == 299


def test_non_strict_trees_round_trip_through_networkx():
    trees = TreeBatch.from_arrow(_fan(200), strict=False)
    back = from_networkx(to_networkx(trees), strict=False)
    assert back.node_id.equals(trees.node_id) and np.array_equal(back.parent, trees.parent)
    assert np.array_equal(back.child_order, trees.child_order)
    with pytest.raises(InvariantError, match="not_binary"):
        from_networkx(to_networkx(trees))  # strict by default, as on reading
