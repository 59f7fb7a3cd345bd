"""The sharded on-disk dataset: compact, exact, keyed by its inputs, one record per video."""

from __future__ import annotations

import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from graphkit.errors import InvariantError
from graphkit.features import FeatureConfig
from graphkit.loaders.batches import ShardBatchSampler, ShardedVideos
from graphkit.loaders.fragments import plan_fragments
from graphkit.loaders.ondisk import build_shards, read_manifest
from graphkit.loaders.pyg_dataset import Action100MDataset, Action100MOnDiskDataset
from graphkit.loaders.synth import write_parquet
from graphkit.tasks import NodeTask
from graphkit.validation import ValidationConfig

TASK = NodeTask(features=FeatureConfig(dim=64), top_k=10)


def test_fragments_cover_every_row_group_once_in_order(source):
    fragments = plan_fragments([source], videos_per_fragment=20)
    groups = [g for fragment in fragments for g in fragment.row_groups]
    assert groups == list(range(pq.ParquetFile(source).num_row_groups))
    assert sum(f.num_rows for f in fragments) == 60
    assert all(f.num_rows >= 20 for f in fragments[:-1])


def test_batches_equal_the_in_memory_dataset_bit_for_bit(tmp_path, source):
    memory = Action100MDataset(str(tmp_path / "memory"), [source], task=TASK, log=False)
    disk = Action100MOnDiskDataset(str(tmp_path / "disk"), [source], task=TASK, videos_per_shard=16, log=False)
    assert len(disk.manifest["shards"]) > 1  # the order below crosses shards
    assert disk.vocabulary == memory.vocabulary
    order = [41, 2, 17, 3, 59]
    batch = disk.videos.collate(order)
    for position, video in enumerate(order):
        expected, got = memory[video], batch.get_example(position)
        for key in ("x", "y", "train_mask", "valid_mask", "test_mask", "level", "start", "end", "height",
                    "child_order", "is_leaf"):
            assert got["segment"][key].dtype == expected["segment"][key].dtype, key
            assert torch.equal(got["segment"][key], expected["segment"][key]), key
        assert torch.equal(got["video"].x, expected["video"].x)
        for edge_type in expected.edge_types:
            for key in expected[edge_type].keys():
                assert torch.equal(got[edge_type][key], expected[edge_type][key]), (edge_type, key)
    assert disk.video_uids == memory.video_uids


def test_content_does_not_depend_on_batch_size_and_is_compact(tmp_path, source):
    one = build_shards([source], tmp_path / "one", TASK, batch_size=3, videos_per_shard=10)
    many = build_shards([source], tmp_path / "many", TASK, batch_size=64, videos_per_shard=10)
    assert [info["videos"] for info in one["shards"]][:2] == [10, 6]  # 16-video fragments, cut at 10
    # A record holds its own video's rows only: how videos were batched while
    # processing leaves no trace in the bytes.
    assert one["checksum"] == many["checksum"]
    assert one["bytes"] == many["bytes"]
    assert one["bytes"] / one["segments"] <= 250


def test_hashing_threads_do_not_change_the_shards(tmp_path, source):
    from graphkit.loaders.ondisk import process_fragment

    fragment = plan_fragments([source], videos_per_fragment=60)[0]
    one = process_fragment(0, fragment, tmp_path / "one", TASK, batch_size=32)
    two = process_fragment(0, fragment, tmp_path / "two", TASK, batch_size=32, threads=2)
    assert [info.checksum for info in one.shards] == [info.checksum for info in two.shards]
    assert one.segments == two.segments > 0


def test_shard_size_grows_with_its_videos_not_with_the_batch(tmp_path):
    small, large = tmp_path / "small.parquet", tmp_path / "large.parquet"
    write_parquet(small, 10, seed=1)
    write_parquet(large, 40, seed=1)
    a = build_shards([str(small)], tmp_path / "a", TASK, batch_size=256)
    b = build_shards([str(large)], tmp_path / "b", TASK, batch_size=256)
    per_segment_a, per_segment_b = a["bytes"] / a["segments"], b["bytes"] / b["segments"]
    assert abs(per_segment_a - per_segment_b) / per_segment_b < 0.25


def test_cache_is_reused_for_the_same_inputs_and_rebuilt_for_changed_ones(tmp_path):
    path = tmp_path / "v.parquet"
    write_parquet(path, 20, seed=1)
    root = str(tmp_path / "ds")
    first = Action100MOnDiskDataset(root, [str(path)], task=TASK, log=False)
    manifest = first.processed_dir + "/manifest.json"
    stamp = os.stat(manifest).st_mtime_ns
    again = Action100MOnDiskDataset(root, [str(path)], task=TASK, log=False)
    assert os.stat(manifest).st_mtime_ns == stamp and again.checksum == first.checksum
    write_parquet(path, 25, seed=2)  # same path, other content
    changed = Action100MOnDiskDataset(root, [str(path)], task=TASK, log=False)
    assert len(changed) == 25 and changed.checksum != first.checksum
    other_task = NodeTask(features=FeatureConfig(dim=32), top_k=10)
    rebuilt = Action100MOnDiskDataset(root, [str(path)], task=other_task, log=False)
    assert rebuilt.num_segment_features == 32 + 5
    with pytest.raises(ValueError, match="was built for the task"):
        Action100MOnDiskDataset(root, task=TASK, log=False)  # no sources: cannot rebuild


def test_a_video_uid_in_two_fragments_is_refused_or_skipped(tmp_path):
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    write_parquet(first, 6, seed=1)
    write_parquet(second, 3, seed=9)
    table = pq.read_table(first)
    pq.write_table(pa.concat_tables([pq.read_table(second), table.slice(2, 1)]), second)  # b repeats a's third
    duplicate = table.column("video_uid")[2].as_py()
    with pytest.raises(InvariantError, match=duplicate) as raised:
        build_shards([str(first), str(second)], tmp_path / "strict", TASK)
    assert "b.parquet" in str(raised.value) and "a.parquet" in str(raised.value)  # the inputs, not shards
    manifest = build_shards([str(first), str(second)], tmp_path / "skip", TASK,
                            validation=ValidationConfig(errors="skip"))
    assert manifest["videos"] == 9
    assert [entry["video_uid"] for entry in manifest["skipped"]] == [duplicate]
    videos = ShardedVideos(tmp_path / "skip", manifest)
    assert len(videos) == 9 and videos.video_uid.to_pylist().count(duplicate) == 1


def test_sampler_batches_come_from_one_shard_and_cover_each_video_once(tmp_path, source):
    manifest = build_shards([source], tmp_path / "p", TASK, videos_per_shard=16)
    videos = ShardedVideos(tmp_path / "p", manifest)
    indices = np.arange(0, 60, 2)
    sampler = ShardBatchSampler(videos, indices, batch_size=5, shuffle=True,
                                generator=torch.Generator().manual_seed(0))
    batches = list(sampler)
    assert len(batches) == len(sampler)
    assert sorted(i for b in batches for i in b) == indices.tolist()
    assert all(len(set(videos.shard_of(b).tolist())) == 1 for b in batches)
    again = list(ShardBatchSampler(videos, indices, batch_size=5, shuffle=True,
                                   generator=torch.Generator().manual_seed(0)))
    assert again == batches


def test_worker_processes_build_the_same_batches(tmp_path, source):
    manifest = build_shards([source], tmp_path / "w", TASK, videos_per_shard=16)
    videos = ShardedVideos(tmp_path / "w", manifest)
    here = [b["segment"].x for b in videos.loader(np.arange(60), batch_size=7)]
    there = [b["segment"].x for b in videos.loader(np.arange(60), batch_size=7, num_workers=2)]
    assert len(here) == len(there) and all(torch.equal(a, b) for a, b in zip(here, there))


def test_an_interrupted_build_leaves_the_old_dataset(tmp_path, source, monkeypatch):
    manifest = build_shards([source], tmp_path / "keep", TASK)
    import graphkit.loaders.ondisk as ondisk

    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ondisk, "process_fragment", broken)
    with pytest.raises(KeyboardInterrupt):
        build_shards([source], tmp_path / "keep", TASK)
    assert read_manifest(tmp_path / "keep")["checksum"] == manifest["checksum"]
    assert [p.name for p in tmp_path.iterdir()] == ["keep"]
    assert json.loads((tmp_path / "keep" / "manifest.json").read_text())["videos"] == 60


def test_the_checksum_covers_the_labels(tmp_path, source):
    few = build_shards([source], tmp_path / "few", NodeTask(features=FeatureConfig(dim=64), top_k=3))
    many = build_shards([source], tmp_path / "many", TASK)
    assert few["shards"] == many["shards"]  # the same stored bytes ...
    assert few["checksum"] != many["checksum"]  # ... mean other classes


def test_a_subset_reads_only_its_videos(tmp_path, source):
    dataset = Action100MOnDiskDataset(str(tmp_path / "d"), [source], task=TASK, videos_per_shard=16, log=False)
    train = dataset.get_idx_split()["train"]
    subset = dataset[train]
    assert len(subset) == train.numel()
    assert subset.video_uids == [dataset.video_uids[i] for i in train.tolist()]
    loaded = sum(batch["segment"].num_nodes for batch in subset.loader(torch.arange(len(subset)), batch_size=8))
    assert loaded == subset.num_segments == sum(dataset[i]["segment"].num_nodes for i in train)
    assert subset.get_idx_split()["train"].tolist() == list(range(len(subset)))
    with pytest.raises(TypeError, match="integers"):
        dataset.videos.collate([1.5])


@pytest.mark.parametrize("damage", ["not json", "a list", "shard missing", "shard truncated"])
def test_a_damaged_dataset_is_named_or_rebuilt_from_its_sources(tmp_path, source, damage):
    from graphkit.errors import DatasetError

    root = tmp_path / "d"
    first = Action100MOnDiskDataset(str(root), [source], task=TASK, videos_per_shard=16, log=False)
    processed = root / "processed"
    shard = processed / first.manifest["shards"][1]["name"]
    if damage == "not json":
        (processed / "manifest.json").write_text('{"format": 1, "key": ')
    elif damage == "a list":
        (processed / "manifest.json").write_text("[1, 2]")
    elif damage == "shard missing":
        (shard / "segments.arrow").unlink()
    else:
        (shard / "tokens.arrow").write_bytes((shard / "tokens.arrow").read_bytes()[:100])
    with pytest.raises(DatasetError, match="run convert again"):
        Action100MOnDiskDataset(str(root), task=TASK, log=False)
    rebuilt = Action100MOnDiskDataset(str(root), [source], task=TASK, videos_per_shard=16, log=False)
    assert rebuilt.checksum == first.checksum and len(rebuilt) == 60


def test_leftovers_of_a_killed_build_are_removed(tmp_path, source):
    dead = tmp_path / "processed.building-999999999"
    dead.mkdir()
    (dead / "junk").write_text("x")
    build_shards([source], tmp_path / "processed", TASK)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["processed"]
