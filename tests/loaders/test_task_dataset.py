from __future__ import annotations

import pytest
import torch

from graphkit.features import FeatureConfig
from graphkit.loaders.synth import write_parquet
from graphkit.loaders.task_dataset import TaskDataset
from graphkit.tasks import ParentTask


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> TaskDataset:
    path = tmp_path_factory.mktemp("task_dataset") / "videos.parquet"
    write_parquet(path, 12, seed=2)
    return TaskDataset([str(path)], ParentTask(features=FeatureConfig(dim=16), examples_per_video=4))


def test_splits_cover_every_video_once(dataset):
    split = dataset.get_idx_split()
    joined = torch.cat([split[name] for name in ("train", "valid", "test")]).sort().values
    assert torch.equal(joined, torch.arange(len(dataset))) and len(dataset) == 12
    assert dataset.num_segment_features == 16 + 5


def test_the_loader_draws_each_video_once_per_pass_in_a_seeded_order(dataset):
    train = dataset.get_idx_split()["train"]
    loader = dataset.loader(train, batch_size=3, shuffle=True, generator=torch.Generator().manual_seed(0))
    first = [batch["segment"].y[batch["segment"].query].tolist() for batch in loader]
    again = dataset.loader(train, batch_size=3, shuffle=True, generator=torch.Generator().manual_seed(0))
    assert first == [batch["segment"].y[batch["segment"].query].tolist() for batch in again]
    assert len(loader) == -(-train.numel() // 3) and sum(len(y) for y in first) > 0
    assert all(bool(b["segment"].train_mask[b["segment"].query].all()) for b in dataset.loader(train))


def test_workers_and_replicas_are_refused_in_one_line(dataset):
    with pytest.raises(ValueError, match="trains in one process without workers"):
        dataset.loader([0], num_workers=2)


def test_no_source_is_refused():
    with pytest.raises(ValueError, match="reads its sources each run"):
        TaskDataset([], ParentTask())
