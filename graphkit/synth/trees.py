"""Tree growth: the binary Tree-of-Captions of every video of a batch, grown level by level.

A video's tree starts with a root spanning the whole video. Level by level,
each segment of ``d`` seconds is cut with a probability that follows a
logistic curve in ``log d``, at a logit-normal fraction that gets more
lopsided for longer segments; a cut makes two children that tile their
parent exactly, on the 10-ms time grid. Segments shorter than twice the
minimum segment, and those at the deepest level, stay leaves. All videos of a
batch grow together with numpy; times are integers in centiseconds here.

Nodes are numbered like a binary heap (root 1, children ``2h`` and
``2h + 1``): the heap number is a node's stable key for random draws.

Examples:
    >>> import numpy as np
    >>> from graphkit.synth.config import SynthConfig
    >>> from graphkit.synth.rng import Random
    >>> rand = Random(0, np.arange(2, dtype=np.uint64))
    >>> trees = grow_trees(rand, np.array([1000, 3000]), SynthConfig())
    >>> [int(x[0]) for x in (trees.level, trees.start, trees.end, trees.parent)]
    [0, 0, 1000, -1]
    >>> int(trees.counts.sum()) == len(trees.video)
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from graphkit.synth.config import SynthConfig
from graphkit.synth.rng import Random

__all__ = ["Trees", "ambiguous", "grow_trees"]


@dataclass
class Trees:
    """The nodes of a batch, in output order (video by video, breadth first).

    Every array has one entry per node except :attr:`counts`; times are in
    centiseconds.
    """

    video: np.ndarray  # batch-local video of each node
    heap: np.ndarray  # uint64 heap number: root 1, children 2h and 2h + 1
    level: np.ndarray
    start: np.ndarray  # centiseconds
    end: np.ndarray
    parent: np.ndarray  # row of the parent, -1 for the root
    is_leaf: np.ndarray
    counts: np.ndarray  # nodes per video


def ambiguous(start_cs: np.ndarray, end_cs: np.ndarray, threshold: float) -> np.ndarray:
    """Segments whose ``end - start >= threshold`` differs in float32 and float64.

    The stored times are float32; a reader may subtract them in float32 or in
    float64. On a handful of segments of exactly the threshold the two
    disagree, and whether ``gpt`` is set would then depend on the reader.

    Args:
        start_cs (numpy.ndarray): Segment starts, in centiseconds.
        end_cs (numpy.ndarray): Segment ends, in centiseconds.
        threshold (float): The duration threshold, in seconds.

    Returns:
        numpy.ndarray: One boolean per segment, true where the two disagree.

    Examples:
        >>> import numpy as np
        >>> ambiguous(np.array([1, 2]), np.array([401, 402]), 4.0).tolist()  # 0.02 to 4.02 s
        [False, True]
    """
    start, end = (start_cs / 100.0).astype(np.float32), (end_cs / 100.0).astype(np.float32)
    in_float32 = (end - start) >= np.float32(threshold)
    in_float64 = (end.astype(np.float64) - start.astype(np.float64)) >= threshold
    return in_float32 != in_float64


def grow_trees(rand: Random, duration_cs: np.ndarray, config: SynthConfig) -> Trees:
    """Split segments level by level, all videos of the batch at once.

    Args:
        rand (Random): The batch's random draws.
        duration_cs (numpy.ndarray): Each video's length, in centiseconds.
        config (SynthConfig): The split curves, minimum segment and depth.

    Returns:
        Trees: The nodes, video by video and breadth first within a video.
    """
    min_cs = max(1, round(config.min_segment * 100))
    log_midpoint = math.log(config.split_midpoint)
    video = np.arange(len(duration_cs), dtype=np.int64)
    heap = np.ones(len(duration_cs), dtype=np.uint64)
    start = np.zeros(len(duration_cs), dtype=np.int64)
    end = duration_cs.astype(np.int64)
    parent = np.full(len(duration_cs), -1, dtype=np.int64)
    levels: list[tuple[np.ndarray, ...]] = []
    first_row = 0
    for level in range(config.max_depth + 1):
        length = end - start
        seconds = length / 100.0
        split_probability = 1.0 / (
            1.0 + np.exp(-(np.log(seconds) - log_midpoint) / config.split_slope)
        )
        split = (length >= 2 * min_cs) & (rand.uniform(video, heap, "split") < split_probability)
        if level == config.max_depth:
            split[:] = False
        levels.append(
            (video, heap, np.full(len(video), level, dtype=np.int16), start, end, parent, ~split)
        )
        rows = np.flatnonzero(split)
        if len(rows) == 0:
            break
        s, e, v, h = start[rows], end[rows], video[rows], heap[rows]
        spread = config.split_spread + config.split_spread_growth * np.log((e - s) / 100.0)
        z = rand.normal(v, h, "split fraction")
        fraction = 1.0 / (1.0 + np.exp(-np.maximum(spread, 0.0) * z))
        # Cut on the 10-ms grid; one integer cut ends child 0 and starts child 1.
        cut = np.clip(s + np.rint(fraction * (e - s)).astype(np.int64), s + min_cs, e - min_cs)
        for _ in range(2):  # move a cut that leaves a child's gpt threshold ambiguous
            unsure = ambiguous(s, cut, config.gpt_min_duration) | ambiguous(
                cut, e, config.gpt_min_duration
            )
            if not unsure.any():
                break
            moved = np.where(cut + 1 <= e - min_cs, cut + 1, cut - 1)
            cut = np.where(unsure & (moved >= s + min_cs), moved, cut)
        video = np.repeat(v, 2)
        heap = np.stack([2 * h, 2 * h + np.uint64(1)], axis=1).ravel()
        start = np.stack([s, cut], axis=1).ravel()
        end = np.stack([cut, e], axis=1).ravel()
        parent = np.repeat(first_row + rows, 2)
        first_row += len(split)
    video, heap, level_, start, end, parent, is_leaf = (
        np.concatenate(column) for column in zip(*levels, strict=True)
    )
    # Levels are stored one after the other and in time order within a level;
    # a stable sort by video gives each video's nodes breadth first.
    order = np.argsort(video, kind="stable")
    row_of = np.empty_like(order)
    row_of[order] = np.arange(len(order))
    parent = parent[order]
    parent = np.where(parent >= 0, row_of[np.maximum(parent, 0)], -1)
    return Trees(
        video=video[order],
        heap=heap[order],
        level=level_[order],
        start=start[order],
        end=end[order],
        parent=parent,
        is_leaf=is_leaf[order],
        counts=np.bincount(video, minlength=len(duration_cs)),
    )
