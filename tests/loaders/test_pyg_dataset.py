from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_geometric.loader import DataLoader

from graphkit.features import FeatureConfig
from graphkit.loaders.pyg_dataset import Action100MDataset, Action100MOnDiskDataset, build_dataset, stored_task
from graphkit.loaders.synth import write_parquet
from graphkit.loaders.trees import read_trees
from graphkit.tasks import NodeTask

TASK = NodeTask(features=FeatureConfig(dim=32), top_k=10)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    path = tmp_path_factory.mktemp("ds") / "synthetic.parquet"
    write_parquet(path, 30, seed=5)
    return str(path)


def expected(source):
    trees = read_trees(source, node_fields=TASK.node_fields)
    vocabulary = TASK.fit_vocabulary([trees])
    return trees, vocabulary, TASK.arrays(trees, vocabulary)


@pytest.mark.parametrize("cls", [Action100MDataset, Action100MOnDiskDataset])
def test_dataset_holds_every_video_with_its_features_and_labels(tmp_path, source, cls):
    dataset = cls(str(tmp_path / cls.__name__), [source], task=TASK, batch_size=7, log=False)
    trees, vocabulary, arrays = expected(source)
    assert len(dataset) == trees.num_videos == 30
    assert dataset.vocabulary == vocabulary
    for v in (0, 13, 29):
        graph = dataset[v]
        lo, hi = trees.node_offsets[v], trees.node_offsets[v + 1]
        assert torch.equal(graph["segment"].x, torch.from_numpy(arrays["x"][lo:hi]))
        assert torch.equal(graph["segment"].y, torch.from_numpy(arrays["y"][lo:hi]))
        ei = graph["segment", "parent_of", "segment"].edge_index
        assert ei.min() >= 0 and ei.max() < hi - lo
        parents = trees.parent[lo:hi]
        assert sorted(map(tuple, ei.t().tolist())) == sorted((int(p - lo), i) for i, p in enumerate(parents) if p >= 0)
    assert dataset.num_segment_features == arrays["x"].shape[1] == TASK.features.num_features
    assert stored_task(tmp_path / cls.__name__) == TASK
    split = dataset.get_idx_split()
    assert sorted(torch.cat(list(split.values())).tolist()) == list(range(30))
    assert torch.equal(split["train"], torch.from_numpy(np.flatnonzero(TASK.split(trees) == 0)))


def test_in_memory_dataset_is_cached_and_batches(tmp_path, source):
    root = str(tmp_path / "cached")
    first = build_dataset([source], root, task=TASK)
    again = Action100MDataset(root, log=False)  # no sources needed once processed
    assert len(again) == len(first)
    assert torch.equal(again[4]["segment"].x, first[4]["segment"].x)
    loader = DataLoader(again, batch_size=8)
    batch = next(iter(loader))
    assert batch.num_graphs == 8
    graphs = [again[i] for i in range(8)]  # keep the graphs alive: stores hold weak references
    assert batch["segment"].num_nodes == sum(g["segment"].num_nodes for g in graphs)


def test_missing_sources_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="holds no processed data and no sources were given"):
        Action100MDataset(str(tmp_path / "empty"), log=False)


def test_stored_task_is_none_before_processing(tmp_path):
    assert stored_task(tmp_path / "nothing-here") is None
