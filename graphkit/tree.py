"""A columnar batch of video trees: the framework-neutral core of graphkit.

A :class:`TreeBatch` holds many videos' Tree-of-Captions as flat arrays, one
entry per node (``N`` nodes) or per video (``V`` videos): the nodes of video
``v`` are ``node_offsets[v]:node_offsets[v + 1]``, in source order, and every
index (``parent``, edge endpoints) is a position in that flat order. Nothing
holds a Python object per node: structure lives in numpy arrays, text in Arrow
arrays.

It is built from an Arrow record batch in the published schema
(:data:`graphkit.schema.SOURCE_SCHEMA`, possibly projected to fewer fields) by
:meth:`TreeBatch.from_arrow`, which resolves ``parent_id`` to indices with
Arrow's hash kernels and checks every invariant
(:mod:`graphkit.validation`). Derived structure (leaves, child order, height,
the typed edges of :mod:`graphkit.schema`) is computed on first use with
numpy sorting and indexing.

Examples:
    >>> import pyarrow as pa
    >>> from graphkit.schema import SOURCE_SCHEMA
    >>> nodes = [
    ...     {"node_id": "r", "parent_id": None, "level": 0, "start": 0.0, "end": 4.0},
    ...     {"node_id": "a", "parent_id": "r", "level": 1, "start": 0.0, "end": 1.5},
    ...     {"node_id": "b", "parent_id": "r", "level": 1, "start": 1.5, "end": 4.0},
    ... ]
    >>> rows = pa.Table.from_pylist([{"video_uid": "vid00000001", "nodes": nodes}],
    ...                             schema=SOURCE_SCHEMA)
    >>> trees = TreeBatch.from_arrow(rows)
    >>> trees
    TreeBatch(videos=1, nodes=3, leaves=2, max_level=1)
    >>> trees.parent.tolist(), trees.is_leaf.tolist()
    ([-1, 0, 0], [False, True, True])
    >>> edges = trees.edges("NEXT")
    >>> edges.source.tolist(), edges.target.tolist(), edges.attrs["gap"].tolist()
    ([1], [2], [0.0])
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit import schema
from graphkit.errors import SchemaError
from graphkit.validation import ValidationConfig, Violation, find_violations

__all__ = ["TreeBatch", "EdgeIndex"]

logger = logging.getLogger(__name__)


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
        decoded = _decode(batch)
        found = find_violations(**decoded.check_args(), config=config)
        if not found:
            return decoded.build(tiling=config.strict)
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
        """``[N]`` int8 rank of a node among its siblings in time (``-1`` for roots)."""
        children = np.flatnonzero(self.parent >= 0)
        rank = np.full(self.num_nodes, -1, dtype=np.int8)
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
    def _leaves_in_time(self) -> np.ndarray:
        sequence = self.time_order
        return sequence[self.is_leaf[sequence]]

    @functools.cached_property
    def leaf_rank(self) -> np.ndarray:
        """``[N]`` int64 position of each leaf among its video's leaves in time (``-1`` otherwise)."""
        rank = np.full(self.num_nodes, -1, dtype=np.int64)
        leaves = self._leaves_in_time
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
            self._edges[spec.name] = _EDGE_BUILDERS[spec.name](self)
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
        nodes = _ranges(self.node_offsets[idx], counts)
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


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(s, s + c)`` for each pair, without a Python loop."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.r_[0, np.cumsum(counts)[:-1]]
    return np.arange(total, dtype=np.int64) - np.repeat(offsets - starts, counts)


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
    return _consecutive(t, t._leaves_in_time, same_level=False, gap=False)


def _has_root_edges(t: TreeBatch) -> EdgeIndex:
    return EdgeIndex(np.arange(t.num_videos, dtype=np.int64), t.root)


_EDGE_BUILDERS = {
    schema.PARENT_OF.name: _parent_of_edges,
    schema.NEXT.name: _next_edges,
    schema.NEXT_LEAF.name: _next_leaf_edges,
    schema.HAS_ROOT.name: _has_root_edges,
}


@dataclass
class _Decoded:
    """Raw columns of a record batch, before validation."""

    video_uid: pa.Array
    counts: np.ndarray
    node_id: pa.Array
    parent_id: pa.Array
    parent: np.ndarray
    id_code: np.ndarray | None
    level: np.ndarray
    level_valid: np.ndarray
    start: np.ndarray
    end: np.ndarray
    time_valid: np.ndarray
    texts: dict[str, pa.Array]
    metadata: pa.StructArray | None

    def check_args(self) -> dict[str, object]:
        names = (
            "video_uid counts node_id parent_id parent id_code level level_valid "
            "start end time_valid texts"
        ).split()
        return {name: getattr(self, name) for name in names}

    def build(self, *, tiling: bool) -> TreeBatch:
        return TreeBatch(
            video_uid=self.video_uid,
            node_offsets=np.r_[0, np.cumsum(self.counts)].astype(np.int64),
            node_id=self.node_id,
            parent=self.parent,
            level=self.level.astype(np.int16, copy=False),
            start=self.start,
            end=self.end,
            text=self.texts,
            metadata=self.metadata,
            tiling=tiling,
        )


def _column(batch: pa.RecordBatch | pa.Table, name: str) -> pa.Array:
    if name not in batch.schema.names:
        raise SchemaError("record batch", f"missing column {name!r}")
    column = batch.column(name)
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _require(path: str, array: pa.Array, check: object, expected: str) -> None:
    if not check(array.type):  # type: ignore[operator]
        raise SchemaError("record batch", f"column {path!r} has type {array.type}, expected {expected}")


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _decode(batch: pa.RecordBatch | pa.Table) -> _Decoded:
    video_uid = _column(batch, "video_uid")
    _require("video_uid", video_uid, _is_text, "string")
    nodes = _column(batch, "nodes")
    _require("nodes", nodes, lambda t: pa.types.is_list(t) or pa.types.is_large_list(t), "list<struct>")
    _require("nodes.element", nodes.values, pa.types.is_struct, "struct")
    counts = pc.list_value_length(nodes).fill_null(0).to_numpy().astype(np.int64)
    values = nodes.flatten()
    names = set(values.type.names)
    missing = [f for f in schema.STRUCTURE_FIELDS if f not in names]
    if missing:
        raise SchemaError("record batch", f"missing node fields {missing} in column 'nodes'")

    def node_field(name: str) -> pa.Array:
        return pc.struct_field(values, name)

    node_id, parent_id = node_field("node_id"), node_field("parent_id")
    _require("nodes.node_id", node_id, _is_text, "string")
    _require("nodes.parent_id", parent_id, lambda t: _is_text(t) or pa.types.is_null(t), "string")
    level_arr = node_field("level")
    _require("nodes.level", level_arr, pa.types.is_integer, "int16")
    start_arr, end_arr = node_field("start"), node_field("end")
    for path, arr in (("nodes.start", start_arr), ("nodes.end", end_arr)):
        _require(path, arr, pa.types.is_floating, "float")

    level = _ints(level_arr, "nodes.level")
    start = _floats(start_arr)
    end = _floats(end_arr)
    level_valid = _valid(level_arr)
    time_valid = _valid(start_arr) & _valid(end_arr)

    layout = (level, start) if level_valid.all() and time_valid.all() else None
    parent, id_code = _resolve_parents(node_id, parent_id, counts, layout)
    texts = _texts(values, names)
    metadata = _column(batch, "metadata") if "metadata" in batch.schema.names else None
    return _Decoded(
        video_uid, counts, node_id, parent_id, parent, id_code, level, level_valid,
        start, end, time_valid, texts, metadata,
    )


def _valid(array: pa.Array) -> np.ndarray:
    if array.null_count == 0:
        return np.ones(len(array), dtype=bool)
    return array.is_valid().to_numpy(zero_copy_only=False)


def _ints(array: pa.Array, path: str) -> np.ndarray:
    if array.type != pa.int16():
        try:
            array = array.cast(pa.int16())
        except pa.ArrowInvalid as err:
            raise SchemaError("record batch", f"column {path!r} does not fit int16: {err}") from err
    return array.fill_null(0).to_numpy().astype(np.int16, copy=False)


def _floats(array: pa.Array) -> np.ndarray:
    array = array.cast(pa.float32()) if array.type != pa.float32() else array
    if array.null_count:
        array = array.fill_null(np.nan)
    return array.to_numpy(zero_copy_only=False)


def _resolve_parents(
    node_id: pa.Array,
    parent_id: pa.Array,
    counts: np.ndarray,
    layout: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Parent positions (``-1`` root, ``-2`` not in the video) and id codes.

    The id code is equal for equal ids of one video and ``-1`` for a null id;
    it is ``None`` when the ids are proven set and unique.

    Fixed-width ids (UUIDs, as in all of Action100M) are read as 64-bit words
    straight from the Arrow buffer. Published rows list each video's nodes by
    level, then start time; when ``layout`` (levels and starts) shows that
    order, each child's parent is *guessed* by time (the node one level up
    that starts at or before it, found with one binary search) and the guess
    is confirmed word for word against ``parent_id``. Otherwise ids are hashed
    and joined by sorting, again confirmed word for word, so a hash collision
    can never pair the wrong nodes. Other ids, a failed guess or repeated ids
    use Arrow's hash kernels on (video, id) pairs, so equal ids in different
    videos never mix.
    """
    video_index = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    if pa.types.is_null(parent_id.type):
        parent_id = pa.nulls(len(node_id), pa.string())
    nodes = _fixed_width_ids(node_id) if node_id.null_count == 0 else None
    if nodes is not None:
        parents = _fixed_width_ids(parent_id, size=nodes[0].shape[1])
        if parents is not None and _distinct_keys(_mix(nodes[1])):
            has_parent = _valid(parent_id)
            if layout is not None:
                parent = _join_by_layout(nodes[0], parents[0], has_parent, video_index, *layout)
                if parent is not None:
                    return parent, None
            return _join_by_hash(nodes[1], parents[1], has_parent, video_index), None
    return _join_by_dictionary(node_id, parent_id, video_index)


def _distinct_keys(keys: np.ndarray) -> bool:
    """Whether all 64-bit keys differ (then the ids they hash certainly do)."""
    ordered = np.sort(keys)
    return not np.any(ordered[1:] == ordered[:-1])


def _join_by_layout(
    node_bytes: np.ndarray,
    parent_bytes: np.ndarray,
    has_parent: np.ndarray,
    video_index: np.ndarray,
    level: np.ndarray,
    start: np.ndarray,
) -> np.ndarray | None:
    """Parents guessed from the (video, level, start) order, or ``None``."""
    if np.any(start < 0) or np.any(level < 0) or len(level) == 0:
        return None
    # (video, level, start) packed into one sortable uint64: non-negative
    # float32 values order like their bit patterns.
    bits = start.view(np.uint32).astype(np.uint64)
    key = (video_index.astype(np.uint64) << np.uint64(38)) | (level.astype(np.uint64) << np.uint64(32)) | bits
    if int(video_index[-1]) >= 1 << 26 or int(level.max()) >= 64 or not np.all(key[1:] > key[:-1]):
        return None
    children = np.flatnonzero(has_parent)
    if np.any(level[children] < 1):
        return None
    query = key[children] - (np.uint64(1) << np.uint64(32))  # the same start one level up
    guess = np.searchsorted(key, query, side="right") - 1
    guess = np.maximum(guess, 0)
    if not (
        np.all(video_index[guess] == video_index[children])
        and np.array_equal(np.take(node_bytes, guess, axis=0), parent_bytes)
    ):
        return None
    parent = np.full(len(level), -1, dtype=np.int64)
    parent[children] = guess
    return parent


def _join_by_hash(
    node_words: list[np.ndarray],
    parent_words: list[np.ndarray],
    has_parent: np.ndarray,
    video_index: np.ndarray,
) -> np.ndarray:
    """Parents by sorting 64-bit hashes of the ids (node ids known distinct)."""
    node_key = _mix(node_words)
    by_key = np.argsort(node_key)
    sorted_key = node_key[by_key]
    parent_key = _mix(parent_words)
    queries = np.argsort(parent_key)
    hit = np.minimum(np.searchsorted(sorted_key, parent_key[queries]), len(sorted_key) - 1)
    key_match = np.empty(len(queries), dtype=bool)
    key_match[queries] = sorted_key[hit] == parent_key[queries]
    candidate = np.empty(len(queries), dtype=np.int64)
    candidate[queries] = by_key[hit]
    # Confirm each match on the full id (in child order, so one gather per word).
    same = key_match & _words_equal([words[candidate] for words in node_words], parent_words)
    parent = np.full(len(video_index), -1, dtype=np.int64)
    children = np.flatnonzero(has_parent)
    parent[children] = np.where(same, candidate, -2)
    found = parent >= 0
    found[found] = video_index[parent[found]] == video_index[found]
    parent[has_parent & ~found] = -2
    return parent


def _fixed_width_ids(array: pa.Array, size: int | None = None) -> tuple[np.ndarray, list[np.ndarray]] | None:
    """Equal-length strings as a byte block and as uint64 word columns, without copying.

    Returns the ``[non-null, L]`` uint8 block of their bytes and ``ceil(L / 8)``
    strided uint64 views into it (the last word overlaps the one before when
    ``L`` is not a multiple of 8, so every byte is covered). Null strings must
    be empty and are left out. Returns ``None`` when the strings differ in
    length (or from ``size``) or are shorter than 8 bytes, so the caller takes
    the general path.
    """
    if not pa.types.is_string(array.type) or len(array) == 0:
        return None
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)[array.offset : array.offset + len(array) + 1]
    lengths = np.diff(offsets)
    valid = _valid(array)
    num_valid = int(valid.sum())
    if num_valid == 0:
        return None
    length = int(lengths[valid][0])
    if length < 8 or (size is not None and length != size):
        return None
    if np.any(lengths[valid] != length) or np.any(lengths[~valid] != 0):
        return None
    data = array.buffers()[2]
    block = np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]].reshape(num_valid, length)
    starts = list(range(0, length - 7, 8)) + ([length - 8] if length % 8 else [])
    words = [
        np.ndarray((num_valid,), dtype="<u8", buffer=data, offset=int(offsets[0]) + start, strides=(length,))
        for start in starts
    ]
    return block, words


def _words_equal(a: list[np.ndarray], b: list[np.ndarray]) -> np.ndarray:
    """Row-wise equality of two lists of word columns."""
    differ = a[0] ^ b[0]
    for left, right in zip(a[1:], b[1:]):
        differ |= left ^ right
    return differ == 0


def _mix(words: list[np.ndarray]) -> np.ndarray:
    """A 64-bit hash of each row of word columns (multiply-xor; uint64 wraps)."""
    key = words[0].copy()
    for column in words[1:]:
        key ^= column
        key *= np.uint64(0x9E3779B97F4A7C15)
    return key


def _join_by_dictionary(
    node_id: pa.Array, parent_id: pa.Array, video_index: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    num_nodes = len(node_id)
    encoded = node_id.dictionary_encode()
    id_code = encoded.indices.fill_null(-1).to_numpy().astype(np.int64)
    parent_code = pc.index_in(parent_id, value_set=encoded.dictionary, skip_nulls=True)
    parent_code = parent_code.fill_null(-1).to_numpy().astype(np.int64)
    width = len(encoded.dictionary) + 1
    keys = video_index * width + id_code
    order = np.argsort(keys, kind="stable")
    wanted = video_index * width + parent_code
    pos = np.minimum(np.searchsorted(keys[order], wanted), max(num_nodes - 1, 0))
    parent = order[pos] if num_nodes else np.zeros(0, dtype=np.int64)
    found = (parent_code >= 0) & (keys[parent] == wanted)
    parent = np.where(found, parent, -2)
    parent[~_valid(parent_id)] = -1
    return parent, id_code


def _texts(values: pa.StructArray, names: set[str]) -> dict[str, pa.Array]:
    texts = {name: pc.struct_field(values, name) for name in schema.TEXT_PROPERTIES if name in names}
    if "gpt" in names:
        gpt = pc.struct_field(values, "gpt")
        for prop, (group, leaf) in schema.GPT_FIELDS.items():
            group_names = gpt.type.field(group).type.names if group in gpt.type.names else []
            if leaf in group_names:
                texts[prop] = pc.struct_field(gpt, [gpt.type.get_field_index(group), gpt.type.field(group).type.get_field_index(leaf)])
    return texts

