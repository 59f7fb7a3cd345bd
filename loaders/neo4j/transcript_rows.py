"""Rows for writing a batch's transcript lines to Neo4j (``UNWIND $rows`` statements).

The ``Transcript`` nodes of :mod:`graphkit.transcript` go to Neo4j next to the
trees (:func:`graphkit.loaders.neo4j.writer.load_trees` with
``transcript=True``), a chunk of whole videos at a time; this module makes
their rows from a :class:`~graphkit.transcript.Transcript`, column by column,
with no database involved:

* :func:`transcript_node_rows` -- one map per line: ``video_uid``, ``index``,
  ``time`` (the float32's shortest decimal), ``text``, for
  :func:`graphkit.loaders.neo4j.cypher.upsert_nodes_query`;
* :func:`transcript_relationship_rows` -- ``DURING`` (``source`` the line's
  ``index``, ``target`` the leaf's ``node_id``) and ``IN_VIDEO`` (``target``
  the ``video_uid``), for :func:`graphkit.loaders.neo4j.cypher.upsert_relationships_query`;
* :func:`transcript_index_lists` -- each video's line indexes, for the
  ``MERGE`` reload's removal of lines the source no longer has.

Examples:
    >>> from graphkit.synth import generate_batch
    >>> from graphkit.transcript import align_transcript
    >>> from graphkit.tree import TreeBatch
    >>> trees = TreeBatch.from_arrow(generate_batch(2, seed=3))
    >>> lines = align_transcript(trees)
    >>> row = transcript_node_rows(trees, lines, slice(0, 1))[0]
    >>> sorted(row), row["index"]
    (['index', 'text', 'time', 'video_uid'], 0)
    >>> transcript_relationship_rows(trees, lines, "IN_VIDEO", slice(0, 1))[0] == {
    ...     "video_uid": row["video_uid"], "source": 0, "target": row["video_uid"]}
    True
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from graphkit import schema
from graphkit.arrays import shortest_decimal
from graphkit.transcript import Transcript
from graphkit.tree import TreeBatch

__all__ = ["transcript_node_rows", "transcript_relationship_rows", "transcript_index_lists", "transcript_counts"]


def _rows_of(columns: dict[str, list]) -> list[dict]:
    names = list(columns)
    return [dict(zip(names, values)) for values in zip(*columns.values())]


def _lines(lines: Transcript, videos: slice) -> slice:
    return slice(int(lines.line_offsets[videos.start]), int(lines.line_offsets[videos.stop]))


def _uids(trees: TreeBatch, video: np.ndarray) -> list:
    return trees.video_uid.take(pa.array(video, pa.int64())).to_pylist()


def transcript_node_rows(trees: TreeBatch, lines: Transcript, videos: slice) -> list[dict]:
    """One property map per line of a contiguous range of videos.

    Args:
        trees (TreeBatch): The videos.
        lines (Transcript): Their aligned transcript.
        videos (slice): A contiguous range of video positions (``start`` and ``stop`` set).

    Returns:
        list[dict]: ``{"video_uid", "index", "time", "text"}`` per line, in order.
    """
    part = _lines(lines, videos)
    return _rows_of({
        "video_uid": _uids(trees, lines.video_index[part]),
        "index": lines.index[part].tolist(),
        "time": shortest_decimal(lines.time[part]).tolist(),
        "text": lines.text[part.start:part.stop].to_pylist(),
    })


def transcript_relationship_rows(trees: TreeBatch, lines: Transcript, edge_type: str, videos: slice) -> list[dict]:
    """One map per ``DURING`` or ``IN_VIDEO`` edge of a contiguous range of videos.

    Args:
        trees (TreeBatch): The videos.
        lines (Transcript): Their aligned transcript.
        edge_type (str): ``"DURING"`` or ``"IN_VIDEO"``.
        videos (slice): A contiguous range of video positions.

    Returns:
        list[dict]: ``{"video_uid", "source": index, "target": node_id or video_uid}``.

    Raises:
        ValueError: If ``edge_type`` is neither.
    """
    part = _lines(lines, videos)
    if edge_type == schema.IN_VIDEO.name:
        uids = _uids(trees, lines.video_index[part])
        return _rows_of({"video_uid": uids, "source": lines.index[part].tolist(), "target": uids})
    if edge_type != schema.DURING.name:
        raise ValueError(f"edge_type must be 'DURING' or 'IN_VIDEO', got {edge_type!r}")
    lo, hi = np.searchsorted(lines.during_line, [part.start, part.stop])
    line, segment = lines.during_line[lo:hi], lines.during_segment[lo:hi]
    return _rows_of({
        "video_uid": _uids(trees, lines.video_index[line]),
        "source": lines.index[line].tolist(),
        "target": trees.node_id.take(pa.array(segment, pa.int64())).to_pylist(),
    })


def transcript_index_lists(trees: TreeBatch, lines: Transcript | None, videos: slice) -> list[dict]:
    """Each video's stored line indexes (none without a transcript), for the stale-line removal.

    Examples:
        >>> from graphkit.testing import example_rows
        >>> transcript_index_lists(TreeBatch.from_arrow(example_rows(2)), None, slice(1, 2))
        [{'video_uid': 'vid00000001', 'indexes': []}]
    """
    uids = trees.video_uid.slice(videos.start, videos.stop - videos.start).to_pylist()
    if lines is None:
        return [{"video_uid": uid, "indexes": []} for uid in uids]
    part = _lines(lines, videos)
    offsets = pa.array((lines.line_offsets[videos.start : videos.stop + 1] - part.start).astype(np.int32))
    lists = pa.ListArray.from_arrays(offsets, pa.array(lines.index[part], pa.int64()))
    return _rows_of({"video_uid": uids, "indexes": lists.to_pylist()})


def transcript_counts(lines: Transcript, videos: slice) -> tuple[int, int]:
    """(nodes, relationships) the lines of a range of videos make."""
    part = _lines(lines, videos)
    lo, hi = np.searchsorted(lines.during_line, [part.start, part.stop])
    count = part.stop - part.start
    return count, count + int(hi - lo)
