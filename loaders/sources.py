"""One entry point that streams Action100M rows from any source.

A *source* is where rows come from:

* a parquet file, a directory (every ``*.parquet`` file under it, recursively
  and sorted, skipping names that start with ``.`` or ``_``), or a glob
  (``data/*.parquet``, ``**`` allowed);
* a URL that :mod:`fsspec` understands, with the same three shapes:
  ``hf://datasets/facebook/Action100M-preview/...`` (``huggingface_hub``
  registers ``hf://``), ``file://...``, ``memory://...``, ``s3://...``;
* a JSON document (one row, a list of rows, or the authors' column form) or
  a JSON Lines file, by name (``.json``, ``.jsonl``, ``.ndjson``, each
  optionally ``.gz``); a directory lists parquet files only, so pass JSON
  files by name or glob;
* an opened Hugging Face :class:`datasets.Dataset` or
  :class:`datasets.IterableDataset`, or an in-memory :class:`pyarrow.Table`
  or :class:`pyarrow.RecordBatch`;
* a list of any of these, read in order (:func:`source_list` says what a
  function taking sources accepts: one source alone, a single path string
  included, or a list; never a string taken apart into characters).

:func:`iter_record_batches` reads them one record batch at a time, each in
the canonical schema of :data:`graphkit.schema.SOURCE_SCHEMA` projected to
the fields a :class:`~graphkit.loaders.config.ReaderConfig` asks for
(:mod:`graphkit.loaders.conform` says exactly which stored types are accepted
and how they are cast), so memory is bounded by one batch whatever the size
of the data. A file that cannot be read raises
:class:`~graphkit.errors.SourceError` (or its subclass
:class:`~graphkit.errors.SchemaError`) naming it; with
``on_bad_files="warn"`` or ``"skip"`` it is skipped instead, logged, and
listed with the reason in :attr:`RecordBatchStream.skipped`. One *row* that
cannot be read while the rest of its source can (a JSON line that does not
parse, a value that does not fit) raises :class:`~graphkit.errors.RowError`,
or with ``on_bad_rows="skip"`` is left out alone and listed in
:attr:`RecordBatchStream.rejected`. Checking each
video's tree is the validator's job (:mod:`graphkit.validation`), not the
reader's. Each source is read by the :class:`~graphkit.loaders.config.Reader`
of its kind (:mod:`graphkit.loaders.parquet`, :mod:`graphkit.loaders.json`,
:mod:`graphkit.loaders.hf`); :class:`~graphkit.loaders.config.ReaderConfig`
is importable from here too.

Examples:
    >>> import json, tempfile
    >>> from graphkit.schema import STRUCTURE_FIELDS
    >>> row = {"video_uid": "v1", "nodes": [{"node_id": "a", "parent_id": None, "level": 0,
    ...                                      "start": 0.0, "end": 2.0}]}
    >>> folder = tempfile.mkdtemp()
    >>> with open(f"{folder}/rows.jsonl", "w") as f:
    ...     _ = f.write("\\n".join(json.dumps(row) for _ in range(5)))
    >>> config = ReaderConfig(batch_size=2, node_fields=STRUCTURE_FIELDS, metadata=False,
    ...                       on_bad_files="skip")
    >>> stream = iter_record_batches([f"{folder}/rows.jsonl", f"{folder}/missing.parquet"], config)
    >>> [batch.num_rows for batch in stream]
    [2, 2, 1]
    >>> [reason for _, reason in stream.skipped]
    ['SourceError: no such file or directory']
"""

from __future__ import annotations

import functools
import logging
import os
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import fsspec
import pyarrow as pa
from fsspec.implementations.local import LocalFileSystem

from graphkit.errors import RowError, SourceError
from graphkit.loaders.config import Reader, ReaderConfig
from graphkit.loaders.conform import Conformer
from graphkit.loaders.files import FileLike
from graphkit.loaders.hf import describe_hf_dataset, is_hf_dataset, iter_hf_batches
from graphkit.loaders.json import iter_json_batches, iter_jsonl_batches
from graphkit.loaders.parquet import ParquetFragment, iter_fragment_batches, iter_parquet_batches
from graphkit.typing import Source
from graphkit.validation import Violation

__all__ = [
    "Source",
    "ReaderConfig",  # defined in graphkit.loaders.config; importable from here, where it is used
    "RecordBatchStream",
    "iter_record_batches",
    "read_table",
    "resolve_files",
    "file_format",
    "source_list",
]

logger = logging.getLogger(__name__)

_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_PARQUET_MAGIC = b"PAR1"
_FILE_READERS: dict[str, Reader[FileLike]] = {
    "parquet": iter_parquet_batches,
    "json": iter_json_batches,
    "jsonl": iter_jsonl_batches,
}
_GLOB_CHARS = "*?["
# Failures of the file system or the decoders; anything else is a bug and propagates.
_READ_ERRORS = (OSError, EOFError, zlib.error, UnicodeDecodeError, pa.ArrowException)


class RecordBatchStream(Iterator[pa.RecordBatch]):
    r"""The record batches of some sources, and a report of what was skipped.

    Made by :func:`iter_record_batches`. Sources are opened lazily, one at a
    time, as the stream is consumed; the same file reached twice (e.g. through
    a directory and a glob) is read once.

    Args:
        source (Source or Sequence[Source]): What to read.
        config (ReaderConfig, optional): How to read it. (default: :obj:`ReaderConfig()`)

    Attributes:
        skipped (list[tuple[str, str]]): ``(source, reason)`` of each source
            skipped under ``on_bad_files="warn"``/``"skip"``; complete once
            the stream is exhausted.
        rejected (list[Violation]): Each row left out under
            ``on_bad_rows="skip"``, naming its source and row (and its video
            when it can be read), in reading order.
        files (list[str]): Every file opened, in order (skipped ones included).

    Examples:
        >>> RecordBatchStream(["a.parquet", "b/"], ReaderConfig(batch_size=8))
        RecordBatchStream(sources=2, batch_size=8, on_bad_files='error', skipped=0)
    """

    def __init__(self, source: Source | Sequence[Source], config: ReaderConfig | None = None) -> None:
        if config is not None and not isinstance(config, ReaderConfig):
            raise TypeError(f"config must be a ReaderConfig, got {type(config).__name__}")
        self.config = config or ReaderConfig()
        self.skipped: list[tuple[str, str]] = []
        self.rejected: list[Violation] = []
        self.files: list[str] = []
        self._sources = source_list(source)
        self._batches = self._generate()

    @property
    def schema(self) -> pa.Schema:
        """The schema of every batch."""
        return self.config.schema

    def __iter__(self) -> RecordBatchStream:
        return self

    def __next__(self) -> pa.RecordBatch:
        return next(self._batches)

    def close(self) -> None:
        """Stop reading and close the open file, if any."""
        self._batches.close()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(sources={len(self._sources)}, batch_size={self.config.batch_size}, "
            f"on_bad_files={self.config.on_bad_files!r}, skipped={len(self.skipped)})"
        )

    # -- reading -----------------------------------------------------------------
    def _generate(self) -> Iterator[pa.RecordBatch]:
        seen: set[str] = set()
        for item in self._sources:
            if isinstance(item, (pa.Table, pa.RecordBatch)):
                name = f"<pyarrow.{type(item).__name__} with {item.num_rows} rows>"
                yield from self._guarded(name, functools.partial(_iter_arrow, item, self.config, source=name,
                                                                 on_bad_row=self.rejected.append))
            elif isinstance(item, ParquetFragment):
                read = functools.partial(iter_fragment_batches, item, self.config, source=item.name,
                                         on_bad_row=self.rejected.append)
                self.files.append(item.name)
                yield from self._guarded(item.name, read)
            elif is_hf_dataset(item):
                name = describe_hf_dataset(item)
                read = functools.partial(iter_hf_batches, item, self.config, source=name,
                                         on_bad_row=self.rejected.append)
                yield from self._guarded(name, read)
            else:
                text = os.fspath(item)
                try:
                    files = _resolve(text, self.config.storage_options)
                except SourceError as err:
                    if self.config.on_bad_files == "error":
                        raise
                    self._skip(text, err, 0)
                    continue
                for fs, path, name in files:
                    if name in seen:
                        logger.warning("%s: reached again through %r; read once", name, text)
                        continue
                    seen.add(name)
                    self.files.append(name)
                    logger.debug("reading %s", name)
                    remote = not isinstance(fs, LocalFileSystem)
                    read = functools.partial(_read_file, fs, path, name, self.config, self.rejected.append)
                    yield from self._guarded(name, read, remote=remote)

    def _guarded(
        self, name: str, batches: Callable[[], Iterator[pa.RecordBatch]], *, remote: bool = False
    ) -> Iterator[pa.RecordBatch]:
        """The batches of one source, with its failures raised or recorded as the config says.

        A remote file system raises its own network errors (e.g. ``httpx``'s),
        so for a remote file any exception counts as a read failure.
        """
        videos = 0
        try:
            for batch in batches():
                videos += batch.num_rows
                yield batch
        except SourceError as err:
            if self.config.on_bad_files == "error":
                raise
            self._skip(name, err, videos)
        except Exception as err:
            if not (remote or isinstance(err, _READ_ERRORS)):
                raise
            wrapped = SourceError(name, f"cannot be read: {type(err).__name__}: {err}")
            if self.config.on_bad_files == "error":
                raise wrapped from err
            self._skip(name, wrapped, videos)

    def _skip(self, name: str, err: SourceError, videos: int) -> None:
        # A bad row (under on_bad_rows="error") makes the rest of its file unreadable: say which row.
        reason = f"RowError: {err}" if isinstance(err, RowError) else f"{type(err).__name__}: {err.message}"
        if videos:
            reason += f" (after {videos} of its videos were read)"
        self.skipped.append((name, reason))
        log = logger.warning if self.config.on_bad_files == "warn" else logger.info
        log("skipping %s: %s", name, reason)


def iter_record_batches(source: Source | Sequence[Source], config: ReaderConfig | None = None) -> RecordBatchStream:
    """Stream Action100M rows from any source as canonical Arrow record batches.

    Args:
        source (Source or Sequence[Source]): A path, directory, glob or URL;
            a ``datasets.Dataset``/``IterableDataset``; a
            :class:`pyarrow.Table`/:class:`pyarrow.RecordBatch`; or a list of
            them (see :mod:`graphkit.loaders.sources`).
        config (ReaderConfig, optional): Batch size, fields, what to do with
            bad files. (default: :obj:`ReaderConfig()`)

    Returns:
        RecordBatchStream: An iterator of :class:`pyarrow.RecordBatch`, each
        with at most ``config.batch_size`` videos and exactly the fields of
        ``config.schema``; its :attr:`~RecordBatchStream.skipped` lists the
        sources skipped.

    Raises:
        TypeError: If a source is of an unsupported type (at once).
        ValueError: If no source is given (at once).
        SourceError: While iterating, if a source cannot be read (missing,
            not parquet or JSON, invalid JSON) and ``on_bad_files="error"``.
        SchemaError: While iterating, if a required column is missing, a
            column has a type the rules of :mod:`graphkit.loaders.conform` refuse, or a
            value does not fit its canonical type.

    Examples:
        >>> import pyarrow as pa
        >>> row = {"video_uid": "v1", "nodes": [{"node_id": "a", "level": 0}]}
        >>> table = pa.Table.from_pylist([row] * 3)
        >>> config = ReaderConfig(batch_size=2, node_fields=("node_id", "level"), metadata=False)
        >>> [b.num_rows for b in iter_record_batches(table, config)]
        [2, 1]
    """
    return RecordBatchStream(source, config)


def read_table(source: Source | Sequence[Source], config: ReaderConfig | None = None) -> pa.Table:
    """Read whole sources into one table (small data; see :func:`iter_record_batches`).

    Sources skipped under ``on_bad_files="warn"``/``"skip"`` are logged; use
    :func:`iter_record_batches` to get them as a list.

    Args:
        source (Source or Sequence[Source]): What to read.
        config (ReaderConfig, optional): How to read it. (default: :obj:`ReaderConfig()`)

    Returns:
        pyarrow.Table: Every video, in ``config.schema``.

    Raises:
        SourceError: See :func:`iter_record_batches`.

    Examples:
        >>> import pyarrow as pa
        >>> table = pa.Table.from_pylist([{"video_uid": "v1", "nodes": [{"node_id": "a", "level": 0}]}])
        >>> read_table(table, ReaderConfig(node_fields=("level",), metadata=False)).to_pylist()
        [{'video_uid': 'v1', 'nodes': [{'level': 0}]}]
    """
    stream = iter_record_batches(source, config)
    return pa.Table.from_batches(list(stream), schema=stream.schema)


def resolve_files(source: str | os.PathLike[str], *, storage_options: Mapping[str, Any] | None = None) -> list[str]:
    """The files a path, directory, glob or URL stands for, in reading order.

    Args:
        source (str or os.PathLike): A local path or an fsspec URL.
        storage_options (Mapping[str, Any], optional): For URLs, passed to
            :func:`fsspec.core.url_to_fs`. (default: :obj:`None`)

    Returns:
        list[str]: Absolute local paths, or URLs with their protocol.

    Raises:
        SourceError: If nothing exists there, a glob matches nothing, or a
            directory holds no parquet file.

    Examples:
        >>> import fsspec
        >>> fs = fsspec.filesystem("memory")
        >>> for name in ["b.parquet", "a.parquet", "notes.txt", ".hidden/c.parquet"]:
        ...     fs.pipe(f"/resolve-doc/{name}", b"")
        >>> resolve_files("memory://resolve-doc")
        ['memory:///resolve-doc/a.parquet', 'memory:///resolve-doc/b.parquet']
        >>> resolve_files("memory://resolve-doc/*.txt")
        ['memory:///resolve-doc/notes.txt']
    """
    return [name for _, _, name in _resolve(os.fspath(source), storage_options)]


def file_format(path: str) -> str | None:
    """The format a file name says: ``"parquet"``, ``"json"``, ``"jsonl"`` or :obj:`None`.

    Examples:
        >>> [file_format(p) for p in ["a.parquet", "b.JSON", "c.jsonl.gz", "d.ndjson", "e.csv"]]
        ['parquet', 'json', 'jsonl', 'jsonl', None]
    """
    name = path.rsplit("/", 1)[-1].lower()
    compressed = name.endswith(".gz")
    if compressed:
        name = name[: -len(".gz")]
    kind = _FORMATS.get(os.path.splitext(name)[1])
    return None if compressed and kind == "parquet" else kind


def source_list(source: Any, name: str = "source") -> list[Any]:
    """The sources a ``source`` argument stands for, as a list: one source alone, or a sequence of them.

    Every public function that takes sources goes through this, so a single
    path given as a string is one source, never a list of its characters.

    Args:
        source: One source (a path string, :class:`os.PathLike`, Arrow table
            or batch, parquet fragment, ``datasets`` dataset) or an iterable
            of them.
        name (str, optional): The argument's name, for errors. (default: :obj:`"source"`)

    Returns:
        list: The sources, in order.

    Raises:
        TypeError: If something else is given (bytes, a mapping such as a
            ``DatasetDict``, a number), or a list holds something else.
        ValueError: If no source is given (an empty list).

    Examples:
        >>> source_list("data/videos.parquet"), source_list(["a.parquet", "b.jsonl"])
        (['data/videos.parquet'], ['a.parquet', 'b.jsonl'])
        >>> source_list(b"videos.parquet")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        TypeError: unsupported source b'videos.parquet' of type bytes; expected a path, ...
    """
    try:
        return _as_source_list(source)
    except (TypeError, ValueError) as err:
        if name == "source":
            raise
        raise type(err)(f"{name}: {err}") from None


# -- helpers -----------------------------------------------------------------------------
def _as_source_list(source: Any) -> list[Any]:
    if source is None:
        raise ValueError("no source given; pass a path, a URL, a dataset or a list of them")
    items = [source] if _is_single_source(source) else source
    if isinstance(items, Mapping):
        raise TypeError(
            f"{_unsupported(source)} (of a datasets.DatasetDict pass one split, e.g. dataset['train']; "
            "pass rows as a pyarrow Table or a JSON file)"
        )
    if isinstance(items, bytes) or not isinstance(items, Iterable):
        raise TypeError(_unsupported(source))
    items = list(items)
    if not items:
        raise ValueError("no source given; pass a path, a URL, a dataset or a list of them")
    for item in items:
        if not _is_single_source(item):
            raise TypeError(_unsupported(item))
    return items


def _is_single_source(obj: Any) -> bool:
    return isinstance(obj, (str, os.PathLike, pa.Table, pa.RecordBatch, ParquetFragment)) or is_hf_dataset(obj)


def _unsupported(obj: Any) -> str:
    return (
        f"unsupported source {obj!r} of type {type(obj).__name__}; expected a path, directory, glob or URL, "
        "a datasets.Dataset/IterableDataset, a pyarrow Table/RecordBatch, or a list of them"
    )


def _resolve(text: str, storage_options: Mapping[str, Any] | None) -> list[tuple[fsspec.AbstractFileSystem, str, str]]:
    """``(file system, path, display name)`` of each file a source stands for."""
    is_url = "://" in text
    if not is_url:
        text = os.path.expanduser(text)
    try:
        fs, path = fsspec.core.url_to_fs(text, **(dict(storage_options or {}) if is_url else {}))
    except (ImportError, ValueError, OSError) as err:  # unknown protocol, missing backend, bad options
        raise SourceError(text, f"cannot open: {type(err).__name__}: {err}") from err

    def name(p: str) -> str:
        return fs.unstrip_protocol(p) if is_url else p

    try:
        if any(char in path for char in _GLOB_CHARS):
            matches = sorted(fs.glob(path))
            if not matches:
                raise SourceError(text, "no file matches this pattern")
            paths = [p for match in matches for p in (_parquet_under(fs, match, text) if fs.isdir(match) else [match])]
        elif fs.isdir(path):
            paths = _parquet_under(fs, path, text)
        elif fs.isfile(path):
            paths = [path]
        else:
            raise SourceError(text, "no such file or directory")
    except SourceError:
        raise
    except Exception as err:  # only file system calls above; a remote one raises its own network errors
        raise SourceError(text, f"cannot be listed: {type(err).__name__}: {err}") from err
    return [(fs, p, name(p)) for p in paths]


def _parquet_under(fs: fsspec.AbstractFileSystem, directory: str, text: str) -> list[str]:
    prefix = directory.rstrip("/") + "/"
    found = []
    for path in fs.find(directory):
        relative = path[len(prefix) :] if path.startswith(prefix) else path
        if file_format(path) == "parquet" and not any(part[:1] in "._" for part in relative.split("/")):
            found.append(path)
    if not found:
        raise SourceError(text, "no .parquet file in this directory")
    return sorted(found)


def _read_file(fs: fsspec.AbstractFileSystem, path: str, name: str, config: ReaderConfig,
               on_bad_row: Callable[[Violation], None]) -> Iterator[pa.RecordBatch]:
    kind = file_format(path)
    if kind is None:
        with fs.open(path, "rb") as file:
            if file.read(len(_PARQUET_MAGIC)) != _PARQUET_MAGIC:
                raise SourceError(
                    name, "unknown file type; expected parquet, or a name ending in .json, .jsonl or .ndjson (or .gz)"
                )
        kind = "parquet"
    if kind == "parquet" and isinstance(fs, LocalFileSystem):
        # pyarrow's own I/O, no Python file object
        yield from iter_parquet_batches(path, config, source=name, on_bad_row=on_bad_row)
        return
    reader = _FILE_READERS[kind]
    with fs.open(path, "rb") as file:
        yield from reader(file, config, source=name, on_bad_row=on_bad_row)


def _iter_arrow(
    data: pa.Table | pa.RecordBatch, config: ReaderConfig, *, source: str | None = None,
    on_bad_row: Callable[[Violation], None] | None = None,
) -> Iterator[pa.RecordBatch]:
    """The reader (:class:`~graphkit.loaders.config.Reader`) of an in-memory Arrow table or batch."""
    name = source or f"<pyarrow.{type(data).__name__} with {data.num_rows} rows>"
    conform = Conformer(data.schema, config.schema, source=name, bad_rows=config.bad_rows(on_bad_row))
    table = pa.Table.from_batches([data]) if isinstance(data, pa.RecordBatch) else data
    for batch in table.to_batches(max_chunksize=config.batch_size):
        yield conform(batch)
