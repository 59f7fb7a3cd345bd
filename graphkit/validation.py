"""Checking every Action100M invariant on every video, vectorized.

A *violation* is one broken rule in one video, reported with the video's
``video_uid``, the first offending ``node_id`` (when the rule is about a node)
and a message. The rules, in the order they are checked:

* the row as a reader sees it (:mod:`graphkit.loaders`; named by source and
  row, ``rows.jsonl:3``, since such a row may have no readable uid): it parses,
  as an object with ``video_uid`` and ``nodes`` and no repeated key
  (``malformed_row``); every value has its column's type, so no ``false``
  or ``"1.5"`` where a number is expected and no ``2.5`` where an integer is
  (``wrong_type``); every value fits its column (``value_out_of_range``);
* the row: ``video_uid`` is set, valid UTF-8, not empty, at most
  :data:`MAX_ID_BYTES` long and unique in the batch; the tree is not empty;
* the fields: ``node_id``, ``level``, ``start`` and ``end`` are set; ``node_id``
  and ``parent_id`` are valid UTF-8, not empty (``node_id``) and at most
  :data:`MAX_ID_BYTES` long; ``level`` fits ``int16``;
* the tree: ``node_id`` unique in the video, every ``parent_id`` names a node
  of the same video, exactly one root, no cycle;
* the times: finite, ``0 <= start < end``;
* the levels: the root is level 0 and ``child.level == parent.level + 1``;
* the intervals: each child lies inside its parent and, when ``strict``
  (the default, as on all real Action100M data), every internal node has
  exactly two children that tile it with no gap and no overlap;
* the text: every other text field that was read (captions, ``gpt`` fields,
  ``metadata`` title, description, upload date, and each transcript entry's
  time and text) is valid UTF-8 and at most ``max_string_bytes`` long; a
  transcript entry and its time and text are set (a list property cannot
  hold a null).

**The limits.** Ids are keys: Neo4j indexes them, and a native index key
holds at most about 8 KB (8,167 bytes), so an id of 10 KB passes a naive
reader and then aborts a load half-way. :data:`MAX_ID_BYTES` (1,024 bytes)
is far above any real id (11-character ``video_uid``, 36-character UUID
``node_id``) and well under that limit, even for a key of two ids. Other text
is only stored, never indexed: :data:`MAX_TEXT_BYTES` (1 MiB, the default of
``max_string_bytes``) is about fifty times the longest YouTube description.
Every sink (networkx, PyG, Neo4j, CSV) can rely on these for validated input.

**Skipping.** Under ``errors="skip"`` exactly the videos that break a rule
are left out, each reported once (for its first broken rule) as a
:class:`Violation`, and every other video is kept: a bad row costs only
itself, never its batch or its file. Only a source that cannot be read at
all (not parquet, a JSON document that does not parse, a column of the wrong
type) is skipped whole, as ``unreadable_source``. Messages quote values
truncated (:func:`graphkit.errors.quote`) and are built without decoding
invalid text, so reporting one defect never fails on another.

A video is reported for the first rule it breaks. All rules are computed with
numpy over the whole record batch (the text checks by
:func:`graphkit.strings.check_strings`): no Python loop per node; the only
Python work is formatting the message of each reported violation.

Examples:
    >>> list(RULES)[:4]
    ['malformed_row', 'wrong_type', 'value_out_of_range', 'null_video_uid']
    >>> MAX_ID_BYTES, MAX_TEXT_BYTES
    (1024, 1048576)
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit.errors import InvariantError, RowError, quote
from graphkit.strings import check_strings, string_lengths, value_text
from graphkit.typing import ErrorPolicy

__all__ = [
    "MAX_ID_BYTES",
    "MAX_TEXT_BYTES",
    "RULES",
    "Violation",
    "ValidationConfig",
    "ValidationReport",
    "ErrorPolicy",
    "find_violations",
]

#: Longest id (``video_uid``, ``node_id``, ``parent_id``) accepted, in UTF-8 bytes.
MAX_ID_BYTES: int = 1024
#: Longest other text accepted by default (:attr:`ValidationConfig.max_string_bytes`), in bytes.
MAX_TEXT_BYTES: int = 1 << 20

#: Every rule, in checking order, with what it requires.
RULES: dict[str, str] = {
    "malformed_row": "a row must be a JSON object with video_uid and nodes and no repeated key",
    "wrong_type": "a value must have its column's type (a number, not a boolean or a string; "
                  "a whole number for an integer)",
    "value_out_of_range": "a value must fit its column's type",
    "null_video_uid": "video_uid must be set",
    "invalid_utf8": "text must be valid UTF-8 (ids are checked first, other text last)",
    "empty_id": "video_uid and node_id must not be empty",
    "oversized_id": f"an id must not exceed {MAX_ID_BYTES} bytes (MAX_ID_BYTES)",
    "duplicate_video_uid": "video_uid must be unique",
    "empty_tree": "a video must have at least one node",
    "null_field": "node_id, level, start and end must be set",
    "level_out_of_range": "level must fit int16",
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
    "oversized_string": "text must not exceed max_string_bytes",
    "null_in_list": "a transcript entry and its time and text must be set",
    "unreadable_source": "a source file must be readable (only reported when files are skipped)",
}

#: Metadata text fields checked like captions.
_METADATA_TEXTS = ("title", "description", "upload_date")


@dataclass(frozen=True)
class Violation:
    """One broken rule in one video.

    Args:
        video_uid (str or None): The video (``None`` when the uid itself is null).
        node_id (str or None): The first offending node, or ``None`` for a
            video-level rule.
        rule (str): A key of :data:`RULES`.
        message (str): What exactly is wrong.
        source (str, optional): Where the row was read, for a row a reader
            could not read (``"rows.jsonl:3"``, ``"a.parquet, row 17"``).

    Examples:
        >>> print(Violation(None, None, "malformed_row", "invalid JSON", source="a.jsonl:3"))
        a.jsonl:3: malformed_row: invalid JSON
    """

    video_uid: str | None
    node_id: str | None
    rule: str
    message: str
    source: str | None = None

    def to_error(self) -> InvariantError:
        """This violation as an :class:`~graphkit.errors.InvariantError`.

        A row a reader could not read (one with a :attr:`source`) is a
        :class:`~graphkit.errors.RowError`, which is also a
        :class:`~graphkit.errors.SchemaError`.
        """
        if self.source is not None:
            return RowError(self.source, self.video_uid, self.rule, self.message)
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
        max_string_bytes (int, optional): Longest text (other than ids, which
            :data:`MAX_ID_BYTES` bounds) accepted, in bytes.
            (default: :data:`MAX_TEXT_BYTES`, 1 MiB)
        time_tolerance (float, optional): Largest gap or overlap, in seconds,
            still counted as tiling. Real data tiles exactly in float32.
            (default: :obj:`0.0`)
    """

    strict: bool = True
    errors: ErrorPolicy = "raise"
    max_string_bytes: int = MAX_TEXT_BYTES
    time_tolerance: float = 0.0

    def __post_init__(self) -> None:
        if self.errors not in ("raise", "skip"):
            raise ValueError(f"errors={self.errors!r}; expected 'raise' or 'skip'")
        if isinstance(self.max_string_bytes, bool) or not isinstance(self.max_string_bytes, int):
            raise TypeError(f"max_string_bytes must be an int, got {self.max_string_bytes!r}")
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
    """Collects, per video, the first rule broken, its first node and the field involved."""

    def __init__(self, num_videos: int, video_index: np.ndarray) -> None:
        self.rule = np.full(num_videos, -1, dtype=np.int64)
        self.node = np.full(num_videos, -1, dtype=np.int64)
        self.item = np.full(num_videos, -1, dtype=np.int64)  # a transcript entry
        self.field = np.full(num_videos, -1, dtype=np.int64)
        self.video_index = video_index
        self.rules = list(RULES)
        self.fields: list[str] = []
        self.columns: dict[str, pa.Array] = {}  # field name -> the column it was checked in
        self.entry_rank = np.zeros(0, dtype=np.int64)  # each transcript entry's place in its list

    def _field(self, name: str | None) -> int:
        if name is None:
            return -1
        if name not in self.fields:
            self.fields.append(name)
        return self.fields.index(name)

    def videos(self, rule: str, video_mask: np.ndarray, field: str | None = None) -> None:
        fresh = video_mask & (self.rule < 0)
        self.rule[fresh] = self.rules.index(rule)
        self.field[fresh] = self._field(field)

    def nodes(self, rule: str, node_mask: np.ndarray, field: str | None = None) -> None:
        self._first_of(rule, np.flatnonzero(node_mask), self.video_index, self.node, field)

    def items(self, rule: str, item_mask: np.ndarray, item_video: np.ndarray, field: str) -> None:
        self._first_of(rule, np.flatnonzero(item_mask), item_video, self.item, field)

    def _first_of(self, rule: str, bad: np.ndarray, owner: np.ndarray, where: np.ndarray, field: str | None) -> None:
        if bad.size == 0:
            return
        videos, first = np.unique(owner[bad], return_index=True)
        fresh = self.rule[videos] < 0
        self.rule[videos[fresh]] = self.rules.index(rule)
        where[videos[fresh]] = bad[first[fresh]]
        self.field[videos[fresh]] = self._field(field)

    def strings(self, column: pa.Array, field: str, max_bytes: int, rules: dict[str, str],
                mark: str = "nodes", item_video: np.ndarray | None = None) -> None:
        """Check one text column; ``rules`` maps a problem (``invalid_utf8``, ``too_long``, ``empty``) to a rule."""
        checks = check_strings(column, max_bytes)
        self.columns[field] = column
        for problem, rule in rules.items():
            mask = getattr(checks, problem)
            if not mask.any():
                continue
            if mark == "videos":
                self.videos(rule, mask, field)
            elif mark == "items":
                self.items(rule, mask, item_video, field)  # type: ignore[arg-type]
            else:
                self.nodes(rule, mask, field)

    @property
    def bad_videos(self) -> np.ndarray:
        return np.flatnonzero(self.rule >= 0)


_ID_RULES = {"invalid_utf8": "invalid_utf8", "empty": "empty_id", "too_long": "oversized_id"}
_TEXT_RULES = {"invalid_utf8": "invalid_utf8", "too_long": "oversized_string"}


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
    metadata: pa.StructArray | None = None,
    level_overflow: np.ndarray | None = None,
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
        metadata (pyarrow.StructArray, optional): ``[V]`` video metadata, when
            read: its text fields and transcript are checked too.
        level_overflow (numpy.ndarray, optional): ``[N]`` levels that did
            not fit ``int16`` (read as null).

    Returns:
        list[tuple[int, Violation]]: At most one violation per video, with
        the video's position in the batch, in video order.
    """
    num_videos, num_nodes = len(counts), len(parent)
    video_index = np.repeat(np.arange(num_videos), counts)
    first = _FirstViolation(num_videos, video_index)

    first.videos("null_video_uid", ~_valid(video_uid))
    first.strings(video_uid, "video_uid", MAX_ID_BYTES, _ID_RULES, mark="videos")
    first.videos("duplicate_video_uid", _duplicated(video_uid))
    first.videos("empty_tree", counts == 0)
    ids_unique = id_code is None  # the caller already proved ids non-null and unique
    null_id = np.zeros(num_nodes, dtype=bool) if ids_unique else id_code < 0
    overflow = np.zeros(num_nodes, dtype=bool) if level_overflow is None else level_overflow
    first.nodes("null_field", null_id | (~level_valid & ~overflow) | ~time_valid)
    first.strings(node_id, "node_id", MAX_ID_BYTES, _ID_RULES)
    first.strings(parent_id, "parent_id", MAX_ID_BYTES, {k: v for k, v in _ID_RULES.items() if k != "empty"})
    first.nodes("level_out_of_range", overflow)
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
        first.strings(column, name, config.max_string_bytes, _TEXT_RULES)
    if metadata is not None:
        _check_metadata(first, metadata, config.max_string_bytes)

    arrays = _Arrays(video_uid, node_id, parent_id, parent, level, start, end, config)
    return [(int(v), _describe(int(v), first, arrays)) for v in first.bad_videos]


def _check_metadata(first: _FirstViolation, metadata: pa.StructArray, max_bytes: int) -> None:
    """The metadata's text fields (per video) and its transcript entries (per entry)."""
    if isinstance(metadata, pa.ChunkedArray):
        metadata = metadata.combine_chunks()
    names = metadata.type.names
    for name in _METADATA_TEXTS:
        if name in names:
            first.strings(metadata.field(name), f"metadata.{name}", max_bytes, _TEXT_RULES, mark="videos")
    if "transcript" not in names:
        return
    transcript = metadata.field("transcript")
    if len(transcript) == 0 or transcript.null_count == len(transcript):
        return
    entries = transcript.flatten()  # honours slicing and null lists
    owner = pc.list_parent_indices(transcript).to_numpy()
    lengths = pc.list_value_length(transcript).fill_null(0).to_numpy().astype(np.int64)
    first.entry_rank = np.arange(len(entries)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    first.items("null_in_list", ~_valid(entries), owner, "metadata.transcript")
    for name in entries.type.names:
        values = entries.field(name)
        first.items("null_in_list", _valid(entries) & ~_valid(values), owner, f"metadata.transcript.{name}")
        first.strings(values, f"metadata.transcript.{name}", max_bytes, _TEXT_RULES, mark="items", item_video=owner)


@dataclass(frozen=True)
class _Arrays:
    """What a message about one violation may quote."""

    video_uid: pa.Array
    node_id: pa.Array
    parent_id: pa.Array
    parent: np.ndarray
    level: np.ndarray
    start: np.ndarray
    end: np.ndarray
    config: ValidationConfig


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


def _describe(video: int, first: _FirstViolation, a: _Arrays) -> Violation:
    """The message of one video's violation; quotes values truncated and never decodes invalid text."""
    rule = first.rules[first.rule[video]]
    node = int(first.node[video])
    uid = value_text(a.video_uid, video)
    nid = value_text(a.node_id, node) if node >= 0 else None
    name = first.fields[first.field[video]] if first.field[video] >= 0 else None
    column = first.columns.get(name) if name is not None else None
    # The value a field-level rule is about: the node's, the video's, or a transcript entry's.
    position = node if node >= 0 else (int(first.item[video]) if first.item[video] >= 0 else video)
    message = RULES[rule]
    if rule == "missing_parent":
        message = f"parent_id {quote(value_text(a.parent_id, node))} is not a node of this video"
    elif rule in ("non_finite_time", "negative_start", "end_not_after_start"):
        message = f"start={a.start[node]}, end={a.end[node]}: {message}"
    elif rule in ("level_mismatch", "child_outside_parent") and a.parent[node] >= 0:
        p = int(a.parent[node])
        message = (
            f"level {a.level[node]} [{a.start[node]}, {a.end[node]}] under parent "
            f"{quote(value_text(a.node_id, p))} level {a.level[p]} [{a.start[p]}, {a.end[p]}]: {message}"
        )
    elif rule == "root_level":
        message = f"root has level {a.level[node]}: {message}"
    elif rule in ("not_binary", "children_do_not_tile"):
        kids = np.flatnonzero(a.parent == node)
        kids = kids[np.argsort(a.start[kids])]
        spans = ", ".join(f"[{a.start[k]}, {a.end[k]}]" for k in kids[:8])
        message = f"node [{a.start[node]}, {a.end[node]}] has {kids.size} children {spans}: {message}"
    elif rule == "level_out_of_range":
        message = "level does not fit int16 (-32768 to 32767)"
    elif column is not None and rule in ("invalid_utf8", "oversized_id", "oversized_string", "empty_id"):
        where = f"{name} of entry {first.entry_rank[position]}" if first.item[video] >= 0 else name
        size = int(string_lengths(column.slice(position, 1))[0])
        if rule == "invalid_utf8":
            message = f"{where} is not valid UTF-8: {quote(value_text(column, position))}"
        elif rule == "empty_id":
            message = f"{where} is empty"
        else:
            limit = MAX_ID_BYTES if rule == "oversized_id" else a.config.max_string_bytes
            message = f"{where} is {size} bytes, longer than {limit}: {quote(value_text(column, position), 40)}"
    elif rule == "null_in_list" and name is not None:
        rank = first.entry_rank[int(first.item[video])]
        what = f"entry {rank} of {name}" if name == "metadata.transcript" else f"{name} of entry {rank}"
        message = f"{what} is null: {message}"
    return Violation(uid, nid, rule, message)
