"""The tables of a CSV export, one batch at a time: ``neo4j-admin``'s headers and columns.

:func:`import_tables` turns a :class:`~graphkit.tree.TreeBatch` into one Arrow
table per node label and relationship type, named by the importer's header
(:func:`node_header`, :func:`edge_header`), that
:func:`graphkit.loaders.neo4j.csv.export_csv` writes as CSV. Floats are their
float32's shortest decimal, ``string[]`` columns are joined by
:data:`ARRAY_DELIMITER`, and every node has an integer import id, unique
within its label across the whole export (:class:`ImportIds`), by which the
relationship files name their endpoints.

Examples:
    >>> from graphkit.testing import example_rows
    >>> tables = import_tables(TreeBatch.from_arrow(example_rows(1)))
    >>> sorted(tables)[:3], tables["Segment"].num_rows
    (['HAS_ROOT', 'NEXT', 'NEXT_LEAF'], 3)
"""

from __future__ import annotations

import collections
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit import schema
from graphkit.arrays import shortest_decimal
from graphkit.errors import CsvExportError
from graphkit.labels import extract_labels
from graphkit.tree import TreeBatch

__all__ = ["ARRAY_DELIMITER", "BatchIds", "ImportIds", "edge_header", "empty_schema", "import_tables", "node_header"]

ARRAY_DELIMITER = "\x1f"
"""Joins the elements of ``string[]`` columns: U+001F, the ASCII unit separator."""


class BatchIds(NamedTuple):
    """The import ids of one batch's videos and segments (int64 arrays, in batch order)."""

    video: pa.Array
    segment: pa.Array


class ImportIds:
    """Hands out the importer's integer ids, consecutive per label over a whole export.

    ``neo4j-admin`` maps integer ids far faster than strings (28% less import
    time at 10% of the preview), and an id assigned here needs no encoding of
    the node's identity: the export refuses a repeated ``video_uid``
    (:class:`~graphkit.identity.UniqueVideos`) and the validated trees a
    repeated ``node_id``, so every ``(video_uid, node_id)`` gets exactly one id.
    The ids are not stored in the graph.

    Examples:
        >>> ids = ImportIds()
        >>> ids.take("Segment", 3).to_pylist(), ids.take("Segment", 2).to_pylist(), ids.take("Video", 1).to_pylist()
        ([0, 1, 2], [3, 4], [0])
    """

    def __init__(self) -> None:
        self._next: collections.Counter[str] = collections.Counter()

    def take(self, label: str, count: int) -> pa.Array:
        """The next ``count`` ids of ``label``."""
        first = self._next[label]
        self._next[label] = first + count
        return pa.array(np.arange(first, first + count, dtype=np.int64))

    def batch(self, trees: TreeBatch) -> BatchIds:
        """The ids of a batch's videos and segments."""
        return BatchIds(self.take(schema.VIDEO.label, trees.num_videos),
                        self.take(schema.SEGMENT.label, trees.num_nodes))


def node_header(spec: schema.NodeTypeSpec) -> list[str]:
    """The importer header of a node type: its import id, typed properties, ``:LABEL``.

    The ``:ID(Label)`` column is anonymous, so the importer does not store it;
    the identity's properties (``video_uid``, ``node_id``) are stored as the
    plain properties they are.

    Examples:
        >>> node_header(schema.SEGMENT)[:4]
        [':ID(Segment)', 'node_id:string', 'video_uid:string', 'level:int']
        >>> node_header(schema.VIDEO)[:2] + node_header(schema.VIDEO)[-2:]
        [':ID(Video)', 'video_uid:string', 'transcript_text:string[]', ':LABEL']
    """
    return [f":ID({spec.label})", *(f"{p.name}:{p.neo4j_type}" for p in spec.properties), ":LABEL"]


def edge_header(spec: schema.EdgeTypeSpec) -> list[str]:
    """The importer header of an edge type: endpoints, ``:TYPE``, typed properties.

    Examples:
        >>> edge_header(schema.NEXT)
        [':START_ID(Segment)', ':END_ID(Segment)', ':TYPE', 'gap:double']
        >>> edge_header(schema.HAS_ROOT)
        [':START_ID(Video)', ':END_ID(Segment)', ':TYPE']
    """
    columns = [f":START_ID({spec.source.label})", f":END_ID({spec.target.label})", ":TYPE"]
    return columns + [f"{p.name}:{p.neo4j_type}" for p in spec.properties]



def import_tables(trees: TreeBatch, ids: BatchIds | None = None) -> dict[str, pa.Table]:
    """The tables :func:`export_csv` writes for one batch, by label or relationship type.

    Column names are the importer's header (:func:`node_header`,
    :func:`edge_header`); ``string[]`` columns hold their elements joined by
    :data:`ARRAY_DELIMITER`.

    Args:
        trees (TreeBatch): The videos.
        ids (BatchIds, optional): The batch's import ids, from the export's
            :class:`ImportIds`; by default ids from 0 (a one-batch export).

    Returns:
        dict[str, pyarrow.Table]: ``{"Video": ..., "Segment": ..., "PARENT_OF": ..., ...}``.

    Raises:
        CsvExportError: If a ``string[]`` element is null or holds
            :data:`ARRAY_DELIMITER`.
    """
    ids = ImportIds().batch(trees) if ids is None else ids
    tables: dict[str, pa.Table] = {schema.VIDEO.label: _video_table(trees, ids.video),
                                   schema.SEGMENT.label: _segment_table(trees, ids.segment)}
    tables.update({spec.name: _edge_table(trees, spec, ids) for spec in schema.EDGE_TYPES})
    return tables


def _arrow_type(neo4j_type: str) -> pa.DataType:
    # The CSV column types; string[] is written pre-joined as one string.
    return {
        "int": pa.int64(),
        "long": pa.int64(),
        "float": pa.float32(),
        "double": pa.float64(),
        "boolean": pa.bool_(),
    }.get(neo4j_type, pa.string())


def empty_schema(spec: schema.NodeTypeSpec | schema.EdgeTypeSpec) -> pa.Schema:
    """The Arrow schema of a type's CSV table: its header's names, its columns' types.

    Examples:
        >>> empty_schema(schema.NEXT).names
        [':START_ID(Segment)', ':END_ID(Segment)', ':TYPE', 'gap:double']
    """
    if isinstance(spec, schema.NodeTypeSpec):
        header = node_header(spec)
        types = [pa.int64(), *(_arrow_type(p.neo4j_type) for p in spec.properties), pa.string()]
    else:
        header = edge_header(spec)
        types = [pa.int64(), pa.int64(), pa.string(), *(_arrow_type(p.neo4j_type) for p in spec.properties)]
    return pa.schema(list(zip(header, types)))


def _table(spec: schema.NodeTypeSpec | schema.EdgeTypeSpec, columns: list[pa.Array]) -> pa.Table:
    target = empty_schema(spec)
    cast = [c if c.type == f.type else c.cast(f.type) for c, f in zip(columns, target)]
    return pa.Table.from_arrays(cast, schema=target)


def _node_video_uid(t: TreeBatch) -> pa.Array:
    return t.video_uid.take(pa.array(t.video_index)) if t.num_nodes else pa.array([], pa.string())


def _segment_table(t: TreeBatch, ids: pa.Array) -> pa.Table:
    video_uid = _node_video_uid(t)
    computed: dict[str, pa.Array] = {
        "node_id": t.node_id,
        "video_uid": video_uid,
        "level": pa.array(t.level),
        "start": pa.array(shortest_decimal(t.start)),
        "end": pa.array(shortest_decimal(t.end)),
        "duration": pa.array(shortest_decimal(t.duration)),
        "is_leaf": pa.array(t.is_leaf),
    }
    if "action_brief" in t.text:  # the dataset's verb label (issue 12), as the Bolt loader writes it
        computed["verb"] = extract_labels(t.text["action_brief"], "verb")
    columns = [ids]
    for prop in schema.SEGMENT.properties:
        column = computed.get(prop.name, t.text.get(prop.name))
        columns.append(pa.nulls(t.num_nodes, pa.string()) if column is None else column)
    columns.append(pa.repeat(schema.SEGMENT.label, t.num_nodes))
    return _table(schema.SEGMENT, columns)


def _video_table(t: TreeBatch, ids: pa.Array) -> pa.Table:
    count = t.num_videos
    fields: dict[str, pa.Array] = {}
    if t.metadata is not None:
        metadata = t.metadata
        # flatten() merges the struct's own nulls into its fields.
        fields = dict(zip([f.name for f in metadata.type], metadata.flatten()))
    transcript = fields.get("transcript")
    if transcript is not None:
        times, texts = _transcript_columns(t, transcript)
        fields["transcript_time"], fields["transcript_text"] = times, texts
    fields["video_uid"] = t.video_uid
    columns = [ids]
    for prop in schema.VIDEO.properties:
        column = fields.get(prop.name)
        columns.append(pa.nulls(count, _arrow_type(prop.neo4j_type)) if column is None else column)
    columns.append(pa.repeat(schema.VIDEO.label, count))
    return _table(schema.VIDEO, columns)


def _transcript_columns(t: TreeBatch, transcript: pa.Array) -> tuple[pa.Array, pa.Array]:
    """``transcript`` (list of ``{time, text}``) as two ``string[]`` columns, pre-joined."""
    if isinstance(transcript, pa.ChunkedArray):
        transcript = transcript.combine_chunks()
    items = pc.list_flatten(transcript)
    offsets = pc.subtract(transcript.offsets, transcript.offsets[0])
    mask = transcript.is_null()
    lists = []
    for name, column in zip(("time", "text"), items.flatten()):
        _check_array_elements(t, f"transcript_{name}", column, offsets)
        lists.append(pc.binary_join(pa.ListArray.from_arrays(offsets, column, mask=mask), ARRAY_DELIMITER))
    return lists[0], lists[1]


def _check_array_elements(t: TreeBatch, name: str, values: pa.Array, offsets: pa.Array) -> None:
    bad = values.is_null()
    if len(values):
        bad = pc.or_(bad, pc.fill_null(pc.match_substring(values, ARRAY_DELIMITER), False))
    if not pc.any(bad).as_py():
        return
    position = int(np.flatnonzero(bad.to_numpy(zero_copy_only=False))[0])
    video = int(np.searchsorted(offsets.to_numpy(), position, side="right") - 1)
    problem = "is null" if values[position].as_py() is None else "holds the array delimiter U+001F"
    raise CsvExportError(
        f"video {t.video_uid[video].as_py()!r}: element {position - int(offsets[video].as_py())} of "
        f"{name} {problem}; Neo4j's importer cannot store it as a string[] element"
    )


def _edge_table(t: TreeBatch, spec: schema.EdgeTypeSpec, ids: BatchIds) -> pa.Table:
    edges = t.edges(spec)
    sources = ids.video if spec.source is schema.VIDEO else ids.segment
    columns = [
        sources.take(pa.array(edges.source)),
        ids.segment.take(pa.array(edges.target)),
        pa.repeat(spec.name, len(edges)),
    ]
    for prop in spec.properties:
        values = edges.attrs[prop.name]
        columns.append(pa.array(shortest_decimal(values) if pa.types.is_floating(prop.dtype) else values))
    return _table(spec, columns)
