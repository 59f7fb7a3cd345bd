"""The transcript lines' files for ``neo4j-admin database import full``.

:func:`graphkit.loaders.neo4j.csv.export_csv` with ``transcript=True`` writes,
next to the trees' files, the :mod:`graphkit.transcript` lines::

    transcripts.csv  :ID(Transcript),video_uid:string,index:long,time:double,text:string,:LABEL
    during.csv       :START_ID(Transcript),:END_ID(Segment),:TYPE
    in_video.csv     :START_ID(Transcript),:END_ID(Video),:TYPE

A line is identified by ``(video_uid, index)``; its ``:ID(Transcript)`` is
built like a segment's (:func:`~graphkit.loaders.neo4j.csv.segment_import_ids`,
which this module cannot import: ``csv`` imports it):
``"<characters in video_uid>:<video_uid>:<index>"``, unique across videos,
not stored. ``time`` is the float32's shortest decimal, declared ``double``,
as the Bolt loader stores it.

Examples:
    >>> from graphkit.synth import generate_batch
    >>> from graphkit.tree import TreeBatch
    >>> tables = transcript_tables(TreeBatch.from_arrow(generate_batch(1, seed=3)))
    >>> sorted(tables), tables["Transcript"].column_names[:3]
    (['DURING', 'IN_VIDEO', 'Transcript'], [':ID(Transcript)', 'video_uid:string', 'index:long'])
    >>> tables["IN_VIDEO"].column(1)[0].as_py() == tables["Transcript"].column(1)[0].as_py()
    True
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from graphkit import schema
from graphkit.arrays import shortest_decimal
from graphkit.transcript import Transcript, TranscriptReport, align_transcript
from graphkit.tree import TreeBatch

__all__ = ["TRANSCRIPT_SPECS", "transcript_tables", "aligned_tables", "import_ids"]

#: The node and edge types of the transcript files, in file order.
TRANSCRIPT_SPECS: tuple[schema.NodeTypeSpec | schema.EdgeTypeSpec, ...] = (
    schema.TRANSCRIPT, *schema.TRANSCRIPT_EDGE_TYPES)


def import_ids(video_uid: pa.Array, key: pa.Array) -> pa.Array:
    """``"<characters in video_uid>:<video_uid>:<key>"``: unique per pair, as for segments.

    Examples:
        >>> import_ids(pa.array(["a:b", "a"]), pa.array(["0", "b:0"])).to_pylist()
        ['3:a:b:0', '1:a:b:0']
    """
    length = pc.cast(pc.utf8_length(video_uid), pa.string())
    return pc.binary_join_element_wise(length, video_uid, key, ":")


def _node_header(spec: schema.NodeTypeSpec) -> list[str]:
    return [f":ID({spec.label})", *(f"{p.name}:{p.neo4j_type}" for p in spec.properties), ":LABEL"]


def _edge_header(spec: schema.EdgeTypeSpec) -> list[str]:
    return [f":START_ID({spec.source.label})", f":END_ID({spec.target.label})", ":TYPE"]


def _table(header: list[str], columns: list[pa.Array], types: list[pa.DataType]) -> pa.Table:
    return pa.Table.from_arrays([c.cast(t) for c, t in zip(columns, types)], names=header)


def aligned_tables(trees: TreeBatch, lines: Transcript) -> dict[str, pa.Table]:
    """The three tables of an already aligned batch, by label or relationship type.

    Args:
        trees (TreeBatch): The videos.
        lines (Transcript): Their :func:`~graphkit.transcript.align_transcript`.

    Returns:
        dict[str, pyarrow.Table]: ``{"Transcript": ..., "DURING": ..., "IN_VIDEO": ...}``,
        columns named by the importer's headers.
    """
    uid = trees.video_uid.take(pa.array(lines.video_index, pa.int64()))
    ids = import_ids(uid, pc.cast(pa.array(lines.index, pa.int64()), pa.string()))
    count = lines.num_lines
    transcript = _table(
        _node_header(schema.TRANSCRIPT),
        [ids, uid, pa.array(lines.index, pa.int64()), pa.array(shortest_decimal(lines.time), pa.float64()),
         lines.text, pa.repeat(schema.TRANSCRIPT.label, count)],
        [pa.string(), pa.string(), pa.int64(), pa.float64(), pa.string(), pa.string()],
    )
    segment = pa.array(lines.during_segment, pa.int64())
    targets = import_ids(trees.video_uid.take(pa.array(trees.video_index).take(segment)),
                                 trees.node_id.take(segment))
    during = _table(_edge_header(schema.DURING),
                    [ids.take(pa.array(lines.during_line, pa.int64())), targets,
                     pa.repeat(schema.DURING.name, len(segment))], [pa.string()] * 3)
    in_video = _table(_edge_header(schema.IN_VIDEO), [ids, uid, pa.repeat(schema.IN_VIDEO.name, count)],
                      [pa.string()] * 3)
    return {schema.TRANSCRIPT.label: transcript, schema.DURING.name: during, schema.IN_VIDEO.name: in_video}


def transcript_tables(trees: TreeBatch, reports: list[TranscriptReport] | None = None) -> dict[str, pa.Table]:
    """Align a batch's transcript and give its three tables (see :func:`aligned_tables`).

    Args:
        trees (TreeBatch): The videos, read with their metadata.
        reports (list[TranscriptReport], optional): Where to append the
            alignment's report. (default: :obj:`None`)

    Raises:
        ValueError: If the batch was read without metadata.
    """
    lines = align_transcript(trees)
    if reports is not None:
        reports.append(lines.report.compact())
    return aligned_tables(trees, lines)
