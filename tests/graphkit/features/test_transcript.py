"""Transcript features: each segment's rows equal the bag of words of the lines it holds."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pytest

from graphkit.features import FeatureConfig, node_features
from graphkit.features.bag_of_words import hashed_bag_of_words, hashed_token_counts
from graphkit.features.transcript import pool_transcript, transcript_features, transcript_token_counts
from graphkit.synth import generate_batch
from graphkit.tasks import NodeTask
from graphkit.transcript import align_transcript
from graphkit.tree import TreeBatch


@pytest.fixture(scope="module")
def trees() -> TreeBatch:
    return TreeBatch.from_arrow(generate_batch(5, seed=13))


def _expected(trees: TreeBatch, pool: bool) -> np.ndarray:
    """Plain Python: join the text of the lines in each segment (its leaves' when pooled), then hash."""
    lines = align_transcript(trees)
    texts = lines.text.to_pylist()
    spoken: dict[int, list[str]] = {}
    for line, segment in zip(lines.during_line.tolist(), lines.during_segment.tolist()):
        spoken.setdefault(segment, []).append(texts[line])
    rows = []
    for node in range(trees.num_nodes):
        if pool:
            lo, hi = trees.node_offsets[trees.video_index[node]], trees.node_offsets[trees.video_index[node] + 1]
            leaves = [leaf for leaf in range(lo, hi) if trees.is_leaf[leaf] and _under(trees, leaf, node)]
        else:
            leaves = [node]
        rows.append(" ".join(text for leaf in leaves for text in spoken.get(leaf, [])) or None)
    return hashed_bag_of_words(pa.array(rows, pa.string()), 32, seed=1)


def _under(trees: TreeBatch, leaf: int, node: int) -> bool:
    while leaf >= 0:
        if leaf == node:
            return True
        leaf = int(trees.parent[leaf])
    return False


@pytest.mark.parametrize("pool", [True, False])
def test_rows_are_the_bag_of_words_of_the_lines_held(trees, pool):
    got = transcript_features(trees, dim=32, seed=1, pool=pool)
    assert got.shape == (trees.num_nodes, 32) and got.dtype == np.float32
    np.testing.assert_allclose(got, _expected(trees, pool), atol=1e-6)
    assert (np.abs(got).sum(axis=1) > 0).sum() > trees.num_videos


def test_a_given_alignment_is_used_and_dim_checked(trees):
    lines = align_transcript(trees)
    np.testing.assert_array_equal(transcript_features(trees, lines, dim=16), transcript_features(trees, dim=16))
    with pytest.raises(ValueError, match="dim"):
        transcript_features(trees, lines, dim=0)


def test_sparse_counts_hold_each_leafs_lines_once_per_bucket(trees):
    lines = align_transcript(trees)
    counts = transcript_token_counts(trees, lines, dim=32, seed=1)
    assert counts.num_tokens.shape == (trees.num_nodes,) and counts.dim == 32
    assert (counts.num_tokens[~trees.is_leaf] == 0).all() and counts.num_tokens[trees.is_leaf].sum() > 0
    assert (counts.count != 0).all()
    rows = np.repeat(np.arange(trees.num_nodes), counts.num_tokens)
    keys = rows * 32 + counts.bucket
    assert (np.diff(keys) > 0).all()  # segments, then buckets, ascending: one entry each
    # The counts of a leaf are the hashed counts of the text of its lines, joined.
    spoken = _expected_counts(trees, lines, 32, 1)
    dense = np.zeros((trees.num_nodes, 32), np.int64)
    dense[rows, counts.bucket] = counts.count
    np.testing.assert_array_equal(dense, spoken)
    np.testing.assert_array_equal(pool_transcript(trees, counts), transcript_features(trees, lines, dim=32, seed=1))
    with pytest.raises(ValueError, match="rows for"):
        pool_transcript(trees.select([0]), counts)


def _expected_counts(trees: TreeBatch, lines, dim: int, seed: int) -> np.ndarray:
    texts = lines.text.to_pylist()
    joined: dict[int, list[str]] = {}
    for line, segment in zip(lines.during_line.tolist(), lines.during_segment.tolist()):
        joined.setdefault(segment, []).append(texts[line])
    column = pa.array([" ".join(joined[node]) if node in joined else None for node in range(trees.num_nodes)],
                      pa.string())
    counts = hashed_token_counts(column, dim, seed=seed)
    out = np.zeros((trees.num_nodes, dim), np.int64)
    out[np.repeat(np.arange(trees.num_nodes), counts.num_tokens), counts.bucket] = counts.count
    return out


def test_the_feature_config_places_the_transcript_block_between_text_and_timing(trees):
    config = FeatureConfig(dim=16, transcript_dim=8)
    assert config.transcript and config.num_features == 16 + 8 + 5
    assert FeatureConfig(**config.to_dict()) == config and "transcript_dim" not in FeatureConfig().to_dict()
    assert type(FeatureConfig(transcript_dim=np.int64(4)).to_dict()["transcript_dim"]) is int
    task = NodeTask(features=config)
    x = task.feature_matrix(trees)
    assert x.shape == (trees.num_nodes, config.num_features)
    np.testing.assert_array_equal(x[:, 16:24], transcript_features(trees, dim=8))
    np.testing.assert_array_equal(x[:, :16], NodeTask(features=FeatureConfig(dim=16)).feature_matrix(trees)[:, :16])
    for bad in (-1, 1.5, True, 0.0, "4"):
        with pytest.raises(ValueError, match="transcript_dim"):
            FeatureConfig(transcript_dim=bad)
    with pytest.raises(ValueError, match="read the batch with its metadata"):
        task.feature_matrix(dataclasses.replace(trees, metadata=None))


def test_node_features_takes_the_block_exactly_when_configured():
    columns = {"plm_caption": ["a"], "plm_action": [None], "llama3_caption": ["b"], "level": [0], "start": [0.0],
               "end": [4.0], "video_start": [0.0], "video_end": [4.0], "height": [0]}
    block = np.ones((1, 3), np.float32)
    x = node_features(columns, FeatureConfig(dim=8, transcript_dim=3), transcript=block)
    assert x.shape == (1, 16) and (x[0, 8:11] == 1).all()
    with pytest.raises(ValueError, match="not given"):
        node_features(columns, FeatureConfig(dim=8, transcript_dim=3))
    with pytest.raises(ValueError, match="was given"):
        node_features(columns, FeatureConfig(dim=8), transcript=block)
    with pytest.raises(ValueError, match=r"expected \(N, 4\)"):
        node_features(columns, FeatureConfig(dim=8, transcript_dim=4), transcript=block)
