"""The Cypher of transcript lines: their constraint, replacement on reload, read-back.

A sibling of :mod:`graphkit.loaders.neo4j.cypher`, built the same way (one
function per statement, names from :mod:`graphkit.schema` checked by
:func:`~graphkit.loaders.neo4j.cypher.cypher_name`, every value the ``$rows``
parameter), for the ``:Transcript`` nodes of :mod:`graphkit.transcript`:

* :func:`transcript_constraint_queries` -- uniqueness of ``(video_uid, index)``
  and an index by video;
* :func:`delete_transcripts_query` and :func:`delete_stale_transcripts_query`
  -- what a reload removes first (every line of a video, or the lines its new
  source no longer has);
* :func:`read_transcripts_query` -- read-back, one record per video.
"""

from __future__ import annotations

from graphkit import schema
from graphkit.loaders.neo4j.cypher import constraint_name, cypher_name

__all__ = [
    "transcript_constraint_queries",
    "delete_transcripts_query",
    "delete_stale_transcripts_query",
    "read_transcripts_query",
]

_TRANSCRIPT_VIDEO_INDEX = "transcript_video_uid"


def transcript_constraint_queries() -> list[str]:
    """The uniqueness constraint on a transcript line's identity and an index by video (idempotent).

    Examples:
        >>> for query in transcript_constraint_queries():
        ...     print(query)
        CREATE CONSTRAINT transcript_video_uid_index_unique IF NOT EXISTS FOR (n:Transcript) \
REQUIRE (n.video_uid, n.index) IS UNIQUE
        CREATE INDEX transcript_video_uid IF NOT EXISTS FOR (n:Transcript) ON (n.video_uid)
    """
    spec = schema.TRANSCRIPT
    required = ", ".join(f"n.{cypher_name(p)}" for p in spec.identity)
    return [
        f"CREATE CONSTRAINT {constraint_name(spec)} IF NOT EXISTS FOR (n:{cypher_name(spec.label)}) "
        f"REQUIRE ({required}) IS UNIQUE",
        f"CREATE INDEX {_TRANSCRIPT_VIDEO_INDEX} IF NOT EXISTS FOR (n:{cypher_name(spec.label)}) "
        f"ON (n.{cypher_name(schema.VIDEO.key)})",
    ]


def delete_transcripts_query() -> str:
    """Delete every transcript line of the videos whose keys are in ``$rows``.

    Examples:
        >>> print(delete_transcripts_query())
        UNWIND $rows AS key
        MATCH (t:Transcript {video_uid: key})
        DETACH DELETE t
    """
    video_key = cypher_name(schema.VIDEO.key)
    return (f"UNWIND $rows AS key\nMATCH (t:{cypher_name(schema.TRANSCRIPT.label)} {{{video_key}: key}})\n"
            "DETACH DELETE t")


def delete_stale_transcripts_query() -> str:
    """Delete the lines of some videos that their new source no longer has, and the others' relationships.

    Each row is ``{video_uid, indexes}``: a video and the ``index`` of every
    line its source holds (none: all go). The lines that stay lose their
    ``DURING`` and ``IN_VIDEO`` relationships, which the load writes again.

    Examples:
        >>> print(delete_stale_transcripts_query())
        UNWIND $rows AS row
        MATCH (t:Transcript {video_uid: row.video_uid})
        OPTIONAL MATCH (t)-[r:DURING|IN_VIDEO]->()
        DELETE r
        WITH DISTINCT t, row WHERE NOT t.index IN row.indexes
        DETACH DELETE t
    """
    video_key, key = cypher_name(schema.VIDEO.key), cypher_name(schema.TRANSCRIPT.key)
    types = "|".join(cypher_name(spec.name) for spec in schema.TRANSCRIPT_EDGE_TYPES)
    return "\n".join([
        "UNWIND $rows AS row",
        f"MATCH (t:{cypher_name(schema.TRANSCRIPT.label)} {{{video_key}: row.{video_key}}})",
        f"OPTIONAL MATCH (t)-[r:{types}]->()",
        "DELETE r",
        f"WITH DISTINCT t, row WHERE NOT t.{key} IN row.{key}es",
        "DETACH DELETE t",
    ])


def read_transcripts_query() -> str:
    """The transcript lines of the videos whose keys are in ``$rows``, column-wise.

    Returns one record per video with lines: its key and one list per
    :data:`~graphkit.schema.TRANSCRIPT` property, the lines by ``index``,
    plus ``segments``: for each line the ``node_id`` s of the segments it
    falls ``DURING``, in time order.

    Examples:
        >>> print(read_transcripts_query().splitlines()[2])
        OPTIONAL MATCH (t)-[:DURING]->(s:Segment)
    """
    label, video_key, key = cypher_name(schema.TRANSCRIPT.label), cypher_name(schema.VIDEO.key), cypher_name(schema.TRANSCRIPT.key)
    names = [name for name in schema.TRANSCRIPT.property_names if name != video_key]
    columns = ", ".join(f"collect(t.{cypher_name(name)}) AS {name}" for name in names)
    return "\n".join([
        "UNWIND $rows AS key",
        f"MATCH (t:{label} {{{video_key}: key}})",
        f"OPTIONAL MATCH (t)-[:{cypher_name(schema.DURING.name)}]->(s:{cypher_name(schema.SEGMENT.label)})",
        f"WITH key, t, s ORDER BY s.start, s.level, s.{cypher_name(schema.SEGMENT.key)}",
        f"WITH key, t, collect(s.{cypher_name(schema.SEGMENT.key)}) AS segments ORDER BY t.{key}",
        f"RETURN key AS {video_key}, {columns}, collect(segments) AS segments",
    ])
