"""Search the segments of a loaded graph: Neo4j's full-text (Lucene) index, or its vector index.

Two indexes serve :func:`search_segments`:

* the **full-text** index ``segment_text`` over every caption and action
  text of a segment (:data:`~graphkit.schema.FULLTEXT_PROPERTIES`), created
  with the other schema statements on every load
  (:func:`create_search_indexes`, called by
  :func:`graphkit.loaders.neo4j.writer.create_constraints`) and after a bulk
  import (:func:`graphkit.loaders.neo4j.import_schema.create_imported_schema`);
  the user's text goes in as a parameter, as a Lucene query that cannot fail
  to parse (:func:`~graphkit.loaders.neo4j.search_cypher.lucene_query`);
* the **vector** index ``segment_embedding_<encoder>`` over the segments'
  ``embedding`` (their action briefs, embedded by a load or export with
  ``embed=``; :mod:`graphkit.loaders.neo4j.embeddings`), cosine similarity.
  The index's name records the encoder, its configuration the dimension
  (:func:`graph_encoder`), so a vector search embeds the query with the
  encoder the graph was loaded with, and refuses another.

Each hit is a :class:`SearchHit`: score, video, node id, time span, level,
and the path of action briefs from the segment up to its root.

A search (not run here: it needs a server)::

    from graphkit.loaders.neo4j.connection import connect
    from graphkit.loaders.neo4j.search import search_segments

    with connect() as driver:
        for hit in search_segments(driver, "cut the cucumber", k=5):
            print(hit.summary())

Examples:
    >>> hit = SearchHit(score=2.5, video_uid="v1", node_id="n7", start=3.0, end=7.5, level=2,
    ...                 action_brief="Cut cucumber", caption=None,
    ...                 path=({"node_id": "n7", "level": 2, "action_brief": "Cut cucumber"},
    ...                       {"node_id": "n3", "level": 1, "action_brief": None},
    ...                       {"node_id": "n0", "level": 0, "action_brief": "Make a salad"}))
    >>> hit.briefs()
    ['Cut cucumber', 'Make a salad']
    >>> print(hit.summary())
    2.5000  v1  n7  3.00-7.50 s  level 2  Cut cucumber < Make a salad
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from graphkit import schema
from graphkit.errors import Neo4jSearchError
from graphkit.loaders.neo4j import search_cypher
from graphkit.loaders.neo4j.connection import neo4j_errors
from graphkit.loaders.neo4j.embeddings import INDEX_PREFIX, SegmentEmbedder

if TYPE_CHECKING:
    import neo4j

__all__ = ["SearchHit", "create_search_indexes", "graph_encoder", "require_online", "search_segments"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchHit:
    """One segment a search found.

    Args:
        score (float): The index's score (Lucene's BM25, or cosine similarity
            mapped to ``[0, 1]``); higher is better.
        video_uid (str): The segment's video.
        node_id (str): The segment's id within its video.
        start (float): Start time, seconds.
        end (float): End time, seconds.
        level (int): Depth in the tree (0: the root).
        action_brief (str or None): Its gpt action brief.
        caption (str or None): Its ``plm_caption``.
        path (tuple[dict, ...]): ``{node_id, level, action_brief}`` of each
            segment from this one up to the root (``action_brief`` :obj:`None`
            where a segment has none).
    """

    score: float
    video_uid: str
    node_id: str
    start: float
    end: float
    level: int
    action_brief: str | None
    caption: str | None
    path: tuple[dict, ...]

    def briefs(self) -> list[str]:
        """The action briefs along :attr:`path`, from this segment up, without the missing and ``N/A`` ones."""
        return [step["action_brief"] for step in self.path
                if step["action_brief"] and step["action_brief"].strip().lower() != schema.NOT_APPLICABLE]

    def to_dict(self) -> dict:
        """The hit as a JSON-ready dict (``path`` a list)."""
        return {**asdict(self), "path": [dict(step) for step in self.path]}

    def summary(self) -> str:
        """The hit as one line: score, video, node, time span, level, briefs up to the root."""
        return (f"{self.score:.4f}  {self.video_uid}  {self.node_id}  {self.start:.2f}-{self.end:.2f} s  "
                f"level {self.level}  {' < '.join(self.briefs()) or '-'}")


def _vector_indexes(driver: neo4j.Driver, database: str) -> list[tuple[str, int]]:
    records, _, _ = driver.execute_query(
        search_cypher.vector_indexes_query(),
        {"labels": [schema.SEGMENT.label], "properties": [schema.EMBEDDING.name]},
        database_=database, routing_="r",
    )
    return [(record["name"], int(record["options"]["indexConfig"]["vector.dimensions"])) for record in records]


def graph_encoder(driver: neo4j.Driver, *, database: str = "neo4j") -> tuple[str, int] | None:
    """Which encoder made the graph's segment embeddings, and their dimension.

    Read from the vector index over :data:`~graphkit.schema.EMBEDDING`
    (named :data:`~graphkit.loaders.neo4j.embeddings.INDEX_PREFIX` + encoder).

    Args:
        driver (neo4j.Driver): The driver.
        database (str, optional): The database. (default: :obj:`"neo4j"`)

    Returns:
        tuple[str, int] or None: ``(encoder name, dimension)``, or :obj:`None`
        when the graph has no such index (no load asked for embeddings).

    Raises:
        Neo4jSearchError: If a vector index over the embeddings has a name
            graphkit did not give it.
        Neo4jLoadError: If the server cannot be reached.
    """
    with neo4j_errors(database):
        indexes = _vector_indexes(driver, database)
    if not indexes:
        return None
    name, dimensions = indexes[0]
    if not name.startswith(INDEX_PREFIX):
        raise Neo4jSearchError(f"the vector index {name!r} over Segment.embedding was not made by graphkit: "
                               f"its name does not say which encoder made the embeddings")
    return name.removeprefix(INDEX_PREFIX), dimensions


def create_search_indexes(driver: neo4j.Driver, *, embedding: tuple[str, int] | None = None,
                          database: str = "neo4j") -> None:
    """Create the full-text index and, with ``embedding``, the vector index (idempotent).

    Args:
        driver (neo4j.Driver): The driver.
        embedding (tuple[str, int], optional): ``(encoder name, dimension)`` of
            the embeddings stored (:attr:`SegmentEmbedder.name`, ``.dim``): the
            vector index's name and dimension. (default: :obj:`None`: the
            full-text index only)
        database (str, optional): The database. (default: :obj:`"neo4j"`)

    Raises:
        Neo4jSearchError: If the graph's embeddings come from another
            encoder or have another dimension: one graph holds one encoder's
            embeddings (load into a fresh database, or with the same encoder).
        Neo4jLoadError: If the server cannot be reached or refuses a statement.
    """
    with neo4j_errors(database):
        driver.execute_query(search_cypher.fulltext_index_query(), {"options": search_cypher.FULLTEXT_OPTIONS},
                             database_=database)
    if embedding is None:
        return
    name, dim = embedding[0], int(embedding[1])
    existing = graph_encoder(driver, database=database)
    if existing is not None and existing != (name, dim):
        raise Neo4jSearchError(
            f"the graph's segment embeddings come from the {existing[0]!r} encoder ({existing[1]} dimensions), "
            f"not {name!r} ({dim}): load with --embed {existing[0]}, or into a fresh database"
        )
    with neo4j_errors(database):
        driver.execute_query(search_cypher.vector_index_query(),
                             {"name": INDEX_PREFIX + name, "options": search_cypher.vector_index_options(dim)},
                             database_=database)
    logger.info("vector index %s%s (%d dimensions, cosine) is in place", INDEX_PREFIX, name, dim)


def require_online(driver: neo4j.Driver, index: str, *, database: str = "neo4j") -> None:
    """Refuse to search an index that is not there or not yet populated, saying which and how far it is.

    After a bulk import the search indexes are populated in the background
    while the server runs (``graphkit neo4j export-csv --import-into`` does not
    wait for them unless asked to), so a search can come before its index is
    ready.

    Args:
        driver (neo4j.Driver): The driver.
        index (str): The index's name.
        database (str, optional): The database. (default: :obj:`"neo4j"`)

    Raises:
        Neo4jSearchError: If the index does not exist, is still being
            populated, or failed.
        Neo4jLoadError: If the server cannot be reached.
    """
    with neo4j_errors(database):
        records, _, _ = driver.execute_query(search_cypher.index_state_query(), {"name": index},
                                             database_=database, routing_="r")
    if not records:
        raise Neo4jSearchError(f"the graph has no {index!r} index: load videos with graphkit neo4j load first")
    state, percent = records[0]["state"], records[0]["populationPercent"]
    if state == "POPULATING":
        raise Neo4jSearchError(f"the {index!r} index is still being populated ({percent:.1f}% done): search again "
                               f"once it is ONLINE (SHOW INDEXES shows its progress)")
    if state != "ONLINE":
        raise Neo4jSearchError(f"the {index!r} index is {state}, not ONLINE: drop it (DROP INDEX {index}) and "
                               f"reload, or see the server's debug.log")


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return k


def search_segments(
    driver: neo4j.Driver,
    text: str,
    *,
    vector: bool = False,
    k: int = 10,
    embedder: SegmentEmbedder | str | None = None,
    database: str = "neo4j",
) -> list[SearchHit]:
    """The ``k`` segments that best match a text, best first.

    Full text (the default): the ``segment_text`` index, the text as a
    phrase and as words (:func:`~graphkit.loaders.neo4j.search_cypher.lucene_query`:
    quotes, ``:``, ``(``, ``-`` and every other Lucene operator are plain
    characters). ``vector=True``: the text embedded by the encoder the graph
    was loaded with, against the vector index over the action briefs'
    embeddings (approximate nearest neighbours, cosine).

    Args:
        driver (neo4j.Driver): The driver.
        text (str): What to look for.
        vector (bool, optional): Vector search rather than full text.
            (default: :obj:`False`)
        k (int, optional): How many hits at most. (default: :obj:`10`)
        embedder (SegmentEmbedder or str, optional): The encoder for a vector
            search, or its name; by default the graph's own
            (:func:`graph_encoder`). Must be the graph's. (default: :obj:`None`)
        database (str, optional): The database. (default: :obj:`"neo4j"`)

    Returns:
        list[SearchHit]: At most ``k`` hits (none: an empty list).

    Raises:
        ValueError: If the text is empty, ``k`` is not a positive integer, an
            encoder name is unknown, or the encoder finds nothing to embed.
        Neo4jSearchError: For a vector search of a graph without embeddings,
            or with another encoder's; for a full-text search of a graph
            without the full-text index (nothing loaded yet); when the index
            searched is still being populated (:func:`require_online`).
        Neo4jLoadError: If the server cannot be reached.
    """
    _check_k(k)
    parameters: dict = {"k": k}
    if vector:
        if not isinstance(text, str) or not text.strip():
            raise ValueError("the search text is empty")
        found = graph_encoder(driver, database=database)
        if found is None:
            raise Neo4jSearchError("the graph has no segment embeddings: load it with --embed NAME "
                                   "(graphkit neo4j load or export-csv) to search it with --vector")
        if isinstance(embedder, str) and embedder != found[0]:
            raise Neo4jSearchError(f"the graph's segment embeddings come from the {found[0]!r} encoder, "
                                   f"not {embedder!r}: search with --embed-model {found[0]}")
        if embedder is None or isinstance(embedder, str):
            embedder = SegmentEmbedder.from_name(found[0])
        if (embedder.name, embedder.dim) != found:
            raise Neo4jSearchError(f"the graph's segment embeddings come from the {found[0]!r} encoder "
                                   f"({found[1]} dimensions), not {embedder.name!r} ({embedder.dim})")
        parameters.update(index=embedder.index_name, vector=embedder.encode_query(text))
    else:
        parameters.update(index=search_cypher.FULLTEXT_INDEX, query=search_cypher.lucene_query(text))
    require_online(driver, parameters["index"], database=database)
    import neo4j.exceptions

    with neo4j_errors(database):
        try:
            records, _, _ = driver.execute_query(search_cypher.search_query(vector=vector), parameters,
                                                 database_=database, routing_="r")
        except neo4j.exceptions.ClientError as err:
            if "no such" in str(err.message).lower():  # "There is no such fulltext schema index: ..."
                raise Neo4jSearchError(f"the graph has no {parameters['index']!r} index: "
                                       f"load videos with graphkit neo4j load first") from None
            raise
    return [
        SearchHit(score=float(r["score"]), video_uid=r["video_uid"], node_id=r["node_id"], start=r["start"],
                  end=r["end"], level=r["level"], action_brief=r["action_brief"], caption=r["caption"],
                  path=tuple(r["path"]))
        for r in records
    ]
