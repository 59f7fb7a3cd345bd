"""Every rule of graphkit.validation, each broken on purpose in otherwise valid data."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

from graphkit.errors import InvariantError, SchemaError
from graphkit.tree import TreeBatch
from graphkit.validation import MAX_ID_BYTES, RULES, ValidationConfig, ValidationReport, Violation
from tests import factories as f

BAD = "video000001"  # the middle one of three videos gets the defect


def _bad(rows: list[dict]) -> dict:
    return next(r for r in rows if r["video_uid"] == BAD)


def set_field(path: str, field: str, value, reported: str | None):
    """The defect that sets ``field`` of the bad video's node at ``path`` to ``value``.

    The error must name the bad video and, unless ``reported`` is None, its node at path ``reported``.
    """

    def defect(rows):
        f.node(_bad(rows), path)[field] = value
        return BAD, None if reported is None else f"{BAD}-n{reported or 'root'}"

    return defect


def null_video_uid(rows):
    _bad(rows)["video_uid"] = None
    return None, None


def duplicate_video_uid(rows):
    _bad(rows)["video_uid"] = "video000000"
    return "video000000", None


def empty_tree(rows):
    _bad(rows)["nodes"] = []
    return BAD, None


def negative_start(rows):
    for path in ("", "0", "00"):
        f.node(_bad(rows), path)["start"] = -1.0
    return BAD, f"{BAD}-nroot"


def end_before_start(rows):
    node = f.node(_bad(rows), "00")
    node["start"], node["end"] = node["end"], node["start"]
    return BAD, f"{BAD}-n00"


def root_level(rows):
    for n in _bad(rows)["nodes"]:
        n["level"] += 1
    return BAD, f"{BAD}-nroot"


def three_children(rows):
    extra = dict(f.node(_bad(rows), "1"), node_id=f"{BAD}-extra", start=12.0, end=16.0)
    f.node(_bad(rows), "1")["end"] = 12.0
    _bad(rows)["nodes"].append(extra)
    return BAD, f"{BAD}-nroot"


def one_child(rows):
    bad = _bad(rows)
    bad["nodes"] = [n for n in bad["nodes"] if n["node_id"] != f"{BAD}-n1"]
    return BAD, f"{BAD}-nroot"


def gap_between_children(rows):
    f.node(_bad(rows), "01")["start"] = 5.0
    f.node(_bad(rows), "010")["start"] = 5.0
    return BAD, f"{BAD}-n0"  # [0, 8] has children [0, 4] and [5, 8]


def empty_node_id(rows):
    f.node(_bad(rows), "1")["node_id"] = ""
    return BAD, ""


def oversized_node_id(rows):
    f.node(_bad(rows), "1")["node_id"] = "n" * (MAX_ID_BYTES + 1)
    return BAD, "n" * (MAX_ID_BYTES + 1)


def null_transcript_entry(rows):
    _bad(rows)["metadata"]["transcript"] = [{"time": "0.5", "text": "hi"}, None]
    return BAD, None


# A rule broken two ways has a second key with a trailing space.
DEFECTS = {
    "null_video_uid": null_video_uid,
    "duplicate_video_uid": duplicate_video_uid,
    "empty_tree": empty_tree,
    "null_field": set_field("1", "node_id", None, reported=None),
    "null_field ": set_field("1", "start", None, reported="1"),
    "duplicate_node_id": set_field("1", "node_id", f"{BAD}-n0", reported="0"),
    "missing_parent": set_field("01", "parent_id", "no-such-node", reported="01"),
    "missing_parent ": set_field("01", "parent_id", "video000000-n0", reported="01"),  # in another video
    "no_root": set_field("", "parent_id", f"{BAD}-n1", reported=None),
    "multiple_roots": set_field("1", "parent_id", None, reported="1"),
    "cycle": set_field("0", "parent_id", f"{BAD}-n01", reported="0"),
    "non_finite_time": set_field("00", "start", math.nan, reported="00"),
    "non_finite_time ": set_field("1", "end", math.inf, reported="1"),
    "negative_start": negative_start,
    "end_not_after_start": end_before_start,
    "root_level": root_level,
    "level_mismatch": set_field("1", "level", 5, reported="1"),
    "child_outside_parent": set_field("011", "end", 9.0, reported="011"),
    "not_binary": three_children,
    "not_binary ": one_child,
    "children_do_not_tile": gap_between_children,
    "children_do_not_tile ": set_field("1", "start", 7.0, reported=""),  # overlaps its sibling
    "oversized_string": set_field("1", "plm_caption", "x" * 2000, reported="1"),
    "empty_id": empty_node_id,
    "oversized_id": oversized_node_id,
    "null_in_list": null_transcript_entry,
}
CONFIG = ValidationConfig(max_string_bytes=1000)


@pytest.mark.parametrize("rule", sorted(DEFECTS))
def test_defect_raises_its_rule_naming_video_and_node(rule):
    rows = f.rows(3)
    uid, node_id = DEFECTS[rule](rows)
    with pytest.raises(InvariantError) as info:
        TreeBatch.from_arrow(f.table(rows), config=CONFIG)
    err = info.value
    assert err.rule == rule.strip()
    assert err.video_uid == uid
    if node_id is not None:
        assert err.node_id == node_id
    assert f"video {uid!r}" in str(err) and rule.strip() in str(err)


@pytest.mark.parametrize("rule", sorted(DEFECTS))
def test_defect_skipped_and_reported_nothing_else_lost(rule):
    rows = f.rows(3)
    uid, _ = DEFECTS[rule](rows)
    config = ValidationConfig(errors="skip", max_string_bytes=1000)
    trees = TreeBatch.from_arrow(f.table(rows), config=config)
    assert [v.rule for v in trees.violations] == [rule.strip()]
    assert trees.violations[0].video_uid == uid
    # The other videos are all there, node for node.
    good = [r for i, r in enumerate(f.rows(3)) if i != 1]
    if rule.strip() == "duplicate_video_uid":
        good = [f.rows(3)[0], f.rows(3)[2]]  # the first occurrence is kept
    expected = TreeBatch.from_arrow(f.table(good))
    assert trees.num_videos == 2
    assert trees.node_id.equals(expected.node_id)
    assert np.array_equal(trees.parent, expected.parent)
    assert np.array_equal(trees.start, expected.start)


def test_every_rule_has_a_defect():
    # invalid_utf8 has its own test below; unreadable_source is graphkit.loaders.trees' (see its tests);
    # the rows a reader cannot read, and levels beyond int16, are in tests/defects/test_input_values.py.
    readers = {"malformed_row", "wrong_type", "value_out_of_range", "level_out_of_range"}
    covered = {name.strip() for name in DEFECTS} | {"invalid_utf8", "unreadable_source"} | readers
    assert covered == set(RULES)


def test_invalid_utf8_is_reported():
    good = f.table(f.rows(2))
    nodes = good.column("nodes").combine_chunks()
    values = nodes.values
    caption = values.field("plm_caption")
    raw = caption.cast(pa.binary()).to_pylist()
    raw[3] = b"bad \xff\xfe bytes"
    # Build a string array over invalid bytes without validation, as a corrupt file would.
    data = b"".join(raw)
    offsets = np.r_[0, np.cumsum([len(x) for x in raw])].astype(np.int32)
    broken = pa.Array.from_buffers(pa.string(), len(raw), [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    fields = [values.field(i) if values.type[i].name != "plm_caption" else broken for i in range(values.type.num_fields)]
    new_values = pa.StructArray.from_arrays(fields, fields=list(values.type))
    new_nodes = pa.ListArray.from_arrays(nodes.offsets, new_values)
    bad = pa.table({"video_uid": good.column("video_uid"), "nodes": new_nodes})
    with pytest.raises(InvariantError, match="invalid_utf8") as info:
        TreeBatch.from_arrow(bad)
    assert info.value.video_uid == "video000000"
    assert info.value.node_id == values.field("node_id")[3].as_py()


def test_non_strict_accepts_nary_trees():
    rows = f.rows(1)
    row = rows[0]
    root = f.node(row, "1")
    root["end"] = 12.0
    row["nodes"].append(dict(root, node_id="extra", start=12.0, end=16.0))
    with pytest.raises(InvariantError, match="not_binary"):
        TreeBatch.from_arrow(f.table(rows))
    trees = TreeBatch.from_arrow(f.table(rows), strict=False)
    assert trees.num_children[0] == 3
    assert trees.child_order[trees.parent == 0].tolist() == [0, 1, 2]


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda t: t.drop_columns(["nodes"]), "missing column 'nodes'"),
        (lambda t: t.drop_columns(["video_uid"]), "missing column 'video_uid'"),
    ],
)
def test_missing_columns_are_schema_errors(mutate, message):
    with pytest.raises(SchemaError, match=message):
        TreeBatch.from_arrow(mutate(f.table(f.rows(1))))


def test_wrong_node_field_type_is_a_schema_error():
    rows = f.rows(1)
    node_type = pa.struct([("node_id", pa.string()), ("parent_id", pa.string()), ("level", pa.int16()),
                           ("start", pa.string()), ("end", pa.float32())])
    for n in rows[0]["nodes"]:
        n["start"] = str(n["start"])
    table = pa.Table.from_pylist(
        [{"video_uid": r["video_uid"], "nodes": [{k: n[k] for k in node_type.names} for n in r["nodes"]]} for r in rows],
        schema=pa.schema([("video_uid", pa.string()), ("nodes", pa.list_(node_type))]),
    )
    with pytest.raises(SchemaError, match=r"'nodes.start' has type string, expected float"):
        TreeBatch.from_arrow(table)


def test_report_summary_counts_rules():
    report = ValidationReport(videos_kept=5, nodes_kept=50)
    report.add(Violation("a", "n", "cycle", "x"))
    report.add(Violation("b", None, "empty_tree", "y"))
    assert report.summary() == "5 videos (50 nodes) kept; 2 skipped (cycle: 1, empty_tree: 1)"


@pytest.mark.parametrize("kwargs", [{"errors": "ignore"}, {"max_string_bytes": 0}, {"time_tolerance": -1.0}])
def test_bad_config_values_raise(kwargs):
    with pytest.raises(ValueError):
        ValidationConfig(**kwargs)
