"""Type aliases shared across graphkit, defined once here (as in ``torch_geometric.typing``).

The modules that take these arguments import them from here; some also
re-export a name for their own readers (``graphkit.features.StringArrayLike``,
``graphkit.validation.ErrorPolicy``, ``graphkit.loaders.sources.Source``).

Examples:
    >>> from graphkit.typing import ErrorPolicy
    >>> ErrorPolicy.__args__
    ('raise', 'skip')
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal, Union

import numpy as np
import pyarrow as pa

if TYPE_CHECKING:
    import datasets

__all__ = [
    "StringArrayLike",
    "UidArrayLike",
    "ErrorPolicy",
    "Source",
    "OnBadFiles",
    "FieldPath",
    "RowLookup",
]

#: Strings as Arrow (chunked) arrays or Python/numpy sequences; null is allowed.
StringArrayLike = Union[pa.Array, pa.ChunkedArray, Sequence[Union[str, None]], np.ndarray]

#: Video ids as Arrow (chunked) arrays or Python/numpy sequences of strings.
UidArrayLike = Union[pa.Array, pa.ChunkedArray, Sequence[str], np.ndarray]

#: What to do with a video that breaks a rule (:class:`graphkit.validation.ValidationConfig`).
ErrorPolicy = Literal["raise", "skip"]

#: One source: a path or URL (file, directory, glob), an Arrow table or batch,
#: or a ``datasets.Dataset``/``datasets.IterableDataset``.
Source = Union[str, "os.PathLike[str]", pa.Table, pa.RecordBatch, "datasets.Dataset", "datasets.IterableDataset"]

#: What a reader does with a file it cannot read (:class:`graphkit.loaders.sources.ReaderConfig`).
OnBadFiles = Literal["error", "warn", "skip"]

#: The field names leading to a nested Arrow field (``("nodes", "gpt", "action")``).
FieldPath = tuple[str, ...]

#: Callable returning, for each element of the array being conformed, its row in the batch.
RowLookup = Callable[[], np.ndarray]
