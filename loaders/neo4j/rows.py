"""Rows for Neo4j's ``UNWIND $rows`` statements, built column-wise from a tree batch.

The statements of :mod:`graphkit.loaders.neo4j.cypher` take one list parameter, ``$rows``:
one map per node or relationship. This module makes those maps from a
:class:`~graphkit.tree.TreeBatch`, with no database involved (so it is tested
on its own):

* :func:`video_rows` -- one map per video: ``video_uid`` and the metadata
  flattened to :data:`~graphkit.schema.VIDEO` properties (the transcript
  becomes two parallel string lists, ``transcript_time`` and
  ``transcript_text``, since Neo4j stores no maps);
* :func:`segment_rows` -- one map per segment with every
  :data:`~graphkit.schema.SEGMENT` property the batch holds: ``node_id``,
  ``video_uid``, ``level``, ``start``, ``end``, ``duration``, ``is_leaf`` and
  the text columns read (the nested ``gpt`` struct already flattened);
* :func:`relationship_rows` -- one map per edge of a type: ``video_uid``
  (both endpoints' video), ``source`` and ``target`` (the endpoints' keys)
  and the edge properties (``order``, ``gap``);
* :func:`segment_lists` -- each video's ``node_id`` s, for the ``MERGE``
  reload's removal of segments a source no longer has.

A value that is null in the source is ``None`` in its row; the upsert
statements turn it into an absent property (null means absent). The float32
times and gaps become the float64 of their shortest decimal
(:func:`graphkit.arrays.shortest_decimal`: ``70.67``, not
``70.66999816894531``), the representation every Neo4j path stores. Rows are
assembled from whole columns (Arrow and numpy arrays turned into Python lists
once per column), never by per-node logic; the optional ``rows`` slice
bounds memory to one write batch.

Examples:
    >>> from graphkit.testing import example_rows
    >>> from graphkit.tree import TreeBatch
    >>> trees = TreeBatch.from_arrow(example_rows(1))
    >>> row = segment_rows(trees)[1]
    >>> row["node_id"], row["level"], row["start"], row["is_leaf"], row["llama3_caption"]
    ('vid00000000-a', 1, 0.0, True, 'scissors')
    >>> relationship_rows(trees, "PARENT_OF")
    [{'video_uid': 'vid00000000', 'source': 'vid00000000-r', 'target': 'vid00000000-a', 'order': 0}, \
{'video_uid': 'vid00000000', 'source': 'vid00000000-r', 'target': 'vid00000000-b', 'order': 1}]
    >>> entity_counts(trees)
    {'Video': 1, 'Segment': 3, 'PARENT_OF': 2, 'NEXT': 1, 'NEXT_LEAF': 1, 'HAS_ROOT': 1}
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit import schema
from graphkit.arrays import shortest_decimal
from graphkit.labels import extract_labels
from graphkit.loaders.neo4j import cypher
from graphkit.schema import EdgeTypeSpec
from graphkit.tree import TreeBatch

__all__ = [
    "video_rows",
    "segment_rows",
    "relationship_rows",
    "video_columns",
    "segment_columns",
    "create_parameters",
    "video_chunks",
    "edge_range",
    "segment_lists",
    "entity_counts",
    "METADATA_PROPERTIES",
]

#: Video properties copied as they are from the ``metadata`` struct.
METADATA_PROPERTIES: tuple[str, ...] = (
    "title",
    "description",
    "view_count",
    "like_count",
    "duration",
    "upload_date",
)
_TRANSCRIPT_FIELDS = {"transcript_time": "time", "transcript_text": "text"}


def _rows_of(columns: dict[str, list]) -> list[dict]:
    names = list(columns)
    return [dict(zip(names, values)) for values in zip(*columns.values())]


def _bounds(total: int, rows: slice | None) -> tuple[int, int]:
    if rows is None:
        return 0, total
    if rows.step not in (None, 1):
        raise ValueError(f"rows must be a contiguous slice, got step {rows.step!r}")
    start, stop, _ = rows.indices(total)
    return start, max(start, stop)


def video_rows(trees: TreeBatch, rows: slice | None = None) -> list[dict]:
    """One property map per video, for :func:`graphkit.loaders.neo4j.cypher.upsert_nodes_query`.

    Args:
        trees (TreeBatch): The videos; without metadata, rows hold only
            ``video_uid``.
        rows (slice, optional): A contiguous range of videos; all by default.
            (default: :obj:`None`)

    Returns:
        list[dict]: ``{"video_uid": ..., "title": ..., ..., "transcript_time":
        [...], "transcript_text": [...]}``; a null field is ``None``.

    Examples:
        >>> from graphkit.synth import generate_batch
        >>> row = video_rows(TreeBatch.from_arrow(generate_batch(1, seed=3)))[0]
        >>> sorted(row) == sorted(schema.VIDEO.property_names)
        True
        >>> len(row["transcript_time"]) == len(row["transcript_text"])
        True
    """
    return _rows_of(video_columns(trees, rows))


def video_columns(trees: TreeBatch, rows: slice | None = None) -> dict[str, list]:
    """The properties of :func:`video_rows`, column-wise: one list per property name.

    Args:
        trees (TreeBatch): The videos.
        rows (slice, optional): A contiguous range of videos; all by default.
            (default: :obj:`None`)

    Returns:
        dict[str, list]: ``video_uid`` and each metadata property the batch
        holds, one entry per video (``None`` where null).
    """
    start, stop = _bounds(trees.num_videos, rows)
    columns: dict[str, list] = {
        schema.VIDEO.key: trees.video_uid.slice(start, stop - start).to_pylist()
    }
    if trees.metadata is None:
        return columns
    metadata = trees.metadata.slice(start, stop - start)
    present = set(metadata.type.names)
    for name in METADATA_PROPERTIES:
        if name in present:
            columns[name] = pc.struct_field(metadata, name).to_pylist()
    if "transcript" in present:
        transcript = pc.struct_field(metadata, "transcript")
        lengths = pc.list_value_length(transcript).fill_null(0).to_numpy()
        offsets = pa.array(np.r_[0, np.cumsum(lengths)].astype(np.int32))
        items = pc.list_flatten(transcript)
        for prop, field in _TRANSCRIPT_FIELDS.items():
            values = pc.struct_field(items, field)
            lists = pa.ListArray.from_arrays(offsets, values, mask=transcript.is_null())
            columns[prop] = lists.to_pylist()
    return columns


def segment_rows(trees: TreeBatch, rows: slice | None = None) -> list[dict]:
    """One property map per segment, for :func:`graphkit.loaders.neo4j.cypher.upsert_nodes_query`.

    Args:
        trees (TreeBatch): The videos.
        rows (slice, optional): A contiguous range of node positions; all by
            default. (default: :obj:`None`)

    Returns:
        list[dict]: Maps with ``node_id``, ``video_uid``, ``level``, ``start``,
        ``end``, ``duration``, ``is_leaf`` and each text property in
        ``trees.text`` (``None`` where null), in schema order.
    """
    return _rows_of(segment_columns(trees, rows))


def segment_columns(trees: TreeBatch, rows: slice | None = None) -> dict[str, list]:
    """The properties of :func:`segment_rows`, column-wise: one list per property name.

    Args:
        trees (TreeBatch): The videos.
        rows (slice, optional): A contiguous range of node positions; all by
            default. (default: :obj:`None`)

    Returns:
        dict[str, list]: One list per property, one entry per segment.
    """
    start, stop = _bounds(trees.num_nodes, rows)
    nodes = slice(start, stop)
    count = stop - start
    video_uid = trees.video_uid.take(pa.array(trees.video_index[nodes]))
    columns: dict[str, list] = {
        "node_id": trees.node_id.slice(start, count).to_pylist(),
        "video_uid": video_uid.to_pylist(),
        "level": trees.level[nodes].tolist(),
        "start": shortest_decimal(trees.start[nodes]).tolist(),
        "end": shortest_decimal(trees.end[nodes]).tolist(),
        "duration": shortest_decimal(trees.duration[nodes]).tolist(),
        "is_leaf": trees.is_leaf[nodes].tolist(),
    }
    for name in schema.SEGMENT.property_names:
        if name in trees.text:
            columns[name] = trees.text[name].slice(start, count).to_pylist()
    if "action_brief" in trees.text:  # the dataset's verb label (issue 12): absent without a gpt action
        columns["verb"] = extract_labels(trees.text["action_brief"].slice(start, count), "verb").to_pylist()
    return columns


def relationship_rows(
    trees: TreeBatch, edge_type: str | EdgeTypeSpec, rows: slice | None = None
) -> list[dict]:
    """One map per edge of a type, for :func:`graphkit.loaders.neo4j.cypher.upsert_relationships_query`.

    Args:
        trees (TreeBatch): The videos.
        edge_type (str or EdgeTypeSpec): ``"PARENT_OF"``, ``"NEXT"``,
            ``"NEXT_LEAF"`` or ``"HAS_ROOT"``.
        rows (slice, optional): A contiguous range of the edges as
            :meth:`TreeBatch.edges` lists them; all by default.
            (default: :obj:`None`)

    Returns:
        list[dict]: ``{"video_uid": ..., "source": key, "target": key,
        <property>: value, ...}`` where keys are ``video_uid`` for a video and
        ``node_id`` for a segment.
    """
    spec = edge_type if isinstance(edge_type, EdgeTypeSpec) else schema.edge_type(edge_type)
    edges = trees.edges(spec)
    start, stop = _bounds(len(edges), rows)
    part = slice(start, stop)
    targets = edges.target[part]
    source_keys = trees.video_uid if spec.source is schema.VIDEO else trees.node_id
    columns: dict[str, list] = {
        schema.VIDEO.key: trees.video_uid.take(pa.array(trees.video_index[targets])).to_pylist(),
        "source": source_keys.take(pa.array(edges.source[part])).to_pylist(),
        "target": trees.node_id.take(pa.array(targets)).to_pylist(),
    }
    for prop in spec.properties:
        columns[prop.name] = _property_values(prop, edges.attrs[prop.name][part])
    return _rows_of(columns)


def _property_values(prop: schema.Property, values: np.ndarray) -> list:
    """An edge property's values as Python objects: floats as their shortest decimal."""
    if pa.types.is_floating(prop.dtype):
        return shortest_decimal(values).tolist()
    return values.tolist()


def create_parameters(trees: TreeBatch, videos: slice | None = None) -> dict[str, dict[str, list]]:
    """The parameters of :func:`graphkit.loaders.neo4j.cypher.create_videos_query` for a range of whole videos.

    Nodes column-wise (:func:`video_columns`, :func:`segment_columns`); each
    edge type as ``source`` and ``target`` positions *within the range* (of
    its videos, or of its segments) and one list per edge property.

    Args:
        trees (TreeBatch): The videos.
        videos (slice, optional): A contiguous range of videos; all by
            default. (default: :obj:`None`)

    Returns:
        dict[str, dict[str, list]]: By parameter name
        (:func:`graphkit.loaders.neo4j.cypher.parameter_name`).

    Examples:
        >>> from graphkit.testing import example_rows
        >>> trees = TreeBatch.from_arrow(example_rows(2))
        >>> p = create_parameters(trees, slice(1, 2))
        >>> p["segments"]["node_id"], p["parent_of"]
        (['vid00000001-r', 'vid00000001-a', 'vid00000001-b'], {'source': [0, 0], 'target': [1, 2], 'order': [0, 1]})
        >>> p["has_root"]
        {'source': [0], 'target': [0]}
    """
    first, stop = _bounds(trees.num_videos, videos)
    nodes = slice(int(trees.node_offsets[first]), int(trees.node_offsets[stop]))
    parameters: dict[str, dict[str, list]] = {
        cypher.parameter_name(schema.VIDEO): video_columns(trees, slice(first, stop)),
        cypher.parameter_name(schema.SEGMENT): segment_columns(trees, nodes),
    }
    for spec in schema.EDGE_TYPES:
        edges = trees.edges(spec)
        part = edge_range(trees, spec, slice(first, stop))
        source_shift = first if spec.source is schema.VIDEO else nodes.start
        columns: dict[str, list] = {
            "source": (edges.source[part] - source_shift).tolist(),
            "target": (edges.target[part] - nodes.start).tolist(),
        }
        for prop in spec.properties:
            columns[prop.name] = _property_values(prop, edges.attrs[prop.name][part])
        parameters[cypher.parameter_name(spec)] = columns
    return parameters


def edge_range(trees: TreeBatch, edge_type: str | EdgeTypeSpec, videos: slice) -> slice:
    """The edges of a type that a contiguous range of videos owns, as positions in :meth:`TreeBatch.edges`.

    Edges are grouped by video, so a range of videos owns a range of edges.

    Examples:
        >>> from graphkit.testing import example_rows
        >>> edge_range(TreeBatch.from_arrow(example_rows(3)), "PARENT_OF", slice(1, 3))
        slice(2, 6, None)
    """
    spec = edge_type if isinstance(edge_type, EdgeTypeSpec) else schema.edge_type(edge_type)
    first, stop = _bounds(trees.num_videos, videos)
    bounds = np.r_[0, np.cumsum(trees.edges_per_video(spec))][[first, stop]]
    return slice(int(bounds[0]), int(bounds[1]))


def segment_lists(trees: TreeBatch, videos: slice | None = None) -> list[dict]:
    """Each video's ``node_id`` s, for :func:`graphkit.loaders.neo4j.cypher.delete_stale_segments_query`.

    Args:
        trees (TreeBatch): The videos.
        videos (slice, optional): A contiguous range of videos; all by
            default. (default: :obj:`None`)

    Returns:
        list[dict]: ``{"video_uid": ..., "node_ids": [...]}`` per video.

    Examples:
        >>> from graphkit.testing import example_rows
        >>> segment_lists(TreeBatch.from_arrow(example_rows(2)), slice(1, 2))
        [{'video_uid': 'vid00000001', 'node_ids': ['vid00000001-r', 'vid00000001-a', 'vid00000001-b']}]
    """
    first, stop = _bounds(trees.num_videos, videos)
    lo, hi = int(trees.node_offsets[first]), int(trees.node_offsets[stop])
    offsets = pa.array((trees.node_offsets[first : stop + 1] - lo).astype(np.int32))
    lists = pa.ListArray.from_arrays(offsets, trees.node_id.slice(lo, hi - lo))
    return _rows_of({
        schema.VIDEO.key: trees.video_uid.slice(first, stop - first).to_pylist(),
        f"{schema.SEGMENT.key}s": lists.to_pylist(),
    })


def video_chunks(trees: TreeBatch, entities_per_chunk: int) -> list[slice]:
    """Contiguous ranges of whole videos of about ``entities_per_chunk`` nodes plus relationships each.

    A chunk starts at the first video whose entities would pass the next
    multiple of ``entities_per_chunk``, so every chunk holds at least one
    video, and a video larger than the limit is a chunk of its own.

    Args:
        trees (TreeBatch): The videos.
        entities_per_chunk (int): The target size (positive).

    Returns:
        list[slice]: Ranges of video positions, in order, covering every video.

    Examples:
        >>> from graphkit.testing import example_rows
        >>> trees = TreeBatch.from_arrow(example_rows(3))  # 9 entities per video
        >>> video_chunks(trees, 20)
        [slice(0, 3, None)]
        >>> video_chunks(trees, 9)
        [slice(0, 1, None), slice(1, 2, None), slice(2, 3, None)]
    """
    if trees.num_videos == 0:
        return []
    per_video = trees.nodes_per_video + 1
    for spec in schema.EDGE_TYPES:
        per_video = per_video + trees.edges_per_video(spec)
    before = np.r_[0, np.cumsum(per_video)[:-1]]
    starts = np.flatnonzero(np.diff(before // entities_per_chunk, prepend=-1))
    ends = np.r_[starts[1:], trees.num_videos]
    return [slice(int(a), int(b)) for a, b in zip(starts, ends)]


def entity_counts(trees: TreeBatch) -> dict[str, int]:
    """How many nodes of each label and relationships of each type a batch holds.

    Args:
        trees (TreeBatch): The videos.

    Returns:
        dict[str, int]: Counts keyed by label (``"Video"``, ``"Segment"``) and
        relationship type (``"PARENT_OF"``, ...), in schema order.
    """
    counts = {schema.VIDEO.label: trees.num_videos, schema.SEGMENT.label: trees.num_nodes}
    counts.update({spec.name: len(trees.edges(spec)) for spec in schema.EDGE_TYPES})
    return counts
