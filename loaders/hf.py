"""Action100M rows out of an opened Hugging Face ``datasets`` object.

A :class:`datasets.Dataset` is already an Arrow table (usually memory-mapped
from the cache), so its rows are never turned into Python objects: the reader
keeps the top-level columns it needs (:meth:`~datasets.Dataset.select_columns`),
asks for Arrow-formatted batches of ``batch_size`` rows (which honours any
``select``/``shuffle``/``filter`` index mapping) and conforms each to the
canonical schema. A :class:`datasets.IterableDataset` is streamed the same
way; when it declares no features, its schema is taken from its batches (and
checked again whenever a batch's schema changes, since a generator may yield
an all-``null`` column in one batch and a typed one in the next).

``datasets`` is imported only when a dataset is read.

Examples:
    >>> import datasets
    >>> from graphkit.loaders.config import ReaderConfig
    >>> row = {"video_uid": "v1", "nodes": [{"node_id": "a", "parent_id": None, "level": 0,
    ...                                      "start": 0.0, "end": 2.0}]}
    >>> dataset = datasets.Dataset.from_list([row] * 3)
    >>> config = ReaderConfig(batch_size=2, node_fields=("node_id", "level"), metadata=False)
    >>> [b.num_rows for b in iter_hf_batches(dataset, config)]
    [2, 1]
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa

from graphkit.errors import SourceError
from graphkit.loaders.config import ReaderConfig
from graphkit.loaders.conform import Conformer
from graphkit.validation import Violation

__all__ = ["is_hf_dataset", "describe_hf_dataset", "iter_hf_batches"]

logger = logging.getLogger(__name__)

_DATASET_CLASSES = ("Dataset", "IterableDataset")
_DICT_CLASSES = ("DatasetDict", "IterableDatasetDict")


def is_hf_dataset(obj: object) -> bool:
    """Whether ``obj`` is a ``datasets.Dataset`` or ``datasets.IterableDataset``.

    Decided without importing ``datasets``: an object of its classes can only
    exist once it is imported.

    Examples:
        >>> is_hf_dataset("data.parquet")
        False
    """
    return _datasets_class(obj) in _DATASET_CLASSES


def describe_hf_dataset(dataset: Any) -> str:
    """A short description of a dataset for errors and logs.

    Examples:
        >>> import datasets
        >>> describe_hf_dataset(datasets.Dataset.from_dict({"video_uid": ["v1"]}))
        'datasets.Dataset(num_rows=1)'
    """
    parts = []
    name = getattr(dataset.info, "dataset_name", None)
    if name:
        parts.append(repr(name))
    if dataset.split is not None:
        parts.append(f"split={str(dataset.split)!r}")
    if type(dataset).__name__ == "Dataset":
        parts.append(f"num_rows={dataset.num_rows}")
    return f"datasets.{type(dataset).__name__}({', '.join(parts)})"


def iter_hf_batches(
    dataset: Any, config: ReaderConfig, *, source: str | None = None,
    on_bad_row: Callable[[Violation], None] | None = None,
) -> Iterator[pa.RecordBatch]:
    """Record batches of a Hugging Face dataset, in the canonical (projected) schema.

    A row is named by its position in the dataset (``datasets.Dataset(num_rows=6), row 3``).

    Args:
        dataset (datasets.Dataset or datasets.IterableDataset): Rows in the
            Action100M layout (e.g. ``load_dataset("parquet", ...)``).
        config (ReaderConfig): See :class:`~graphkit.loaders.config.Reader`.
        source (str, optional): How to name the dataset in errors and logs.
            (default: :func:`describe_hf_dataset`)
        on_bad_row (callable, optional): See :class:`~graphkit.loaders.config.Reader`.

    Yields:
        pyarrow.RecordBatch: See :class:`~graphkit.loaders.config.Reader`.

    Raises:
        TypeError: If ``dataset`` is not a ``Dataset``/``IterableDataset``
            (a ``DatasetDict`` must be indexed by a split first).
        SchemaError: If a required column is missing or has the wrong type.
        RowError: If a value does not fit its canonical type (under
            ``config.on_bad_rows="error"``).
        SourceError: If the dataset fails while producing its rows.
    """
    kind = _datasets_class(dataset)
    if kind in _DICT_CLASSES:
        raise TypeError(f"got a datasets.{kind} with splits {list(dataset)}; pass one split, e.g. dataset['train']")
    if kind not in _DATASET_CLASSES:
        raise TypeError(f"expected a datasets.Dataset or datasets.IterableDataset, got {type(dataset).__name__}")
    return _hf_batches(dataset, config, source or describe_hf_dataset(dataset), on_bad_row)


def _hf_batches(dataset: Any, config: ReaderConfig, name: str,
                on_bad_row: Callable[[Violation], None] | None) -> Iterator[pa.RecordBatch]:
    target = config.schema
    bad_rows = config.bad_rows(on_bad_row)
    conform: Conformer | None = None
    checked: pa.Schema | None = None
    names = dataset.column_names  # None for an IterableDataset that declares no features
    if names is not None:
        dataset = dataset.select_columns([column for column in target.names if column in names])
        if dataset.features is not None:
            checked = dataset.features.arrow_schema
            conform = Conformer(checked, target, source=name, bad_rows=bad_rows)
    rows = 0
    for batch in _arrow_batches(dataset.with_format("arrow"), config.batch_size, name):
        if conform is None or checked is None or not batch.schema.equals(checked):
            checked = batch.schema
            conform = Conformer(checked, target, source=name, bad_rows=bad_rows, first_row=rows)
        rows += batch.num_rows
        yield conform(batch)


def _arrow_batches(dataset: Any, batch_size: int, name: str) -> Iterator[pa.RecordBatch]:
    """The dataset's Arrow batches; failures of the dataset itself become SourceError."""
    tables = iter(dataset.iter(batch_size=batch_size))
    while True:
        try:
            table = next(tables)
        except StopIteration:
            return
        except (pa.ArrowException, OSError, TypeError, ValueError) as err:
            raise SourceError(name, f"the dataset failed to produce rows: {err}") from err
        yield from table.to_batches()


def _datasets_class(obj: object) -> str | None:
    datasets = sys.modules.get("datasets")
    if datasets is None:
        return None
    for name in (*_DATASET_CLASSES, *_DICT_CLASSES):
        if isinstance(obj, getattr(datasets, name)):
            return name
    return None
