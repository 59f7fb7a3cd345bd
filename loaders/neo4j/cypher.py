"""Every Cypher statement graphkit sends to Neo4j, built from the schema module.

graphkit writes a video's Tree-of-Captions to Neo4j as ``:Video`` and
``:Segment`` nodes joined by ``PARENT_OF``, ``NEXT``, ``NEXT_LEAF`` and
``HAS_ROOT`` relationships (:mod:`graphkit.schema`). This module holds the
statements that do it, one function per statement, named for what it does
(the layout of ``neo4j-graphrag``'s ``neo4j_queries.py``):

* :func:`create_constraint_queries` -- one uniqueness constraint per node
  type on its identity (``Video.video_uid``; ``(Segment.video_uid,
  Segment.node_id)``, a composite constraint: a ``node_id`` is unique within
  its video only), a range index on ``Segment.video_uid`` and the range
  indexes the cookbook's queries use (:data:`COOKBOOK_INDEXES`: ``level``,
  ``verb``, ``predicted_verb``, ``action_brief``, ``actor``, ``NEXT.gap``), all
  ``IF NOT EXISTS`` so they can run on every load; the former ``node_id``-only
  constraint is dropped, since it would refuse (or merge) two videos that
  use the same ids;
* :func:`upsert_nodes_query` and :func:`upsert_relationships_query` --
  batched writes taking one list parameter, ``UNWIND $rows AS row``, with
  ``MERGE`` on the identity, so a statement that is run twice (a rerun, or
  a transaction the driver retries) leaves the same graph as running it once;
  a relationship's endpoints are matched within the row's video only;
* :func:`delete_stale_segments_query` and :func:`delete_relationships_query`
  -- what a video's ``MERGE`` reload removes first, so that the video ends up
  exactly as its new source: the segments the source no longer has, and the
  video's relationships;
* :func:`read_video_uids_query`, :func:`read_videos_query`,
  :func:`read_segments_query` -- read-back;
* :func:`delete_videos_query` -- remove videos and their segments;
* :func:`existing_videos_query` and :func:`create_videos_query` -- the fast
  path of the loader: which of some videos the database holds (by video or
  by segment), and one statement that ``CREATE`` s whole videos -- their
  ``:Video`` and ``:Segment`` nodes and every relationship, the
  relationships joined to the new nodes by position (no index lookups).

Security: labels, relationship types and property names are spliced in only
from :mod:`graphkit.schema` (and checked to be plain identifiers); every value
travels as the ``$rows`` parameter, so a caption such as
``"}) DETACH DELETE n //`` is stored as text and never runs.

Examples:
    >>> from graphkit.schema import PARENT_OF, SEGMENT
    >>> print(upsert_nodes_query(SEGMENT))
    UNWIND $rows AS row
    MERGE (n:Segment {video_uid: row.video_uid, node_id: row.node_id})
    SET n = row
    >>> print(upsert_relationships_query(PARENT_OF))
    UNWIND $rows AS row
    MATCH (source:Segment {video_uid: row.video_uid, node_id: row.source})
    MATCH (target:Segment {video_uid: row.video_uid, node_id: row.target})
    MERGE (source)-[r:PARENT_OF]->(target)
    SET r.order = row.order
"""

from __future__ import annotations

import re

from graphkit import schema
from graphkit.schema import EdgeTypeSpec, NodeTypeSpec

__all__ = [
    "constraint_name",
    "cypher_name",
    "create_constraint_queries",
    "upsert_nodes_query",
    "upsert_relationships_query",
    "read_video_uids_query",
    "read_videos_query",
    "read_segments_query",
    "count_query",
    "delete_videos_query",
    "delete_stale_segments_query",
    "delete_relationships_query",
    "existing_videos_query",
    "LEGACY_CONSTRAINTS",
    "create_videos_query",
    "parameter_name",
    "COOKBOOK_INDEXES",
    "cookbook_index_queries",
]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: Segments indexed by their video, so that read-back and delete find a
#: video's segments without a label scan.
_SEGMENT_VIDEO_INDEX = "segment_video_uid"

LEGACY_CONSTRAINTS: tuple[str, ...] = ("segment_node_id_unique",)
"""Constraints of earlier graphkit versions that :func:`create_constraint_queries` drops:
``Segment.node_id`` alone unique, which made two videos that share node ids
one tree (or refused the second)."""


def cypher_name(identifier: str) -> str:
    """A label, type or property name, checked to be a plain Cypher identifier before it is spliced in.

    Names come from the schema module; this guard keeps a future schema typo
    from ever turning into Cypher syntax.

    Examples:
        >>> cypher_name("Segment")
        'Segment'
    """
    if not _IDENTIFIER.match(identifier):
        raise ValueError(f"{identifier!r} is not a plain Cypher identifier")
    return identifier


def constraint_name(spec: NodeTypeSpec) -> str:
    """The name of the uniqueness constraint on a node type's identity.

    Args:
        spec (NodeTypeSpec): :data:`~graphkit.schema.VIDEO` or
            :data:`~graphkit.schema.SEGMENT`.

    Returns:
        str: ``"<label>_<identity properties>_unique"`` in lower case.

    Examples:
        >>> constraint_name(schema.SEGMENT), constraint_name(schema.VIDEO)
        ('segment_video_uid_node_id_unique', 'video_video_uid_unique')
    """
    return "_".join([cypher_name(spec.label).lower(), *map(cypher_name, spec.identity), "unique"])


def create_constraint_queries() -> list[str]:
    """Schema statements to run before the first write (idempotent).

    Drops the :data:`LEGACY_CONSTRAINTS`, then one uniqueness constraint per
    node type on its identity (which also gives the index ``MERGE`` and the
    endpoint ``MATCH`` use; Community edition has composite uniqueness
    constraints too), a range index on ``Segment.video_uid`` for reading a
    video back, then :func:`cookbook_index_queries`.

    Returns:
        list[str]: Statements, each ``IF EXISTS`` / ``IF NOT EXISTS``.

    Examples:
        >>> for query in create_constraint_queries():
        ...     print(query)
        DROP CONSTRAINT segment_node_id_unique IF EXISTS
        CREATE CONSTRAINT video_video_uid_unique IF NOT EXISTS FOR (n:Video) REQUIRE n.video_uid IS UNIQUE
        CREATE CONSTRAINT segment_video_uid_node_id_unique IF NOT EXISTS FOR (n:Segment) \
REQUIRE (n.video_uid, n.node_id) IS UNIQUE
        CREATE INDEX segment_video_uid IF NOT EXISTS FOR (n:Segment) ON (n.video_uid)
        CREATE INDEX segment_level IF NOT EXISTS FOR (n:Segment) ON (n.level)
        CREATE INDEX segment_verb IF NOT EXISTS FOR (n:Segment) ON (n.verb)
        CREATE INDEX segment_predicted_verb IF NOT EXISTS FOR (n:Segment) ON (n.predicted_verb)
        CREATE INDEX segment_action_brief IF NOT EXISTS FOR (n:Segment) ON (n.action_brief)
        CREATE INDEX segment_actor IF NOT EXISTS FOR (n:Segment) ON (n.actor)
        CREATE INDEX next_gap IF NOT EXISTS FOR ()-[r:NEXT]-() ON (r.gap)
    """
    queries = [f"DROP CONSTRAINT {cypher_name(name)} IF EXISTS" for name in LEGACY_CONSTRAINTS]
    for spec in schema.NODE_TYPES:
        properties = [f"n.{cypher_name(p)}" for p in spec.identity]
        required = properties[0] if len(properties) == 1 else f"({', '.join(properties)})"
        queries.append(
            f"CREATE CONSTRAINT {constraint_name(spec)} IF NOT EXISTS "
            f"FOR (n:{cypher_name(spec.label)}) REQUIRE {required} IS UNIQUE"
        )
    queries.append(
        f"CREATE INDEX {_SEGMENT_VIDEO_INDEX} IF NOT EXISTS "
        f"FOR (n:{cypher_name(schema.SEGMENT.label)}) ON (n.{cypher_name(schema.VIDEO.key)})"
    )
    return queries + cookbook_index_queries()


# --- the indexes the cookbook's queries use (issue 12) ----------------------------
# Full-text and vector indexes are another block; these are range indexes on
# what the queries of ``queries/`` filter on, so none scans every segment
# where an index applies (tests/loaders/neo4j/test_cookbook_plans.py profiles them).

#: Index name -> (node type or edge type, property): the cookbook's range indexes.
COOKBOOK_INDEXES: dict[str, tuple[NodeTypeSpec | EdgeTypeSpec, str]] = {
    "segment_level": (schema.SEGMENT, "level"),
    "segment_verb": (schema.SEGMENT, "verb"),
    "segment_predicted_verb": (schema.SEGMENT, schema.PREDICTED_PREFIX + "verb"),
    "segment_action_brief": (schema.SEGMENT, "action_brief"),
    "segment_actor": (schema.SEGMENT, "actor"),
    "next_gap": (schema.NEXT, "gap"),
}


def cookbook_index_queries() -> list[str]:
    """``CREATE INDEX ... IF NOT EXISTS`` for each of :data:`COOKBOOK_INDEXES` (idempotent).

    Returns:
        list[str]: One statement per index; :func:`create_constraint_queries` ends with them.

    Examples:
        >>> print(cookbook_index_queries()[-1])
        CREATE INDEX next_gap IF NOT EXISTS FOR ()-[r:NEXT]-() ON (r.gap)
    """
    queries = []
    for name, (spec, prop) in COOKBOOK_INDEXES.items():
        if isinstance(spec, NodeTypeSpec):
            target = f"(n:{cypher_name(spec.label)}) ON (n.{cypher_name(prop)})"
        else:
            target = f"()-[r:{cypher_name(spec.name)}]-() ON (r.{cypher_name(prop)})"
        queries.append(f"CREATE INDEX {cypher_name(name)} IF NOT EXISTS FOR {target}")
    return queries


def _identity(spec: NodeTypeSpec, value: str) -> str:
    """``{video_uid: row.video_uid, node_id: <value>}``: a node's identity from a row.

    ``video_uid`` always comes from ``row.video_uid``; the key, when it is
    another property, from ``value``.
    """
    video_key = cypher_name(schema.VIDEO.key)
    parts = [f"{cypher_name(p)}: {'row.' + video_key if p == video_key else value}" for p in spec.identity]
    return "{" + ", ".join(parts) + "}"


def upsert_nodes_query(spec: NodeTypeSpec) -> str:
    """Create or replace nodes of one type, one per row of ``$rows``.

    Each row is a map of the node's properties (keys from
    ``spec.property_names``, including its identity). ``MERGE`` on the
    identity makes reruns and retries create nothing new; ``SET n = row``
    then makes the node's properties exactly the row's: a ``null`` is an
    absent property, and a property the row does not name is removed.

    Args:
        spec (NodeTypeSpec): The node type.

    Returns:
        str: A statement with the one parameter ``$rows``.

    Examples:
        >>> print(upsert_nodes_query(schema.VIDEO))
        UNWIND $rows AS row
        MERGE (n:Video {video_uid: row.video_uid})
        SET n = row
    """
    identity = _identity(spec, f"row.{cypher_name(spec.key)}")
    return f"UNWIND $rows AS row\nMERGE (n:{cypher_name(spec.label)} {identity})\nSET n = row"


def upsert_relationships_query(spec: EdgeTypeSpec) -> str:
    """Create or update relationships of one type, one per row of ``$rows``.

    Each row holds ``video_uid`` (the video both endpoints belong to),
    ``source`` and ``target`` (the endpoints' keys: ``node_id`` for a
    segment, ``video_uid`` for a video) and the edge's properties by name.
    The endpoints are matched *with their label and whole identity*, within
    the row's video, so the lookup uses the uniqueness constraint's index and
    can never reach another video's segment of the same ``node_id``;
    ``MERGE`` on the pair makes reruns and retries create no second
    relationship. A row whose endpoint is missing writes nothing (nodes are
    written first).

    Args:
        spec (EdgeTypeSpec): The edge type.

    Returns:
        str: A statement with the one parameter ``$rows``.

    Examples:
        >>> print(upsert_relationships_query(schema.HAS_ROOT))
        UNWIND $rows AS row
        MATCH (source:Video {video_uid: row.video_uid})
        MATCH (target:Segment {video_uid: row.video_uid, node_id: row.target})
        MERGE (source)-[r:HAS_ROOT]->(target)
    """
    lines = [
        "UNWIND $rows AS row",
        f"MATCH (source:{cypher_name(spec.source.label)} {_identity(spec.source, 'row.source')})",
        f"MATCH (target:{cypher_name(spec.target.label)} {_identity(spec.target, 'row.target')})",
        f"MERGE (source)-[r:{cypher_name(spec.name)}]->(target)",
    ]
    if spec.properties:
        assignments = ", ".join(f"r.{cypher_name(p.name)} = row.{cypher_name(p.name)}" for p in spec.properties)
        lines.append(f"SET {assignments}")
    return "\n".join(lines)


def delete_stale_segments_query() -> str:
    """Delete the segments of some videos that their new source no longer has.

    Each row is ``{video_uid, node_ids}``: a video and the ``node_id`` of
    every segment its source holds. Its other segments are detach-deleted.

    Returns:
        str: A statement with the one parameter ``$rows``.

    Examples:
        >>> print(delete_stale_segments_query())
        UNWIND $rows AS row
        MATCH (s:Segment {video_uid: row.video_uid})
        WHERE NOT s.node_id IN row.node_ids
        DETACH DELETE s
    """
    video_key, key = cypher_name(schema.VIDEO.key), cypher_name(schema.SEGMENT.key)
    return "\n".join([
        "UNWIND $rows AS row",
        f"MATCH (s:{cypher_name(schema.SEGMENT.label)} {{{video_key}: row.{video_key}}})",
        f"WHERE NOT s.{key} IN row.{key}s",
        "DETACH DELETE s",
    ])


def delete_relationships_query() -> str:
    """Delete every relationship of graphkit's types that touches the videos whose keys are in ``$rows``.

    The relationships of their segments (either direction) and of their
    ``:Video`` nodes; relationships of other types, which other tools may
    have added, stay.

    Returns:
        str: A statement with the one parameter ``$rows`` (a list of video keys).

    Examples:
        >>> print(delete_relationships_query())
        UNWIND $rows AS key
        CALL (key) { MATCH (:Video {video_uid: key})-[r:HAS_ROOT]-() DELETE r }
        CALL (key) { MATCH (:Segment {video_uid: key})-[r:PARENT_OF|NEXT|NEXT_LEAF|HAS_ROOT]-() DELETE r }
    """
    video_key = cypher_name(schema.VIDEO.key)
    lines = ["UNWIND $rows AS key"]
    for spec in schema.NODE_TYPES:
        types = "|".join(cypher_name(e.name) for e in schema.EDGE_TYPES if spec in (e.source, e.target))
        lines.append(
            f"CALL (key) {{ MATCH (:{cypher_name(spec.label)} {{{video_key}: key}})-[r:{types}]-() DELETE r }}"
        )
    return "\n".join(lines)


def read_video_uids_query() -> str:
    """The ``video_uid`` of every video, in ascending order.

    Returns:
        str: A statement without parameters returning the column ``video_uid``.

    Examples:
        >>> print(read_video_uids_query())
        MATCH (v:Video) RETURN v.video_uid AS video_uid ORDER BY video_uid
    """
    key = cypher_name(schema.VIDEO.key)
    return f"MATCH (v:{cypher_name(schema.VIDEO.label)}) RETURN v.{key} AS {key} ORDER BY {key}"


def read_videos_query() -> str:
    """The properties of the videos whose keys are in ``$rows``.

    Returns one record per video found, with one column per
    :data:`~graphkit.schema.VIDEO` property (``null`` when absent).

    Returns:
        str: A statement with the one parameter ``$rows`` (a list of keys).

    Examples:
        >>> print(read_videos_query().splitlines()[1])
        MATCH (v:Video {video_uid: key})
    """
    columns = ", ".join(f"v.{cypher_name(name)} AS {name}" for name in schema.VIDEO.property_names)
    return (
        f"UNWIND $rows AS key\nMATCH (v:{cypher_name(schema.VIDEO.label)} {{{cypher_name(schema.VIDEO.key)}: key}})\n"
        f"RETURN {columns}"
    )


def read_segments_query() -> str:
    """The segments of the videos whose keys are in ``$rows``, column-wise.

    Returns one record per video: its key and, for each
    :data:`~graphkit.schema.SEGMENT` property and for ``parent_id`` (the
    ``node_id`` of the ``PARENT_OF`` source, matched within the same video),
    a list with one entry per segment. Segments come in canonical order: by level, then start time, then
    ``node_id`` -- the order of the published files (breadth-first, each
    level in time order).

    Returns:
        str: A statement with the one parameter ``$rows`` (a list of video keys).

    Examples:
        >>> print(read_segments_query().splitlines()[2])
        OPTIONAL MATCH (parent:Segment {video_uid: key})-[:PARENT_OF]->(s)
    """
    seg, video_key = cypher_name(schema.SEGMENT.label), cypher_name(schema.VIDEO.key)
    names = [name for name in schema.SEGMENT.property_names if name != video_key]
    columns = ", ".join(f"[x IN rows | x.node.{cypher_name(name)}] AS {name}" for name in names)
    return "\n".join(
        [
            "UNWIND $rows AS key",
            f"MATCH (s:{seg} {{{video_key}: key}})",
            f"OPTIONAL MATCH (parent:{seg} {{{video_key}: key}})-[:{cypher_name(schema.PARENT_OF.name)}]->(s)",
            "WITH key, s, parent",
            f"ORDER BY s.level, s.start, s.{cypher_name(schema.SEGMENT.key)}",
            f"WITH key, collect({{node: s, parent: parent.{cypher_name(schema.SEGMENT.key)}}}) AS rows",
            f"RETURN key AS {video_key}, [x IN rows | x.parent] AS parent_id, {columns}",
        ]
    )


def count_query(spec: NodeTypeSpec | EdgeTypeSpec) -> str:
    """Count the nodes with a label or the relationships of a type.

    Args:
        spec (NodeTypeSpec or EdgeTypeSpec): What to count.

    Returns:
        str: A statement returning the column ``count``.

    Examples:
        >>> print(count_query(schema.NEXT))
        MATCH ()-[r:NEXT]->() RETURN count(r) AS count
    """
    if isinstance(spec, NodeTypeSpec):
        return f"MATCH (n:{cypher_name(spec.label)}) RETURN count(n) AS count"
    return f"MATCH ()-[r:{cypher_name(spec.name)}]->() RETURN count(r) AS count"


def delete_videos_query() -> str:
    """Delete the videos whose keys are in ``$rows``, their segments and all their relationships.

    Returns:
        str: A statement with the one parameter ``$rows`` (a list of video keys).

    Examples:
        >>> print(delete_videos_query())
        UNWIND $rows AS key
        OPTIONAL MATCH (s:Segment {video_uid: key})
        DETACH DELETE s
        WITH DISTINCT key
        OPTIONAL MATCH (v:Video {video_uid: key})
        DETACH DELETE v
    """
    video_key = cypher_name(schema.VIDEO.key)
    return "\n".join(
        [
            "UNWIND $rows AS key",
            f"OPTIONAL MATCH (s:{cypher_name(schema.SEGMENT.label)} {{{video_key}: key}})",
            "DETACH DELETE s",
            "WITH DISTINCT key",
            f"OPTIONAL MATCH (v:{cypher_name(schema.VIDEO.label)} {{{video_key}: key}})",
            "DETACH DELETE v",
        ]
    )


def existing_videos_query() -> str:
    """Which of the video keys in ``$rows`` the database holds, as a video or through any segment.

    Returns:
        str: A statement with the one parameter ``$rows`` (a list of video
        keys) returning the column ``video_uid``, one record per key found.

    Examples:
        >>> print(existing_videos_query())
        UNWIND $rows AS key
        WITH key WHERE EXISTS { MATCH (:Video {video_uid: key}) } OR EXISTS { MATCH (:Segment {video_uid: key}) }
        RETURN key AS video_uid
    """
    video, seg, key = cypher_name(schema.VIDEO.label), cypher_name(schema.SEGMENT.label), cypher_name(schema.VIDEO.key)
    return (
        f"UNWIND $rows AS key\nWITH key WHERE EXISTS {{ MATCH (:{video} {{{key}: key}}) }} "
        f"OR EXISTS {{ MATCH (:{seg} {{{key}: key}}) }}\nRETURN key AS {key}"
    )


def parameter_name(spec: NodeTypeSpec | EdgeTypeSpec) -> str:
    """The parameter of :func:`create_videos_query` that carries a node or edge type.

    Examples:
        >>> parameter_name(schema.SEGMENT), parameter_name(schema.NEXT_LEAF)
        ('segments', 'next_leaf')
    """
    if isinstance(spec, NodeTypeSpec):
        return cypher_name(spec.label.lower() + "s")
    return cypher_name(spec.name.lower())


def _create_nodes(spec: NodeTypeSpec, variable: str) -> list[str]:
    param = parameter_name(spec)
    props = ", ".join(f"{cypher_name(p)}: c.{cypher_name(p)}[i]" for p in spec.property_names)
    return [
        "CALL () {",
        f"  WITH ${param} AS c",
        f"  UNWIND range(0, size(c.{cypher_name(spec.key)}) - 1) AS i",
        f"  CREATE (n:{cypher_name(spec.label)} {{{props}}})",
        f"  RETURN collect(n) AS {variable}",
        "}",
    ]


def create_videos_query() -> str:
    """``CREATE`` whole videos: their nodes, then every relationship between them, in one statement.

    The nodes arrive column-wise: ``$videos`` and ``$segments`` map each
    property name (:data:`~graphkit.schema.VIDEO`,
    :data:`~graphkit.schema.SEGMENT`) to a list with one entry per node
    (``null`` for absent; Neo4j stores no nulls). Each edge type comes as
    ``$<type>`` (:func:`parameter_name`, e.g. ``$parent_of``): ``source``
    and ``target``, the endpoints' *positions* in ``$videos`` or
    ``$segments``, plus one list per edge property. Relationships are joined
    to the nodes just created by those positions, so no index is searched.

    The statement creates: it is for videos the database does not hold yet
    (:func:`existing_videos_query`; the uniqueness constraints refuse a
    second copy of a key, so it can never duplicate a node).

    Returns:
        str: A statement with the parameters ``$videos``, ``$segments`` and
        one per edge type.

    Examples:
        >>> query = create_videos_query()
        >>> print("\\n".join(query.splitlines()[:6]))
        CALL () {
          WITH $videos AS c
          UNWIND range(0, size(c.video_uid) - 1) AS i
          CREATE (n:Video {video_uid: c.video_uid[i], title: c.title[i], description: c.description[i], \
view_count: c.view_count[i], like_count: c.like_count[i], duration: c.duration[i], upload_date: c.upload_date[i], \
transcript_time: c.transcript_time[i], transcript_text: c.transcript_text[i]})
          RETURN collect(n) AS videos
        }
        >>> print("\\n".join(query.splitlines()[-6:]))
        CALL (videos, segments) {
          WITH $has_root AS c
          UNWIND range(0, size(c.source) - 1) AS i
          WITH videos[c.source[i]] AS source, segments[c.target[i]] AS target
          CREATE (source)-[:HAS_ROOT]->(target)
        }
    """
    lines = _create_nodes(schema.VIDEO, "videos") + _create_nodes(schema.SEGMENT, "segments")
    for spec in schema.EDGE_TYPES:
        sources = "videos" if spec.source is schema.VIDEO else "segments"
        scope = "videos, segments" if sources == "videos" else "segments"
        props = ", ".join(f"{cypher_name(p.name)}: c.{cypher_name(p.name)}[i]" for p in spec.properties)
        lines += [
            f"CALL ({scope}) {{",
            f"  WITH ${parameter_name(spec)} AS c",
            "  UNWIND range(0, size(c.source) - 1) AS i",
            f"  WITH {sources}[c.source[i]] AS source, segments[c.target[i]] AS target"
            + (", c, i" if props else ""),
            f"  CREATE (source)-[:{cypher_name(spec.name)}{' {' + props + '}' if props else ''}]->(target)",
            "}",
        ]
    return "\n".join(lines)
