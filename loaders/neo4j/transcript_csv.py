"""The transcript lines' files for ``neo4j-admin database import full``.

:func:`graphkit.loaders.neo4j.csv.export_csv` with ``transcript=True`` writes,
next to the trees' files, the :mod:`graphkit.transcript` lines::

    transcripts.csv  :ID(Transcript),video_uid:string,index:long,time:double,text:string,:LABEL
    during.csv       :START_ID(Transcript),:END_ID(Segment),:TYPE
    in_video.csv     :START_ID(Transcript),:END_ID(Video),:TYPE

A line is identified by ``(video_uid, index)``, both stored; its
``:ID(Transcript)`` is an integer import id like every node's
(:class:`~graphkit.loaders.neo4j.csv_tables.ImportIds`), not stored.
``time`` is the float32's shortest decimal, declared ``double``, as the Bolt
loader stores it.

Examples:
    >>> from graphkit.synth import generate_batch
    >>> from graphkit.tree import TreeBatch
    >>> from graphkit.loaders.neo4j.csv_tables import ImportIds
    >>> trees, ids = TreeBatch.from_arrow(generate_batch(1, seed=3)), ImportIds()
    >>> tables = transcript_tables(trees, ids.batch(trees), ids)
    >>> sorted(tables), tables["Transcript"].column_names[:3]
    (['DURING', 'IN_VIDEO', 'Transcript'], [':ID(Transcript)', 'video_uid:string', 'index:long'])
    >>> tables["IN_VIDEO"].column(0).equals(tables["Transcript"].column(0))  # every line is in its video
    True
"""

from __future__ import annotations

import pyarrow as pa

from graphkit import schema
from graphkit.arrays import shortest_decimal
from graphkit.loaders.neo4j.csv_tables import BatchIds, ImportIds, edge_header, node_header
from graphkit.transcript import Transcript, TranscriptReport, align_transcript
from graphkit.tree import TreeBatch

__all__ = ["TRANSCRIPT_SPECS", "transcript_tables", "aligned_tables"]

#: The node and edge types of the transcript files, in file order.
TRANSCRIPT_SPECS: tuple[schema.NodeTypeSpec | schema.EdgeTypeSpec, ...] = (
    schema.TRANSCRIPT, *schema.TRANSCRIPT_EDGE_TYPES)


def _table(header: list[str], columns: list[pa.Array], types: list[pa.DataType]) -> pa.Table:
    return pa.Table.from_arrays([c.cast(t) for c, t in zip(columns, types)], names=header)


def aligned_tables(trees: TreeBatch, lines: Transcript, ids: BatchIds, line_ids: pa.Array) -> dict[str, pa.Table]:
    """The three tables of an already aligned batch, by label or relationship type.

    Args:
        trees (TreeBatch): The videos.
        lines (Transcript): Their :func:`~graphkit.transcript.align_transcript`.
        ids (BatchIds): The import ids of the batch's videos and segments.
        line_ids (pyarrow.Array): The import id of each line (int64).

    Returns:
        dict[str, pyarrow.Table]: ``{"Transcript": ..., "DURING": ..., "IN_VIDEO": ...}``,
        columns named by the importer's headers.
    """
    video = pa.array(lines.video_index, pa.int64())
    count = lines.num_lines
    transcript = _table(
        node_header(schema.TRANSCRIPT),
        [line_ids, trees.video_uid.take(video), pa.array(lines.index, pa.int64()),
         pa.array(shortest_decimal(lines.time), pa.float64()), lines.text, pa.repeat(schema.TRANSCRIPT.label, count)],
        [pa.int64(), pa.string(), pa.int64(), pa.float64(), pa.string(), pa.string()],
    )
    during = _table(edge_header(schema.DURING),
                    [line_ids.take(pa.array(lines.during_line, pa.int64())),
                     ids.segment.take(pa.array(lines.during_segment, pa.int64())),
                     pa.repeat(schema.DURING.name, len(lines.during_segment))],
                    [pa.int64(), pa.int64(), pa.string()])
    in_video = _table(edge_header(schema.IN_VIDEO), [line_ids, ids.video.take(video),
                                                     pa.repeat(schema.IN_VIDEO.name, count)],
                      [pa.int64(), pa.int64(), pa.string()])
    return {schema.TRANSCRIPT.label: transcript, schema.DURING.name: during, schema.IN_VIDEO.name: in_video}


def transcript_tables(trees: TreeBatch, ids: BatchIds, import_ids: ImportIds,
                      reports: list[TranscriptReport] | None = None) -> dict[str, pa.Table]:
    """Align a batch's transcript and give its three tables (see :func:`aligned_tables`).

    Args:
        trees (TreeBatch): The videos, read with their metadata.
        ids (BatchIds): The import ids of the batch's videos and segments.
        import_ids (ImportIds): The export's ids, from which the lines take theirs.
        reports (list[TranscriptReport], optional): Where to append the
            alignment's report. (default: :obj:`None`)

    Raises:
        ValueError: If the batch was read without metadata.
    """
    lines = align_transcript(trees)
    if reports is not None:
        reports.append(lines.report.compact())
    return aligned_tables(trees, lines, ids, import_ids.take(schema.TRANSCRIPT.label, lines.num_lines))
