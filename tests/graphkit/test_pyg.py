from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch, HeteroData
from torch_geometric.loader import DataLoader

from graphkit import schema
from graphkit.pyg import (
    HOMOGENEOUS_RELATIONS,
    to_hetero_batch,
    to_hetero_data,
    to_homogeneous_batch,
    to_in_memory_storage,
)
from graphkit.tree import TreeBatch
from tests import factories as f


@pytest.fixture
def trees() -> TreeBatch:
    rows = f.rows(3)
    rows[1] = f.video_row("video000001", splits={"": 8.0, "0": 4.0, "00": 2.0, "1": 12.0, "10": 10.0})
    return TreeBatch.from_arrow(f.table(rows))


def naive_video_graph(trees: TreeBatch, video: int) -> HeteroData:
    """One video's graph built the plain way, for comparison."""
    one = trees.select([video])
    data = HeteroData()
    data["segment"].num_nodes = one.num_nodes
    data["video"].num_nodes = 1
    data["segment"].level = torch.tensor(one.level.astype(np.int64))
    data["segment"].start = torch.tensor(one.start)
    data["segment"].end = torch.tensor(one.end)
    data["segment"].is_leaf = torch.tensor(one.is_leaf)
    data["segment"].child_order = torch.tensor(one.child_order.astype(np.int64))
    data["segment"].height = torch.tensor(one.height.astype(np.int64))
    data["video"].x = torch.tensor([[float(one.end[0]), float(one.num_nodes)]])
    for spec in schema.EDGE_TYPES:
        e = one.edges(spec)
        fwd = torch.tensor(np.stack([e.source, e.target]))
        data[spec.pyg_edge_type].edge_index = fwd
        data[spec.pyg_reverse_edge_type].edge_index = fwd.flip(0)
        for name, value in e.attrs.items():
            value = torch.tensor(value.astype(np.int64) if value.dtype == np.int32 else value)
            data[spec.pyg_edge_type][name] = value
            data[spec.pyg_reverse_edge_type][name] = value
    return data


def assert_same_graph(a: HeteroData, b: HeteroData) -> None:
    assert set(a.node_types) == set(b.node_types)
    assert set(a.edge_types) == set(b.edge_types)
    for store_type in a.node_types + a.edge_types:
        assert set(a[store_type].keys()) == set(b[store_type].keys()), store_type
        for key in a[store_type].keys():
            assert torch.equal(torch.as_tensor(a[store_type][key]), torch.as_tensor(b[store_type][key])), (store_type, key)


def test_each_video_equals_its_plain_graph(trees):
    batch = to_hetero_batch(trees)
    assert batch.num_graphs == 3
    for v in range(3):
        assert_same_graph(batch.get_example(v), naive_video_graph(trees, v))
        assert_same_graph(to_hetero_data(trees, v), naive_video_graph(trees, v))


def test_batch_equals_pyg_collation(trees):
    ours = to_hetero_batch(trees)
    theirs = Batch.from_data_list([naive_video_graph(trees, v) for v in range(3)])
    for store_type in theirs.node_types + theirs.edge_types:
        for key in theirs[store_type].keys():
            assert torch.equal(torch.as_tensor(ours[store_type][key]), torch.as_tensor(theirs[store_type][key]))
    for key, slices in theirs._slice_dict.items():
        for attr, value in slices.items():
            assert torch.equal(ours._slice_dict[key][attr], value)
            assert torch.equal(torch.as_tensor(ours._inc_dict[key][attr]), torch.as_tensor(theirs._inc_dict[key][attr]))


def test_reverse_relations_are_distinct(trees):
    batch = to_hetero_batch(trees)
    for spec in schema.EDGE_TYPES:
        fwd = batch[spec.pyg_edge_type].edge_index
        rev = batch[spec.pyg_reverse_edge_type].edge_index
        assert spec.pyg_edge_type != spec.pyg_reverse_edge_type
        assert torch.equal(rev, fwd.flip(0))
    assert len(batch.edge_types) == 2 * len(schema.EDGE_TYPES)


def test_segment_data_attached_and_checked(trees):
    x = np.arange(trees.num_nodes * 2, dtype=np.float32).reshape(-1, 2)
    batch = to_hetero_batch(trees, {"x": x, "y": np.arange(trees.num_nodes)})
    assert torch.equal(batch.get_example(2)["segment"].x, torch.from_numpy(x[trees.node_offsets[2]:]))
    with pytest.raises(ValueError, match=r"segment tensor 'x' has shape \(3, 2\); expected 25 rows"):
        to_hetero_batch(trees, {"x": x[:3]})


def test_dataloader_batches_videos(trees):
    graphs = to_hetero_batch(trees).to_data_list()
    sizes = [b["segment"].num_nodes for b in DataLoader(graphs, batch_size=2)]
    assert sizes == [int(trees.nodes_per_video[:2].sum()), int(trees.nodes_per_video[2])]


def test_homogeneous_batch(trees):
    batch = to_homogeneous_batch(trees)
    assert HOMOGENEOUS_RELATIONS == ("parent_of", "rev_parent_of", "next", "rev_next", "next_leaf", "rev_next_leaf")
    hetero = to_hetero_batch(trees)
    for code, name in enumerate(HOMOGENEOUS_RELATIONS):
        edge_type = ("segment", name, "segment")
        ours = batch.edge_index[:, batch.edge_type == code]
        assert sorted(map(tuple, ours.t().tolist())) == sorted(map(tuple, hetero[edge_type].edge_index.t().tolist()))
    again = Batch.from_data_list(batch.to_data_list())
    assert torch.equal(again.edge_index, batch.edge_index)
    assert torch.equal(again.edge_type, batch.edge_type)


def test_to_hetero_data_bad_index(trees):
    with pytest.raises(IndexError, match="video 5 out of range for a batch of 3"):
        to_hetero_data(trees, 5)


def test_in_memory_storage_holds_each_video_with_local_indices(trees):
    batch = to_hetero_batch(trees)
    data, slices = to_in_memory_storage(batch)
    assert "batch" not in data["segment"] and "ptr" not in data["segment"]
    assert torch.equal(data["segment"].level, batch["segment"].level)
    for edge_type in batch.edge_types:
        bounds = slices[edge_type]["edge_index"].tolist()
        for video in range(batch.num_graphs):
            local = data[edge_type].edge_index[:, bounds[video]:bounds[video + 1]]
            assert torch.equal(local, batch.get_example(video)[edge_type].edge_index)


# -- transcript lines (issue 13, item 4) ---------------------------------------
def test_transcript_store_and_relations_per_video():
    from graphkit.synth import generate_batch
    from graphkit.transcript import align_transcript

    trees = TreeBatch.from_arrow(generate_batch(4, seed=9))
    lines = align_transcript(trees)
    batch = to_hetero_batch(trees, transcript=lines, transcript_data={"x": torch.ones(lines.num_lines, 3)})
    assert batch["transcript"].num_nodes == lines.num_lines > 0
    assert batch["transcript"].x.shape == (lines.num_lines, 3)
    during = batch["transcript", "during", "segment"].edge_index
    assert during.tolist() == [lines.during_line.tolist(), lines.during_segment.tolist()]
    assert batch["segment", "rev_during", "transcript"].edge_index.tolist() == during.flip(0).tolist()
    assert batch["transcript", "in_video", "video"].edge_index[1].tolist() == lines.video_index.tolist()
    table = lines.to_table(trees).to_pylist()
    for v in range(trees.num_videos):
        one = batch.get_example(v)
        uid = trees.video_uid[v].as_py()
        mine = [row for row in table if row["video_uid"] == uid]
        assert one["transcript"].index.tolist() == [row["index"] for row in mine]
        assert one["transcript"].time.tolist() == pytest.approx([row["time"] for row in mine])
        local = one["transcript", "during", "segment"].edge_index
        node_ids = trees.node_id.slice(int(trees.node_offsets[v])).to_pylist()
        assert [[row["index"] for row in mine][i] for i in local[0].tolist()] == [
            row["index"] for row in mine for _ in row["segments"]]
        assert [node_ids[j] for j in local[1].tolist()] == [s for row in mine for s in row["segments"]]
        assert one["transcript", "in_video", "video"].edge_index[1].tolist() == [0] * len(mine)
        assert one["video", "rev_in_video", "transcript"].edge_index[0].tolist() == [0] * len(mine)
    # Without it, the graphs are as before.
    assert "transcript" not in to_hetero_batch(trees).node_types
