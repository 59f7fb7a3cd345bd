from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pytest

from graphkit.features import FeatureConfig
from graphkit.synth import generate_batch
from graphkit.tasks import NodeTask
from graphkit.tree import TreeBatch


@pytest.fixture(scope="module")
def trees() -> TreeBatch:
    return TreeBatch.from_arrow(generate_batch(40, seed=2))


def test_arrays_shapes_and_masks(trees):
    task = NodeTask(features=FeatureConfig(dim=16), top_k=5)
    vocabulary = task.fit_vocabulary([trees])
    arrays = task.arrays(trees, vocabulary)
    n = trees.num_nodes
    assert arrays["x"].shape == (n, 21) and arrays["x"].dtype == np.float32
    assert len(vocabulary) == 6 and vocabulary.classes[-1] == "<other>"
    labelled = arrays["y"] >= 0
    masks = arrays["train_mask"] | arrays["valid_mask"] | arrays["test_mask"]
    assert np.array_equal(masks, labelled)
    assert not (arrays["train_mask"] & arrays["test_mask"]).any()
    # Unlabelled: no gpt, or N/A.
    brief = trees.text["action_brief"].to_pylist()
    for i in np.flatnonzero(~labelled)[:200]:
        assert brief[i] is None or brief[i].strip().lower() == "n/a"
    # Whole videos share one split.
    split = arrays["split"]
    for v in range(trees.num_videos):
        assert len(set(split[trees.node_offsets[v]:trees.node_offsets[v + 1]].tolist())) == 1


def test_vocabulary_uses_training_videos_only(trees):
    task = NodeTask(top_k=None)
    train_only = trees.select(np.flatnonzero(task.split(trees) == 0))
    assert task.fit_vocabulary([trees]) == task.fit_vocabulary([train_only])


def test_features_never_see_gpt_text(trees):
    """Shuffling every gpt column leaves the features bit-identical (no label leakage)."""
    task = NodeTask(features=FeatureConfig(dim=64))
    rng = np.random.default_rng(0)
    shuffled = dict(trees.text)
    for name in ("summary_brief", "summary_detailed", "action_brief", "action_detailed", "actor"):
        shuffled[name] = shuffled[name].take(pa.array(rng.permutation(trees.num_nodes)))
    other = dataclasses.replace(trees, text=shuffled)
    assert np.array_equal(task.feature_matrix(trees), task.feature_matrix(other))


def test_bad_label_kind():
    with pytest.raises(ValueError, match="label='color'; expected one of"):
        NodeTask(label="color")


def test_to_dict_and_from_dict_round_trip_through_json():
    import json

    task = NodeTask(label="actor", top_k=None, split_seed=3, fractions=(0.6, 0.2, 0.2),
                    features=FeatureConfig(text_fields=("plm_caption",), dim=32, seed=5, temporal=False))
    data = json.loads(json.dumps(task.to_dict()))
    assert data == {"label": "actor", "top_k": None, "split_seed": 3, "fractions": [0.6, 0.2, 0.2],
                    "features": {"text_fields": ["plm_caption"], "dim": 32, "seed": 5, "temporal": False}}
    assert NodeTask.from_dict(data) == task
    assert NodeTask.from_dict(NodeTask().to_dict()) == NodeTask() == NodeTask.from_dict({})


def test_from_dict_rejects_unknown_keys_naming_them():
    with pytest.raises(ValueError, match=r"unknown NodeTask keys \['colour', 'topk'\]"):
        NodeTask.from_dict({"label": "verb", "topk": 5, "colour": "red"})
    with pytest.raises(ValueError, match=r"unknown FeatureConfig keys \['buckets'\]"):
        NodeTask.from_dict({"features": {"dim": 8, "buckets": 8}})


def test_feature_matrix_is_node_features_of_the_tree_columns_bit_for_bit():
    from graphkit.features import node_features
    from graphkit.testing import example_rows

    trees = TreeBatch.from_arrow(example_rows(4))
    task = NodeTask()
    root = trees.root[trees.video_index]
    columns = {name: trees.text[name] for name in task.features.text_fields}
    columns.update(level=trees.level, start=trees.start, end=trees.end, video_start=trees.start[root],
                   video_end=trees.end[root], height=trees.height)
    expected = node_features(columns, task.features)
    assert np.array_equal(task.feature_matrix(trees).view(np.uint32), expected.view(np.uint32))


@pytest.mark.parametrize("videos", [[2], [0, 1, 2, 3]])
def test_batches_of_one_and_four_videos(trees, videos):
    import torch

    task = NodeTask(features=FeatureConfig(dim=32))
    vocabulary = task.fit_vocabulary([trees])
    picked = trees.select(videos)
    batch = task.batch(picked, vocabulary)
    store = batch["segment"]
    assert batch.num_graphs == len(videos) and batch["video"].num_nodes == len(videos)
    assert store.num_nodes == picked.num_nodes and store.x.shape[1] == 32 + 5
    assert torch.isfinite(store.x).all()
    # Every segment of every picked video, each labelled one in exactly its video's split.
    y = torch.from_numpy(vocabulary.encode(task.label_text(picked)).astype(np.int64))
    assert torch.equal(store.y, y)
    masks = torch.stack([store.train_mask, store.valid_mask, store.test_mask])
    assert torch.equal(masks.sum(0), (store.y >= 0).long())
    # Edges stay within their video's graph.
    source, target = batch["segment", "parent_of", "segment"].edge_index
    assert torch.equal(store.batch[source], store.batch[target])
    if len(videos) == 4:  # four videos batch as the four one-video batches do
        parts = [task.batch(trees.select([v]), vocabulary)["segment"] for v in videos]
        assert torch.equal(store.x, torch.cat([p.x for p in parts]))
        assert torch.equal(store.y, torch.cat([p.y for p in parts]))
        assert torch.equal(store.train_mask, torch.cat([p.train_mask for p in parts]))
