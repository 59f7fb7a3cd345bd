"""Transcript features for segments: the hashed bag of words of the speech that falls in each one.

:func:`transcript_features` gives every segment the signed hashed bag of
words (:mod:`graphkit.features.bag_of_words`, the same tokens and hash as the
caption features) of the transcript lines aligned to it
(:func:`graphkit.transcript.align_transcript`): a leaf gets the lines
``DURING`` it; with ``pool=True`` (the default) an internal segment gets the
lines of every leaf under it, summed level by level from the deepest, so the
root holds the whole aligned transcript. Rows are L2-normalized (zero where
a segment has no speech). Lines outside every leaf reach no segment.

This is a standalone feature block: concatenate it to the segment features
(``numpy.concatenate([x, transcript_features(trees)], axis=1)``) and pass the
result as ``segment_data`` (it is not a :class:`~graphkit.features.FeatureConfig`
option yet).

Examples:
    >>> import pyarrow as pa
    >>> from graphkit.schema import SOURCE_SCHEMA
    >>> from graphkit.tree import TreeBatch
    >>> nodes = [
    ...     {"node_id": "r", "parent_id": None, "level": 0, "start": 0.0, "end": 4.0},
    ...     {"node_id": "a", "parent_id": "r", "level": 1, "start": 0.0, "end": 1.5},
    ...     {"node_id": "b", "parent_id": "r", "level": 1, "start": 1.5, "end": 4.0},
    ... ]
    >>> lines = [{"time": "0.5", "text": "cut the paper"}]
    >>> rows = pa.Table.from_pylist([{"video_uid": "v1", "nodes": nodes,
    ...                               "metadata": {"transcript": lines}}], schema=SOURCE_SCHEMA)
    >>> x = transcript_features(TreeBatch.from_arrow(rows), dim=8)
    >>> x.shape, bool((x[0] == x[1]).all()), float(abs(x[2]).sum())
    ((3, 8), True, 0.0)
"""

from __future__ import annotations

import numpy as np

from graphkit.arrays import check_positive_int
from graphkit.features.bag_of_words import hashed_token_counts
from graphkit.transcript import Transcript, align_transcript
from graphkit.tree import TreeBatch

__all__ = ["transcript_features"]


def transcript_features(
    trees: TreeBatch,
    transcript: Transcript | None = None,
    dim: int = 64,
    *,
    seed: int = 0,
    pool: bool = True,
) -> np.ndarray:
    """The hashed bag of words of the transcript lines in each segment.

    Args:
        trees (TreeBatch): The videos, read with their metadata.
        transcript (Transcript, optional): Their aligned transcript; aligned
            here when not given. (default: :obj:`None`)
        dim (int, optional): Hash buckets. (default: :obj:`64`)
        seed (int, optional): Hash seed. (default: :obj:`0`)
        pool (bool, optional): Sum each segment's leaves into it (else only
            leaves have speech). (default: :obj:`True`)

    Returns:
        numpy.ndarray: ``float32`` ``(trees.num_nodes, dim)``, rows of unit L2 norm or zero.

    Raises:
        ValueError: If ``dim`` is not positive or the batch has no metadata.
    """
    dim = check_positive_int(dim, "dim")
    lines = align_transcript(trees) if transcript is None else transcript
    counts = hashed_token_counts(lines.text, dim, seed=seed)
    # Each DURING edge takes its line's entries to its segment.
    per_edge = counts.num_tokens[lines.during_line]
    total = int(per_edge.sum())
    starts = counts.ptr[lines.during_line]
    shift = np.repeat(np.r_[0, np.cumsum(per_edge)[:-1]] - starts, per_edge) if total else np.zeros(0, np.int64)
    entries = np.arange(total, dtype=np.int64) - shift
    out = np.zeros((trees.num_nodes, dim), dtype=np.float32)
    np.add.at(out, (np.repeat(lines.during_segment, per_edge), counts.bucket[entries]),
              counts.count[entries].astype(np.float32))
    if pool:
        order = np.argsort(trees.level, kind="stable")
        bounds = np.searchsorted(trees.level[order], np.arange(int(trees.level.max(initial=0)) + 2))
        for level in range(len(bounds) - 2, 0, -1):  # one numpy step per level, deepest first
            nodes = order[bounds[level] : bounds[level + 1]]
            np.add.at(out, trees.parent[nodes], out[nodes])
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out
