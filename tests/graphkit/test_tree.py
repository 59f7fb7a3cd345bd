from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from graphkit import schema
from graphkit.errors import InvariantError
from graphkit.tree import TreeBatch
from tests import factories as f


@pytest.fixture
def trees() -> TreeBatch:
    # root [0,16] -> 0 [0,8], 1 [8,16]; 0 -> 00 [0,4], 01 [4,8]; 01 -> 010 [4,6], 011 [6,8]
    return TreeBatch.from_arrow(f.table(f.rows(2)))


def ids(trees, positions):
    names = trees.node_id.to_pylist()
    return [names[p].split("-n")[1] for p in positions]


def test_repr_is_pinned(trees):
    assert repr(trees) == "TreeBatch(videos=2, nodes=14, leaves=8, max_level=3)"


def test_structure_columns(trees):
    assert trees.node_offsets.tolist() == [0, 7, 14]
    assert ids(trees, trees.root) == ["root", "root"]
    one = trees.select([0])
    assert ids(one, range(7)) == ["root", "0", "00", "01", "010", "011", "1"]
    assert one.parent.tolist() == [-1, 0, 1, 1, 3, 3, 0]
    assert one.is_leaf.tolist() == [False, False, True, False, True, True, True]
    assert one.child_order.tolist() == [-1, 0, 0, 1, 0, 1, 1]
    assert one.height.tolist() == [3, 2, 0, 1, 0, 0, 0]
    assert one.subtree_size.tolist() == [7, 5, 1, 3, 1, 1, 1]
    assert one.leaf_rank.tolist() == [-1, -1, 0, -1, 1, 2, 3]
    assert ids(one, one.time_order) == ["root", "0", "00", "01", "010", "011", "1"]


def test_edges_of_each_type(trees):
    one = trees.select([1])
    e = one.edges("PARENT_OF")
    assert list(zip(ids(one, e.source), ids(one, e.target))) == [
        ("root", "0"), ("0", "00"), ("0", "01"), ("01", "010"), ("01", "011"), ("root", "1")]
    assert e.attrs["order"].tolist() == [0, 0, 1, 0, 1, 1]
    e = one.edges("NEXT")
    assert list(zip(ids(one, e.source), ids(one, e.target))) == [("0", "1"), ("00", "01"), ("010", "011")]
    assert e.attrs["gap"].tolist() == [0.0, 0.0, 0.0]
    e = one.edges("next_leaf")
    assert list(zip(ids(one, e.source), ids(one, e.target))) == [("00", "010"), ("010", "011"), ("011", "1")]
    e = trees.edges(schema.HAS_ROOT)
    assert e.source.tolist() == [0, 1] and e.target.tolist() == [0, 7]
    assert trees.edges_per_video("NEXT").tolist() == [3, 3]
    with pytest.raises(ValueError, match="unknown edge type 'SIBLING'"):
        trees.edges("SIBLING")


def test_next_skips_over_a_shallower_leaf_with_its_gap():
    # Level 3 holds 000 [0,2], 001 [2,4] and 100 [8,10], 101 [10,12]; between 4 and 8
    # lies the level-2 leaf 01, so 001 -> 100 is a NEXT edge with gap 4.
    row = f.video_row("gappy", splits={"": 8.0, "0": 4.0, "00": 2.0, "1": 12.0, "10": 10.0})
    trees = TreeBatch.from_arrow(f.table([row]))
    e = trees.edges("NEXT")
    edges = list(zip(ids(trees, e.source), ids(trees, e.target), e.attrs["gap"].tolist()))
    assert [edge for edge in edges if len(edge[0]) == 3] == [
        ("000", "001", 0.0), ("001", "100", 4.0), ("100", "101", 0.0)]
    assert ("01", "10", 0.0) in edges and ("0", "1", 0.0) in edges


def test_strict_and_general_paths_agree(trees):
    general = TreeBatch.from_arrow(f.table(f.rows(2)), strict=False)
    assert trees.tiling and not general.tiling
    for spec in schema.EDGE_TYPES:
        a, b = trees.edges(spec), general.edges(spec)
        assert sorted(zip(a.source, a.target)) == sorted(zip(b.source, b.target))
    assert np.array_equal(trees.child_order, general.child_order)
    assert np.array_equal(trees.leaf_rank, general.leaf_rank)


def test_non_uuid_ids_take_the_dictionary_path_with_same_result():
    rows = f.rows(2)
    short = TreeBatch.from_arrow(f.table(rows))
    # Same node ids reused in two videos: legal across videos, resolved per video.
    for row in rows:
        for n in row["nodes"]:
            n["node_id"] = n["node_id"].split("-")[1]
            if n["parent_id"]:
                n["parent_id"] = n["parent_id"].split("-")[1]
    shared = TreeBatch.from_arrow(f.table(rows))
    assert np.array_equal(shared.parent, short.parent)


def test_select_reindexes_and_keeps_text(trees):
    second = trees.select([1])
    assert second.parent.tolist() == trees.parent[7:].__sub__(7).clip(-1).tolist()
    assert second.text["plm_caption"].to_pylist() == trees.text["plm_caption"].to_pylist()[7:]
    assert second.metadata.to_pylist() == trees.metadata.to_pylist()[1:]
    empty = trees.select([])
    assert empty.num_videos == 0 and empty.num_nodes == 0


def test_projected_structure_only_batch():
    table = f.table(f.rows(1))
    nodes = table.column("nodes").combine_chunks()
    keep = [nodes.values.field(name) for name in schema.STRUCTURE_FIELDS]
    values = pa.StructArray.from_arrays(keep, names=list(schema.STRUCTURE_FIELDS))
    projected = pa.table({"video_uid": table.column("video_uid"),
                          "nodes": pa.ListArray.from_arrays(nodes.offsets, values)})
    trees = TreeBatch.from_arrow(projected)
    assert trees.text == {} and trees.metadata is None
    assert trees.num_nodes == 7


def _fixed_width_rows(width: int):
    """Rows whose ids all have ``width`` characters (the fast id-join path)."""
    rows = f.rows(2)
    for v, row in enumerate(rows):
        names = {n["node_id"]: f"{v}{i}".rjust(width, "x") for i, n in enumerate(row["nodes"])}
        for n in row["nodes"]:
            n["node_id"] = names[n["node_id"]]
            n["parent_id"] = names.get(n["parent_id"])
    return rows


@pytest.mark.parametrize("width", [8, 12, 36])
def test_fixed_width_ids_resolve_like_variable_ones(width):
    expected = TreeBatch.from_arrow(f.table(f.rows(2)))
    trees = TreeBatch.from_arrow(f.table(_fixed_width_rows(width)))
    assert np.array_equal(trees.parent, expected.parent)


def test_fixed_width_parent_differing_in_last_byte_is_missing():
    rows = _fixed_width_rows(12)
    node = rows[1]["nodes"][3]
    node["parent_id"] = node["parent_id"][:-1] + "#"
    with pytest.raises(InvariantError, match="missing_parent"):
        TreeBatch.from_arrow(f.table(rows))


def test_fixed_width_ids_repeated_across_videos():
    rows = _fixed_width_rows(12)
    second = rows[1]
    names = {n["node_id"]: rows[0]["nodes"][i]["node_id"] for i, n in enumerate(second["nodes"])}
    for n in second["nodes"]:
        n["node_id"] = names[n["node_id"]]
        n["parent_id"] = names.get(n["parent_id"])
    trees = TreeBatch.from_arrow(f.table(rows))
    assert np.array_equal(trees.parent, TreeBatch.from_arrow(f.table(f.rows(2))).parent)


def test_batch_is_freed_without_waiting_for_garbage_collection():
    import gc
    import weakref

    gc.disable()  # a reference cycle would keep the batch (and its arrays) alive
    try:
        trees = TreeBatch.from_arrow(f.table(f.rows(2)))
        for spec in schema.EDGE_TYPES:
            trees.edges(spec)
        _ = trees.height, trees.time_order, trees.leaf_rank
        ref = weakref.ref(trees)
        del trees
        assert ref() is None
    finally:
        gc.enable()


def test_layout_guess_and_hash_join_agree_on_shuffled_rows():
    """Rows in (level, start) order take the guess-by-time path; shuffled rows the hash join."""
    from graphkit.synth import generate_batch

    table = pa.Table.from_batches([generate_batch(6, seed=11)])
    ordered = TreeBatch.from_arrow(table)
    rows = table.to_pylist()
    rng = np.random.default_rng(0)
    for row in rows:
        row["nodes"] = [row["nodes"][i] for i in rng.permutation(len(row["nodes"]))]
    shuffled = TreeBatch.from_arrow(pa.Table.from_pylist(rows, schema=table.schema))
    as_ids = lambda t: {  # noqa: E731
        t.node_id[i].as_py(): (t.node_id[t.parent[i]].as_py() if t.parent[i] >= 0 else None)
        for i in range(t.num_nodes)
    }
    assert as_ids(ordered) == as_ids(shuffled)


@pytest.mark.parametrize("defect", ["missing", "wrong_level"])
def test_layout_ordered_rows_with_a_bad_parent_id_are_still_caught(defect):
    from graphkit.synth import generate_batch

    rows = pa.Table.from_batches([generate_batch(3, seed=4)]).to_pylist()
    nodes = rows[1]["nodes"]
    child = next(n for n in nodes if n["level"] == 3)
    child["parent_id"] = "0" * 36 if defect == "missing" else nodes[0]["node_id"]
    rule = "missing_parent" if defect == "missing" else "level_mismatch"
    with pytest.raises(InvariantError, match=rule) as info:
        TreeBatch.from_arrow(pa.Table.from_pylist(rows, schema=schema.SOURCE_SCHEMA))
    assert info.value.video_uid == rows[1]["video_uid"]
