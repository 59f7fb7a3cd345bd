"""Step anticipation: predict the next leaf's label from what has ended by the cut time.

A *cut* ``(video, t)`` shows the model the segments of the video that **end**
by ``t`` — their captions, timing and links among themselves — and nothing
else: no segment still running at ``t`` (a parent whose caption describes
what comes next, the root whose end is the video's length) and nothing
after it. The visible segments are whole subtrees (a segment ends no earlier
than its children), so their heights are their own. The prediction sits on
the last leaf that has ended (the query); its target is the label (verb by
default) of the **next step**: the finest labelled segment that begins at the
cut, where the next leaf begins. (Leaves themselves are almost never labelled:
``gpt`` is set on segments of 4 s or more, and on the real sample no leaf has
it; the next leaf's step is the finest annotated action it belongs to.)

:meth:`AnticipationTask.examples` cuts each video at the end of every leaf
where a labelled step begins (at most ``examples_per_video`` of them,
evenly spread); :meth:`AnticipationTask.examples_at` cuts anywhere. The rule
the batch builder enforces: no member ends after its cut. With transcript
features (``FeatureConfig(transcript_dim=...)``) a member hears only lines
that are over before the cut (:meth:`AnticipationTask.hears`), in its own leaves
or, pooled, in the members below it.

Examples:
    >>> from graphkit.synth import generate_batch
    >>> from graphkit.tree import TreeBatch
    >>> trees = TreeBatch.from_arrow(generate_batch(2, seed=0))
    >>> task = AnticipationTask(examples_per_video=3)
    >>> batch = task.batch(trees, task.fit_vocabulary([trees]))
    >>> batch.num_graphs, int(batch["segment"].query.sum())
    (6, 6)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from graphkit.arrays import concat_ranges
from graphkit.tasks.base import ExampleTask
from graphkit.tasks.examples import Examples, evenly_spaced
from graphkit.transcript import Transcript
from graphkit.tree import TreeBatch

__all__ = ["AnticipationTask", "time_key", "finest_labelled"]


def finest_labelled(trees: TreeBatch, labelled: np.ndarray) -> np.ndarray:
    """``[N]`` each node's nearest labelled ancestor-or-self (``-1`` for none), one numpy step per level.

    Examples:
        >>> from graphkit.testing import example_rows
        >>> trees = TreeBatch.from_arrow(example_rows(1))
        >>> finest_labelled(trees, np.array([True, False, False])).tolist()
        [0, 0, 0]
    """
    nearest = np.where(labelled, np.arange(trees.num_nodes), -1)
    order = np.argsort(trees.level, kind="stable")
    levels = trees.level[order]
    bounds = np.r_[0, np.flatnonzero(levels[1:] != levels[:-1]) + 1, order.size]
    for lo, hi in zip(bounds[:-1], bounds[1:]):  # top-down: a parent's answer is final before its children's
        nodes = order[lo:hi]
        nodes = nodes[(nearest[nodes] < 0) & (trees.parent[nodes] >= 0)]
        nearest[nodes] = nearest[trees.parent[nodes]]
    return nearest


def time_key(values: np.ndarray) -> np.ndarray:
    """``int64`` keys in ``[0, 2**32)`` ordered as the ``float32`` values are (an order-preserving bit map).

    Examples:
        >>> keys = time_key(np.array([-1.5, 0.0, 2.0, 2.5], dtype=np.float32))
        >>> bool(np.all(np.diff(keys) > 0))
        True
    """
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32).astype(np.int64)
    return np.where(bits >= 0x80000000, 0xFFFFFFFF - bits, bits | 0x80000000)


@dataclass(frozen=True)
class AnticipationTask(ExampleTask):
    """Predict the next leaf's label from the segments that ended by the cut; see the module docstring.

    Args: those of :class:`~graphkit.tasks.base.ExampleTask`.
    """

    name: ClassVar[str] = "anticipation"
    rule: ClassVar[str] = "a segment that ends after the cut time would be visible"

    def cuts(self, trees: TreeBatch, labelled: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(video, t, target)``: each cut at a leaf's end where a labelled step (the target) begins."""
        leaves = trees.leaves_in_time
        before, after = leaves[:-1], leaves[1:]
        same = trees.video_index[before] == trees.video_index[after]
        before, after = before[same], after[same]
        t = trees.end[before]
        step = finest_labelled(trees, labelled)[after]
        found = step >= 0
        keep = found & (trees.start[np.maximum(step, 0)] == trees.start[after]) & (trees.end[np.maximum(step, 0)] > t)
        before, after, t = before[keep], step[keep], t[keep]
        video = trees.video_index[after]
        spread = evenly_spaced(video, self.examples_per_video)
        return video[spread], t[spread], after[spread]

    def examples(self, trees: TreeBatch, labelled: np.ndarray) -> Examples:
        """One example per cut of :meth:`cuts`."""
        return self.examples_at(trees, *self.cuts(trees, labelled))

    def examples_at(self, trees: TreeBatch, video: np.ndarray, t: np.ndarray,
                    target: np.ndarray | None = None) -> Examples:
        """The examples of cuts ``(video[i], t[i])``: the segments of the video that end by ``t[i]``.

        Args:
            trees (TreeBatch): The videos.
            video (numpy.ndarray): ``[E]`` video position of each cut.
            t (numpy.ndarray): ``[E]`` cut times, seconds.
            target (numpy.ndarray, optional): ``[E]`` node of each answer;
                :obj:`None` for none (``-1``).

        Raises:
            ValueError: If a cut shows no leaf (nothing has ended by ``t``).
        """
        video = np.asarray(video, dtype=np.int64)
        t = np.asarray(t, dtype=np.float32)
        num_nodes = trees.num_nodes
        order = np.lexsort((trees.end, trees.video_index))
        key = (trees.video_index[order].astype(np.int64) << 32) | time_key(trees.end[order])
        high = np.searchsorted(key, (video << 32) | time_key(t), side="right")
        low = trees.node_offsets[video]
        counts = high - low
        node = order[concat_ranges(low, counts)]
        owner = np.repeat(np.arange(video.size), counts)
        resort = np.argsort(owner * num_nodes + node, kind="stable")
        node = node[resort]
        offsets = np.r_[0, np.cumsum(counts)].astype(np.int64)
        # The query: the visible leaf that ended last.
        score = np.where(trees.is_leaf[node], trees.end[node].astype(np.float64), -np.inf)
        last = np.lexsort((score, owner))
        if (counts == 0).any() or not np.isfinite(score[last[offsets[1:] - 1]]).all():
            bad = int(np.flatnonzero((counts == 0) | ~trees.is_leaf[node][last[np.maximum(offsets[1:] - 1, 0)]])[0]) \
                if node.size else 0
            raise ValueError(f"the cut of video {trees.video_uid[int(video[bad])].as_py()!r} at "
                             f"t={float(t[bad])} shows no leaf: nothing has ended by then")
        query = last[offsets[1:] - 1]
        return Examples(video=video, offsets=offsets, node=node, text_hidden=np.zeros(node.size, dtype=bool),
                        query=query, target=np.full(video.size, -1) if target is None else np.asarray(target),
                        attrs={"cut": t})

    def forbidden(self, trees: TreeBatch, examples: Examples) -> tuple[np.ndarray, np.ndarray]:
        """Members that end after their cut (none may be read); no text is hidden beyond them."""
        late = trees.end[examples.node] > examples.attrs["cut"][examples.example_of_member]
        return late, np.zeros(examples.node.size, dtype=bool)

    def hears(self, trees: TreeBatch, examples: Examples, transcript: Transcript, member: np.ndarray,
              line: np.ndarray) -> np.ndarray:
        """The lines over before the cut: a line's time is when it starts, so it counts as spoken until
        the next line of its video starts (the last line, for ever), and only a line whose next one
        starts before its example's cut is heard; nothing at or after the cut changes what is."""
        video = transcript.video_index
        order = np.lexsort((transcript.time, video))
        over = np.full(transcript.num_lines, np.inf, dtype=np.float64)
        same = video[order[:-1]] == video[order[1:]]
        over[order[:-1][same]] = transcript.time[order[1:][same]]
        cut = examples.attrs["cut"][examples.example_of_member[member]].astype(np.float64)
        return over[line] < cut
