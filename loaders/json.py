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
``3.0`` is accepted where an integer is expected, ``3.5`` is not; a boolean
is never a number (pyarrow would read ``false`` as ``0.0``), nor a string
(``"1.5"``). A key repeated in one object, at any depth, is an error (the
standard library would keep the last value without a word). Keys a row
lacks are nulls, keys the schema does not know are ignored; a row without
``video_uid`` or ``nodes`` is an error.

Every such error concerns one row and names it: ``rows.jsonl:3`` (JSON
Lines), ``rows.json, row 2`` (a row of a JSON document), with its video
when it can be read. Under ``on_bad_rows="error"`` it raises
:class:`~graphkit.errors.RowError`; under ``"skip"`` exactly that row is left
out and reported (:class:`~graphkit.loaders.conform.BadRows`), every other
row is read. Only a document that does not parse at all, or is not one of
the three layouts, is an error of the whole file.

Detecting repeated keys costs an ``object_pairs_hook`` on every object
(about a third more parsing time, measured); the other checks are
vectorized over the batch, and the search for *which* row is bad runs only
when a batch holds one.

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
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit.errors import SchemaError, SourceError
from graphkit.loaders.config import ReaderConfig
from graphkit.loaders.conform import BadRows, Conformer
from graphkit.loaders.files import FileLike, describe_file
from graphkit.validation import Violation

__all__ = ["iter_json_batches", "iter_jsonl_batches", "json_schema"]

logger = logging.getLogger(__name__)

_GZIP_MAGIC = b"\x1f\x8b"
_READ_ERRORS = (OSError, EOFError, zlib.error)
_REQUIRED_KEYS = ("video_uid", "nodes")
_JSON_TYPE_NAMES = {dict: "object", list: "array", str: "string", int: "number", float: "number", bool: "boolean"}
_CONVERSION_ERRORS = (pa.ArrowException, TypeError, ValueError, OverflowError)  # UnicodeEncodeError is a ValueError


def iter_json_batches(
    file: FileLike, config: ReaderConfig, *, source: str | None = None,
    on_bad_row: Callable[[Violation], None] | None = None,
) -> Iterator[pa.RecordBatch]:
    """Record batches of one JSON document, in row form or column form.

    Args:
        file (FileLike): The JSON document (a local path or an open
            binary file), plain or gzip-compressed.
        config (ReaderConfig): See :class:`~graphkit.loaders.config.Reader`.
        source (str, optional): See :class:`~graphkit.loaders.config.Reader`.
        on_bad_row (callable, optional): See :class:`~graphkit.loaders.config.Reader`.

    Yields:
        pyarrow.RecordBatch: See :class:`~graphkit.loaders.config.Reader`.

    Raises:
        SourceError: If the file cannot be read or is not valid JSON (naming
            the line and column).
        SchemaError: If the document is not a row, a list of rows or column
            form.
        RowError: If a row does not match the schema (under
            ``config.on_bad_rows="error"``), naming it (``rows.json, row 2``).
    """
    name = source or describe_file(file)
    try:
        with _open(file) as stream:
            text = stream.read()
    except _READ_ERRORS as err:
        raise SourceError(name, f"cannot be read: {err}") from err
    objects = _Objects()
    try:
        document = json.loads(text, object_pairs_hook=objects)
    except json.JSONDecodeError as err:
        raise SourceError(name, f"invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}") from err
    except UnicodeDecodeError as err:
        raise SourceError(name, f"not UTF-8 text: {err}") from err
    rows = _document_rows(document, config, name)
    yield from _batches(rows, config, name, config.bad_rows(on_bad_row), objects.repeated > 0)


def iter_jsonl_batches(
    file: FileLike, config: ReaderConfig, *, source: str | None = None,
    on_bad_row: Callable[[Violation], None] | None = None,
) -> Iterator[pa.RecordBatch]:
    """Record batches of a JSON Lines file (one row object per line), streamed.

    Args:
        file (FileLike): The JSON Lines file (a local path or an open
            binary file), plain or gzip-compressed.
        config (ReaderConfig): See :class:`~graphkit.loaders.config.Reader`.
        source (str, optional): See :class:`~graphkit.loaders.config.Reader`.
        on_bad_row (callable, optional): See :class:`~graphkit.loaders.config.Reader`.

    Yields:
        pyarrow.RecordBatch: See :class:`~graphkit.loaders.config.Reader`.

    Raises:
        SourceError: If the file cannot be read (it is cut short, say).
        RowError: If a line is not valid JSON, not a row object, or does
            not match the schema (under ``config.on_bad_rows="error"``),
            naming it (``rows.jsonl:3``).
    """
    name = source or describe_file(file)
    try:
        with _open(file) as stream:
            yield from _batches(_line_rows(stream, name), config, name, config.bad_rows(on_bad_row), None)
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
class _Unreadable:
    """Stands for a row that could not be read (and its ``video_uid``, when that is certain)."""

    def __init__(self, message: str, video_uid: str | None = None) -> None:
        self.message = message
        self.video_uid = video_uid


class _RepeatedKeys(dict):
    """A JSON object in which a key appeared more than once (the last value kept)."""

    repeated: list[str]


class _Objects:
    """The ``object_pairs_hook`` that builds JSON objects and marks those with a repeated key."""

    def __init__(self) -> None:
        self.repeated = 0

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict:
        obj = dict(pairs)
        if len(obj) == len(pairs):
            return obj
        self.repeated += 1
        marked = _RepeatedKeys(obj)
        seen: set[str] = set()
        marked.repeated = sorted({key for key, _ in pairs if key in seen or seen.add(key)})
        return marked


def _line_rows(stream: BinaryIO, name: str) -> Iterator[tuple[str, Any]]:
    objects = _Objects()
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        before = objects.repeated
        try:
            row = json.loads(line, object_pairs_hook=objects)
        except json.JSONDecodeError as err:
            yield where, _Unreadable(f"invalid JSON at column {err.colno}: {err.msg}")
            continue
        except UnicodeDecodeError as err:
            yield where, _Unreadable(f"not UTF-8 text: {err}")
            continue
        yield where, (_repeated_key_row(row) if objects.repeated > before else None) or row


def _document_rows(document: Any, config: ReaderConfig, name: str) -> Iterable[tuple[str, Any]]:
    if isinstance(document, list):
        return ((f"{name}, row {index}", row) for index, row in enumerate(document))
    if isinstance(document, dict) and isinstance(document.get("video_uid"), list):
        return _column_rows(document, config, name)
    if isinstance(document, dict):
        return [(name, document)]
    raise SchemaError(
        name, f"the document is a JSON {_json_type(document)}; expected a row object, a list of rows or column form"
    )


def _column_rows(document: dict, config: ReaderConfig, name: str) -> Iterator[tuple[str, dict]]:
    """Column form, one row at a time (a loop per video)."""
    if isinstance(document, _RepeatedKeys):
        raise SchemaError(name, f"column form: the key {document.repeated[0]!r} appears more than once")
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
        yield f"{name}, row {index}", dict(zip(keys, values))


def _repeated_key_row(row: Any) -> _Unreadable | None:
    """The row as unreadable if an object in it repeats a key, named by its uid unless that is the key repeated."""
    found = _repeated_key(row)
    if found is not None and not (isinstance(row, _RepeatedKeys) and "video_uid" in row.repeated):
        found.video_uid = _uid(row)
    return found


def _repeated_key(value: Any, path: str = "the row") -> _Unreadable | None:
    """The first object holding a repeated key, as an unreadable row (a walk: only for rows that have one)."""
    if isinstance(value, _RepeatedKeys):
        return _Unreadable(f"the key {value.repeated[0]!r} appears more than once in {path}")
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        if isinstance(child, (dict, list)):
            found = _repeated_key(child, f"{path}[{key!r}]" if isinstance(key, str) else f"{path}[{key}]")
            if found is not None:
                return found
    return None


# -- rows to canonical batches ------------------------------------------------------
def _batches(
    rows: Iterable[tuple[str, Any]], config: ReaderConfig, name: str, bad_rows: BadRows, repeated: bool | None
) -> Iterator[pa.RecordBatch]:
    """Batches of ``batch_size`` good rows; ``repeated``: whether a document held a repeated key somewhere."""
    wide = json_schema(config.schema)
    conform = Conformer(wide, config.schema, source=name, bad_rows=bad_rows)
    chunk: list[Any] = []
    wheres: list[str] = []
    for where, row in rows:
        if repeated and isinstance(row, (dict, list)):
            row = _repeated_key_row(row) or row
        problem = _row_problem(row)
        if problem is not None:
            if chunk and not bad_rows.skipping:  # raise for the first bad row in file order
                yield from _converted(chunk, wheres, wide, conform, bad_rows)
                chunk, wheres = [], []
            bad_rows(where, _uid(row), "malformed_row", problem)
            continue
        chunk.append(row)
        wheres.append(where)
        if len(chunk) == config.batch_size:
            yield from _converted(chunk, wheres, wide, conform, bad_rows)
            chunk, wheres = [], []
    if chunk:
        yield from _converted(chunk, wheres, wide, conform, bad_rows)


def _row_problem(row: Any) -> str | None:
    if isinstance(row, _Unreadable):
        return row.message
    if not isinstance(row, dict):
        return f"a JSON {_json_type(row)}, not a row object"
    for key in _REQUIRED_KEYS:
        if key not in row:
            return f"the row has no {key!r}"
    return None


def _converted(rows: list[Any], wheres: list[str], wide: pa.Schema, conform: Conformer,
               bad_rows: BadRows) -> Iterator[pa.RecordBatch]:
    batch, wheres = _to_batch(rows, wheres, wide, bad_rows)
    if batch.num_rows:
        out = conform(batch, rows=wheres)
        if out.num_rows:
            yield out


def _to_batch(rows: list[Any], wheres: list[str], wide: pa.Schema, bad_rows: BadRows) -> tuple[pa.RecordBatch, list[str]]:
    """The rows as one batch of ``wide``, less those whose values have the wrong JSON type."""
    try:
        batch = pa.RecordBatch.from_pylist(rows, schema=wide)
    except _CONVERSION_ERRORS:
        # Find the rows that fail, one by one (only for a batch that holds one).
        kept = []
        for row, where in zip(rows, wheres):
            try:
                pa.RecordBatch.from_pylist([row], schema=wide)
            except _CONVERSION_ERRORS as cause:
                bad_rows(where, _uid(row), *_diagnose(row, wide, cause))
                continue
            kept.append((row, where))
        rows, wheres = [row for row, _ in kept], [where for _, where in kept]
        batch = pa.RecordBatch.from_pylist(rows, schema=wide)
    bad = {**_booleans(rows, wide), **_fractions(batch, rows, wide)}
    if not bad:
        return batch, wheres
    for row in sorted(bad):
        bad_rows(wheres[row], _uid(rows[row]), "wrong_type", bad[row])
    keep = np.ones(len(rows), dtype=bool)
    keep[list(bad)] = False
    return batch.filter(pa.array(keep)), [where for where, k in zip(wheres, keep) if k]


def _booleans(rows: list[dict], wide: pa.Schema) -> dict[int, str]:
    """Rows holding ``true``/``false`` where a floating-point number is expected.

    pyarrow reads a boolean as ``1.0``/``0.0`` in a double column (and refuses
    one in an integer column, which :func:`_to_batch` reports). Converting the
    double fields once more as integers fails on a boolean (and on NaN or
    infinity, which the validator reports as ``non_finite_time``); only then
    are the rows searched.
    """
    paths = list(_leaf_paths(wide, pa.types.is_floating))
    if not paths:
        return {}
    try:
        pa.RecordBatch.from_pylist(rows, schema=_retyped(wide, paths, pa.int64()))
        return {}
    except _CONVERSION_ERRORS:
        pass
    found = {}
    for index, row in enumerate(rows):
        for path in paths:
            if any(isinstance(value, bool) for value in _values_at(row, path)):
                found[index] = f"column {'.'.join(path)!r} holds a boolean, which is not a number"
                break
    return found


def _fractions(batch: pa.RecordBatch, rows: list, wide: pa.Schema) -> dict[int, str]:
    """Rows holding a fractional number where an integer is expected.

    pyarrow converts the Python float ``2.5`` to the integer ``2`` without a
    word, so the integer fields are converted a second time as doubles and
    compared, vectorized; ``3.0`` passes, ``2.5`` does not.
    """
    paths = list(_leaf_paths(wide, pa.types.is_integer))
    if not paths or not rows:
        return {}
    probe = pa.RecordBatch.from_pylist(rows, schema=_retyped(wide, paths, pa.float64()))
    found: dict[int, str] = {}
    for path in paths:
        exact, _ = _leaf(batch, path)
        double, parents = _leaf(probe, path)
        differs = pc.fill_null(pc.not_equal(exact.cast(pa.float64()), double), False)
        if not differs.true_count:
            continue
        positions = np.flatnonzero(differs.to_numpy(zero_copy_only=False))
        owners = parents()[positions]
        for row, position in zip(owners.tolist(), positions.tolist()):
            found.setdefault(row, f"column {'.'.join(path)!r} holds {double[position].as_py()}, which is not an integer")
    return found


def _diagnose(row: dict, wide: pa.Schema, err: Exception) -> tuple[str, str]:
    """The rule and message of one row that failed to convert (runs on the error path only).

    A number too large for 64 bits is ``value_out_of_range``, a string that
    cannot be UTF-8 (a lone surrogate, ``"\\ud800"``) ``invalid_utf8``, anything
    else ``wrong_type``.
    """
    for field in wide:
        try:
            pa.array([row.get(field.name)], type=field.type)
        except _CONVERSION_ERRORS as cause:
            column, reason = field.name, cause
            if field.name == "nodes" and isinstance(row["nodes"], list):
                column, reason = _diagnose_nodes(row["nodes"], field.type.value_type) or (column, cause)
            rule = ("value_out_of_range" if isinstance(reason, OverflowError)
                    else "invalid_utf8" if isinstance(reason, UnicodeError) else "wrong_type")
            return rule, f"column {column!r}: {_short(reason)}"
    return "wrong_type", f"the row does not match the schema: {_short(err)}"


def _diagnose_nodes(nodes: list, node_type: pa.StructType) -> tuple[str, Exception] | None:
    for field in node_type:
        values = [node.get(field.name) if isinstance(node, dict) else None for node in nodes]
        try:
            pa.array(values, type=field.type)
        except _CONVERSION_ERRORS as cause:
            return f"nodes.{field.name}", cause
    strays = [node for node in nodes if not isinstance(node, dict)]
    if strays:
        return "nodes", TypeError(f"a node is a JSON {_json_type(strays[0])}, not an object")
    return None


def _short(err: object, limit: int = 200) -> str:
    """An exception's text, cut: pyarrow may quote a whole list of values in it."""
    text = str(err)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _uid(row: Any) -> str | None:
    """The row's ``video_uid`` if it is a string, printable (a lone surrogate escaped)."""
    if isinstance(row, _Unreadable):
        return row.video_uid
    uid = row.get("video_uid") if isinstance(row, dict) else None
    if not isinstance(uid, str):
        return None
    return uid.encode("utf-8", "backslashreplace").decode("utf-8")


def _values_at(value: Any, path: tuple[str, ...]) -> Iterator[Any]:
    """Every value at a leaf path of a parsed row, through lists and objects."""
    if isinstance(value, list):
        for item in value:
            yield from _values_at(item, path)
    elif not path:
        yield value
    elif isinstance(value, dict):
        yield from _values_at(value.get(path[0]), path[1:])


def _leaf_paths(dtype: pa.Schema | pa.DataType, kind: Callable[[pa.DataType], bool],
                path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if isinstance(dtype, pa.Schema) or pa.types.is_struct(dtype):
        for field in dtype:
            yield from _leaf_paths(field.type, kind, (*path, field.name))
    elif pa.types.is_list(dtype):
        yield from _leaf_paths(dtype.value_type, kind, path)
    elif kind(dtype):
        yield path


def _retyped(schema: pa.Schema, paths: list[tuple[str, ...]], leaf_type: pa.DataType) -> pa.Schema:
    """``schema`` cut down to the leaf fields at ``paths``, typed ``leaf_type``."""

    def cut(dtype: pa.DataType, path: tuple[str, ...]) -> pa.DataType | None:
        if pa.types.is_struct(dtype):
            children = [(f.name, cut(f.type, (*path, f.name))) for f in dtype]
            kept = [(child_name, child) for child_name, child in children if child is not None]
            return pa.struct(kept) if kept else None
        if pa.types.is_list(dtype):
            value = cut(dtype.value_type, path)
            return None if value is None else pa.list_(value)
        return leaf_type if path in paths else None

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
