"""What every reader is told, and what a reader is.

:class:`ReaderConfig` holds every option of the readers in one place: how
many videos a batch holds, which node fields (and so which parquet leaf
columns) are decoded, whether the ``metadata`` column is read, what to do
with a source that cannot be read and with one row that cannot, and the
fsspec options of URLs. Its
:attr:`~ReaderConfig.schema` is the projection of
:data:`graphkit.schema.SOURCE_SCHEMA` every batch comes in, and its
:attr:`~ReaderConfig.columns` the parquet leaf paths that projection reads.

:class:`Reader` is the shape every reader function shares
(:func:`~graphkit.loaders.parquet.iter_parquet_batches`,
:func:`~graphkit.loaders.json.iter_json_batches`,
:func:`~graphkit.loaders.json.iter_jsonl_batches`,
:func:`~graphkit.loaders.hf.iter_hf_batches`): one input and a
:class:`ReaderConfig` in, canonical record batches out. Its docstring
documents the arguments they share. :mod:`graphkit.loaders.sources` picks
the reader of each source and calls it.

Examples:
    >>> from graphkit.loaders.files import FileLike
    >>> from graphkit.loaders.parquet import iter_parquet_batches
    >>> config = ReaderConfig(batch_size=2, node_fields=("node_id", "level"), metadata=False)
    >>> config.schema.names, str(config.schema.field("nodes").type)
    (['video_uid', 'nodes'], 'list<item: struct<node_id: string, level: int16>>')
    >>> reader: Reader[FileLike] = iter_parquet_batches
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol, TypeVar

import pyarrow as pa

from graphkit.loaders.conform import ON_BAD_ROWS, BadRows, OnBadRows, target_schema
from graphkit.schema import NODE_TYPE, leaf_paths
from graphkit.typing import OnBadFiles
from graphkit.validation import Violation

__all__ = ["ReaderConfig", "Reader", "OnBadFiles", "ON_BAD_FILES", "OnBadRows", "ON_BAD_ROWS"]

#: The values :attr:`ReaderConfig.on_bad_files` accepts.
ON_BAD_FILES: tuple[str, ...] = ("error", "warn", "skip")

_Input = TypeVar("_Input", contravariant=True)


@dataclasses.dataclass(frozen=True)
class ReaderConfig:
    r"""Every option of the readers, in one place.

    Args:
        batch_size (int, optional): The most videos in one record batch;
            the last batch of each source may hold fewer (as may the batches
            of a Hugging Face dataset whose table is chunked).
            (default: :obj:`1024`)
        node_fields (tuple[str, ...], optional): Node fields to decode;
            :obj:`None` decodes all of them. Structure-only work passes
            :data:`~graphkit.schema.STRUCTURE_FIELDS`, so a parquet reader
            decodes only ``video_uid`` and those five leaf columns.
            (default: :obj:`None`)
        metadata (bool, optional): Also read the ``metadata`` column.
            (default: :obj:`True`)
        on_bad_files (str, optional): What to do with a source that cannot be
            read (missing, not parquet/JSON, wrong schema): ``"error"``
            raises, ``"warn"`` skips it with a warning, ``"skip"`` skips it
            with an info log; skipped sources are listed in
            :attr:`~graphkit.loaders.sources.RecordBatchStream.skipped`.
            (default: :obj:`"error"`)
        on_bad_rows (str, optional): What to do with one row that cannot be
            read while the rest of its source can (a JSON line that does not
            parse or repeats a key, ``false`` where a number is expected, a
            value that does not fit its column, a null ``video_uid``):
            ``"error"`` raises :class:`~graphkit.errors.RowError` naming the
            source, the row and the video; ``"skip"`` leaves out that row
            only and reports it (see :class:`~graphkit.loaders.conform.BadRows`;
            :attr:`~graphkit.loaders.sources.RecordBatchStream.rejected` lists
            them). (default: :obj:`"error"`)
        storage_options (Mapping[str, Any], optional): Passed to
            :func:`fsspec.core.url_to_fs` for URLs (e.g. ``{"token": ...}``
            for ``hf://``). (default: :obj:`None`)

    Raises:
        ValueError: If an option has an invalid value.
        TypeError: If an option has the wrong type.

    Examples:
        >>> from graphkit.schema import STRUCTURE_FIELDS
        >>> config = ReaderConfig(node_fields=STRUCTURE_FIELDS, metadata=False)
        >>> config.columns[:3]
        ['video_uid', 'nodes.list.element.node_id', 'nodes.list.element.parent_id']
        >>> config.schema.names
        ['video_uid', 'nodes']
        >>> ReaderConfig(on_bad_files="ignore")
        Traceback (most recent call last):
        ...
        ValueError: on_bad_files='ignore' is not one of ('error', 'warn', 'skip')
    """

    batch_size: int = 1024
    node_fields: tuple[str, ...] | None = None
    metadata: bool = True
    on_bad_files: OnBadFiles = "error"
    on_bad_rows: OnBadRows = "error"
    storage_options: Mapping[str, Any] | None = dataclasses.field(default=None, hash=False)

    def __post_init__(self) -> None:
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int):
            raise TypeError(f"batch_size must be an int, got {self.batch_size!r}")
        if self.batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {self.batch_size!r}")
        if self.node_fields is not None:
            if isinstance(self.node_fields, str):
                raise TypeError(f"node_fields must be a sequence of names, got the string {self.node_fields!r}")
            object.__setattr__(self, "node_fields", tuple(dict.fromkeys(self.node_fields)))
        target_schema(self.node_fields, metadata=self.metadata)  # raises on unknown or no fields
        if self.on_bad_files not in ON_BAD_FILES:
            raise ValueError(f"on_bad_files={self.on_bad_files!r} is not one of {ON_BAD_FILES}")
        if self.on_bad_rows not in ON_BAD_ROWS:
            raise ValueError(f"on_bad_rows={self.on_bad_rows!r} is not one of {ON_BAD_ROWS}")

    @functools.cached_property
    def schema(self) -> pa.Schema:
        """The schema of every batch read with this configuration."""
        return target_schema(self.node_fields, metadata=self.metadata)

    def bad_rows(self, report: Callable[[Violation], None] | None = None) -> BadRows:
        """The :class:`~graphkit.loaders.conform.BadRows` of one source read with this configuration."""
        return BadRows(self.on_bad_rows, report)

    @property
    def columns(self) -> list[str]:
        """The parquet leaf paths read from a file in the published layout."""
        fields = None if self.node_fields is None else tuple(f for f in NODE_TYPE.names if f in self.node_fields)
        return leaf_paths(fields, metadata=self.metadata)


class Reader(Protocol[_Input]):
    """A reader: one input and a :class:`ReaderConfig` in, canonical record batches out.

    ``Reader[FileLike]`` (:data:`~graphkit.loaders.files.FileLike`) is a file
    reader (parquet, JSON, JSON Lines);
    :func:`~graphkit.loaders.hf.iter_hf_batches` reads a ``datasets``
    object the same way. The readers' own docstrings say what they accept
    and raise; the arguments and the batches they share are these.
    """

    def __call__(
        self, data: _Input, config: ReaderConfig, /, *, source: str | None = None,
        on_bad_row: Callable[[Violation], None] | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """Read ``data`` as canonical record batches.

        Args:
            data: What to read. A file reader takes a
                :data:`~graphkit.loaders.files.FileLike`: a local path or an
                open binary file (from :func:`open`, :func:`fsspec.open`,
                :class:`io.BytesIO`).
            config (ReaderConfig): Batch size, fields to read.
            source (str, optional): How to name the input in errors and
                logs. (default: for a file, the path, or the file object's
                ``path``/``name``, as :func:`~graphkit.loaders.files.describe_file`
                gives it)
            on_bad_row (callable, optional): Under ``config.on_bad_rows="skip"``,
                receives the :class:`~graphkit.validation.Violation` of each
                row left out (naming the source and the row, and the video
                when it can be read). (default: each is logged as a warning)

        Yields:
            pyarrow.RecordBatch: At most ``config.batch_size`` videos each,
            with exactly the fields of ``config.schema``.
        """
        ...
