"""Examples cut out of videos: the graphs a task's model reads, and only those.

An *example* is one prediction: a set of segments of one video (its
*members*, the only nodes the model may read), the member that carries the
prediction (the *query*) and the segment whose label is the answer (the
*target*, which need not be a member). :class:`Examples` holds many of them
as flat arrays; :func:`example_trees` turns them into a
:class:`~graphkit.tree.TreeBatch` with one pseudo-video per example, made of
copies of the members alone: its parent links, levels, times and text are
the members' (a member whose parent is not a member is a root there), and
members whose text is hidden have every text field set to null. Everything a
model reads is computed from that tree, so nothing outside the members
(and no hidden text) can reach it: edges (``NEXT`` in the members' own time
order), heights, child order, and the time frame of the temporal features
(the members' earliest start and latest end, never the video's length).

Examples:
    >>> import numpy as np
    >>> from graphkit.testing import example_rows
    >>> trees = TreeBatch.from_arrow(example_rows(1))
    >>> examples = Examples(video=np.array([0]), offsets=np.array([0, 2]), node=np.array([1, 2]),
    ...                     text_hidden=np.array([False, True]), query=np.array([1]), target=np.array([0]))
    >>> cut = example_trees(trees, examples)
    >>> cut.parent.tolist(), cut.text["plm_caption"].null_count
    ([-1, -1], 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit.errors import LeakageError, quote
from graphkit.tree import TreeBatch

__all__ = ["Examples", "example_trees", "example_heights", "check_members", "evenly_spaced"]


@dataclass(frozen=True)
class Examples:
    """Many examples of one :class:`~graphkit.tree.TreeBatch`, as flat arrays.

    Args:
        video (numpy.ndarray): ``[E]`` video position of each example.
        offsets (numpy.ndarray): ``[E + 1]`` bounds of each example's members.
        node (numpy.ndarray): ``[M]`` node position of each member, increasing
            within an example.
        text_hidden (numpy.ndarray): ``[M]`` bool, members whose text the model
            must not read.
        query (numpy.ndarray): ``[E]`` member (position in ``node``) that
            carries the prediction.
        target (numpy.ndarray): ``[E]`` node position of the segment whose
            label is the answer; ``-1`` for none.
        attrs (dict[str, numpy.ndarray], optional): ``[E]`` per-example
            values a task declares its rules with (e.g. a cut time).
    """

    video: np.ndarray
    offsets: np.ndarray
    node: np.ndarray
    text_hidden: np.ndarray
    query: np.ndarray
    target: np.ndarray
    attrs: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def num_examples(self) -> int:
        """``E``, the number of examples."""
        return int(self.video.size)

    @property
    def example_of_member(self) -> np.ndarray:
        """``[M]`` example of each member."""
        return np.repeat(np.arange(self.num_examples), np.diff(self.offsets))


def evenly_spaced(group: np.ndarray, most: int | None) -> np.ndarray:
    """``[K]`` bool: at most ``most`` items of each group, evenly spread over it.

    Args:
        group (numpy.ndarray): ``[K]`` group of each item, grouped (equal
            values adjacent).
        most (int, optional): Items kept per group; :obj:`None` keeps all.

    Examples:
        >>> evenly_spaced(np.array([0, 0, 0, 0, 1]), 2).tolist()
        [True, False, True, False, True]
    """
    if most is None or group.size == 0:
        return np.ones(group.size, dtype=bool)
    first = np.r_[True, group[1:] != group[:-1]]
    starts = np.flatnonzero(first)
    counts = np.diff(np.r_[starts, group.size])
    size = np.repeat(counts, counts)
    rank = np.arange(group.size) - np.repeat(starts, counts)
    slot = rank * most // size
    previous = (rank - 1) * most // size
    return (rank == 0) | (slot != previous)


def check_members(trees: TreeBatch, examples: Examples, forbidden: np.ndarray, rule: str) -> None:
    """Raise :class:`~graphkit.errors.LeakageError` if a member is one the task forbids.

    Args:
        trees (TreeBatch): The videos.
        examples (Examples): The examples.
        forbidden (numpy.ndarray): ``[M]`` bool, members the model must never read.
        rule (str): What the task forbids, for the message.

    Raises:
        LeakageError: Naming the first such member's video and node.
    """
    bad = np.flatnonzero(forbidden)
    if bad.size:
        node = int(examples.node[bad[0]])
        video = trees.video_uid[int(trees.video_index[node])].as_py()
        raise LeakageError(f"video {quote(video)}, node {quote(trees.node_id[node].as_py())}: {rule} "
                           f"({bad.size} such members in {examples.num_examples} examples)")


def example_trees(trees: TreeBatch, examples: Examples) -> TreeBatch:
    """One pseudo-video per example, made of copies of its members alone.

    Args:
        trees (TreeBatch): The videos.
        examples (Examples): The examples.

    Returns:
        TreeBatch: ``num_videos == examples.num_examples``; the members in
        order, parents re-indexed (``-1`` where the parent is no member),
        hidden members' text null; ``tiling`` is off (a cut is a forest).
    """
    node = examples.node
    owner = examples.example_of_member
    num_nodes = trees.num_nodes
    key = owner.astype(np.int64) * num_nodes + node
    if key.size and (np.diff(key) <= 0).any():
        raise ValueError("members must increase within each example")
    parent = trees.parent[node]
    parent_key = owner.astype(np.int64) * num_nodes + parent
    found = np.minimum(np.searchsorted(key, parent_key), max(key.size - 1, 0))
    is_member = (parent >= 0) & (key[found] == parent_key) if key.size else parent >= 0
    local_parent = np.where(is_member, found, -1).astype(np.int64)
    take = pa.array(node)
    hidden = pa.array(examples.text_hidden)
    text = {}
    for name, column in trees.text.items():
        values = column.take(take)
        text[name] = pc.if_else(hidden, pa.nulls(len(values), values.type), values)
    return TreeBatch(
        video_uid=trees.video_uid.take(pa.array(examples.video)),
        node_offsets=np.asarray(examples.offsets, dtype=np.int64),
        node_id=trees.node_id.take(take),
        parent=local_parent,
        level=trees.level[node],
        start=trees.start[node],
        end=trees.end[node],
        text=text,
        tiling=False,
    )


def example_heights(cut: TreeBatch) -> np.ndarray:
    """``[N]`` int16 height of each node of a forest (``0`` for leaves), from its own links only.

    :attr:`TreeBatch.height <graphkit.tree.TreeBatch.height>` assumes one root
    at level 0 per video; a cut's roots sit at any level.

    Examples:
        >>> from graphkit.testing import example_rows
        >>> example_heights(TreeBatch.from_arrow(example_rows(1))).tolist()
        [1, 0, 0]
    """
    height = np.zeros(cut.num_nodes, dtype=np.int16)
    if cut.num_nodes == 0:
        return height
    linked = np.flatnonzero(cut.parent >= 0)
    order = linked[np.argsort(-cut.level[linked], kind="stable")]
    levels = cut.level[order]
    bounds = np.r_[0, np.flatnonzero(levels[1:] != levels[:-1]) + 1, order.size]
    for lo, hi in zip(bounds[:-1], bounds[1:]):  # one numpy step per level, deepest first
        nodes = order[lo:hi]
        np.maximum.at(height, cut.parent[nodes], height[nodes] + 1)
    return height
