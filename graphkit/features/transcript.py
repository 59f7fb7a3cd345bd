"""Transcript features for segments: the hashed bag of words of the speech that falls in each one.

:func:`transcript_features` gives every segment the signed hashed bag of
words (:mod:`graphkit.features.bag_of_words`, the same tokens and hash as the
caption features) of the transcript lines aligned to it
(:func:`graphkit.transcript.align_transcript`): a leaf gets the lines
``DURING`` it; with ``pool=True`` (the default) an internal segment gets the
lines of every leaf under it, summed level by level from the deepest, so the
root holds the whole aligned transcript. Rows are L2-normalized (zero where
a segment has no speech). Lines outside every leaf reach no segment.

It is made in two steps, so that what is stored stays small:
:func:`transcript_token_counts` gives each leaf's nonzero buckets (sparse and
exact, what the on-disk shards keep) and :func:`pool_transcript` sums them up
the tree into the dense rows. ``FeatureConfig(transcript_dim=64)`` appends
this block to the segment features of every task (``graphkit train
--transcript-dim 64``).

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
    >>> trees = TreeBatch.from_arrow(rows)
    >>> x = transcript_features(trees, dim=8)
    >>> x.shape, bool((x[0] == x[1]).all()), float(abs(x[2]).sum())
    ((3, 8), True, 0.0)
    >>> transcript_token_counts(trees, dim=16).num_tokens.tolist()  # only the leaf "a" holds speech: 3 words
    [0, 3, 0]
"""

from __future__ import annotations

import numpy as np

from graphkit.arrays import check_positive_int, concat_ranges
from graphkit.features.bag_of_words import TokenCounts, hashed_token_counts
from graphkit.transcript import Transcript, align_transcript
from graphkit.tree import TreeBatch

__all__ = ["transcript_features", "transcript_token_counts", "spoken_token_counts", "pool_transcript"]


def transcript_token_counts(
    trees: TreeBatch,
    transcript: Transcript | None = None,
    dim: int = 64,
    *,
    seed: int = 0,
) -> TokenCounts:
    """The signed hashed token counts of the lines that fall in each segment, before pooling.

    Only leaves hold lines (:func:`~graphkit.transcript.align_transcript`);
    a line in two overlapping leaves counts in both.

    Args:
        trees (TreeBatch): The videos, read with their metadata.
        transcript (Transcript, optional): Their aligned transcript; aligned
            here when not given. (default: :obj:`None`)
        dim (int, optional): Hash buckets. (default: :obj:`64`)
        seed (int, optional): Hash seed. (default: :obj:`0`)

    Returns:
        TokenCounts: ``trees.num_nodes`` rows, buckets ascending, no zero count.

    Raises:
        ValueError: If ``dim`` is not positive or the batch has no metadata.
    """
    lines = align_transcript(trees) if transcript is None else transcript
    return spoken_token_counts(lines, lines.during_segment, lines.during_line, trees.num_nodes, dim, seed=seed)


def spoken_token_counts(
    transcript: Transcript,
    row: np.ndarray,
    line: np.ndarray,
    num_rows: int,
    dim: int = 64,
    *,
    seed: int = 0,
) -> TokenCounts:
    """The hashed token counts of some lines summed into rows: line ``line[i]`` is heard by row ``row[i]``.

    Args:
        transcript (Transcript): The lines.
        row (numpy.ndarray): ``[P]`` row of each pair, in ``[0, num_rows)``.
        line (numpy.ndarray): ``[P]`` line of each pair (a position in ``transcript``).
        num_rows (int): Rows of the result.
        dim (int, optional): Hash buckets. (default: :obj:`64`)
        seed (int, optional): Hash seed. (default: :obj:`0`)

    Returns:
        TokenCounts: ``num_rows`` rows, buckets ascending, no zero count.

    Raises:
        ValueError: If ``dim`` is not positive.
    """
    dim = check_positive_int(dim, "dim")
    row = np.asarray(row, dtype=np.int64)
    line = np.asarray(line, dtype=np.int64)
    counts = hashed_token_counts(transcript.text, dim, seed=seed)
    # Each pair takes its line's entries to its row.
    per_pair = counts.num_tokens[line]
    entries = concat_ranges(counts.ptr[line], per_pair)
    # One entry per (row, bucket): sorted keys put rows, then buckets, in order.
    key = np.repeat(row, per_pair) * dim + counts.bucket[entries]
    unique, inverse = np.unique(key, return_inverse=True)
    summed = np.bincount(inverse, weights=counts.count[entries], minlength=unique.size).astype(np.int64)
    kept = summed != 0
    unique, summed = unique[kept], summed[kept]
    num_tokens = np.bincount(unique // dim, minlength=num_rows).astype(np.int64)
    return TokenCounts(num_tokens, unique % dim, summed, dim)


def pool_transcript(trees: TreeBatch, counts: TokenCounts, *, pool: bool = True) -> np.ndarray:
    """Dense transcript rows from :func:`transcript_token_counts`: leaves summed into every ancestor.

    Args:
        trees (TreeBatch): The videos the counts are of (their parents and levels).
        counts (TokenCounts): One row per segment.
        pool (bool, optional): Sum each segment's leaves into it (else only
            leaves have speech). (default: :obj:`True`)

    Returns:
        numpy.ndarray: ``float32`` ``(trees.num_nodes, counts.dim)``, rows of unit L2 norm or zero.

    Raises:
        ValueError: If the counts have another number of rows than the batch has segments.
    """
    if len(counts.num_tokens) != trees.num_nodes:
        raise ValueError(f"transcript counts have {len(counts.num_tokens)} rows for {trees.num_nodes} segments")
    out = np.zeros((trees.num_nodes, counts.dim), dtype=np.float32)
    out[np.repeat(np.arange(trees.num_nodes), counts.num_tokens), counts.bucket] = counts.count
    if pool:
        order = np.argsort(trees.level, kind="stable")
        bounds = np.searchsorted(trees.level[order], np.arange(int(trees.level.max(initial=0)) + 2))
        for level in range(len(bounds) - 2, 0, -1):  # one numpy step per level, deepest first
            nodes = order[bounds[level] : bounds[level + 1]]
            nodes = nodes[trees.parent[nodes] >= 0]  # a forest's roots (a task's cut) pass nothing up
            np.add.at(out, trees.parent[nodes], out[nodes])
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


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
    return pool_transcript(trees, transcript_token_counts(trees, transcript, dim, seed=seed), pool=pool)
