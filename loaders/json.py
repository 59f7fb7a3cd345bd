"""Action100M rows out of JSON and JSON Lines files.

Three layouts are read, plain or gzip-compressed (detected from the content,
so ``.json.gz`` and ``.jsonl.gz`` work whatever their name):

* **row form**, a JSON document holding one row object
  ``{"video_uid": "...", "metadata": {...}, "nodes": [{...}, ...]}`` or a
  list of them;
* **column form**, the layout the dataset authors use, one JSON document
  whose values are lists of equal length
  ``{"video_uid": ["..."], "metadata": [{...}], "nodes": [[{...}]]}``;
* **JSON Lines**, one row object per line (blank lines are ignored). This is
  the streaming layout: lines are parsed ``batch_size`` rows at a time, so
  memory stays bounded by one batch. A JSON document is parsed whole.

Rows are parsed with the standard library and converted with
:meth:`pyarrow.RecordBatch.from_pylist` to the canonical layout with 64-bit
numbers (JSON has no narrower ones), then cast to the canonical types by a
:class:`~graphkit.loaders.conform.Conformer`: a value that does not fit (``level``
40000 in an ``int16``) is an error naming the video. A number written
``3.0`` is accepted where an integer is expected, ``3.5`` is not. Keys a row
lacks are nulls, keys the schema does not know are ignored; a row without
``video_uid`` or ``nodes`` is an error. Every error names the file and the
line (JSON Lines) or the row (JSON document).

Examples:
    >>> import io, json
    >>> from graphkit.loaders.config import ReaderConfig
    >>> row = {"video_uid": "v1", "nodes": [{"node_id": "a", "parent_id": None, "level": 0,
    ...                                      "start": 0, "end": 2.5}]}
    >>> lines = io.BytesIO(b"\\n".join(json.dumps(row).encode() for _ in range(3)))
    >>> config = ReaderConfig(batch_size=2, node_fields=("level", "end"), metadata=False)
    >>> batches = list(iter_jsonl_batches(lines, config, source="rows.jsonl"))
    >>> [b.num_rows for b in batches], str(batches[0].schema.field("nodes").type)
    ([2, 1], 'list<item: struct<level: int16, end: float>>')
    >>> columns = io.BytesIO(json.dumps({"video_uid": ["v1"], "nodes": [row["nodes"]]}).encode())
    >>> next(iter_json_batches(columns, config)).column("nodes").to_pylist()
    [[{'level': 0, 'end': 2.5}]]
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import logging
import os
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit.errors import SchemaError, SourceError
from graphkit.loaders.config import ReaderConfig
from graphkit.loaders.conform import Conformer
from graphkit.loaders.files import FileLike, describe_file

__all__ = ["iter_json_batches", "iter_jsonl_batches", "json_schema"]

logger = logging.getLogger(__name__)

_GZIP_MAGIC = b"\x1f\x8b"
_READ_ERRORS = (OSError, EOFError, zlib.error)
_REQUIRED_KEYS = ("video_uid", "nodes")
_JSON_TYPE_NAMES = {dict: "object", list: "array", str: "string", int: "number", float: "number", bool: "boolean"}


def iter_json_batches(file: FileLike, config: ReaderConfig, *, source: str | None = None) -> Iterator[pa.RecordBatch]:
    """Record batches of one JSON document, in row form or column form.

    Args:
        file (FileLike): The JSON document (a local path or an open
            binary file), plain or gzip-compressed.
        config (ReaderConfig): See :class:`~graphkit.loaders.config.Reader`.
        source (str, optional): See :class:`~graphkit.loaders.config.Reader`.

    Yields:
        pyarrow.RecordBatch: See :class:`~graphkit.loaders.config.Reader`.

    Raises:
        SourceError: If the file cannot be read or is not valid JSON (naming
            the line and column).
        SchemaError: If the document is not a row, a list of rows or column
            form, or a row does not match the schema.
    """
    name = source or describe_file(file)
    try:
        with _open(file) as stream:
            text = stream.read()
    except _READ_ERRORS as err:
        raise SourceError(name, f"cannot be read: {err}") from err
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise SourceError(name, f"invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}") from err
    except UnicodeDecodeError as err:
        raise SourceError(name, f"not UTF-8 text: {err}") from err
    yield from _batches(_document_rows(document, config, name), config, name)


def iter_jsonl_batches(file: FileLike, config: ReaderConfig, *, source: str | None = None) -> Iterator[pa.RecordBatch]:
    """Record batches of a JSON Lines file (one row object per line), streamed.

    Args:
        file (FileLike): The JSON Lines file (a local path or an open
            binary file), plain or gzip-compressed.
        config (ReaderConfig): See :class:`~graphkit.loaders.config.Reader`.
        source (str, optional): See :class:`~graphkit.loaders.config.Reader`.

    Yields:
        pyarrow.RecordBatch: See :class:`~graphkit.loaders.config.Reader`.

    Raises:
        SourceError: If the file cannot be read or a line is not valid JSON
            (naming the line).
        SchemaError: If a line is not a row object or does not match the schema.
    """
    name = source or describe_file(file)
    try:
        with _open(file) as stream:
            yield from _batches(_line_rows(stream, name), config, name)
    except _READ_ERRORS as err:
        raise SourceError(name, f"cannot be read: {err}") from err


def json_schema(target: pa.Schema) -> pa.Schema:
    """The schema JSON values are first converted to: ``target`` with 64-bit numbers.

    Args:
        target (pyarrow.Schema): A canonical schema (see
            :func:`graphkit.loaders.conform.target_schema`).

    Returns:
        pyarrow.Schema: The same fields, every integer ``int64`` and every
        floating-point number ``float64``.

    Examples:
        >>> from graphkit.loaders.conform import target_schema
        >>> str(json_schema(target_schema(("level", "start"), metadata=False)).field("nodes").type)
        'list<item: struct<level: int64, start: double>>'
    """
    return pa.schema([pa.field(field.name, _widen(field.type)) for field in target])


# -- rows out of the layouts ------------------------------------------------------
def _line_rows(stream: BinaryIO, name: str) -> Iterator[tuple[str, Any]]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            yield f"line {number}", json.loads(line)
        except json.JSONDecodeError as err:
            raise SourceError(name, f"invalid JSON at line {number}, column {err.colno}: {err.msg}") from err
        except UnicodeDecodeError as err:
            raise SourceError(name, f"line {number} is not UTF-8 text: {err}") from err


def _document_rows(document: Any, config: ReaderConfig, name: str) -> Iterable[tuple[str, Any]]:
    if isinstance(document, list):
        return ((f"row {index}", row) for index, row in enumerate(document))
    if isinstance(document, dict) and isinstance(document.get("video_uid"), list):
        return _column_rows(document, config, name)
    if isinstance(document, dict):
        return [("the row", document)]
    raise SchemaError(
        name, f"the document is a JSON {_json_type(document)}; expected a row object, a list of rows or column form"
    )


def _column_rows(document: dict, config: ReaderConfig, name: str) -> Iterator[tuple[str, dict]]:
    """Column form, one row at a time (a loop per video)."""
    columns = {key: document[key] for key in config.schema.names if key in document}
    for key in _REQUIRED_KEYS:
        if key not in columns:
            raise SchemaError(name, f"column form without {key!r}")
    for key, values in columns.items():
        if not isinstance(values, list):
            raise SchemaError(name, f"column form: {key!r} is a JSON {_json_type(values)}, not an array")
    lengths = {key: len(values) for key, values in columns.items()}
    if len(set(lengths.values())) > 1:
        raise SchemaError(name, f"column form: the columns have different lengths {lengths}")
    keys = list(columns)
    for index, values in enumerate(zip(*columns.values())):
        yield f"row {index}", dict(zip(keys, values))


# -- rows to canonical batches ------------------------------------------------------
def _batches(rows: Iterable[tuple[str, Any]], config: ReaderConfig, name: str) -> Iterator[pa.RecordBatch]:
    wide = json_schema(config.schema)
    conform = Conformer(wide, config.schema, source=name)
    chunk: list[Any] = []
    labels: list[str] = []
    for label, row in rows:
        chunk.append(row)
        labels.append(label)
        if len(chunk) == config.batch_size:
            yield conform(_to_batch(chunk, labels, wide, name))
            chunk, labels = [], []
    if chunk:
        yield conform(_to_batch(chunk, labels, wide, name))


def _to_batch(rows: list[Any], labels: Sequence[str], wide: pa.Schema, name: str) -> pa.RecordBatch:
    for row, label in zip(rows, labels):
        if not isinstance(row, dict):
            raise SchemaError(name, f"{label} is a JSON {_json_type(row)}, not a row object")
        for key in _REQUIRED_KEYS:
            if key not in row:
                raise SchemaError(name, f"{label} has no {key!r}")
    try:
        batch = pa.RecordBatch.from_pylist(rows, schema=wide)
    except (pa.ArrowException, TypeError, ValueError) as err:
        raise SchemaError(name, _diagnose(rows, labels, wide, err)) from err
    _check_integral(batch, rows, labels, wide, name)
    return batch


def _check_integral(batch: pa.RecordBatch, rows: list, labels: Sequence[str], wide: pa.Schema, name: str) -> None:
    """Refuse a fractional number where an integer is expected.

    pyarrow converts the Python float ``2.5`` to the integer ``2`` without a
    word, so the integer fields are converted a second time as doubles and
    compared, vectorized; ``3.0`` passes, ``2.5`` is an error.
    """
    paths = list(_integer_paths(wide))
    if not paths:
        return
    probe = pa.RecordBatch.from_pylist(rows, schema=_as_doubles(wide, paths))
    for path in paths:
        exact, _ = _leaf(batch, path)
        double, parents = _leaf(probe, path)
        differs = pc.fill_null(pc.not_equal(exact.cast(pa.float64()), double), False)
        position = pc.index(differs, True).as_py()
        if position >= 0:
            row = int(parents()[position])
            uid = rows[row].get("video_uid")
            raise SchemaError(
                name,
                f"{labels[row]} (video {uid!r}): column {'.'.join(path)!r} holds {double[position].as_py()}, "
                "which is not an integer",
            )


def _diagnose(rows: list[dict], labels: Sequence[str], wide: pa.Schema, err: Exception) -> str:
    """Find the row and column that failed to convert (runs on the error path only)."""
    for row, label in zip(rows, labels):
        for field in wide:
            try:
                pa.array([row.get(field.name)], type=field.type)
            except (pa.ArrowException, TypeError, ValueError) as cause:
                column, reason = field.name, cause
                if field.name == "nodes" and isinstance(row["nodes"], list):
                    column, reason = _diagnose_nodes(row["nodes"], field.type.value_type) or (column, cause)
                return f"{label} (video {row.get('video_uid')!r}): column {column!r}: {reason}"
    return f"rows do not match the schema: {err}"


def _diagnose_nodes(nodes: list, node_type: pa.StructType) -> tuple[str, Exception] | None:
    for field in node_type:
        values = [node.get(field.name) if isinstance(node, dict) else None for node in nodes]
        try:
            pa.array(values, type=field.type)
        except (pa.ArrowException, TypeError, ValueError) as cause:
            return f"nodes.{field.name}", cause
    strays = [node for node in nodes if not isinstance(node, dict)]
    if strays:
        return "nodes", TypeError(f"a node is a JSON {_json_type(strays[0])}, not an object")
    return None


def _integer_paths(dtype: pa.Schema | pa.DataType, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if isinstance(dtype, pa.Schema) or pa.types.is_struct(dtype):
        for field in dtype:
            yield from _integer_paths(field.type, (*path, field.name))
    elif pa.types.is_list(dtype):
        yield from _integer_paths(dtype.value_type, path)
    elif pa.types.is_integer(dtype):
        yield path


def _as_doubles(schema: pa.Schema, paths: list[tuple[str, ...]]) -> pa.Schema:
    """``schema`` cut down to the integer fields at ``paths``, typed as doubles."""

    def cut(dtype: pa.DataType, path: tuple[str, ...]) -> pa.DataType | None:
        if pa.types.is_struct(dtype):
            children = [(f.name, cut(f.type, (*path, f.name))) for f in dtype]
            kept = [(child_name, child) for child_name, child in children if child is not None]
            return pa.struct(kept) if kept else None
        if pa.types.is_list(dtype):
            value = cut(dtype.value_type, path)
            return None if value is None else pa.list_(value)
        return pa.float64() if path in paths else None

    fields = [(field.name, cut(field.type, (field.name,))) for field in schema]
    return pa.schema([(field_name, dtype) for field_name, dtype in fields if dtype is not None])


def _leaf(batch: pa.RecordBatch, path: tuple[str, ...]) -> tuple[pa.Array, Callable[[], np.ndarray]]:
    """The values of a leaf through lists and structs, and (lazily) the row of each."""
    array = batch.column(path[0])
    steps: list[pa.Array] = []
    for name in (*path[1:], None):
        while pa.types.is_list(array.type):
            steps.append(pc.list_parent_indices(array))
            array = array.flatten()
        if name is not None:
            array = array.field(name)

    def rows() -> np.ndarray:
        index = np.arange(len(array))
        for parents in reversed(steps):
            index = parents.to_numpy()[index]
        return index

    return array, rows


# -- helpers -----------------------------------------------------------------------------
def _widen(dtype: pa.DataType) -> pa.DataType:
    if pa.types.is_struct(dtype):
        return pa.struct([pa.field(field.name, _widen(field.type)) for field in dtype])
    if pa.types.is_list(dtype):
        return pa.list_(_widen(dtype.value_type))
    if pa.types.is_integer(dtype):
        return pa.int64()
    if pa.types.is_floating(dtype):
        return pa.float64()
    return dtype


def _json_type(value: Any) -> str:
    return "null" if value is None else _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


@contextlib.contextmanager
def _open(file: str | os.PathLike | BinaryIO) -> Iterator[BinaryIO]:
    """A binary stream of the file's content, gunzipped when it is gzip."""
    with contextlib.ExitStack() as stack:
        stream: BinaryIO = (
            stack.enter_context(open(file, "rb")) if isinstance(file, (str, os.PathLike)) else file
        )
        if not stream.seekable():
            stream = io.BytesIO(stream.read())
        position = stream.tell()
        head = stream.read(len(_GZIP_MAGIC))
        stream.seek(position)
        if head == _GZIP_MAGIC:
            stream = stack.enter_context(gzip.GzipFile(fileobj=stream, mode="rb"))
        yield stream
