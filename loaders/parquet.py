"""Streaming Action100M rows out of one parquet file.

A parquet file stores each leaf of the nested ``nodes`` column as its own
column chunk, so reading only the structural fields (``node_id``,
``parent_id``, ``level``, ``start``, ``end``) decodes a small part of the
file. pyarrow selects nested leaves only by their *full* path, such as
``nodes.list.element.level``: a shorter path silently selects nothing. The
reader therefore never guesses paths: it maps each field it needs to the
file's own leaf path (the arrow schema's leaves and the parquet columns come
in the same depth-first order), so files written with other list naming
conventions are read too.

The file's schema is read and checked once (see :mod:`graphkit.loaders.conform`),
then the file is read one row group at a time, each group decoded
``batch_size`` rows at a time by its own short-lived
:meth:`~pyarrow.parquet.ParquetFile.iter_batches`, and handed out as record
batches of exactly ``batch_size`` videos (only the file's last one may be
smaller; a batch may span two row groups). Each piece's memory is released
once its rows are handed out, so Arrow's memory stays bounded by a few
batches, whatever the size of the file or of its row groups. (One
``iter_batches`` over the whole file does not: on a 1.5M-segment file its
Arrow pool grew by about 110 bytes per segment read. Decoding a whole row
group at once holds all of it: on 1,000-video preview-like groups the pool
peaked at 150 MB, against 89 MB piece by piece.)

Examples:
    >>> import tempfile, pyarrow as pa, pyarrow.parquet as pq
    >>> from graphkit.schema import SOURCE_SCHEMA
    >>> from graphkit.loaders.config import ReaderConfig
    >>> row = {"video_uid": "v1", "nodes": [{"node_id": "a", "parent_id": None, "level": 0,
    ...                                      "start": 0.0, "end": 2.0}]}
    >>> path = tempfile.mkdtemp() + "/one.parquet"
    >>> pq.write_table(pa.Table.from_pylist([row] * 3, schema=SOURCE_SCHEMA), path)
    >>> config = ReaderConfig(batch_size=2, node_fields=("node_id", "level"), metadata=False)
    >>> batches = list(iter_parquet_batches(path, config))
    >>> [b.num_rows for b in batches], batches[0].schema.field("nodes").type
    ([2, 1], ListType(list<item: struct<node_id: string, level: int16>>))
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from graphkit.errors import SourceError
from graphkit.loaders.config import ReaderConfig
from graphkit.loaders.conform import Conformer
from graphkit.loaders.files import FileLike, describe_file
from graphkit.validation import Violation

__all__ = ["ParquetFragment", "iter_parquet_batches", "iter_fragment_batches", "physical_column_paths", "rebatch"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ParquetFragment:
    """Some consecutive row groups of one local parquet file: a source of its own.

    Every reader of :mod:`graphkit.loaders.sources` accepts it, so a file can
    be processed in independent pieces (in parallel, or one piece per output
    shard) that together read exactly its rows, in order.

    Args:
        path (str): The parquet file.
        row_groups (tuple[int, ...]): Row groups to read, ascending.
        num_rows (int): Rows (videos) in those row groups.

    Examples:
        >>> ParquetFragment("a.parquet", (2, 3), 500).name
        'a.parquet[row groups 2-3]'
    """

    path: str
    row_groups: tuple[int, ...]
    num_rows: int

    @property
    def name(self) -> str:
        """The file and its row groups, as in messages."""
        first, last = self.row_groups[0], self.row_groups[-1]
        return f"{self.path}[row group {first}]" if first == last else f"{self.path}[row groups {first}-{last}]"


def iter_parquet_batches(
    file: FileLike, config: ReaderConfig, *, source: str | None = None,
    on_bad_row: Callable[[Violation], None] | None = None,
) -> Iterator[pa.RecordBatch]:
    """Record batches of one parquet file, in the canonical (projected) schema.

    A row is named by its position in the file (``videos.parquet, row 17``).

    Args:
        file (FileLike): A local path, or an open binary file (e.g. from
            :func:`fsspec.open`).
        config (ReaderConfig): See :class:`~graphkit.loaders.config.Reader`.
        source (str, optional): See :class:`~graphkit.loaders.config.Reader`.
        on_bad_row (callable, optional): See :class:`~graphkit.loaders.config.Reader`.

    Yields:
        pyarrow.RecordBatch: See :class:`~graphkit.loaders.config.Reader`.

    Raises:
        SourceError: If the file is not a readable parquet file.
        SchemaError: If a required column is missing or a column has the wrong type.
        RowError: If a value does not fit its canonical type (under
            ``config.on_bad_rows="error"``; a subclass of ``SchemaError``).
    """
    yield from _iter_row_groups(file, config, source or describe_file(file), None, on_bad_row)


def iter_fragment_batches(
    fragment: ParquetFragment, config: ReaderConfig, *, source: str | None = None,
    on_bad_row: Callable[[Violation], None] | None = None,
) -> Iterator[pa.RecordBatch]:
    """Record batches of one :class:`ParquetFragment`: :func:`iter_parquet_batches` on its row groups only.

    Rows are numbered in the whole file, as :func:`iter_parquet_batches` numbers them.

    Args:
        fragment (ParquetFragment): The row groups to read.
        config (ReaderConfig): See :class:`~graphkit.loaders.config.Reader`.
        source (str, optional): See :class:`~graphkit.loaders.config.Reader`.
            (default: the fragment's :attr:`~ParquetFragment.name`)
        on_bad_row (callable, optional): See :class:`~graphkit.loaders.config.Reader`.

    Yields:
        pyarrow.RecordBatch: See :class:`~graphkit.loaders.config.Reader`.
    """
    yield from _iter_row_groups(fragment.path, config, source or fragment.name, fragment.row_groups, on_bad_row)


def _iter_row_groups(
    file: FileLike, config: ReaderConfig, name: str, row_groups: Sequence[int] | None,
    on_bad_row: Callable[[Violation], None] | None,
) -> Iterator[pa.RecordBatch]:
    try:
        parquet = pq.ParquetFile(file)
    except (pa.ArrowException, OSError) as err:
        raise SourceError(name, f"not a readable parquet file: {err}") from err
    metadata = parquet.metadata
    first_row = sum(metadata.row_group(g).num_rows for g in range(row_groups[0])) if row_groups else 0
    conform = Conformer(parquet.schema_arrow, config.schema, source=name, bad_rows=config.bad_rows(on_bad_row),
                        first_row=first_row)
    try:
        paths = physical_column_paths(parquet)
    except ValueError as err:  # pragma: no cover - an arrow type the walk does not know
        raise SourceError(name, str(err)) from err
    columns = [paths[leaf] for leaf in conform.leaves]
    logger.debug("%s: reading %d of %d columns", name, len(columns), len(paths))
    with parquet:  # closes the file when pyarrow opened it, not a file object passed in
        try:
            chosen = range(parquet.num_row_groups) if row_groups is None else row_groups
            pieces = (
                batch
                for group in chosen  # a fresh iterator per group: see the module docstring
                # One decoding thread: the read-ahead thread already overlaps decoding with
                # the caller, and Arrow's own pool made it slower and its peak memory grow
                # (preview-sized file: 17.9 s and 283 MB, against 8.2 s and 222 MB).
                for batch in parquet.iter_batches(batch_size=config.batch_size, row_groups=[group], columns=columns,
                                                 use_threads=False)
            )
            for batch in rebatch(pieces, config.batch_size):
                yield conform(batch)
        except (pa.ArrowException, OSError) as err:
            raise SourceError(name, f"cannot read parquet data: {err}") from err


def rebatch(tables: Iterator[pa.Table | pa.RecordBatch], size: int) -> Iterator[pa.RecordBatch]:
    """Record batches of exactly ``size`` rows (the last may be smaller) from a stream of tables or batches.

    Each table is dropped as soon as its rows are handed out; rows of two
    tables that meet in one batch are concatenated (a copy of at most one batch).

    Args:
        tables (Iterator[pyarrow.Table | pyarrow.RecordBatch]): Tables or record batches of one
            schema, e.g. the pieces of row groups.
        size (int): Rows per batch, at least 1.

    Yields:
        pyarrow.RecordBatch: Contiguous batches in the tables' row order.

    Examples:
        >>> import pyarrow as pa
        >>> parts = (pa.table({"x": list(range(n))}) for n in (3, 4, 0, 2))
        >>> [b.num_rows for b in rebatch(parts, 4)]
        [4, 4, 1]
    """
    pending: list[pa.RecordBatch] = []
    held = 0
    for table in tables:
        pieces = [table] if isinstance(table, pa.RecordBatch) else table.combine_chunks().to_batches()
        for piece in pieces:
            offset = 0
            while offset < piece.num_rows:
                take = min(size - held, piece.num_rows - offset)
                pending.append(piece.slice(offset, take))
                held += take
                offset += take
                if held == size:
                    yield pending[0] if len(pending) == 1 else pa.concat_batches(pending)
                    pending, held = [], 0
        del table
    if held:
        yield pending[0] if len(pending) == 1 else pa.concat_batches(pending)


def physical_column_paths(parquet: pq.ParquetFile) -> dict[tuple[str, ...], str]:
    """The file's parquet column path of each arrow leaf field.

    Args:
        parquet (pyarrow.parquet.ParquetFile): An open parquet file.

    Returns:
        dict[tuple[str, ...], str]: Logical leaf path (field names only, no
        list levels) to the dotted path that ``iter_batches(columns=...)``
        accepts.

    Raises:
        ValueError: If the arrow leaves do not match the parquet columns.

    Examples:
        >>> import io, pyarrow as pa, pyarrow.parquet as pq
        >>> sink = io.BytesIO()
        >>> pq.write_table(pa.table({"nodes": [[{"level": 1}]]}), sink)
        >>> physical_column_paths(pq.ParquetFile(sink))
        {('nodes', 'level'): 'nodes.list.element.level'}
    """
    logical = [leaf for field in parquet.schema_arrow for leaf in _leaves(field.type, (field.name,))]
    metadata = parquet.metadata
    if metadata.num_row_groups:
        # Read from a column chunk, not ``parquet.schema``: that ParquetSchema and the
        # file's metadata refer to each other, so the whole footer (~2.8 MB on a
        # preview-sized file) outlived every fragment until a full garbage collection,
        # and a convert of the preview grew by that much per fragment.
        row_group = metadata.row_group(0)
        physical = [row_group.column(i).path_in_schema for i in range(row_group.num_columns)]
    else:
        schema = metadata.schema
        physical = [schema.column(i).path for i in range(len(schema))]
    if len(logical) != len(physical):
        raise ValueError(f"{len(logical)} arrow leaf fields but {len(physical)} parquet columns")
    return dict(zip(logical, physical))


def _leaves(dtype: pa.DataType, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    """Depth-first logical paths of the leaves of a type, as parquet orders its columns."""
    if isinstance(dtype, pa.ExtensionType):
        dtype = dtype.storage_type
    if pa.types.is_struct(dtype):
        for child in dtype:
            yield from _leaves(child.type, (*path, child.name))
    elif pa.types.is_map(dtype):
        yield from _leaves(dtype.key_type, (*path, "key"))
        yield from _leaves(dtype.item_type, (*path, "value"))
    elif (
        pa.types.is_list(dtype)
        or pa.types.is_large_list(dtype)
        or pa.types.is_fixed_size_list(dtype)
        or pa.types.is_list_view(dtype)
        or pa.types.is_large_list_view(dtype)
    ):
        yield from _leaves(dtype.value_type, path)
    else:
        yield path
