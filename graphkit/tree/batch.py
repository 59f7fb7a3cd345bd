"""The :class:`TreeBatch`: many videos' trees as flat columnar arrays.

The batch is built by :meth:`TreeBatch.from_arrow` from a decoded
(:mod:`graphkit.tree.decode`) and validated (:mod:`graphkit.validation`)
record batch; its derived structure is computed on first use, its typed edges
by :mod:`graphkit.tree.edges`. See :mod:`graphkit.tree` for the layout.

Examples:
    >>> from graphkit.testing import example_rows
    >>> trees = TreeBatch.from_arrow(example_rows(2))
    >>> trees.node_offsets.tolist(), trees.leaves_in_time.tolist()
    ([0, 3, 6], [1, 2, 4, 5])
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from graphkit import schema
from graphkit.arrays import concat_ranges
from graphkit.tree.decode import decode
from graphkit.tree.edges import EdgeIndex, build_edges
from graphkit.validation import ValidationConfig, Violation, find_violations

__all__ = ["TreeBatch"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class TreeBatch:
    """Many videos' trees as flat columnar arrays.

    Args:
        video_uid (pyarrow.StringArray): ``[V]`` video ids.
        node_offsets (numpy.ndarray): ``[V + 1]`` int64; video ``v`` owns nodes
            ``node_offsets[v]:node_offsets[v + 1]``.
        node_id (pyarrow.StringArray): ``[N]`` node ids.
        parent (numpy.ndarray): ``[N]`` int64 position of the parent, ``-1``
            for the root.
        level (numpy.ndarray): ``[N]`` int16 tree level (root 0).
        start (numpy.ndarray): ``[N]`` float32 start time in seconds.
        end (numpy.ndarray): ``[N]`` float32 end time in seconds.
        text (dict[str, pyarrow.Array]): ``[N]`` text columns that were read,
            by Segment property name (``plm_caption``, ``action_brief``, ...).
        metadata (pyarrow.StructArray, optional): ``[V]`` video metadata, when read.
        tiling (bool): Whether every internal node is known to have two
            children that tile it (checked under ``strict=True``); enables
            sort-free derivations. (default: :obj:`False`)
        violations (tuple[Violation, ...]): Videos left out of this batch under
            ``errors="skip"``, with the rule each broke.
    """

    video_uid: pa.Array
    node_offsets: np.ndarray
    node_id: pa.Array
    parent: np.ndarray
    level: np.ndarray
    start: np.ndarray
    end: np.ndarray
    text: dict[str, pa.Array] = field(default_factory=dict)
    metadata: pa.StructArray | None = None
    tiling: bool = False
    violations: tuple[Violation, ...] = ()

    @classmethod
    def from_arrow(
        cls,
        batch: pa.RecordBatch | pa.Table,
        *,
        strict: bool = True,
        errors: str = "raise",
        config: ValidationConfig | None = None,
    ) -> TreeBatch:
        """Decode, resolve and validate a record batch of Action100M rows.

        Args:
            batch (pyarrow.RecordBatch or pyarrow.Table): Rows in the published
                schema; ``nodes`` may be projected to fewer fields, but must
                hold ``node_id``, ``parent_id``, ``level``, ``start``, ``end``.
            strict (bool, optional): Require binary, tiling trees.
                (default: :obj:`True`)
            errors (str, optional): ``"raise"`` or ``"skip"``; see
                :class:`~graphkit.validation.ValidationConfig`.
                (default: :obj:`"raise"`)
            config (ValidationConfig, optional): All validation settings; when
                given, ``strict`` and ``errors`` are ignored.

        Returns:
            TreeBatch: The valid videos; skipped ones are in :attr:`violations`.

        Raises:
            SchemaError: If a required column is missing or has the wrong type.
            InvariantError: If a video breaks a rule and ``errors="raise"``.
        """
        config = config or ValidationConfig(strict=strict, errors=errors)  # type: ignore[arg-type]
        decoded = decode(batch)
        found = find_violations(**decoded.check_args(), config=config)
        if not found:
            return TreeBatch(**decoded.tree_columns(), tiling=config.strict)  # type: ignore[arg-type]
        violations = tuple(violation for _, violation in found)
        if config.errors == "raise":
            raise violations[0].to_error()
        for violation in violations:
            logger.info("skipping %s", violation)
        keep = np.ones(len(decoded.counts), dtype=bool)
        keep[[position for position, _ in found]] = False
        table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
        kept = cls.from_arrow(table.filter(pa.array(keep)), config=config)
        return kept.with_violations(violations)

    def with_violations(self, violations: tuple[Violation, ...]) -> TreeBatch:
        """A copy of this batch carrying ``violations`` (skipped videos)."""
        return dataclasses.replace(self, violations=violations)

    # -- sizes -------------------------------------------------------------
    @property
    def num_videos(self) -> int:
        """Number of videos ``V``."""
        return len(self.node_offsets) - 1

    @property
    def num_nodes(self) -> int:
        """Number of nodes ``N``."""
        return len(self.parent)

    @functools.cached_property
    def nodes_per_video(self) -> np.ndarray:
        """``[V]`` int64 node count of each video."""
        return np.diff(self.node_offsets)

    @functools.cached_property
    def video_index(self) -> np.ndarray:
        """``[N]`` int64 video position of each node."""
        return np.repeat(np.arange(self.num_videos, dtype=np.int64), self.nodes_per_video)

    # -- structure -------------------------------------------------------------
    @functools.cached_property
    def root(self) -> np.ndarray:
        """``[V]`` int64 position of each video's root."""
        return np.flatnonzero(self.parent < 0)

    @functools.cached_property
    def num_children(self) -> np.ndarray:
        """``[N]`` int64 number of children of each node."""
        return np.bincount(self.parent[self.parent >= 0], minlength=self.num_nodes)

    @functools.cached_property
    def is_leaf(self) -> np.ndarray:
        """``[N]`` bool, true for nodes without children."""
        return self.num_children == 0

    @functools.cached_property
    def duration(self) -> np.ndarray:
        """``[N]`` float32 ``end - start``."""
        return self.end - self.start

    @functools.cached_property
    def child_order(self) -> np.ndarray:
        """``[N]`` int32 rank of a node among its siblings in time (``-1`` for roots).

        ``int32``, since a non-strict (n-ary) node may have any number of children.
        """
        children = np.flatnonzero(self.parent >= 0)
        rank = np.full(self.num_nodes, -1, dtype=np.int32)
        if self.tiling:
            # Tiling children: the first starts with its parent, the second later.
            rank[children] = self.start[children] != self.start[self.parent[children]]
            return rank
        if self.num_children.max(initial=0) <= 2:
            # Two siblings at most: the later one is the one starting after the other.
            earliest = np.full(self.num_nodes, np.inf, dtype=np.float32)
            np.minimum.at(earliest, self.parent[children], self.start[children])
            rank[children] = self.start[children] > earliest[self.parent[children]]
            if self._distinct_sibling_starts(rank):
                return rank
        order = children[np.lexsort((self.start[children], self.parent[children]))]
        parents = self.parent[order]
        group_start = np.r_[0, np.flatnonzero(parents[1:] != parents[:-1]) + 1]
        starts = np.repeat(group_start, np.diff(np.r_[group_start, order.size]))
        rank[order] = np.arange(order.size) - starts
        return rank

    def _distinct_sibling_starts(self, rank: np.ndarray) -> bool:
        firsts = np.bincount(self.parent[rank == 0], minlength=self.num_nodes)
        return bool(np.all(firsts <= 1))

    @functools.cached_property
    def _by_level(self) -> tuple[np.ndarray, np.ndarray]:
        """Nodes grouped by level (a radix sort) and each level's bounds."""
        order = np.argsort(self.level, kind="stable")
        top = int(self.level.max(initial=0))
        return order, np.searchsorted(self.level[order], np.arange(top + 2))

    def _level_nodes(self, level: int) -> np.ndarray:
        order, bounds = self._by_level
        return order[bounds[level] : bounds[level + 1]]

    @functools.cached_property
    def _bottom_up(self) -> tuple[np.ndarray, np.ndarray]:
        """Subtree sizes and heights, one numpy step per level from the deepest."""
        size = np.ones(self.num_nodes, dtype=np.int64)
        height = np.zeros(self.num_nodes, dtype=np.int16)
        for lvl in range(int(self.level.max(initial=0)), 0, -1):
            nodes = self._level_nodes(lvl)
            np.add.at(size, self.parent[nodes], size[nodes])
            np.maximum.at(height, self.parent[nodes], height[nodes] + 1)
        return size, height

    @property
    def subtree_size(self) -> np.ndarray:
        """``[N]`` int64 number of nodes in each node's subtree, itself included."""
        return self._bottom_up[0]

    @property
    def height(self) -> np.ndarray:
        """``[N]`` int16 depth from the leaves: 0 for a leaf, else 1 + the children's max."""
        return self._bottom_up[1]

    @functools.cached_property
    def time_order(self) -> np.ndarray:
        """``[N]`` node positions, video by video, each video's nodes in time order.

        Nodes are ordered by start time, a parent before its first child. On
        tiling trees this is the pre-order walk, placed top-down one level at a
        time without sorting; otherwise it is a sort by (video, start, level).
        """
        if not self.tiling:
            return np.lexsort((self.level, self.start, self.video_index))
        size, order = self.subtree_size, self.child_order
        first_child = np.full(self.num_nodes, -1, dtype=np.int64)
        firsts = np.flatnonzero(order == 0)
        first_child[self.parent[firsts]] = firsts
        pre = np.zeros(self.num_nodes, dtype=np.int64)
        for lvl in range(1, int(self.level.max(initial=0)) + 1):
            nodes = self._level_nodes(lvl)
            parents = self.parent[nodes]
            skip = np.where(order[nodes] == 1, size[first_child[parents]], 0)
            pre[nodes] = pre[parents] + 1 + skip
        sequence = np.empty(self.num_nodes, dtype=np.int64)
        sequence[self.node_offsets[:-1][self.video_index] + pre] = np.arange(self.num_nodes)
        return sequence

    @functools.cached_property
    def leaves_in_time(self) -> np.ndarray:
        """``[L]`` leaf positions, video by video, each video's leaves in time order."""
        sequence = self.time_order
        return sequence[self.is_leaf[sequence]]

    @functools.cached_property
    def leaf_rank(self) -> np.ndarray:
        """``[N]`` int64 position of each leaf among its video's leaves in time (``-1`` otherwise)."""
        rank = np.full(self.num_nodes, -1, dtype=np.int64)
        leaves = self.leaves_in_time
        if leaves.size:
            videos = self.video_index[leaves]
            rank[leaves] = np.arange(leaves.size) - np.searchsorted(videos, videos, side="left")
        return rank

    # -- edges -------------------------------------------------------------
    def edges(self, edge_type: str | schema.EdgeTypeSpec) -> EdgeIndex:
        """The edges of one type, grouped by video.

        Args:
            edge_type (str or EdgeTypeSpec): ``"PARENT_OF"``, ``"NEXT"``,
                ``"NEXT_LEAF"`` or ``"HAS_ROOT"`` (PyG names work too).

        Returns:
            EdgeIndex: Edges grouped by video: ``PARENT_OF`` (property
            ``order``) listed by child position, ``NEXT`` (property ``gap``)
            and ``NEXT_LEAF`` by source position, ``HAS_ROOT`` by video.
        """
        spec = edge_type if isinstance(edge_type, schema.EdgeTypeSpec) else schema.edge_type(edge_type)
        if spec.name not in self._edges:
            self._edges[spec.name] = build_edges(self, spec.name)
        return self._edges[spec.name]

    @functools.cached_property
    def _edges(self) -> dict[str, EdgeIndex]:
        # A plain cache of results: holding no reference back to the batch keeps
        # it free of reference cycles, so its arrays are freed as soon as it is.
        return {}

    def edges_per_video(self, edge_type: str | schema.EdgeTypeSpec) -> np.ndarray:
        """``[V]`` int64 number of edges of a type in each video."""
        spec = edge_type if isinstance(edge_type, schema.EdgeTypeSpec) else schema.edge_type(edge_type)
        edges = self.edges(spec)
        if spec.source is schema.VIDEO:
            return np.bincount(edges.source, minlength=self.num_videos)
        # Edges are listed by a node position that only grows (the child for
        # PARENT_OF, the source otherwise): count them between video offsets.
        listed_by = edges.target if spec is schema.PARENT_OF else edges.source
        return np.diff(np.searchsorted(listed_by, self.node_offsets))

    # -- selection -------------------------------------------------------------
    def select(self, videos: np.ndarray | slice | list[int]) -> TreeBatch:
        """The sub-batch of some videos, re-indexed.

        Args:
            videos (numpy.ndarray, slice or list[int]): Video positions, or a
                boolean mask over videos.

        Examples:
            >>> from graphkit.testing import example_rows
            >>> trees = TreeBatch.from_arrow(example_rows(3))
            >>> trees.select([2, 0]).video_uid.to_pylist()
            ['vid00000002', 'vid00000000']
        """
        idx = np.arange(self.num_videos)[videos]
        counts = self.nodes_per_video[idx]
        offsets = np.r_[0, np.cumsum(counts)].astype(np.int64)
        nodes = concat_ranges(self.node_offsets[idx], counts)
        shift = np.repeat(offsets[:-1] - self.node_offsets[idx], counts)
        parent = self.parent[nodes]
        parent = np.where(parent >= 0, parent + shift, -1)
        take = pa.array(nodes)
        return TreeBatch(
            video_uid=self.video_uid.take(pa.array(idx)),
            node_offsets=offsets,
            node_id=self.node_id.take(take),
            parent=parent,
            level=self.level[nodes],
            start=self.start[nodes],
            end=self.end[nodes],
            text={k: v.take(take) for k, v in self.text.items()},
            metadata=None if self.metadata is None else self.metadata.take(pa.array(idx)),
            tiling=self.tiling,
        )

    @classmethod
    def concat(cls, batches: list[TreeBatch]) -> TreeBatch:
        """Join batches into one, re-indexing nodes.

        Args:
            batches (list[TreeBatch]): Batches with the same text fields.

        Raises:
            ValueError: If the list is empty or the batches read different fields.

        Examples:
            >>> from graphkit.testing import example_rows
            >>> one = TreeBatch.from_arrow(example_rows(2))
            >>> TreeBatch.concat([one, one.select([1])]).parent.tolist()
            [-1, 0, 0, -1, 3, 3, -1, 6, 6]
        """
        if not batches:
            raise ValueError("cannot concatenate an empty list of batches")
        if len({tuple(sorted(b.text)) for b in batches}) > 1 or len({b.metadata is None for b in batches}) > 1:
            raise ValueError("batches read different fields; read them with the same columns")
        shifts = np.cumsum([0] + [b.num_nodes for b in batches[:-1]])
        offsets = [batches[0].node_offsets[:1]] + [b.node_offsets[1:] + s for b, s in zip(batches, shifts)]
        return cls(
            video_uid=pa.concat_arrays([b.video_uid for b in batches]),
            node_offsets=np.concatenate(offsets).astype(np.int64),
            node_id=pa.concat_arrays([b.node_id for b in batches]),
            parent=np.concatenate([np.where(b.parent >= 0, b.parent + s, -1) for b, s in zip(batches, shifts)]),
            level=np.concatenate([b.level for b in batches]),
            start=np.concatenate([b.start for b in batches]),
            end=np.concatenate([b.end for b in batches]),
            text={k: pa.concat_arrays([b.text[k] for b in batches]) for k in batches[0].text},
            metadata=None if batches[0].metadata is None else pa.concat_arrays([b.metadata for b in batches]),
            tiling=all(b.tiling for b in batches),
            violations=tuple(v for b in batches for v in b.violations),
        )

    def __repr__(self) -> str:
        max_level = int(self.level.max()) if self.num_nodes else -1
        return (
            f"{type(self).__name__}(videos={self.num_videos}, nodes={self.num_nodes}, "
            f"leaves={int(self.is_leaf.sum())}, max_level={max_level})"
        )
