"""The typed edges of a :class:`~graphkit.tree.TreeBatch`, built with numpy.

:class:`EdgeIndex` holds the edges of one type; :func:`build_edges` builds
them for one of the edge types of :mod:`graphkit.schema`:

* ``PARENT_OF`` (property ``order``), listed by child position;
* ``NEXT`` (property ``gap``): each node to the next one of its video and
  level in time, listed by source position;
* ``NEXT_LEAF``: each leaf to the next leaf of its video in time, listed by
  source position;
* ``HAS_ROOT``: each video to its root, listed by video.

Examples:
    >>> from graphkit.testing import example_rows
    >>> from graphkit.tree import TreeBatch
    >>> edges = build_edges(TreeBatch.from_arrow(example_rows(1)), "PARENT_OF")
    >>> edges.source.tolist(), edges.target.tolist(), edges.attrs["order"].tolist()
    ([0, 0], [1, 2], [0, 1])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from graphkit import schema

if TYPE_CHECKING:
    from graphkit.tree.batch import TreeBatch

__all__ = ["EdgeIndex", "build_edges"]


@dataclass(frozen=True)
class EdgeIndex:
    """The edges of one type in a :class:`TreeBatch`.

    Args:
        source (numpy.ndarray): ``[E]`` source indices (node positions, or video
            positions for edges that start at a video).
        target (numpy.ndarray): ``[E]`` target indices.
        attrs (dict[str, numpy.ndarray]): ``[E]`` edge properties by name.
    """

    source: np.ndarray
    target: np.ndarray
    attrs: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.source)


def build_edges(t: TreeBatch, name: str) -> EdgeIndex:
    """The edges of the edge type called ``name`` (a :mod:`graphkit.schema` name) in ``t``.

    Raises:
        KeyError: If ``name`` is not the name of one of
            :data:`graphkit.schema.EDGE_TYPES`.
    """
    return _EDGE_BUILDERS[name](t)


def _consecutive(t: TreeBatch, sequence: np.ndarray, *, same_level: bool, gap: bool) -> EdgeIndex:
    """Edges between neighbours of ``sequence`` in the same video (and level).

    Each node has at most one successor, so the edges are listed by source
    position (and thereby grouped by video) with a scatter instead of a sort.
    """
    a, b = sequence[:-1], sequence[1:]
    keep = t.video_index[a] == t.video_index[b]
    if same_level:
        keep &= t.level[a] == t.level[b]
    successor = np.full(t.num_nodes, -1, dtype=np.int64)
    successor[a[keep]] = b[keep]
    source = np.flatnonzero(successor >= 0)
    target = successor[source]
    attrs = {"gap": (t.start[target] - t.end[source]).astype(np.float32)} if gap else {}
    return EdgeIndex(source, target, attrs)


def _parent_of_edges(t: TreeBatch) -> EdgeIndex:
    children = np.flatnonzero(t.parent >= 0)
    return EdgeIndex(t.parent[children], children, {"order": t.child_order[children]})


def _next_edges(t: TreeBatch) -> EdgeIndex:
    # Grouping the time order by level (a stable radix sort on int16) puts
    # each video's level in time order; consecutive pairs are the edges.
    sequence = t.time_order
    by_level = sequence[np.argsort(t.level[sequence], kind="stable")]
    return _consecutive(t, by_level, same_level=True, gap=True)


def _next_leaf_edges(t: TreeBatch) -> EdgeIndex:
    return _consecutive(t, t.leaves_in_time, same_level=False, gap=False)


def _has_root_edges(t: TreeBatch) -> EdgeIndex:
    return EdgeIndex(np.arange(t.num_videos, dtype=np.int64), t.root)


_EDGE_BUILDERS = {
    schema.PARENT_OF.name: _parent_of_edges,
    schema.NEXT.name: _next_edges,
    schema.NEXT_LEAF.name: _next_leaf_edges,
    schema.HAS_ROOT.name: _has_root_edges,
}
