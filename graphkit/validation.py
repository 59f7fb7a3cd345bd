"""Checking every Action100M invariant on every video, vectorized.

A *violation* is one broken rule in one video, reported with the video's
``video_uid``, the first offending ``node_id`` (when the rule is about a node)
and a message. The rules, in the order they are checked:

* the row: ``video_uid`` is set and unique in the batch, the tree is not empty;
* the fields: ``node_id``, ``level``, ``start`` and ``end`` are set;
* the tree: ``node_id`` unique in the video, every ``parent_id`` names a node
  of the same video, exactly one root, no cycle;
* the times: finite, ``0 <= start < end``;
* the levels: the root is level 0 and ``child.level == parent.level + 1``;
* the intervals: each child lies inside its parent and, when ``strict``
  (the default, as on all real Action100M data), every internal node has
  exactly two children that tile it with no gap and no overlap;
* the text: valid UTF-8 and at most ``max_string_bytes`` long.

A video is reported for the first rule it breaks. All rules are computed with
numpy over the whole record batch: no Python loop per node; the only Python
work is formatting the message of each reported violation.

Examples:
    >>> list(RULES)[:3]
    ['null_video_uid', 'duplicate_video_uid', 'empty_tree']
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from graphkit.errors import InvariantError
from graphkit.typing import ErrorPolicy

__all__ = ["RULES", "Violation", "ValidationConfig", "ValidationReport", "ErrorPolicy"]

#: Every rule, in checking order, with what it requires.
RULES: dict[str, str] = {
    "null_video_uid": "video_uid must be set",
    "duplicate_video_uid": "video_uid must be unique",
    "empty_tree": "a video must have at least one node",
    "null_field": "node_id, level, start and end must be set",
    "duplicate_node_id": "node_id must be unique within a video",
    "missing_parent": "parent_id must name a node of the same video",
    "no_root": "a video must have a root (a node without parent_id)",
    "multiple_roots": "a video must have exactly one root",
    "cycle": "following parent_id from any node must reach the root",
    "non_finite_time": "start and end must be finite",
    "negative_start": "start must be >= 0",
    "end_not_after_start": "end must be > start",
    "root_level": "the root must have level 0",
    "level_mismatch": "a child's level must be its parent's level + 1",
    "child_outside_parent": "a child's interval must lie inside its parent's",
    "not_binary": "an internal node must have exactly two children (strict)",
    "children_do_not_tile": "children must tile their parent with no gap or overlap (strict)",
    "invalid_utf8": "text must be valid UTF-8",
    "oversized_string": "text must not exceed max_string_bytes",
    "unreadable_source": "a source file must be readable (only reported when files are skipped)",
}


@dataclass(frozen=True)
class Violation:
    """One broken rule in one video.

    Args:
        video_uid (str or None): The video (``None`` when the uid itself is null).
        node_id (str or None): The first offending node, or ``None`` for a
            video-level rule.
        rule (str): A key of :data:`RULES`.
        message (str): What exactly is wrong.
    """

    video_uid: str | None
    node_id: str | None
    rule: str
    message: str

    def to_error(self) -> InvariantError:
        """This violation as an :class:`~graphkit.errors.InvariantError`."""
        return InvariantError(self.video_uid, self.node_id, self.rule, self.message)

    def __str__(self) -> str:
        return str(self.to_error())


@dataclass(frozen=True)
class ValidationConfig:
    """How strictly trees are checked and what happens to a bad video.

    Args:
        strict (bool, optional): Require binary trees whose children tile
            their parent, as on all Action100M data. Other Tree-of-Captions
            data may have n-ary trees; ``strict=False`` only requires children
            to lie inside their parent. (default: :obj:`True`)
        errors (str, optional): ``"raise"`` raises
            :class:`~graphkit.errors.InvariantError` for the first bad video;
            ``"skip"`` leaves bad videos out and reports them.
            (default: :obj:`"raise"`)
        max_string_bytes (int, optional): Longest text accepted, in bytes.
            (default: :obj:`1048576`)
        time_tolerance (float, optional): Largest gap or overlap, in seconds,
            still counted as tiling. Real data tiles exactly in float32.
            (default: :obj:`0.0`)
    """

    strict: bool = True
    errors: ErrorPolicy = "raise"
    max_string_bytes: int = 1 << 20
    time_tolerance: float = 0.0

    def __post_init__(self) -> None:
        if self.errors not in ("raise", "skip"):
            raise ValueError(f"errors={self.errors!r}; expected 'raise' or 'skip'")
        if self.max_string_bytes <= 0:
            raise ValueError(f"max_string_bytes={self.max_string_bytes}; expected > 0")
        if not self.time_tolerance >= 0:
            raise ValueError(f"time_tolerance={self.time_tolerance}; expected >= 0")


@dataclass
class ValidationReport:
    """What a read kept and what it skipped, and why.

    Examples:
        >>> report = ValidationReport()
        >>> report.add(Violation("abc", "n1", "cycle", "n1 -> n2 -> n1"))
        >>> report.videos_skipped, dict(report.counts)
        (1, {'cycle': 1})
    """

    videos_kept: int = 0
    nodes_kept: int = 0
    skipped: list[Violation] = field(default_factory=list)

    @property
    def videos_skipped(self) -> int:
        """How many videos were skipped."""
        return len(self.skipped)

    @property
    def counts(self) -> collections.Counter[str]:
        """Skipped videos per broken rule."""
        return collections.Counter(v.rule for v in self.skipped)

    def add(self, violation: Violation) -> None:
        """Record one skipped video."""
        self.skipped.append(violation)

    def summary(self) -> str:
        """One line: kept and skipped videos, and the skip reasons."""
        line = f"{self.videos_kept} videos ({self.nodes_kept} nodes) kept"
        if self.skipped:
            reasons = ", ".join(f"{rule}: {n}" for rule, n in sorted(self.counts.items()))
            line += f"; {self.videos_skipped} skipped ({reasons})"
        return line


class _FirstViolation:
    """Collects, per video, the first rule broken and its first node."""

    def __init__(self, num_videos: int, video_index: np.ndarray) -> None:
        self.rule = np.full(num_videos, -1, dtype=np.int64)
        self.node = np.full(num_videos, -1, dtype=np.int64)
        self.video_index = video_index
        self.rules = list(RULES)

    def videos(self, rule: str, video_mask: np.ndarray) -> None:
        fresh = video_mask & (self.rule < 0)
        self.rule[fresh] = self.rules.index(rule)

    def nodes(self, rule: str, node_mask: np.ndarray) -> None:
        bad = np.flatnonzero(node_mask)
        if bad.size == 0:
            return
        videos, first = np.unique(self.video_index[bad], return_index=True)
        fresh = self.rule[videos] < 0
        self.rule[videos[fresh]] = self.rules.index(rule)
        self.node[videos[fresh]] = bad[first[fresh]]

    @property
    def bad_videos(self) -> np.ndarray:
        return np.flatnonzero(self.rule >= 0)


def find_violations(
    *,
    video_uid: pa.Array,
    counts: np.ndarray,
    node_id: pa.Array,
    parent_id: pa.Array,
    parent: np.ndarray,
    id_code: np.ndarray | None,
    level: np.ndarray,
    level_valid: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    time_valid: np.ndarray,
    texts: dict[str, pa.Array],
    config: ValidationConfig,
) -> list[tuple[int, Violation]]:
    """Check every rule on a decoded record batch.

    Args:
        video_uid (pyarrow.Array): ``[V]`` video ids.
        counts (numpy.ndarray): ``[V]`` nodes per video.
        node_id (pyarrow.Array): ``[N]`` node ids.
        parent_id (pyarrow.Array): ``[N]`` parent ids (null for roots).
        parent (numpy.ndarray): ``[N]`` index of the parent in the batch, ``-1``
            for a root, ``-2`` for a parent that is not in the video.
        id_code (numpy.ndarray or None): ``[N]`` a code equal for equal node
            ids of the same video, ``-1`` for a null id; ``None`` when the ids
            are known to be set and unique.
        level, start, end (numpy.ndarray): ``[N]`` node fields.
        level_valid, time_valid (numpy.ndarray): ``[N]`` non-null masks.
        texts (dict[str, pyarrow.Array]): ``[N]`` text columns to check.
        config (ValidationConfig): The rules' settings.

    Returns:
        list[tuple[int, Violation]]: At most one violation per video, with
        the video's position in the batch, in video order.
    """
    num_videos, num_nodes = len(counts), len(parent)
    video_index = np.repeat(np.arange(num_videos), counts)
    first = _FirstViolation(num_videos, video_index)

    first.videos("null_video_uid", ~_valid(video_uid))
    first.videos("duplicate_video_uid", _duplicated(video_uid))
    first.videos("empty_tree", counts == 0)
    ids_unique = id_code is None  # the caller already proved ids non-null and unique
    null_id = np.zeros(num_nodes, dtype=bool) if ids_unique else id_code < 0
    first.nodes("null_field", null_id | ~level_valid | ~time_valid)
    if not ids_unique:
        first.nodes("duplicate_node_id", _duplicate_ids(video_index, id_code))
    first.nodes("missing_parent", parent == -2)

    is_root = parent == -1
    roots_per_video = np.bincount(video_index[is_root], minlength=num_videos)
    first.videos("no_root", (roots_per_video == 0) & (counts > 0))
    second_root = is_root & (_rank_within(video_index, is_root) >= 1)
    first.nodes("multiple_roots", second_root)

    has_parent = parent >= 0
    safe_parent = np.where(has_parent, parent, np.arange(num_nodes))
    level_ok = level_valid & level_valid[safe_parent]
    mismatch = has_parent & level_ok & (level != level[safe_parent] + 1)
    if mismatch.any() or not level_valid.all():
        # Consistent levels rule out cycles, so only a mismatch needs the search.
        first.nodes("cycle", _in_cycle(safe_parent))

    finite = np.isfinite(start) & np.isfinite(end)
    first.nodes("non_finite_time", time_valid & ~finite)
    first.nodes("negative_start", finite & (start < 0))
    first.nodes("end_not_after_start", finite & (end <= start))

    first.nodes("root_level", is_root & level_valid & (level != 0))
    first.nodes("level_mismatch", mismatch)
    tol = config.time_tolerance
    outside = has_parent & ((start < start[safe_parent] - tol) | (end > end[safe_parent] + tol))
    first.nodes("child_outside_parent", outside & finite & finite[safe_parent])
    if config.strict:
        num_children = np.bincount(parent[has_parent], minlength=num_nodes)
        first.nodes("not_binary", (num_children != 0) & (num_children != 2))
        first.nodes("children_do_not_tile", _untiled_parents(parent, num_children, start, end, tol))

    for name, column in texts.items():
        invalid, oversized = _text_problems(column, config.max_string_bytes)
        first.nodes("invalid_utf8", invalid)
        first.nodes("oversized_string", oversized)

    return [
        (int(v), _describe(v, first, video_uid, node_id, parent_id, parent, level, start, end, texts, config))
        for v in first.bad_videos
    ]


def _valid(array: pa.Array) -> np.ndarray:
    return array.is_valid().to_numpy(zero_copy_only=False)


def _duplicated(array: pa.Array) -> np.ndarray:
    encoded = array.dictionary_encode()
    codes = encoded.indices.fill_null(-1).to_numpy().astype(np.int64)
    counts = np.bincount(codes[codes >= 0], minlength=len(encoded.dictionary))
    return (codes >= 0) & (counts[np.maximum(codes, 0)] > 1) & (_rank_of_code(codes) > 0)


def _rank_of_code(codes: np.ndarray) -> np.ndarray:
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    group_start = np.r_[0, np.flatnonzero(sorted_codes[1:] != sorted_codes[:-1]) + 1]
    starts = np.repeat(group_start, np.diff(np.r_[group_start, len(codes)]))
    rank = np.empty(len(codes), dtype=np.int64)
    rank[order] = np.arange(len(codes)) - starts
    return rank


def _rank_within(video_index: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Rank of each masked node among the masked nodes of its video (source order)."""
    rank = np.full(len(mask), -1, dtype=np.int64)
    idx = np.flatnonzero(mask)
    if idx.size:
        rank[idx] = _rank_of_code(video_index[idx])
    return rank


def _in_cycle(safe_parent: np.ndarray) -> np.ndarray:
    """Nodes whose parent chain never reaches a root (pointer jumping)."""
    ancestor = safe_parent.copy()
    for _ in range(max(1, int(np.ceil(np.log2(max(len(ancestor), 2)))) + 1)):
        jumped = ancestor[ancestor]
        if np.array_equal(jumped, ancestor):
            break
        ancestor = jumped
    # A chain that ends ends at a node without parent (the root, or one whose
    # parent is missing); inside a cycle every node has a parent.
    return safe_parent[ancestor] != ancestor


def _duplicate_ids(video_index: np.ndarray, id_code: np.ndarray) -> np.ndarray:
    """Every occurrence of a (video, id) pair but the first."""
    key = video_index * (int(id_code.max(initial=0)) + 2) + id_code
    order = np.argsort(key, kind="stable")
    repeat = (key[order[1:]] == key[order[:-1]]) & (id_code[order[1:]] >= 0)
    dup = np.zeros(len(id_code), dtype=bool)
    dup[order[1:][repeat]] = True
    return dup


def _untiled_parents(
    parent: np.ndarray, num_children: np.ndarray, start: np.ndarray, end: np.ndarray, tol: float
) -> np.ndarray:
    """Parents with two children that do not tile them, in O(N).

    With two children, tiling means: exactly one child (the first) starts
    where the parent starts, and the other starts where the first ends and ends
    where the parent ends. Parents with another number of children are the
    ``not_binary`` rule's.
    """
    num_nodes = len(parent)
    children = np.flatnonzero(parent >= 0)
    p = parent[children]
    is_first = np.abs(start[children] - start[p]) <= tol
    firsts = np.bincount(p[is_first], minlength=num_nodes)
    first_end = np.zeros(num_nodes, dtype=end.dtype)
    first_end[p[is_first]] = end[children[is_first]]
    later, later_parent = children[~is_first], p[~is_first]
    seam_ok = (np.abs(start[later] - first_end[later_parent]) <= tol) & (
        np.abs(end[later] - end[later_parent]) <= tol
    )
    bad = (num_children == 2) & (firsts != 1)
    bad[later_parent[~seam_ok]] = True
    return bad & (num_children == 2)


def _text_problems(column: pa.Array, max_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    n = len(column)
    invalid = np.zeros(n, dtype=bool)
    as_binary = column.cast(pa.binary()) if not pa.types.is_binary(column.type) else column
    lengths = pa.compute.binary_length(as_binary).fill_null(0).to_numpy().astype(np.int64)
    try:
        column.validate(full=True)
    except pa.ArrowInvalid:
        # Rare: find the offending values one by one on this error path only.
        for i, value in enumerate(as_binary.to_pylist()):
            if value is not None:
                try:
                    value.decode("utf-8")
                except UnicodeDecodeError:
                    invalid[i] = True
    return invalid, lengths > max_bytes


def _describe(
    video: int,
    first: _FirstViolation,
    video_uid: pa.Array,
    node_id: pa.Array,
    parent_id: pa.Array,
    parent: np.ndarray,
    level: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    texts: dict[str, pa.Array],
    config: ValidationConfig,
) -> Violation:
    rule = first.rules[first.rule[video]]
    node = int(first.node[video])
    uid = video_uid[video].as_py()
    nid = node_id[node].as_py() if node >= 0 else None
    message = RULES[rule]
    if rule == "missing_parent":
        message = f"parent_id {parent_id[node].as_py()!r} is not a node of this video"
    elif rule == "non_finite_time":
        message = f"start={start[node]}, end={end[node]}: {message}"
    elif rule in ("negative_start", "end_not_after_start"):
        message = f"start={start[node]}, end={end[node]}: {message}"
    elif rule in ("level_mismatch", "child_outside_parent") and parent[node] >= 0:
        p = int(parent[node])
        message = (
            f"level {level[node]} [{start[node]}, {end[node]}] under parent "
            f"{node_id[p].as_py()!r} level {level[p]} [{start[p]}, {end[p]}]: {message}"
        )
    elif rule == "root_level":
        message = f"root has level {level[node]}: {message}"
    elif rule in ("not_binary", "children_do_not_tile"):
        kids = np.flatnonzero(parent == node)
        kids = kids[np.argsort(start[kids])]
        spans = ", ".join(f"[{start[k]}, {end[k]}]" for k in kids[:8])
        message = f"node [{start[node]}, {end[node]}] has {kids.size} children {spans}: {message}"
    elif rule == "oversized_string":
        fields = [f for f, c in texts.items() if len((c[node].as_py() or "").encode()) > config.max_string_bytes]
        message = f"{', '.join(fields)} longer than {config.max_string_bytes} bytes"
    elif rule == "invalid_utf8":
        message = "a text field of this node is not valid UTF-8"
    return Violation(uid, nid, rule, message)
