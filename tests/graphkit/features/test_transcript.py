"""Transcript features: each segment's rows equal the bag of words of the lines it holds."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from graphkit.features.bag_of_words import hashed_bag_of_words
from graphkit.features.transcript import transcript_features
from graphkit.synth import generate_batch
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
