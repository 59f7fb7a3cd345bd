"""ASR transcript lines aligned to the leaves of each video's tree.

Action100M gives each video's speech as ``metadata.transcript``: a list of
``{time, text}`` lines, ``time`` a decimal string of seconds at which the
line starts. :func:`align_transcript` turns the lines of a whole
:class:`~graphkit.tree.TreeBatch` into a columnar :class:`Transcript`, the
:data:`~graphkit.schema.TRANSCRIPT` nodes of every sink, with no Python loop
per line:

* **Identity.** A line is ``(video_uid, index)``: ``index`` is its position
  in the video's source transcript (0, 1, ...), kept as it is even where
  lines before it are not stored, so a line is the same node in every sink.
* **Time.** ``time`` is parsed as a decimal (``"12.5"``, ``"3"``,
  ``"1e2"``; no ``nan``, ``inf``, hex or spaces) and held as float32 like
  every other time in graphkit; sinks store its shortest decimal
  (:func:`graphkit.arrays.shortest_decimal`: ``"218.879"`` is ``218.879``).
* **Alignment.** A line's time is a point: it falls *during* every leaf
  whose ``[start, end)`` holds it (one leaf on a tiling tree, whose leaves
  tile the video; every containing leaf where leaves overlap, as a
  non-strict tree allows). A line at a leaf's ``end`` belongs to the next
  leaf; one at the video's end, or after it, falls in none.
* **What is kept.** Every line with a valid time is a node, linked to its
  video (``IN_VIDEO``) and to the leaves it falls in (``DURING``); a line in
  no leaf (``outside``) is kept, linked to its video only. A line whose time
  is not a decimal (``unparsable``), is negative (``negative``) or is not
  finite as a float32 (``non_finite``) has no place on the timeline and is
  not stored. Nothing is dropped silently: :class:`TranscriptReport` counts
  each kind per video, by ``video_uid``; the CLI prints it (``graphkit
  transcript SOURCE --json``, and ``neo4j load`` / ``export-csv`` with
  ``--transcript``), and the aligner logs one line per such video (INFO) and
  a summary per batch (WARNING).

The Video's ``transcript_time`` / ``transcript_text`` list properties stay as
they are: the source transcript, verbatim (unparsable times included).

Examples:
    >>> import pyarrow as pa
    >>> from graphkit.schema import SOURCE_SCHEMA
    >>> from graphkit.tree import TreeBatch
    >>> nodes = [
    ...     {"node_id": "r", "parent_id": None, "level": 0, "start": 0.0, "end": 4.0},
    ...     {"node_id": "a", "parent_id": "r", "level": 1, "start": 0.0, "end": 1.5},
    ...     {"node_id": "b", "parent_id": "r", "level": 1, "start": 1.5, "end": 4.0},
    ... ]
    >>> lines = [{"time": "0.5", "text": "hi"}, {"time": "1.5", "text": "cut"},
    ...          {"time": "soon", "text": "?"}, {"time": "4.0", "text": "bye"}]
    >>> rows = pa.Table.from_pylist([{"video_uid": "v1", "nodes": nodes,
    ...                               "metadata": {"transcript": lines}}], schema=SOURCE_SCHEMA)
    >>> trees = TreeBatch.from_arrow(rows)
    >>> transcript = align_transcript(trees)
    >>> transcript
    Transcript(videos=1, lines=3, during=2, outside=1, not_stored=1)
    >>> transcript.index.tolist(), transcript.time.tolist(), transcript.text.to_pylist()
    ([0, 1, 3], [0.5, 1.5, 4.0], ['hi', 'cut', 'bye'])
    >>> trees.node_id.take(transcript.during_segment).to_pylist()
    ['a', 'b']
    >>> transcript.report.problems()
    [{'video_uid': 'v1', 'lines': 4, 'stored': 3, 'during': 2, 'outside': 1, 'unparsable': 1, 'negative': 0, \
'non_finite': 0}]
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit.arrays import concat_ranges, shortest_decimal

if TYPE_CHECKING:
    from graphkit.tree import TreeBatch

__all__ = ["Transcript", "TranscriptReport", "align_transcript", "parse_times", "TIME_PATTERN",
           "REPORT_FIELDS"]

logger = logging.getLogger(__name__)

#: A line's ``time``: a plain decimal number of seconds, optionally signed, with an optional exponent.
TIME_PATTERN = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"

#: The per-video counts of a :class:`TranscriptReport`, in order.
REPORT_FIELDS: tuple[str, ...] = ("lines", "stored", "during", "outside", "unparsable", "negative", "non_finite")

# Why a line is not stored (codes of parse_times).
_VALID, _UNPARSABLE, _NEGATIVE, _NON_FINITE = 0, 1, 2, 3


def parse_times(times: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Parse decimal time strings as float32 seconds, vectorized; say which fail and why.

    Args:
        times (pyarrow.Array): Strings (null allowed: unparsable).

    Returns:
        tuple[numpy.ndarray, numpy.ndarray]: ``[T]`` float32 seconds (NaN where
        not valid) and ``[T]`` int8 codes: 0 valid, 1 unparsable, 2 negative,
        3 not finite as a float32.

    Examples:
        >>> seconds, code = parse_times(pa.array(["1.25", "-2", "x", None, "1e39", "nan", "7"]))
        >>> seconds.tolist()[:1], seconds.tolist()[-1], code.tolist()
        ([1.25], 7.0, [0, 2, 1, 1, 3, 1, 0])
    """
    if isinstance(times, pa.ChunkedArray):
        times = times.combine_chunks()
    ok = pc.fill_null(pc.match_substring_regex(times, TIME_PATTERN), False).to_numpy(zero_copy_only=False)
    code = np.where(ok, _VALID, _UNPARSABLE).astype(np.int8)
    seconds = np.full(len(times), np.nan, dtype=np.float32)
    if ok.any():
        parsed = pc.cast(times.filter(pa.array(ok)), pa.float64()).to_numpy(zero_copy_only=False)
        with np.errstate(over="ignore"):
            as32 = parsed.astype(np.float32)
        bad = np.where(~np.isfinite(as32), _NON_FINITE, np.where(as32 < 0, _NEGATIVE, _VALID))
        code[ok] = bad
        seconds[ok] = np.where(bad == _VALID, as32, np.float32(np.nan))
    return seconds, code


@dataclass(frozen=True)
class TranscriptReport:
    """How a batch's transcript lines were aligned, per video.

    Args:
        video_uid (list[str]): ``[V]`` the videos.
        counts (numpy.ndarray): ``[V, 7]`` int64 counts, columns
            :data:`REPORT_FIELDS`: source lines, lines stored, lines in at
            least one leaf, stored lines in no leaf, and the lines not stored
            by reason (time not a decimal, negative, not finite).
        summed (numpy.ndarray, optional): ``[7]`` the counts summed over
            every video, when ``counts`` holds only some (:meth:`compact`).
            (default: :obj:`None`: the sum of ``counts``)
    """

    video_uid: list[str]
    counts: np.ndarray
    summed: np.ndarray | None = None

    def total(self, name: str) -> int:
        """The sum of one count over all videos (``"outside"``, ``"unparsable"``, ...)."""
        summed = self.counts.sum(axis=0) if self.summed is None else self.summed
        return int(summed[REPORT_FIELDS.index(name)])

    def compact(self) -> TranscriptReport:
        """The same totals, keeping only the videos with a problem: bounded by them, not by the dataset."""
        bad = self.counts[:, REPORT_FIELDS.index("outside"):].sum(axis=1) > 0
        summed = self.counts.sum(axis=0) if self.summed is None else self.summed
        return TranscriptReport([self.video_uid[v] for v in np.flatnonzero(bad)], self.counts[bad], summed)

    def totals(self) -> dict[str, int]:
        """Every count summed over the videos, by :data:`REPORT_FIELDS` name."""
        return {name: self.total(name) for name in REPORT_FIELDS}

    def problems(self) -> list[dict]:
        """One dict per video with a line outside every leaf or not stored: ``video_uid`` and its counts."""
        bad = self.counts[:, REPORT_FIELDS.index("outside"):].sum(axis=1) > 0
        return [
            {"video_uid": self.video_uid[v], **dict(zip(REPORT_FIELDS, self.counts[v].tolist()))}
            for v in np.flatnonzero(bad)
        ]

    def lines(self) -> list[str]:
        """The :meth:`problems` as one human-readable line per video."""
        out = []
        for p in self.problems():
            parts = [f"{p[name]} {name.replace('_', '-')}" for name in REPORT_FIELDS[3:] if p[name]]
            out.append(f"video {p['video_uid']!r}: transcript: {', '.join(parts)} of {p['lines']} lines"
                       + (" (not stored: no valid time)" if p["lines"] > p["stored"] else ""))
        return out

    @classmethod
    def concat(cls, reports: list[TranscriptReport]) -> TranscriptReport:
        """Join the reports of several batches."""
        counts = [r.counts for r in reports] or [np.zeros((0, len(REPORT_FIELDS)), dtype=np.int64)]
        summed = sum((r.counts.sum(axis=0) if r.summed is None else r.summed for r in reports),
                     np.zeros(len(REPORT_FIELDS), dtype=np.int64))
        compacted = any(r.summed is not None for r in reports)
        return cls([uid for r in reports for uid in r.video_uid], np.concatenate(counts),
                   summed if compacted else None)


@dataclass(frozen=True, eq=False)
class Transcript:
    """The stored transcript lines of a batch, video by video, and where each falls.

    Args:
        line_offsets (numpy.ndarray): ``[V + 1]`` int64; video ``v`` owns lines
            ``line_offsets[v]:line_offsets[v + 1]``, in source order.
        index (numpy.ndarray): ``[T]`` int64 position of each line in its
            video's source transcript (its identity with the ``video_uid``).
        time (numpy.ndarray): ``[T]`` float32 seconds.
        text (pyarrow.Array): ``[T]`` strings.
        during_line (numpy.ndarray): ``[D]`` int64 line position of each
            ``DURING`` edge, in line order.
        during_segment (numpy.ndarray): ``[D]`` int64 node position (in the
            tree batch) of the leaf it falls in.
        report (TranscriptReport): The per-video counts.
    """

    line_offsets: np.ndarray
    index: np.ndarray
    time: np.ndarray
    text: pa.Array
    during_line: np.ndarray
    during_segment: np.ndarray
    report: TranscriptReport

    @property
    def num_videos(self) -> int:
        """Number of videos ``V``."""
        return len(self.line_offsets) - 1

    @property
    def num_lines(self) -> int:
        """Number of stored lines ``T``."""
        return len(self.index)

    @functools.cached_property
    def lines_per_video(self) -> np.ndarray:
        """``[V]`` int64 stored lines of each video."""
        return np.diff(self.line_offsets)

    @functools.cached_property
    def video_index(self) -> np.ndarray:
        """``[T]`` int64 video position of each line."""
        return np.repeat(np.arange(self.num_videos, dtype=np.int64), self.lines_per_video)

    @functools.cached_property
    def during_per_video(self) -> np.ndarray:
        """``[V]`` int64 ``DURING`` edges of each video."""
        return np.bincount(self.video_index[self.during_line], minlength=self.num_videos)

    def during_node_ids(self, trees: TreeBatch) -> pa.ListArray:
        """``[T]`` for each line, the ``node_id`` s of the leaves it falls in (in time order)."""
        counts = np.bincount(self.during_line, minlength=self.num_lines)
        offsets = pa.array(np.r_[0, np.cumsum(counts)].astype(np.int32))
        return pa.ListArray.from_arrays(offsets, trees.node_id.take(pa.array(self.during_segment)))

    def to_table(self, trees: TreeBatch) -> pa.Table:
        """The lines as one table: ``video_uid``, ``index``, ``time``, ``text``, ``segments``.

        ``time`` is the shortest decimal of the float32 as a float64 (how
        sinks store it); ``segments`` lists the ``node_id`` s of the leaves
        the line falls in. Every sink's read-back gives this table.
        """
        uid = trees.video_uid.take(pa.array(self.video_index)) if self.num_lines else pa.array([], pa.string())
        return pa.table({
            "video_uid": uid,
            "index": pa.array(self.index, pa.int64()),
            "time": pa.array(shortest_decimal(self.time), pa.float64()),
            "text": self.text,
            "segments": self.during_node_ids(trees),
        })

    def __repr__(self) -> str:
        totals = self.report.totals()
        not_stored = totals["unparsable"] + totals["negative"] + totals["non_finite"]
        return (f"{type(self).__name__}(videos={self.num_videos}, lines={self.num_lines}, "
                f"during={len(self.during_line)}, outside={totals['outside']}, not_stored={not_stored})")


def _transcript_list(trees: TreeBatch) -> pa.ListArray:
    if trees.metadata is None or "transcript" not in trees.metadata.type.names:
        raise ValueError("the batch was read without its metadata (the transcript); read it with metadata=True")
    metadata = trees.metadata
    lists = pc.struct_field(metadata, "transcript")
    if metadata.null_count:
        # A null metadata struct hides whatever its field holds: no transcript.
        lists = pc.if_else(metadata.is_valid(), lists, pa.nulls(len(lists), lists.type))
    if isinstance(lists, pa.ChunkedArray):
        lists = lists.combine_chunks()
    return lists


def _counts_at_or_below(groups: np.ndarray, values: np.ndarray, group_offsets: np.ndarray,
                        query_groups: np.ndarray, query_values: np.ndarray) -> np.ndarray:
    """For each query, how many ``values`` of its group are ``<=`` its value.

    ``values`` are grouped by ``groups`` (ascending) and ``group_offsets`` is
    where each group starts; one stable merge of both lists by (group,
    value), a value before a query on a tie.
    """
    kind = np.r_[np.zeros(len(values), np.int8), np.ones(len(query_values), np.int8)]
    order = np.lexsort((kind, np.r_[values, query_values], np.r_[groups, query_groups]))
    before = np.cumsum(kind[order] == 0)
    found = np.empty(len(query_values), dtype=np.int64)
    is_query = kind[order] == 1
    found[order[is_query] - len(values)] = before[is_query]
    return found - group_offsets[query_groups]


def _align(trees: TreeBatch, video: np.ndarray, time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(line, leaf node) pairs with ``leaf.start <= time < leaf.end``, in line order, then time order."""
    leaves = trees.leaves_in_time  # grouped by video, each video's by start
    leaf_video = trees.video_index[leaves]
    starts = trees.start[leaves].astype(np.float64)
    ends = trees.end[leaves].astype(np.float64)
    offsets = np.searchsorted(leaf_video, np.arange(trees.num_videos + 1))
    # The running maximum of end within each video, exactly: on ranks, kept
    # apart per video by adding video * L (videos ascend).
    num = len(leaves)
    by_end = np.argsort(ends, kind="stable")
    rank = np.empty(num, dtype=np.int64)
    rank[by_end] = np.arange(num)
    running = np.maximum.accumulate(rank + leaf_video * num) - leaf_video * num if num else rank
    reach = ends[by_end][running]
    t = time.astype(np.float64)
    stop = _counts_at_or_below(leaf_video, starts, offsets, video, t)   # leaves starting at or before t
    first = _counts_at_or_below(leaf_video, reach, offsets, video, t)   # leaves before it all end by t
    count = np.maximum(stop - first, 0)
    line = np.repeat(np.arange(len(t), dtype=np.int64), count)
    candidate = concat_ranges(offsets[video] + first, count)
    keep = ends[candidate] > t[line]
    return line[keep], leaves[candidate[keep]]


def align_transcript(trees: TreeBatch, *, log: bool = True) -> Transcript:
    """Align every transcript line of a batch to the leaves its time falls in.

    Args:
        trees (TreeBatch): Videos read with their metadata.
        log (bool, optional): Log the videos with lines outside every leaf or
            not stored (one INFO line each, a WARNING summary); a caller that
            aligns the same batch again and again (a task's mini-batches,
            every epoch) turns it off. (default: :obj:`True`)

    Returns:
        Transcript: The lines with a valid time, their ``DURING`` leaves and
        the per-video :class:`TranscriptReport` (see the module notes).

    Raises:
        ValueError: If the batch was read without metadata.
    """
    lists = _transcript_list(trees)
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    items = pc.list_flatten(lists)  # skips null lists
    source_offsets = np.r_[0, np.cumsum(lengths)]
    source_video = np.repeat(np.arange(trees.num_videos, dtype=np.int64), lengths)
    position = np.arange(len(items), dtype=np.int64) - source_offsets[source_video]
    seconds, code = parse_times(pc.struct_field(items, "time"))
    valid = code == _VALID
    video, time = source_video[valid], seconds[valid]
    line, segment = _align(trees, video, time)
    aligned = np.zeros(len(time), dtype=bool)
    aligned[line] = True
    stored_per_video = np.bincount(video, minlength=trees.num_videos)
    counts = np.stack([
        lengths,
        stored_per_video,
        np.bincount(video[aligned], minlength=trees.num_videos),
        np.bincount(video[~aligned], minlength=trees.num_videos),
        *(np.bincount(source_video[code == c], minlength=trees.num_videos)
          for c in (_UNPARSABLE, _NEGATIVE, _NON_FINITE)),
    ], axis=1).astype(np.int64).reshape(trees.num_videos, len(REPORT_FIELDS))
    report = TranscriptReport(trees.video_uid.to_pylist(), counts)
    messages = report.lines() if log else []
    for message in messages:
        logger.info("%s", message)
    if messages:
        totals = report.totals()
        logger.warning("transcript: %d lines outside every leaf (kept, linked to their video only) and %d with an "
                       "invalid time (not stored) in %d videos; see the TranscriptReport", totals["outside"],
                       totals["unparsable"] + totals["negative"] + totals["non_finite"], len(messages))
    return Transcript(
        line_offsets=np.r_[0, np.cumsum(stored_per_video)].astype(np.int64),
        index=position[valid],
        time=time,
        text=pc.struct_field(items, "text").filter(pa.array(valid)),
        during_line=line,
        during_segment=segment,
        report=report,
    )
