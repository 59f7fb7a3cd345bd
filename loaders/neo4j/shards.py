"""Sharded, parallel CSV writing for the bulk export: several (gzip) files per type, written concurrently.

:func:`graphkit.loaders.neo4j.csv.export_csv` builds one Arrow table per node
and edge type from each batch of videos; :class:`ShardWriters` turns them into
files. Batches are dealt round-robin to ``shards`` shards; every shard owns one
file per type and one writer thread, so up to ``shards`` batches are encoded
and compressed at the same time. Arrow's CSV encoder and :mod:`zlib` both
release the GIL, so the threads run on separate cores without processes. At
most ``shards`` batches are in flight: memory stays bounded by a few batches,
whatever the size of the input.

Files are named ``<stem>.csv`` (or ``.csv.gz``) with one shard, and
``<stem>-<k>.csv[.gz]`` with more (``k`` from ``00000``). Only shard 0 of each
type carries the header, so ``neo4j-admin database import`` reads the shards
of a type as one logical file when they are listed in order
(``--nodes=segments-00000.csv.gz,segments-00001.csv.gz``); each file is
gzipped on its own (a complete gzip stream per file), which the importer
decompresses by its ``.gz`` name.

Examples:
    >>> import tempfile, pyarrow as pa
    >>> from pathlib import Path
    >>> out = Path(tempfile.mkdtemp())
    >>> writers = ShardWriters(out, {"T": ("things", pa.schema([("a:int", pa.int64())]))}, shards=2)
    >>> for start in (0, 2, 4):
    ...     writers.submit({"T": pa.table({"a:int": [start, start + 1]})})
    >>> writers.close()
    >>> [p.name for p in writers.files["T"]], writers.rows["T"]
    (['things-00000.csv', 'things-00001.csv'], 6)
    >>> (out / "things-00000.csv").read_text().splitlines()
    ['a:int', '0', '1', '4', '5']
    >>> (out / "things-00001.csv").read_text().splitlines()
    ['2', '3']
"""

from __future__ import annotations

import gzip
import logging
import os
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.csv as pacsv

__all__ = ["DEFAULT_COMPRESSION_LEVEL", "ShardWriters", "default_shards", "shard_file_name"]

logger = logging.getLogger(__name__)

DEFAULT_COMPRESSION_LEVEL = 1
"""gzip level of compressed shards: level 1 writes about 3x faster than zlib's
default 6 and the files are only ~15% larger (the captions repeat a lot)."""

_WRITE_OPTIONS = dict(delimiter=",", quoting_style="needed", quoting_header="none", null_string="")


def default_shards(compress: bool) -> int:
    """Shards per type when none are asked for: one writer thread per core for gzip (capped at 8), else one.

    Plain CSV is bound by the disk and by building the tables, so one file per
    type stays the default there.

    Args:
        compress (bool): Whether the files are gzipped.

    Returns:
        int: ``min(8, os.cpu_count())`` when ``compress``, else ``1``.

    Examples:
        >>> default_shards(False)
        1
        >>> 1 <= default_shards(True) <= 8
        True
    """
    return max(1, min(8, os.cpu_count() or 1)) if compress else 1


def shard_file_name(stem: str, shard: int, shards: int, *, compress: bool) -> str:
    """The name of one shard's file.

    Examples:
        >>> shard_file_name("segments", 0, 1, compress=False), shard_file_name("next", 3, 4, compress=True)
        ('segments.csv', 'next-00003.csv.gz')
    """
    suffix = ".csv.gz" if compress else ".csv"
    return f"{stem}{suffix}" if shards == 1 else f"{stem}-{shard:05d}{suffix}"


class _Shard:
    """One shard: a file per type, written by one thread at a time."""

    def __init__(
        self, out: Path, types: Mapping[str, tuple[str, pa.Schema]], index: int, shards: int,
        compress: bool, level: int,
    ) -> None:
        self.paths: dict[str, Path] = {}
        self._files: dict[str, IO[bytes]] = {}
        self._header = index == 0
        self._compress = compress
        self._level = level
        self._schemas = {key: table_schema for key, (_, table_schema) in types.items()}
        try:
            for key, (stem, table_schema) in types.items():
                path = out / shard_file_name(stem, index, shards, compress=compress)
                self.paths[key] = path
                self._files[key] = (
                    gzip.open(path, "wb", compresslevel=level) if compress else open(path, "wb")  # noqa: SIM115
                )
                if self._header:
                    self._files[key].write(self._encode(pa.Table.from_batches([], table_schema), header=True))
        except BaseException:
            self.close()
            raise

    @staticmethod
    def _encode(table: pa.Table, *, header: bool) -> pa.Buffer:
        sink = pa.BufferOutputStream()
        options = pacsv.WriteOptions(include_header=header, batch_size=1 << 16, **_WRITE_OPTIONS)
        pacsv.write_csv(table, sink, write_options=options)  # releases the GIL
        return sink.getvalue()

    def write(self, tables: Mapping[str, pa.Table]) -> None:
        for key, table in tables.items():
            if table.num_rows:
                # GzipFile.write compresses with zlib, which releases the GIL.
                self._files[key].write(memoryview(self._encode(table, header=False)))

    def close(self) -> None:
        files, self._files = self._files, {}
        for handle in files.values():
            handle.close()


class ShardWriters:
    """Streaming CSV writers for several types, ``shards`` files per type, written by ``shards`` threads.

    Args:
        out (pathlib.Path): The directory for the files (must exist).
        types (Mapping[str, tuple[str, pyarrow.Schema]]): By key (a label or
            relationship type): the file stem and the table schema (its field
            names are the header).
        shards (int, optional): Files per type, and writer threads.
            (default: :obj:`1`)
        compress (bool, optional): gzip each file. (default: :obj:`False`)
        compression_level (int, optional): gzip level, 1 (fastest) to 9.
            (default: :data:`DEFAULT_COMPRESSION_LEVEL`)
        inspect (Callable[[str, pyarrow.Table], None], optional): Called on the
            calling thread with every table before it is queued (the export
            uses it to spot newlines). (default: :obj:`None`)

    Raises:
        ValueError: If ``shards`` or ``compression_level`` is out of range.
    """

    def __init__(
        self,
        out: Path,
        types: Mapping[str, tuple[str, pa.Schema]],
        *,
        shards: int = 1,
        compress: bool = False,
        compression_level: int = DEFAULT_COMPRESSION_LEVEL,
        inspect: Callable[[str, pa.Table], None] | None = None,
    ) -> None:
        if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
            raise ValueError(f"shards must be a positive integer, got {shards!r}")
        if isinstance(compression_level, bool) or not isinstance(compression_level, int) or not 1 <= compression_level <= 9:
            raise ValueError(f"compression_level must be an integer from 1 to 9, got {compression_level!r}")
        self.rows: dict[str, int] = dict.fromkeys(types, 0)
        self._inspect = inspect
        self._shards: list[_Shard] = []
        self._pending: list[Future[None] | None] = [None] * shards
        self._next = 0
        self._pool = ThreadPoolExecutor(shards, thread_name_prefix="csv-shard")
        try:
            for index in range(shards):
                self._shards.append(_Shard(out, types, index, shards, compress, compression_level))
        except BaseException:
            self.close()
            raise

    @property
    def files(self) -> dict[str, tuple[Path, ...]]:
        """Every file by key, shard 0 (with the header) first."""
        keys = self._shards[0].paths if self._shards else {}
        return {key: tuple(shard.paths[key] for shard in self._shards) for key in keys}

    def submit(self, tables: Mapping[str, pa.Table]) -> None:
        """Queue one batch's tables (one per key) for the next shard; waits while that shard is busy.

        Raises:
            Exception: Whatever a writer thread raised for an earlier batch
                of the same shard (such as :class:`OSError` on a full disk).
        """
        for key, table in tables.items():
            if self._inspect is not None:
                self._inspect(key, table)
            self.rows[key] += table.num_rows
        index = self._next
        self._next = (index + 1) % len(self._shards)
        previous = self._pending[index]
        if previous is not None:
            previous.result()  # bounds memory: one batch in flight per shard
        self._pending[index] = self._pool.submit(self._shards[index].write, dict(tables))

    def close(self) -> None:
        """Wait for every queued batch, close every file and stop the threads.

        Raises:
            Exception: The first error a writer thread raised.
        """
        error: BaseException | None = None
        for future in self._pending:
            if future is not None:
                try:
                    future.result()
                except BaseException as err:  # close the files before re-raising
                    error = error or err
        self._pending = [None] * len(self._pending)
        self._pool.shutdown(wait=True)
        for shard in self._shards:
            shard.close()
        if error is not None:
            raise error
