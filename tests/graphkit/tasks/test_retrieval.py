from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from graphkit.features import FeatureConfig
from graphkit.schema import GPT_PROPERTIES
from graphkit.synth import generate_batch
from graphkit.tasks import NodeTask, RetrievalTask, build_task, task_from_dict
from graphkit.tree import TreeBatch
from tests.graphkit.tasks.helpers import junk


@pytest.fixture(scope="module")
def trees() -> TreeBatch:
    return TreeBatch.from_arrow(generate_batch(4, seed=7))


@pytest.fixture(scope="module")
def task() -> RetrievalTask:
    return RetrievalTask(features=FeatureConfig(dim=32))


def _segment_inputs(batch):
    """Everything but the query text and the targets: what the segment encoder may read."""
    store = batch["segment"]
    skip = {"query_x", "y", "is_query", "train_mask", "valid_mask", "test_mask"}
    tensors = {key: store[key] for key in store.keys() if key not in skip and isinstance(store[key], torch.Tensor)}
    tensors.update({edge: batch[edge].edge_index for edge in batch.edge_types})
    return tensors


def test_the_brief_reaches_the_model_only_as_the_query(task, trees):
    gpt = [name for name in trees.text if name in GPT_PROPERTIES]
    assert "action_brief" in gpt
    vocabulary = task.fit_vocabulary([trees])
    before = task.batch(trees, vocabulary)
    changed = junk(trees, np.ones(trees.num_nodes, dtype=bool), text=True)
    # Only the gpt fields of the junk: the captions stay, the briefs change.
    mixed = dataclasses.replace(trees, text={name: (changed.text[name] if name in gpt else column)
                                             for name, column in trees.text.items()})
    after = task.batch(mixed, vocabulary)
    left, right = _segment_inputs(before), _segment_inputs(after)
    assert left.keys() == right.keys()
    for key in left:
        assert torch.equal(left[key], right[key]), key
    assert not torch.equal(before["segment"].query_x, after["segment"].query_x)


@pytest.mark.parametrize("videos", [[3], [0, 1, 2, 3]])
def test_batches_of_one_and_four_videos(task, trees, videos):
    picked = trees.select(videos)
    batch = task.batch(picked, task.fit_vocabulary([trees]))
    store = batch["segment"]
    assert batch.num_graphs == len(videos) and store.num_nodes == picked.num_nodes
    assert store.query_x.shape == (picked.num_nodes, 32) and store.x.shape == (picked.num_nodes, 37)
    labelled = task.labels(picked).is_valid().to_numpy(zero_copy_only=False)
    assert np.array_equal(store.is_query.numpy(), labelled) and labelled.any()
    assert torch.equal(store.train_mask | store.valid_mask | store.test_mask, store.is_query)
    assert (store.query_x[~store.is_query].abs().sum(dim=1) == 0).all()
    assert (store.query_x[store.is_query].norm(dim=1) > 0).all()


def test_is_registered_and_round_trips():
    task = build_task("retrieval", top_k=9)
    assert isinstance(task, RetrievalTask) and task.label == "brief"
    assert RetrievalTask.from_dict(task.to_dict()) == task
    # Its description names it, so the registry rebuilds a retrieval task, not a segment task.
    assert task.to_dict()["name"] == "retrieval" and task_from_dict(task.to_dict()) == task
    assert "name" not in NodeTask().to_dict() and task_from_dict(NodeTask(top_k=9).to_dict()) == NodeTask(top_k=9)
    with pytest.raises(ValueError, match="a 'retrieval' task is not a 'segment' task"):
        NodeTask.from_dict(task.to_dict())
