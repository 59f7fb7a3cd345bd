"""Datasets whose segment features carry the transcript block (``FeatureConfig(transcript_dim=...)``).

The shards keep each leaf's sparse transcript counts and pool them up the
tree when a batch is read; these tests check that this gives the in-memory
features bit for bit, equals the block computed straight from the source,
keys the dataset by ``transcript_dim``, and leaves the shards of features
without a transcript exactly as they were.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from graphkit.errors import DatasetError
from graphkit.features import FeatureConfig, transcript_features
from graphkit.loaders.fragments import plan_fragments
from graphkit.loaders.ondisk import build_shards, dataset_key, key_matches, read_manifest
from graphkit.loaders.pyg_dataset import Action100MDataset, Action100MOnDiskDataset
from graphkit.loaders.shards import Shard, shard_tables
from graphkit.loaders.synth import write_parquet
from graphkit.loaders.trees import iter_tree_batches
from graphkit.synth import SynthConfig
from graphkit.tasks import NodeTask
from graphkit.validation import ValidationConfig

TASK = NodeTask(features=FeatureConfig(dim=32, transcript_dim=16), top_k=10)


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("transcript") / "videos.parquet"
    write_parquet(path, 12, seed=5, videos_per_row_group=4, config=SynthConfig(mean_video_duration=20.0))
    return str(path)


def test_on_disk_and_in_memory_features_agree_and_hold_the_transcript(tmp_path, source):
    memory = Action100MDataset(str(tmp_path / "memory"), [source], task=TASK, log=False)
    disk = Action100MOnDiskDataset(str(tmp_path / "disk"), [source], task=TASK, videos_per_shard=5, log=False)
    assert disk.num_segment_features == memory.num_segment_features == 32 + 16 + 5
    order = [7, 0, 11, 3]
    batch = disk.videos.collate(order)
    for position, video in enumerate(order):
        assert torch.equal(batch.get_example(position)["segment"].x, memory[video]["segment"].x)
    trees = next(iter_tree_batches(source, node_fields=TASK.node_fields, metadata=True))
    expected = transcript_features(trees, dim=16)
    first = memory[0]["segment"].x[:, 32:48].numpy()
    np.testing.assert_array_equal(first, expected[: first.shape[0]])
    spoken = np.concatenate([memory[v]["segment"].x[:, 32:48].numpy() for v in range(12)])
    assert (np.abs(spoken).sum(axis=1) > 0).mean() > 0.3  # the block is not empty


def test_shards_store_the_transcript_apart_and_the_key_names_it(tmp_path, source):
    manifest = build_shards([source], tmp_path / "with", TASK, videos_per_shard=5)
    plain_task = NodeTask(features=FeatureConfig(dim=32), top_k=10)
    plain = build_shards([source], tmp_path / "without", plain_task, videos_per_shard=5)
    assert shard_tables(TASK)[-1] == "transcript" and "transcript" not in shard_tables(plain_task)
    shard = Shard(tmp_path / "with" / manifest["shards"][0]["name"])
    _, _, segments, tokens = shard.gather(np.arange(shard.num_videos))
    assert segments["num_transcript_tokens"].sum() == tokens["transcript_bucket"].size > 0
    assert (tokens["transcript_bucket"] < 16).all() and (tokens["transcript_count"] != 0).all()
    bare = Shard(tmp_path / "without" / plain["shards"][0]["name"])
    assert "num_transcript_tokens" not in bare.gather([0])[2]
    fragments = plan_fragments([source])
    key = dataset_key(fragments, TASK, ValidationConfig())
    assert key["task"]["features"]["transcript_dim"] == 16
    assert "transcript_dim" not in dataset_key(fragments, plain_task, ValidationConfig())["task"]["features"]
    other = NodeTask(features=FeatureConfig(dim=32, transcript_dim=8), top_k=10)
    assert not key_matches(key, dataset_key(fragments, other, ValidationConfig()))
    (tmp_path / "with" / manifest["shards"][0]["name"] / "transcript.arrow").unlink()
    with pytest.raises(DatasetError, match="transcript.arrow is missing"):
        read_manifest(tmp_path / "with")
