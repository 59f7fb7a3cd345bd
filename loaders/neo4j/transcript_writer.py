"""Writing a chunk's transcript lines to Neo4j, inside the chunk's own transaction.

:func:`graphkit.loaders.neo4j.writer.load_trees` writes each chunk of whole
videos in one transaction; after the trees, :func:`write_transcript` replaces
the videos' ``:Transcript`` lines (:mod:`graphkit.transcript`) with the rows of
:func:`transcript_chunk_rows`, through the statements of
:mod:`graphkit.loaders.neo4j.cypher`. A load without the transcript still
runs it, with no lines, so a reloaded video never keeps a stale line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphkit import schema
from graphkit.loaders.neo4j import cypher, transcript_cypher
from graphkit.loaders.neo4j.transcript_rows import (
    transcript_index_lists,
    transcript_node_rows,
    transcript_relationship_rows,
)
from graphkit.transcript import Transcript
from graphkit.tree import TreeBatch

if TYPE_CHECKING:
    import neo4j

__all__ = ["write_transcript", "transcript_chunk_rows"]


def write_transcript(tx: neo4j.ManagedTransaction, rows: dict[str, list],
                     replace: list[str] | None) -> tuple[int, int]:
    """Write a chunk's transcript lines in its transaction, after its trees; net (nodes, relationships) created.

    With ``replace`` (the ``create`` method) the lines of those videos are
    deleted first; without (``merge``) the lines the sources no longer have
    go, and the remaining lines' relationships, which are written again.

    Args:
        tx (neo4j.ManagedTransaction): The chunk's transaction.
        rows (dict[str, list]): :func:`transcript_chunk_rows`.
        replace (list[str] or None): The videos being replaced, for ``create``.

    Returns:
        tuple[int, int]: Nodes and relationships created minus deleted.
    """
    nodes = relationships = 0
    if replace is None or replace:  # a create of new videos only has nothing to remove
        query, parameter = ((transcript_cypher.delete_stale_transcripts_query(), rows["stale"]) if replace is None
                            else (transcript_cypher.delete_transcripts_query(), replace))
        counters = tx.run(query, rows=parameter).consume().counters
        nodes, relationships = -counters.nodes_deleted, -counters.relationships_deleted
    if rows[schema.TRANSCRIPT.label]:
        counters = tx.run(cypher.upsert_nodes_query(schema.TRANSCRIPT), rows=rows[schema.TRANSCRIPT.label])
        nodes += counters.consume().counters.nodes_created
        for spec in schema.TRANSCRIPT_EDGE_TYPES:
            counters = tx.run(cypher.upsert_relationships_query(spec), rows=rows[spec.name]).consume().counters
            relationships += counters.relationships_created
    return nodes, relationships


def transcript_chunk_rows(trees: TreeBatch, lines: Transcript | None, chunk: slice) -> dict[str, list]:
    """The rows of :func:`write_transcript` for a range of whole videos (``lines`` None: none, all removed).

    Examples:
        >>> from graphkit.testing import example_rows
        >>> transcript_chunk_rows(TreeBatch.from_arrow(example_rows(1)), None, slice(0, 1))
        {'stale': [{'video_uid': 'vid00000000', 'indexes': []}], 'Transcript': []}
    """
    rows: dict[str, list] = {"stale": transcript_index_lists(trees, lines, chunk), schema.TRANSCRIPT.label: []}
    if lines is not None:
        rows[schema.TRANSCRIPT.label] = transcript_node_rows(trees, lines, chunk)
        for spec in schema.TRANSCRIPT_EDGE_TYPES:
            rows[spec.name] = transcript_relationship_rows(trees, lines, spec.name, chunk)
    return rows
