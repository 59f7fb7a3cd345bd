from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from graphkit import schema
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
