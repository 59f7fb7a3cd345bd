"""The single source of truth for names: source columns, node types, edge types.

Action100M publishes one parquet row per video: ``video_uid``, a ``metadata``
struct and a ``nodes`` list holding the video's Tree-of-Captions. graphkit
turns each video into a typed graph:

* node types :data:`VIDEO` (one per video, metadata as properties) and
  :data:`SEGMENT` (one per tree node, the nested ``gpt`` struct flattened);
* edge types :data:`PARENT_OF` (the tree, property ``order``: 0 for the
  earlier child, 1 for the later), :data:`NEXT` (each segment to the next
  segment of the same level in time, property ``gap``), :data:`NEXT_LEAF` (each
  leaf to the next leaf) and :data:`HAS_ROOT` (video to root segment).

The ASR transcript adds, where a sink is asked for it, the node type
:data:`TRANSCRIPT` (one per line with a valid time, identity ``(video_uid,
index)``) with :data:`IN_VIDEO` (line to its video) and :data:`DURING` (line
to each leaf whose ``[start, end)`` holds its time); see
:mod:`graphkit.transcript` for the alignment and what is reported.

Every exporter (networkx, PyTorch Geometric, Neo4j, CSV) reads its labels,
relationship types, property names and PyG relation names from here.

**Identity.** A video is identified by its ``video_uid``; a segment by the
pair ``(video_uid, node_id)`` (:attr:`NodeTypeSpec.identity`): a ``node_id``
is unique within its video only, so two videos may use the same ids and stay
two trees in every sink (Neo4j's uniqueness constraint, the CSV ``:ID``, the
networkx node keys). Relationships only ever join nodes of one video.

**Numbers.** ``start``, ``end``, ``duration`` and ``gap`` are float32 in the
columnar form (and in PyG tensors). Where a sink stores a Python or Neo4j
float (Neo4j over Bolt and through the CSV importer, networkx) it stores the
*shortest decimal that round-trips the float32*, as a float64: the float32
``70.67`` is stored as ``70.67``, not as its exact binary value
``70.66999816894531`` (:func:`graphkit.arrays.shortest_decimal`). Casting a
stored value back to float32 gives the original bits on every path. Neo4j
names follow Neo4j conventions (``:Segment``, ``PARENT_OF``, ``snake_case``);
PyG names follow PyG conventions (``'segment'``, ``'parent_of'``), and each
directed relation has a distinct reverse (``'rev_parent_of'``) for message
passing.

Examples:
    >>> SEGMENT.label, SEGMENT.pyg_name
    ('Segment', 'segment')
    >>> PARENT_OF.pyg_edge_type
    ('segment', 'parent_of', 'segment')
    >>> PARENT_OF.pyg_reverse_edge_type
    ('segment', 'rev_parent_of', 'segment')
    >>> [e.name for e in EDGE_TYPES]
    ['PARENT_OF', 'NEXT', 'NEXT_LEAF', 'HAS_ROOT']
    >>> VIDEO.identity, SEGMENT.identity
    (('video_uid',), ('video_uid', 'node_id'))
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

__all__ = [
    "Property",
    "NodeTypeSpec",
    "EdgeTypeSpec",
    "VIDEO",
    "SEGMENT",
    "PARENT_OF",
    "NEXT",
    "NEXT_LEAF",
    "HAS_ROOT",
    "NODE_TYPES",
    "EDGE_TYPES",
    "TRANSCRIPT",
    "DURING",
    "IN_VIDEO",
    "TRANSCRIPT_EDGE_TYPES",
    "GPT_FIELDS",
    "TEXT_PROPERTIES",
    "GPT_PROPERTIES",
    "GPT_TYPE",
    "TRANSCRIPT_TYPE",
    "METADATA_TYPE",
    "NODE_TYPE",
    "SOURCE_SCHEMA",
    "STRUCTURE_FIELDS",
    "leaf_paths",
    "edge_type",
    "NOT_APPLICABLE",
    "FULLTEXT_PROPERTIES",
    "EMBEDDING",
    "EMBEDDED_TEXT",
    "LABEL_PROPERTIES",
    "PREDICTED_PREFIX",
    "PREDICTION_CONFIDENCE",
    "PREDICTION_RUN",
    "SPLIT_PROPERTY",
]


@dataclass(frozen=True)
class Property:
    """One property of a node or edge type.

    Args:
        name (str): Property name (snake_case, the same in every exporter).
        dtype (pyarrow.DataType): Its Arrow type in graphkit's columnar form.
        neo4j_type (str): Its type in ``neo4j-admin database import`` headers
            (``"double"`` for the float32 times: stored as their shortest
            decimal, see **Numbers** above).
    """

    name: str
    dtype: pa.DataType
    neo4j_type: str


@dataclass(frozen=True)
class NodeTypeSpec:
    """A node type: its Neo4j label, PyG name, key, identity and properties.

    Args:
        label (str): Neo4j label.
        pyg_name (str): PyG node type.
        key (str): The property that names a node within its owner
            (``video_uid`` for a video, ``node_id`` for a segment).
        properties (tuple[Property, ...]): Properties, in order.
        identity (tuple[str, ...], optional): The properties that identify a
            node across the whole graph (``("video_uid", "node_id")`` for a
            segment); ``(key,)`` when not given. (default: :obj:`()`)
    """

    label: str
    pyg_name: str
    key: str
    properties: tuple[Property, ...]
    identity: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.identity:
            object.__setattr__(self, "identity", (self.key,))

    @property
    def property_names(self) -> tuple[str, ...]:
        """The names of :attr:`properties`, in order."""
        return tuple(p.name for p in self.properties)


@dataclass(frozen=True)
class EdgeTypeSpec:
    """A directed edge type between two node types.

    Args:
        name (str): Neo4j relationship type (``UPPER_SNAKE_CASE``).
        source (NodeTypeSpec): Type of the source node.
        target (NodeTypeSpec): Type of the target node.
        properties (tuple[Property, ...]): Edge properties.
    """

    name: str
    source: NodeTypeSpec
    target: NodeTypeSpec
    properties: tuple[Property, ...] = ()

    @property
    def pyg_name(self) -> str:
        """The PyG relation name (``'parent_of'``)."""
        return self.name.lower()

    @property
    def pyg_reverse_name(self) -> str:
        """The PyG name of the reverse relation (``'rev_parent_of'``)."""
        return "rev_" + self.pyg_name

    @property
    def pyg_edge_type(self) -> tuple[str, str, str]:
        """The PyG edge type triple of the forward relation."""
        return (self.source.pyg_name, self.pyg_name, self.target.pyg_name)

    @property
    def pyg_reverse_edge_type(self) -> tuple[str, str, str]:
        """The PyG edge type triple of the reverse relation."""
        return (self.target.pyg_name, self.pyg_reverse_name, self.source.pyg_name)


#: The string that Action100M uses, in any letter case, for "no action"/"no actor".
NOT_APPLICABLE = "n/a"

GPT_TYPE = pa.struct(
    [
        ("summary", pa.struct([("brief", pa.string()), ("detailed", pa.string())])),
        (
            "action",
            pa.struct(
                [("brief", pa.string()), ("detailed", pa.string()), ("actor", pa.string())]
            ),
        ),
    ]
)
TRANSCRIPT_TYPE = pa.list_(pa.struct([("time", pa.string()), ("text", pa.string())]))
METADATA_TYPE = pa.struct(
    [
        ("title", pa.string()),
        ("description", pa.string()),
        ("view_count", pa.int64()),
        ("like_count", pa.int64()),
        ("duration", pa.int64()),
        ("upload_date", pa.string()),
        ("transcript", TRANSCRIPT_TYPE),
    ]
)
NODE_TYPE = pa.struct(
    [
        ("node_id", pa.string()),
        ("parent_id", pa.string()),
        ("level", pa.int16()),
        ("start", pa.float32()),
        ("end", pa.float32()),
        ("plm_action", pa.string()),
        ("plm_caption", pa.string()),
        ("llama3_caption", pa.string()),
        ("gpt", GPT_TYPE),
    ]
)
#: The exact Arrow schema of the published Action100M parquet files.
SOURCE_SCHEMA = pa.schema(
    [
        ("video_uid", pa.string()),
        ("metadata", METADATA_TYPE),
        ("nodes", pa.list_(NODE_TYPE)),
    ]
)

#: Node fields that structure-only work needs.
STRUCTURE_FIELDS: tuple[str, ...] = ("node_id", "parent_id", "level", "start", "end")

#: Flattened Segment property name -> path inside the ``gpt`` struct.
GPT_FIELDS: dict[str, tuple[str, str]] = {
    "summary_brief": ("summary", "brief"),
    "summary_detailed": ("summary", "detailed"),
    "action_brief": ("action", "brief"),
    "action_detailed": ("action", "detailed"),
    "actor": ("action", "actor"),
}
#: Segment text properties read directly from a node.
TEXT_PROPERTIES: tuple[str, ...] = ("plm_action", "plm_caption", "llama3_caption")
#: Segment text properties that come from the ``gpt`` struct.
GPT_PROPERTIES: tuple[str, ...] = tuple(GPT_FIELDS)

# --- the dataset's labels and a model's predictions on segments (issue 12) ---
#: Segment properties derived from ``action_brief`` by :mod:`graphkit.labels`,
#: the function training labels use: ``verb`` is ``extract_labels(brief,
#: "verb")``, absent where the segment has no gpt action (``N/A``, or no gpt).
LABEL_PROPERTIES: tuple[str, ...] = ("verb",)
#: ``graphkit neo4j write-predictions`` sets ``predicted_<label>`` (the
#: run's label kind: ``predicted_verb``), the confidence (the softmax maximum),
#: the run's id and the video's split (``"train"``, ``"valid"``, ``"test"``).
PREDICTED_PREFIX = "predicted_"
PREDICTION_CONFIDENCE = "prediction_confidence"
PREDICTION_RUN = "prediction_run"
SPLIT_PROPERTY = "split"
# --- end of issue 12's block ---

_str = pa.string()
VIDEO = NodeTypeSpec(
    label="Video",
    pyg_name="video",
    key="video_uid",
    properties=(
        Property("video_uid", _str, "string"),
        Property("title", _str, "string"),
        Property("description", _str, "string"),
        Property("view_count", pa.int64(), "long"),
        Property("like_count", pa.int64(), "long"),
        Property("duration", pa.int64(), "long"),
        Property("upload_date", _str, "string"),
        Property("transcript_time", pa.list_(_str), "string[]"),
        Property("transcript_text", pa.list_(_str), "string[]"),
    ),
)
SEGMENT = NodeTypeSpec(
    label="Segment",
    pyg_name="segment",
    key="node_id",
    identity=("video_uid", "node_id"),
    properties=(
        Property("node_id", _str, "string"),
        Property("video_uid", _str, "string"),
        Property("level", pa.int16(), "int"),
        Property("start", pa.float32(), "double"),
        Property("end", pa.float32(), "double"),
        Property("duration", pa.float32(), "double"),
        Property("is_leaf", pa.bool_(), "boolean"),
        *(Property(name, _str, "string") for name in TEXT_PROPERTIES),
        *(Property(name, _str, "string") for name in GPT_PROPERTIES),
        *(Property(name, _str, "string") for name in LABEL_PROPERTIES),
    ),
)
# order is int32: a non-strict (n-ary) tree may give a node more than 127 children.
PARENT_OF = EdgeTypeSpec("PARENT_OF", SEGMENT, SEGMENT, (Property("order", pa.int32(), "int"),))
NEXT = EdgeTypeSpec("NEXT", SEGMENT, SEGMENT, (Property("gap", pa.float32(), "double"),))
NEXT_LEAF = EdgeTypeSpec("NEXT_LEAF", SEGMENT, SEGMENT)
HAS_ROOT = EdgeTypeSpec("HAS_ROOT", VIDEO, SEGMENT)

NODE_TYPES: tuple[NodeTypeSpec, ...] = (VIDEO, SEGMENT)

# Search over segments (graphkit.loaders.neo4j.search): the full-text index's
# fields and the optional embedding property. Not in SEGMENT.properties: a
# segment has an embedding only when a load or export asks for one.
#: Segment properties the full-text index covers: every caption and action text.
FULLTEXT_PROPERTIES: tuple[str, ...] = (
    "plm_action", "plm_caption", "llama3_caption",
    "summary_brief", "summary_detailed", "action_brief", "action_detailed",
)
#: The Segment property holding a text embedding: a float32 list (``float[]``).
EMBEDDING = Property("embedding", pa.list_(pa.float32()), "float[]")
#: The Segment text that :data:`EMBEDDING` embeds: the gpt action brief.
EMBEDDED_TEXT = "action_brief"
EDGE_TYPES: tuple[EdgeTypeSpec, ...] = (PARENT_OF, NEXT, NEXT_LEAF, HAS_ROOT)


# -- transcript lines (graphkit.transcript) ---------------------------------
#: An ASR transcript line: identity ``(video_uid, index)``, ``index`` its
#: position in the video's source transcript; ``time`` float32 seconds
#: (stored as its shortest decimal), ``text`` as spoken. Every line with a
#: valid time is a node with ``IN_VIDEO`` to its video and ``DURING`` to each
#: leaf whose ``[start, end)`` holds its time (none when it falls outside
#: every leaf); lines whose time is not a finite, non-negative decimal are
#: reported and not stored (see :mod:`graphkit.transcript`). These types are
#: kept out of :data:`NODE_TYPES` / :data:`EDGE_TYPES` (the tree), and the
#: sinks write them when asked (``transcript=True``).
TRANSCRIPT = NodeTypeSpec(
    label="Transcript",
    pyg_name="transcript",
    key="index",
    identity=("video_uid", "index"),
    properties=(
        Property("video_uid", _str, "string"),
        Property("index", pa.int64(), "long"),
        Property("time", pa.float32(), "double"),
        Property("text", _str, "string"),
    ),
)
DURING = EdgeTypeSpec("DURING", TRANSCRIPT, SEGMENT)
IN_VIDEO = EdgeTypeSpec("IN_VIDEO", TRANSCRIPT, VIDEO)
TRANSCRIPT_EDGE_TYPES: tuple[EdgeTypeSpec, ...] = (DURING, IN_VIDEO)


def edge_type(name: str) -> EdgeTypeSpec:
    """Look up an edge type by its Neo4j or PyG name.

    Args:
        name (str): ``"PARENT_OF"``, ``"parent_of"``, ...

    Raises:
        ValueError: If no edge type has that name.

    Examples:
        >>> edge_type("next_leaf").name
        'NEXT_LEAF'
    """
    for spec in EDGE_TYPES:
        if name in (spec.name, spec.pyg_name):
            return spec
    choices = ", ".join(spec.name for spec in EDGE_TYPES)
    raise ValueError(f"unknown edge type {name!r}; expected one of {choices}")


def leaf_paths(node_fields: tuple[str, ...] | None = None, *, metadata: bool = True) -> list[str]:
    """Parquet leaf column paths that read the given node fields.

    pyarrow's nested projection needs the full leaf path such as
    ``nodes.list.element.node_id``; a shorter path silently selects nothing.

    Args:
        node_fields (tuple[str, ...], optional): Fields of a node to read
            (``"gpt"`` reads the whole struct). :obj:`None` reads every field.
            (default: :obj:`None`)
        metadata (bool, optional): Also read the ``metadata`` struct.
            (default: :obj:`True`)

    Returns:
        list[str]: Column paths for ``ParquetFile.iter_batches(columns=...)``.

    Examples:
        >>> leaf_paths(("node_id", "level"), metadata=False)
        ['video_uid', 'nodes.list.element.node_id', 'nodes.list.element.level']
    """
    fields = NODE_TYPE.names if node_fields is None else list(node_fields)
    unknown = sorted(set(fields) - set(NODE_TYPE.names))
    if unknown:
        raise ValueError(f"unknown node fields {unknown}; expected some of {NODE_TYPE.names}")
    paths = ["video_uid"]
    if metadata:
        paths += _struct_leaves("metadata", METADATA_TYPE)
    for name in fields:
        field_type = NODE_TYPE.field(name).type
        prefix = f"nodes.list.element.{name}"
        paths += _struct_leaves(prefix, field_type) if pa.types.is_struct(field_type) else [prefix]
    return paths


def _struct_leaves(prefix: str, dtype: pa.DataType) -> list[str]:
    if pa.types.is_struct(dtype):
        return [
            leaf for child in dtype for leaf in _struct_leaves(f"{prefix}.{child.name}", child.type)
        ]
    if pa.types.is_list(dtype):
        return _struct_leaves(f"{prefix}.list.element", dtype.value_type)
    return [prefix]
