"""An on-disk cache of text embeddings, shared by runs, datasets and processes.

:class:`EmbeddingCache` maps (encoder name, encoder version, SHA-256 of the
text's UTF-8 bytes) to the encoder's ``float32`` vector, stored exactly.
:class:`CachedEncoder` wraps any :class:`~graphkit.features.TextEncoder`: it
deduplicates a batch's texts (:func:`pyarrow.compute.dictionary_encode`),
looks the distinct ones up, encodes only the misses and stores them, so each
distinct text is embedded once per encoder version, whichever run, dataset
or process asks first. A changed text has another hash and a changed encoder
(name, weights, tokenizer, options: :attr:`version`) another key: both miss.

Storage is one SQLite database in WAL mode (``embeddings.sqlite``; table
``vectors``, primary key ``(encoder, version, text_hash)``, ``WITHOUT
ROWID``). SQLite, in the standard library, gives what the cache needs: many
readers beside one writer at a time across processes (WAL), atomic batches
(a batch of new vectors lands whole or not at all, even if the writer is
killed), ``INSERT OR IGNORE`` when two processes embed the same text, and
indexed lookups that read only the rows asked for, so memory is bounded by
a batch (plus SQLite's page cache, set to 16 MiB), never by the cache's
size. Like every SQLite database it must live on a local file system, not
NFS.

The cache directory is ``$GRAPHKIT_EMBEDDING_CACHE``, else ``embeddings/``
in graphkit's per-user cache (:func:`graphkit.loaders.user_cache.cache_dir`).

Examples:
    >>> import tempfile
    >>> from graphkit.features import HashingEncoder
    >>> encoder = CachedEncoder(HashingEncoder(dim=8), tempfile.mkdtemp())
    >>> x = encoder.encode(["cut paper", "cut paper", None, "fold paper"])
    >>> x.shape, encoder.hits, encoder.misses
    ((4, 8), 0, 2)
    >>> bool((encoder.encode(["fold paper"]) == x[3]).all()), encoder.hits
    (True, 1)
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from filelock import FileLock, Timeout

from graphkit.arrays import as_string_array
from graphkit.errors import DatasetError
from graphkit.features import TextEncoder, text_encoder, text_encoder_info
from graphkit.loaders.user_cache import cache_dir
from graphkit.typing import StringArrayLike

__all__ = ["DATABASE", "default_cache_dir", "text_hashes", "EmbeddingCache", "CachedEncoder", "cached_text_encoder",
           "clear_cached_encoders"]

logger = logging.getLogger(__name__)

#: The database's file name in the cache directory.
DATABASE: str = "embeddings.sqlite"

#: Keys per ``SELECT ... IN (...)`` (under SQLite's default limit of 999 parameters).
_LOOKUP_CHUNK = 500
#: Distinct texts looked up, encoded and stored per step: the bound on memory.
_STEP = 4096

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    encoder TEXT NOT NULL,
    version TEXT NOT NULL,
    text_hash BLOB NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (encoder, version, text_hash)
) WITHOUT ROWID
"""


def default_cache_dir() -> Path:
    """``$GRAPHKIT_EMBEDDING_CACHE``, else ``embeddings/`` in graphkit's per-user cache."""
    explicit = os.environ.get("GRAPHKIT_EMBEDDING_CACHE")
    return Path(explicit) if explicit else cache_dir() / "embeddings"


def text_hashes(texts: Sequence[str]) -> list[bytes]:
    """The cache key of each text: the SHA-256 of its UTF-8 bytes.

    Examples:
        >>> text_hashes(["a"])[0].hex()[:16]
        'ca978112ca1bbdca'
    """
    return [hashlib.sha256(text.encode("utf-8")).digest() for text in texts]


class EmbeddingCache:
    """Vectors by (encoder, version, text hash), in ``directory/embeddings.sqlite``.

    Safe to share between processes; each process (and each fork, e.g. a
    DataLoader worker) opens its own connection on first use.

    Args:
        directory (str or Path, optional): The cache directory, created if
            absent. (default: :func:`default_cache_dir`)
        timeout (float, optional): Seconds to wait for another process's
            write to finish. (default: :obj:`300`)
    """

    def __init__(self, directory: str | Path | None = None, *, timeout: float = 300.0) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.path = self.directory / DATABASE
        self.timeout = float(timeout)
        self._connection: sqlite3.Connection | None = None
        self._pid = -1

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_connection": None, "_pid": -1}

    @property
    def connection(self) -> sqlite3.Connection:
        """This process's connection, opened (and the table made) on first use."""
        if self._connection is None or self._pid != os.getpid():
            if self.directory.exists() and not self.directory.is_dir():
                raise NotADirectoryError(f"embedding cache {self.directory} is a file, not a directory")
            self.directory.mkdir(parents=True, exist_ok=True)
            try:
                # Switching a new file to WAL takes an exclusive lock without waiting on SQLite's busy
                # timeout, so two processes opening the cache at once can see "database is locked".
                with FileLock(f"{self.path}.lock", timeout=self.timeout):
                    connection = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
                    connection.execute("PRAGMA journal_mode=WAL")
                    connection.execute("PRAGMA synchronous=NORMAL")
                    connection.execute("PRAGMA cache_size=-16384")  # KiB: 16 MiB of pages at most
                    connection.execute(_SCHEMA)
            except (sqlite3.DatabaseError, Timeout) as err:
                raise DatasetError(f"embedding cache {self.path} is unusable ({err}); delete it to start "
                                   "afresh") from err
            self._connection, self._pid = connection, os.getpid()
        return self._connection

    def lookup(self, encoder: str, version: str, hashes: Sequence[bytes], dim: int) -> tuple[np.ndarray, np.ndarray]:
        """The stored vectors of some text hashes.

        Args:
            encoder (str): Encoder name.
            version (str): Encoder version.
            hashes (Sequence[bytes]): Text hashes (:func:`text_hashes`).
            dim (int): Width of the vectors.

        Returns:
            tuple[numpy.ndarray, numpy.ndarray]: ``[len(hashes), dim]`` float32
            vectors (zero where missing) and a ``[len(hashes)]`` mask of hits.

        Raises:
            DatasetError: If a stored vector is not ``dim`` wide.
        """
        out = np.zeros((len(hashes), dim), dtype=np.float32)
        hit = np.zeros(len(hashes), dtype=bool)
        position = {key: i for i, key in enumerate(hashes)}
        for start in range(0, len(hashes), _LOOKUP_CHUNK):
            chunk = hashes[start:start + _LOOKUP_CHUNK]
            query = ("SELECT text_hash, vector FROM vectors WHERE encoder = ? AND version = ? AND text_hash IN "
                     f"({','.join('?' * len(chunk))})")
            rows = self.connection.execute(query, (encoder, version, *chunk)).fetchall()
            if not rows:
                continue
            rows_at = np.fromiter((position[key] for key, _ in rows), dtype=np.int64, count=len(rows))
            data = b"".join(vector for _, vector in rows)
            if len(data) != len(rows) * dim * 4:
                raise DatasetError(f"embedding cache {self.path} holds {encoder} {version} vectors that are not "
                                   f"{dim} wide; delete it to start afresh")
            out[rows_at] = np.frombuffer(data, dtype=np.float32).reshape(len(rows), dim)
            hit[rows_at] = True
        return out, hit

    def store(self, encoder: str, version: str, hashes: Sequence[bytes], vectors: np.ndarray) -> None:
        """Store vectors in one transaction (a hash already stored keeps its vector).

        Args:
            encoder (str): Encoder name.
            version (str): Encoder version.
            hashes (Sequence[bytes]): Text hashes (:func:`text_hashes`).
            vectors (numpy.ndarray): ``[len(hashes), dim]`` vectors, stored as float32.
        """
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape[0] != len(hashes):
            raise ValueError(f"{len(hashes)} hashes but {vectors.shape[0]} vectors")
        connection = self.connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany(
                "INSERT OR IGNORE INTO vectors (encoder, version, text_hash, vector) VALUES (?, ?, ?, ?)",
                ((encoder, version, key, row.tobytes()) for key, row in zip(hashes, vectors)),
            )
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def count(self, encoder: str | None = None, version: str | None = None) -> int:
        """Vectors stored (of one encoder, and one version of it, when given)."""
        query, args = "SELECT COUNT(*) FROM vectors", []
        for column, value in (("encoder", encoder), ("version", version)):
            if value is not None:
                query += (" AND " if args else " WHERE ") + f"{column} = ?"
                args.append(value)
        return int(self.connection.execute(query, args).fetchone()[0])

    def close(self) -> None:
        """Close this process's connection (it reopens on next use)."""
        if self._connection is not None and self._pid == os.getpid():
            self._connection.close()
        self._connection = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.directory)!r})"


class CachedEncoder:
    """A :class:`~graphkit.features.TextEncoder` that embeds each distinct text once, through an
    :class:`EmbeddingCache`.

    Args:
        encoder (TextEncoder or callable): The encoder (with ``name``,
            ``version`` and ``dim``), or a function that makes it: then it is
            called only when a text misses the cache, and ``name``,
            ``version`` and ``dim`` must be given.
        cache_dir (str or Path, optional): The cache directory.
            (default: :func:`default_cache_dir`)
        name (str, optional): The encoder's name. (default: :obj:`encoder.name`)
        version (str, optional): Its version. (default: :obj:`encoder.version`)
        dim (int, optional): Its width. (default: :obj:`encoder.dim`)

    Attributes:
        hits (int): Distinct texts found in the cache so far.
        misses (int): Distinct texts encoded and stored so far.
    """

    def __init__(
        self,
        encoder: TextEncoder | Callable[[], TextEncoder],
        cache_dir: str | Path | None = None,
        *,
        name: str | None = None,
        version: str | None = None,
        dim: int | None = None,
    ) -> None:
        self._encoder = None if callable(encoder) and not isinstance(encoder, TextEncoder) else encoder
        self._make = encoder if self._encoder is None else None
        source = self._encoder
        try:
            self.name = str(name if name is not None else source.name)
            self.version = str(version if version is not None else source.version)
            self.dim = int(dim if dim is not None else source.dim)
        except AttributeError as err:
            raise TypeError(f"CachedEncoder needs the encoder's name, version and dim: {err}") from err
        self.cache = EmbeddingCache(cache_dir)
        self.hits = 0
        self.misses = 0

    @property
    def loaded(self) -> bool:
        """Whether the wrapped encoder exists (a factory is called only on a miss)."""
        return self._encoder is not None

    @property
    def encoder(self) -> TextEncoder:
        """The wrapped encoder (made on first use when a factory was given)."""
        if self._encoder is None:
            self._encoder = self._make()
            if (self._encoder.name, self._encoder.version, self._encoder.dim) != (self.name, self.version, self.dim):
                raise ValueError(f"the encoder made is {self._encoder.name} {self._encoder.version} "
                                 f"(dim {self._encoder.dim}), not {self.name} {self.version} (dim {self.dim})")
        return self._encoder

    def encode(self, texts: StringArrayLike) -> np.ndarray:
        """Embed the texts, one ``float32`` row of length :attr:`dim` each (zero for a missing or empty text).

        Args:
            texts (StringArrayLike): One text (or :obj:`None`) per node.

        Returns:
            numpy.ndarray: ``float32`` of shape ``(N, dim)``.
        """
        array = as_string_array(texts, "texts")
        encoded = pc.dictionary_encode(array)
        distinct = encoded.dictionary
        vectors = np.zeros((len(distinct), self.dim), dtype=np.float32)
        nonempty = np.flatnonzero(pc.greater(pc.binary_length(distinct), 0).to_numpy(zero_copy_only=False))
        for start in range(0, nonempty.size, _STEP):
            rows = nonempty[start:start + _STEP]
            vectors[rows] = self._distinct_vectors(distinct.take(pa.array(rows)))
        out = np.zeros((len(array), self.dim), dtype=np.float32)
        valid = pc.is_valid(encoded.indices).to_numpy(zero_copy_only=False)
        out[valid] = vectors[encoded.indices.filter(pa.array(valid)).to_numpy(zero_copy_only=False)]
        return out

    def _distinct_vectors(self, texts: pa.Array) -> np.ndarray:
        hashes = text_hashes(texts.to_pylist())
        vectors, hit = self.cache.lookup(self.name, self.version, hashes, self.dim)
        missing = np.flatnonzero(~hit)
        self.hits += int(hit.sum())
        self.misses += int(missing.size)
        if missing.size:
            fresh = np.asarray(self.encoder.encode(texts.take(pa.array(missing))), dtype=np.float32)
            if fresh.shape != (missing.size, self.dim):
                raise ValueError(f"{self.name} returned vectors of shape {fresh.shape}, not "
                                 f"{(missing.size, self.dim)}")
            self.cache.store(self.name, self.version, [hashes[i] for i in missing], fresh)
            vectors[missing] = fresh
        return vectors

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, version={self.version!r}, dim={self.dim}, cache={self.cache})"


@functools.lru_cache(maxsize=8)
def _shared(name: str, cache_directory: str) -> CachedEncoder:
    info = text_encoder_info(name)
    return CachedEncoder(functools.partial(text_encoder, name), cache_directory, name=info.name,
                         version=info.version, dim=info.dim)


def cached_text_encoder(name: str, cache_dir: str | Path | None = None) -> CachedEncoder:
    """This process's :class:`CachedEncoder` of a registered encoder (:func:`graphkit.features.text_encoder`).

    One per name and cache directory, so a model is loaded at most once per
    process, and only when a text misses the cache.

    Args:
        name (str): One of :data:`graphkit.features.TEXT_ENCODERS`.
        cache_dir (str or Path, optional): The cache directory.
            (default: :func:`default_cache_dir`, read at each call)

    Returns:
        CachedEncoder: The shared encoder.

    Examples:
        >>> import tempfile
        >>> directory = tempfile.mkdtemp()
        >>> cached_text_encoder("hashing", directory) is cached_text_encoder("hashing", directory)
        True
    """
    directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return _shared(name, str(directory))


def clear_cached_encoders() -> None:
    """Forget this process's shared encoders (:func:`cached_text_encoder`): the next call starts afresh."""
    _shared.cache_clear()
