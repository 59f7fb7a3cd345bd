"""networkx views of a :class:`~graphkit.tree.TreeBatch`, and back.

The graph is a :class:`networkx.MultiDiGraph` whose nodes are keyed by their
identity (:mod:`graphkit.identity`): a video by its ``video_uid`` (a
string), a segment by the pair ``(video_uid, node_id)`` (a tuple,
:func:`~graphkit.identity.segment_key`). A ``node_id`` is unique within its
video only, so two videos that use the same ids stay two disjoint trees, and
a video key can never equal a segment key. Every node has a ``type``
attribute (``"Video"`` or ``"Segment"``, the Neo4j labels of
:mod:`graphkit.schema`) and the type's properties (a segment's ``node_id``
and ``video_uid`` among them). Every edge is keyed by its relationship type
and carries it as ``type`` too, because two edge types can join the same pair
of nodes (two consecutive leaves of one level are linked by both ``NEXT``
and ``NEXT_LEAF``). Edges only ever join nodes of one video.

Times (``start``, ``end``, ``duration``, ``gap``) are Python floats holding
the shortest decimal of their float32 (``70.67``), as Neo4j stores them
(:func:`graphkit.arrays.shortest_decimal`).

:func:`from_networkx` reverses :func:`to_networkx` exactly: the same videos,
nodes, parents, times and text, so ``from_networkx(to_networkx(trees))``
equals ``trees`` array for array.

Examples:
    >>> from graphkit.testing import example_rows
    >>> from graphkit.tree import TreeBatch
    >>> graph = to_networkx(TreeBatch.from_arrow(example_rows(1)))
    >>> graph.number_of_nodes(), graph.number_of_edges()
    (4, 5)
    >>> sorted(k for _, _, k in graph.edges(keys=True))
    ['HAS_ROOT', 'NEXT', 'NEXT_LEAF', 'PARENT_OF', 'PARENT_OF']
    >>> graph.nodes["vid00000000", "vid00000000-a"]["is_leaf"]
    True
    >>> list(graph.successors("vid00000000"))
    [('vid00000000', 'vid00000000-r')]
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from graphkit import schema
from graphkit.arrays import shortest_decimal
from graphkit.errors import GraphkitError
from graphkit.identity import UniqueVideos, segment_key
from graphkit.labels import extract_labels
from graphkit.transcript import align_transcript
from graphkit.tree import TreeBatch

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["to_networkx", "from_networkx", "transcript_table"]

_TEXT_NAMES = frozenset((*schema.TEXT_PROPERTIES, *schema.GPT_PROPERTIES))
_METADATA_SCALARS = ("title", "description", "view_count", "like_count", "duration", "upload_date")


def to_networkx(trees: TreeBatch, videos: list[int] | None = None, *, transcript: bool = False) -> nx.MultiDiGraph:
    """Videos of a batch as one typed ``MultiDiGraph`` (a disjoint union of trees).

    Args:
        trees (TreeBatch): The videos.
        videos (list[int], optional): Positions of the videos to include; all
            by default. (default: :obj:`None`)
        transcript (bool, optional): Add the transcript lines
            (:mod:`graphkit.transcript`) as ``Transcript`` nodes keyed
            ``(video_uid, index)`` (an ``int`` index, so never a segment's
            key) with ``IN_VIDEO`` and ``DURING`` edges; needs the metadata.
            (default: :obj:`False`)

    Returns:
        networkx.MultiDiGraph: Typed nodes and edges, keyed as described above.

    Raises:
        InvariantError: If a ``video_uid`` occurs twice among the videos
            (rule ``duplicate_video_uid``): one video cannot be two trees.
    """
    import networkx as nx

    if videos is not None:
        trees = trees.select(list(videos))
    UniqueVideos("the graph").add(trees)
    graph = nx.MultiDiGraph()
    uids = trees.video_uid.to_pylist()
    keys = _segment_keys(trees, uids)
    graph.add_nodes_from(zip(uids, _video_properties(trees)))
    graph.add_nodes_from(zip(keys, _segment_properties(trees, uids)))
    for spec in schema.EDGE_TYPES:
        edges = trees.edges(spec)
        sources = uids if spec.source is schema.VIDEO else keys
        names = list(edges.attrs)
        columns = [_values(spec, name, edges.attrs[name]) for name in names]
        rows = zip(edges.source.tolist(), edges.target.tolist(), *columns)
        graph.add_edges_from(
            (sources[s], keys[t], spec.name, {"type": spec.name, **dict(zip(names, values))})
            for s, t, *values in rows
        )
    if transcript:
        _add_transcript(graph, trees, uids, keys)
    return graph


def _add_transcript(graph: nx.MultiDiGraph, trees: TreeBatch, uids: list[str], keys: list) -> None:
    lines = align_transcript(trees)
    owners = np.asarray(uids, dtype=object)[lines.video_index].tolist() if uids else []
    line_keys = list(zip(owners, lines.index.tolist()))
    properties = zip(owners, lines.index.tolist(), shortest_decimal(lines.time).tolist(), lines.text.to_pylist())
    graph.add_nodes_from(
        (key, {"type": schema.TRANSCRIPT.label, "video_uid": uid, "index": index, "time": time, "text": text})
        for key, (uid, index, time, text) in zip(line_keys, properties)
    )
    graph.add_edges_from((key, key[0], schema.IN_VIDEO.name, {"type": schema.IN_VIDEO.name}) for key in line_keys)
    graph.add_edges_from(
        (line_keys[line], keys[segment], schema.DURING.name, {"type": schema.DURING.name})
        for line, segment in zip(lines.during_line.tolist(), lines.during_segment.tolist())
    )


def transcript_table(graph: nx.MultiDiGraph) -> pa.Table:
    """The ``Transcript`` nodes of a graph as :meth:`graphkit.transcript.Transcript.to_table` gives them.

    Lines come in the graph's node order; each line's ``segments`` are the
    ``node_id`` s its ``DURING`` edges reach, in time order.

    Args:
        graph (networkx.MultiDiGraph): A graph made by :func:`to_networkx`
            with ``transcript=True``.

    Returns:
        pyarrow.Table: ``video_uid``, ``index``, ``time``, ``text``, ``segments``.
    """
    rows = []
    for key, attrs in graph.nodes(data=True):
        if attrs.get("type") != schema.TRANSCRIPT.label:
            continue
        during = [target for _, target, kind in graph.out_edges(key, keys=True) if kind == schema.DURING.name]
        during.sort(key=lambda segment: (graph.nodes[segment]["start"], segment[1]))
        rows.append({**{name: attrs.get(name) for name in ("video_uid", "index", "time", "text")},
                     "segments": [segment[1] for segment in during]})
    return pa.Table.from_pylist(rows, schema=pa.schema([
        ("video_uid", pa.string()), ("index", pa.int64()), ("time", pa.float64()), ("text", pa.string()),
        ("segments", pa.list_(pa.string())),
    ]))


def _segment_keys(trees: TreeBatch, uids: list[str]) -> list[tuple[str, str]]:
    node_uids = np.asarray(uids, dtype=object)[trees.video_index].tolist() if uids else []
    return [segment_key(uid, node_id) for uid, node_id in zip(node_uids, trees.node_id.to_pylist())]


def _values(spec: schema.EdgeTypeSpec, name: str, values: np.ndarray) -> list:
    prop = next(p for p in spec.properties if p.name == name)
    return shortest_decimal(values).tolist() if pa.types.is_floating(prop.dtype) else values.tolist()


def _video_properties(trees: TreeBatch) -> list[dict]:
    rows = [{"type": schema.VIDEO.label, "video_uid": uid} for uid in trees.video_uid.to_pylist()]
    if trees.metadata is None:
        return rows
    for row, meta in zip(rows, trees.metadata.to_pylist()):
        meta = meta or {}
        row.update({name: meta.get(name) for name in _METADATA_SCALARS})
        transcript = meta.get("transcript")
        row["transcript_time"] = None if transcript is None else [t["time"] for t in transcript]
        row["transcript_text"] = None if transcript is None else [t["text"] for t in transcript]
    return rows


def _segment_properties(trees: TreeBatch, uids: list[str]) -> list[dict]:
    columns: dict[str, list] = {
        "node_id": trees.node_id.to_pylist(),
        "video_uid": np.asarray(uids, dtype=object)[trees.video_index].tolist() if uids else [],
        "level": trees.level.tolist(),
        "start": shortest_decimal(trees.start).tolist(),
        "end": shortest_decimal(trees.end).tolist(),
        "duration": shortest_decimal(trees.duration).tolist(),
        "is_leaf": trees.is_leaf.tolist(),
    }
    for name in schema.SEGMENT.property_names:
        if name in trees.text:
            columns[name] = trees.text[name].to_pylist()
    if "action_brief" in trees.text:  # the dataset's verb label, as every sink stores it
        columns["verb"] = extract_labels(trees.text["action_brief"], "verb").to_pylist()
    names = list(columns)
    return [
        {"type": schema.SEGMENT.label, **dict(zip(names, values))}
        for values in zip(*columns.values())
    ]


def from_networkx(graph: nx.MultiDiGraph, *, strict: bool = True) -> TreeBatch:
    """Rebuild a :class:`TreeBatch` from a graph made by :func:`to_networkx`.

    Videos come in the graph's node order; each video's segments in the
    graph's node order too, so a round trip keeps the source order.

    Args:
        graph (networkx.MultiDiGraph): A typed graph in graphkit's layout.
        strict (bool, optional): Validate the rebuilt trees as binary and
            tiling; pass :obj:`False` for a graph made from trees read with
            ``strict=False`` (n-ary). (default: :obj:`True`)

    Returns:
        TreeBatch: The videos, validated as on reading.

    Raises:
        GraphkitError: If a node lacks its ``type``, a segment's key is not
            its ``(video_uid, node_id)``, a video is missing, or a
            ``PARENT_OF`` edge joins two videos.
        InvariantError: If the rebuilt trees break an invariant.
    """
    parent_of: dict[tuple[str, str], str] = {}
    for source, target, key in graph.edges(keys=True):
        if key == schema.PARENT_OF.name:
            if not (isinstance(source, tuple) and isinstance(target, tuple) and source[0] == target[0]):
                raise GraphkitError(f"PARENT_OF edge {source!r} -> {target!r} does not join two segments "
                                    "of one video")
            parent_of[target] = source[1]
    videos: dict[str, dict] = {}
    segments: dict[str, list[dict]] = {}
    present: set[str] = set()  # text properties any segment carries
    for key, attrs in graph.nodes(data=True):
        kind = attrs.get("type")
        if kind == schema.VIDEO.label:
            videos[key] = attrs
            segments.setdefault(key, [])
        elif kind == schema.SEGMENT.label:
            uid, node_id = attrs.get("video_uid"), attrs.get("node_id")
            if key != segment_key(uid, node_id):
                raise GraphkitError(f"segment {key!r} is keyed by something other than its (video_uid, node_id) "
                                    f"= {(uid, node_id)!r}")
            present.update(name for name in attrs if name in _TEXT_NAMES)
            segments.setdefault(uid, []).append(
                {
                    "node_id": node_id,
                    "parent_id": parent_of.get(key),
                    "level": attrs.get("level"),
                    "start": attrs.get("start"),
                    "end": attrs.get("end"),
                    **{name: attrs.get(name) for name in schema.TEXT_PROPERTIES},
                    "gpt": _gpt(attrs),
                }
            )
        elif kind != schema.TRANSCRIPT.label:  # transcript lines: see transcript_table
            raise GraphkitError(f"node {key!r} has type {kind!r}; expected 'Video' or 'Segment'")
    missing = sorted(set(segments) - set(videos))
    if missing:
        raise GraphkitError(f"segments refer to video {missing[0]!r}, which is not in the graph")
    with_metadata = any("title" in attrs for attrs in videos.values())
    rows = [
        {
            "video_uid": uid,
            "metadata": _metadata(attrs) if with_metadata else None,
            "nodes": segments[uid],
        }
        for uid, attrs in videos.items()
    ]
    table = pa.Table.from_pylist(rows, schema=schema.SOURCE_SCHEMA)
    trees = TreeBatch.from_arrow(table, strict=strict)
    # gpt fields come as a group: one present means the gpt struct was read.
    if present & set(schema.GPT_PROPERTIES):
        present |= set(schema.GPT_PROPERTIES)
    text = {name: column for name, column in trees.text.items() if name in present}
    return dataclasses.replace(trees, text=text, metadata=trees.metadata if with_metadata else None)


def _gpt(attrs: dict) -> dict | None:
    values = {name: attrs.get(name) for name in schema.GPT_FIELDS}
    if all(v is None for v in values.values()):
        return None
    nested: dict[str, dict] = {"summary": {}, "action": {}}
    for name, (group, leaf) in schema.GPT_FIELDS.items():
        nested[group][leaf] = values[name]
    return nested


def _metadata(attrs: dict) -> dict:
    times, texts = attrs.get("transcript_time"), attrs.get("transcript_text")
    transcript = None if times is None else [{"time": t, "text": x} for t, x in zip(times, texts or [])]
    return {**{name: attrs.get(name) for name in _METADATA_SCALARS}, "transcript": transcript}
