"""The Cypher of segment search: the full-text and vector indexes, embeddings, the search query.

A sibling of :mod:`graphkit.loaders.neo4j.cypher`, built the same way (one
function per statement, names from :mod:`graphkit.schema`, every value a
parameter -- index names, options, the user's text, the query vector):

* :func:`fulltext_index_query` -- ``CREATE FULLTEXT INDEX`` over every
  caption and action text of a segment
  (:data:`~graphkit.schema.FULLTEXT_PROPERTIES`), Neo4j's built-in Lucene
  index, with the ``standard-no-stop-words`` analyzer: a phrase matches
  only where its words, stop words included, stand in that order ("parts
  to a car" is not "parts of a car"); run with the other schema statements
  on every load;
* :func:`vector_index_query` -- ``CREATE VECTOR INDEX`` over
  :data:`~graphkit.schema.EMBEDDING`, cosine similarity, the encoder's
  dimension; :func:`vector_indexes_query` lists those a graph has;
* :func:`set_embeddings_query` -- stores embeddings as float32 lists
  (``db.create.setNodeVectorProperty``; a Cypher ``SET`` would store float64);
* :func:`search_query` -- the ranked segments of a full-text or vector
  query, each with its video, time span, level and the path of action
  briefs from it up to its root;
* :func:`lucene_query` -- a user's phrase as a Lucene query that cannot
  fail to parse: special characters escaped, the phrase first, then its
  words.

Examples:
    >>> print(fulltext_index_query())
    CREATE FULLTEXT INDEX segment_text IF NOT EXISTS FOR (n:Segment) ON EACH [n.plm_action, n.plm_caption, \
n.llama3_caption, n.summary_brief, n.summary_detailed, n.action_brief, n.action_detailed] OPTIONS $options
    >>> lucene_query('cut (the) "cucumber": fast')
    '"cut (the) \\\\"cucumber\\\\": fast"^4 cut \\\\(the\\\\) \\\\"cucumber\\\\"\\\\: fast'
"""

from __future__ import annotations

import re

from graphkit import schema

__all__ = [
    "FULLTEXT_INDEX",
    "FULLTEXT_OPTIONS",
    "fulltext_index_query",
    "vector_index_query",
    "vector_index_options",
    "vector_indexes_query",
    "set_embeddings_query",
    "search_query",
    "lucene_query",
    "await_indexes_query",
    "index_state_query",
]

FULLTEXT_INDEX = "segment_text"
"""The name of the full-text index over segments' texts."""

FULLTEXT_OPTIONS: dict = {"indexConfig": {"fulltext.analyzer": "standard-no-stop-words"}}
"""The full-text index's options (the ``$options`` of :func:`fulltext_index_query`)."""

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Lucene's classic query syntax: these characters are operators unless escaped.
_LUCENE_SPECIAL = re.compile(r'([+\-&|!(){}\[\]^"~*?:\\/])')
_LUCENE_OPERATORS = re.compile(r"\b(AND|OR|NOT|TO)\b")
#: How much more a match of the whole phrase weighs than matches of its words.
_PHRASE_BOOST = 4


def _name(identifier: str) -> str:
    if not _IDENTIFIER.match(identifier):
        raise ValueError(f"{identifier!r} is not a plain Cypher identifier")
    return identifier


def fulltext_index_query() -> str:
    """``CREATE FULLTEXT INDEX`` over :data:`~graphkit.schema.FULLTEXT_PROPERTIES` (idempotent).

    Returns:
        str: A statement with the parameter ``$options``
        (:data:`FULLTEXT_OPTIONS`).
    """
    fields = ", ".join(f"n.{_name(p)}" for p in schema.FULLTEXT_PROPERTIES)
    return (f"CREATE FULLTEXT INDEX {_name(FULLTEXT_INDEX)} IF NOT EXISTS "
            f"FOR (n:{_name(schema.SEGMENT.label)}) ON EACH [{fields}] OPTIONS $options")


def vector_index_query() -> str:
    """``CREATE VECTOR INDEX`` over :data:`~graphkit.schema.EMBEDDING` (idempotent).

    Returns:
        str: A statement with the parameters ``$name`` (the index's name) and
        ``$options`` (:func:`vector_index_options`).

    Examples:
        >>> print(vector_index_query())
        CREATE VECTOR INDEX $name IF NOT EXISTS FOR (n:Segment) ON n.embedding OPTIONS $options
    """
    return (f"CREATE VECTOR INDEX $name IF NOT EXISTS FOR (n:{_name(schema.SEGMENT.label)}) "
            f"ON n.{_name(schema.EMBEDDING.name)} OPTIONS $options")


def vector_index_options(dimensions: int) -> dict:
    """The ``$options`` of :func:`vector_index_query`: the dimension, cosine similarity.

    Examples:
        >>> vector_index_options(384)
        {'indexConfig': {'vector.dimensions': 384, 'vector.similarity_function': 'cosine'}}
    """
    return {"indexConfig": {"vector.dimensions": int(dimensions), "vector.similarity_function": "cosine"}}


def vector_indexes_query() -> str:
    """The vector indexes over :data:`~graphkit.schema.EMBEDDING`: their names and dimensions.

    Returns:
        str: A statement with the parameters ``$labels`` (``["Segment"]``)
        and ``$properties`` (``["embedding"]``), returning ``name``,
        ``options`` (the dimension is ``options.indexConfig["vector.dimensions"]``)
        and ``state``.
    """
    return ("SHOW VECTOR INDEXES YIELD name, labelsOrTypes, properties, options, state "
            "WHERE labelsOrTypes = $labels AND properties = $properties "
            "RETURN name, options, state ORDER BY name")


def set_embeddings_query() -> str:
    """Store embeddings on segments as float32 lists, one per row of ``$rows``.

    Each row is ``{video_uid, node_id, embedding}``; the segment is matched
    by its whole identity (the uniqueness constraint's index).

    Returns:
        str: A statement with the parameters ``$rows`` and ``$property``
        (:data:`~graphkit.schema.EMBEDDING`'s name).

    Examples:
        >>> print(set_embeddings_query())
        UNWIND $rows AS row
        MATCH (s:Segment {video_uid: row.video_uid, node_id: row.node_id})
        CALL db.create.setNodeVectorProperty(s, $property, row.embedding)
    """
    video_key, key = _name(schema.VIDEO.key), _name(schema.SEGMENT.key)
    return "\n".join([
        "UNWIND $rows AS row",
        f"MATCH (s:{_name(schema.SEGMENT.label)} {{{video_key}: row.{video_key}, {key}: row.{key}}})",
        "CALL db.create.setNodeVectorProperty(s, $property, row.embedding)",
    ])


def search_query(*, vector: bool = False) -> str:
    """The ``$k`` best segments of a full-text or vector query, with their paths of action briefs.

    Full text: ``db.index.fulltext.queryNodes($index, $query, {limit: $k})``
    with ``$query`` from :func:`lucene_query`. Vector:
    ``db.index.vector.queryNodes($index, $k, $vector)``. Each record holds
    ``score``, ``video_uid``, ``node_id``, ``start``, ``end``, ``level``,
    ``action_brief``, ``caption`` (``plm_caption``) and ``path``: one map
    ``{node_id, level, action_brief}`` per segment from the hit up to its
    root (``action_brief`` null where the segment has none), best score
    first (ties by video and node id).

    Args:
        vector (bool, optional): A vector query rather than a full-text one.
            (default: :obj:`False`)

    Returns:
        str: A statement with the parameters ``$index``, ``$k`` and
        ``$query`` (full text) or ``$vector``.

    Examples:
        >>> print(search_query(vector=True).splitlines()[0])
        CALL db.index.vector.queryNodes($index, $k, $vector) YIELD node, score
    """
    seg, key, brief = _name(schema.SEGMENT.label), _name(schema.SEGMENT.key), _name(schema.EMBEDDED_TEXT)
    head = ("CALL db.index.vector.queryNodes($index, $k, $vector) YIELD node, score" if vector else
            "CALL db.index.fulltext.queryNodes($index, $query, {limit: $k}) YIELD node, score")
    columns = ", ".join(f"node.{_name(p)} AS {p}" for p in (schema.VIDEO.key, key, "start", "end", "level", brief))
    return "\n".join([
        head,
        "CALL (node) {",
        f"  MATCH (ancestor:{seg})-[:{_name(schema.PARENT_OF.name)}*0..]->(node)",
        "  WITH ancestor ORDER BY ancestor.level DESC",
        f"  RETURN collect({{{key}: ancestor.{key}, level: ancestor.level, {brief}: ancestor.{brief}}}) AS path",
        "}",
        f"RETURN score, {columns}, node.plm_caption AS caption, path",
        f"ORDER BY score DESC, {_name(schema.VIDEO.key)}, {key}",
    ])


def await_indexes_query() -> str:
    """Wait until every index is online (populated), for at most ``$seconds``.

    Examples:
        >>> await_indexes_query()
        'CALL db.awaitIndexes($seconds)'
    """
    return "CALL db.awaitIndexes($seconds)"


def index_state_query() -> str:
    """The state of one index by name (``ONLINE``, ``POPULATING`` or ``FAILED``) and how far it is populated.

    Returns:
        str: A statement with the parameter ``$name``, returning ``state``
        and ``populationPercent`` (no row: there is no such index).

    Examples:
        >>> index_state_query()
        'SHOW INDEXES YIELD name, state, populationPercent WHERE name = $name RETURN state, populationPercent'
    """
    return "SHOW INDEXES YIELD name, state, populationPercent WHERE name = $name RETURN state, populationPercent"


def lucene_query(text: str) -> str:
    """A user's phrase as a Lucene query that never fails to parse.

    The whole phrase, quoted and boosted, then each of its words, every
    Lucene operator character escaped (``+ - & | ! ( ) { } [ ] ^ " ~ * ? :
    \\ /``) and the operator words ``AND``, ``OR``, ``NOT``, ``TO`` in lower
    case: a segment holding the phrase ranks above those holding only some
    of its words.

    Args:
        text (str): The user's text.

    Returns:
        str: The Lucene query.

    Raises:
        ValueError: If the text is empty or only white space.

    Examples:
        >>> lucene_query("Cut the cucumber")
        '"Cut the cucumber"^4 Cut the cucumber'
        >>> lucene_query("AND or NOT-this")
        '"AND or NOT-this"^4 and or not\\\\-this'
    """
    if not isinstance(text, str):
        raise TypeError(f"the search text must be a string, got {type(text).__name__}")
    words = " ".join(text.split())
    if not words:
        raise ValueError("the search text is empty")
    phrase = words.replace("\\", "\\\\").replace('"', '\\"')
    terms = _LUCENE_OPERATORS.sub(lambda m: m.group(1).lower(), _LUCENE_SPECIAL.sub(r"\\\1", words))
    return f'"{phrase}"^{_PHRASE_BOOST} {terms}'
