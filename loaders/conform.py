r"""Conforming Arrow data to the canonical Action100M schema.

Every reader in :mod:`loaders` yields record batches whose columns carry the
exact names and types of :data:`graphkit.schema.SOURCE_SCHEMA`, projected to
the fields asked for (:func:`target_schema`). Sources do not always store
those types: JSON has only 64-bit integers and doubles, Hugging Face infers
``null`` for a column that is empty in a batch, and pyarrow names a list's
value field ``element`` in a full parquet read but ``item`` in a projected one.
A :class:`Conformer` is built once per source schema; it checks every column
the target needs against the rules below, raising
:class:`~graphkit.errors.SchemaError` up front, and then converts each batch
with a few vectorized casts (or none, when the types already match).

The type rules, applied field by field (struct fields are matched by name, in
any order; fields the target does not ask for are dropped):

=================  ===============================================  ==========================================
canonical type     accepted source types                            conversion
=================  ===============================================  ==========================================
``string``         ``string``, ``large_string``, ``string_view``    cast (lossless)
``int16/int64``    any signed or unsigned integer type              cast; a value out of range is an error
                                                                    naming the video and the column
``float32``        any floating-point type                          rounded to the nearest ``float32``; a
                                                                    finite value beyond its range is an error
``list<T>``        ``list``, ``large_list``                         value field renamed ``item``; values
                                                                    conformed to ``T``
``struct``         ``struct``                                       children conformed by name
any of the above   ``null`` (a column with no value at all), or     all nulls / dictionary decoded
                   a dictionary of an accepted type
=================  ===============================================  ==========================================

Anything else, such as ``nodes.start`` stored as strings or ``nodes.level``
stored as floats, is a :class:`~graphkit.errors.SchemaError` naming the
column, its type and the expected one. ``video_uid``, ``nodes`` and the
structural node fields (:data:`graphkit.schema.STRUCTURE_FIELDS`) are
required; any other field that a source lacks (``metadata``, a caption, a
``gpt`` sub-field) is read as nulls, and the conformer logs a warning naming
it and lists it in :attr:`Conformer.missing`.

Examples:
    >>> import pyarrow as pa
    >>> target = target_schema(("node_id", "level"), metadata=False)
    >>> target.field("nodes").type
    ListType(list<item: struct<node_id: string, level: int16>>)
    >>> rows = [{"video_uid": "v1", "nodes": [{"level": 0, "node_id": "a", "x": 1.5}]}]
    >>> batch = pa.RecordBatch.from_pylist(rows)  # level inferred as int64
    >>> conform = Conformer(batch.schema, target, source="example")
    >>> conform(batch).schema.equals(target)
    True
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit.errors import SchemaError
from graphkit.schema import METADATA_TYPE, NODE_TYPE, STRUCTURE_FIELDS
from graphkit.typing import FieldPath, RowLookup

__all__ = ["target_schema", "required_columns", "Conformer"]

logger = logging.getLogger(__name__)


def target_schema(node_fields: Sequence[str] | None = None, *, metadata: bool = True) -> pa.Schema:
    """The canonical schema projected to some node fields.

    Node fields keep their canonical order whatever the order asked for, so
    every reader of the same projection yields the same schema.

    Args:
        node_fields (Sequence[str], optional): Fields of a node to keep;
            :obj:`None` keeps all of them. (default: :obj:`None`)
        metadata (bool, optional): Keep the ``metadata`` column.
            (default: :obj:`True`)

    Returns:
        pyarrow.Schema: ``video_uid``, ``metadata`` (optional) and ``nodes``.

    Raises:
        ValueError: If a node field is unknown or none is asked for.

    Examples:
        >>> from graphkit.schema import SOURCE_SCHEMA
        >>> target_schema() == SOURCE_SCHEMA
        True
        >>> target_schema(["end", "node_id"], metadata=False).names
        ['video_uid', 'nodes']
        >>> target_schema(["end", "node_id"]).field("nodes").type.value_type.names
        ['node_id', 'end']
    """
    names = NODE_TYPE.names if node_fields is None else list(node_fields)
    unknown = [name for name in names if name not in NODE_TYPE.names]
    if unknown:
        raise ValueError(f"unknown node fields {unknown}; expected some of {NODE_TYPE.names}")
    if not names:
        raise ValueError(f"node_fields is empty; name at least one of {NODE_TYPE.names}")
    node_type = pa.struct([field for field in NODE_TYPE if field.name in names])
    fields = [pa.field("video_uid", pa.string())]
    if metadata:
        fields.append(pa.field("metadata", METADATA_TYPE))
    fields.append(pa.field("nodes", pa.list_(node_type)))
    return pa.schema(fields)


def required_columns(target: pa.Schema) -> list[str]:
    """The columns of ``target`` that every source must hold.

    Args:
        target (pyarrow.Schema): A schema made by :func:`target_schema`.

    Returns:
        list[str]: Dotted paths, such as ``"nodes.level"``.

    Examples:
        >>> required_columns(target_schema(("node_id", "gpt"), metadata=False))
        ['video_uid', 'nodes', 'nodes.node_id']
    """
    node_names = target.field("nodes").type.value_type.names
    return ["video_uid", "nodes", *(f"nodes.{name}" for name in STRUCTURE_FIELDS if name in node_names)]


class Conformer:
    r"""Checks a source schema once, then converts its batches to a target schema.

    Args:
        source_schema (pyarrow.Schema): The schema of the source's batches.
        target (pyarrow.Schema): The schema to produce (see :func:`target_schema`).
        source (str): What the data is read from, quoted in errors and logs.

    Raises:
        SchemaError: If a required column is missing or a column has a type
            that the rules in :mod:`graphkit.loaders.conform` do not accept.

    Examples:
        >>> import pyarrow as pa
        >>> bad = pa.schema([("video_uid", pa.string()),
        ...                  ("nodes", pa.list_(pa.struct([("node_id", pa.string()),
        ...                                                ("start", pa.string())])))])
        >>> target = target_schema(("node_id", "start"), metadata=False)
        >>> Conformer(bad, target, source="f.parquet")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        graphkit.errors.SchemaError: f.parquet: column 'nodes.start' has type string; expected float (...)
    """

    def __init__(self, source_schema: pa.Schema, target: pa.Schema, *, source: str) -> None:
        self.source = source
        self.target = target
        self._required = {tuple(path.split(".")) for path in required_columns(target)}
        self._missing: list[str] = []
        self._leaves: list[FieldPath] = []
        for field in target:
            self._check(_child_type(source_schema, field.name, (field.name,), source), field.type, (field.name,))
        if self._missing:
            logger.warning("%s: no column %s; read as nulls", source, ", ".join(map(repr, self._missing)))

    @property
    def missing(self) -> tuple[str, ...]:
        """Dotted paths of the optional columns the source lacks (read as nulls)."""
        return tuple(self._missing)

    @property
    def leaves(self) -> tuple[FieldPath, ...]:
        """Logical paths (no list levels) of the source's leaf columns the target needs.

        A parquet reader reads exactly these columns, e.g. ``("nodes", "level")``.
        """
        return tuple(self._leaves)

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(source={self.source!r}, columns={self.target.names}, missing={self._missing})"

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Convert one batch of the checked source schema to the target schema.

        Args:
            batch (pyarrow.RecordBatch): Rows of the source.

        Returns:
            pyarrow.RecordBatch: The same rows in the target schema.

        Raises:
            SchemaError: If a value does not fit its canonical type (naming
                the video and the column).
        """
        rows = _identity_rows(batch.num_rows)
        arrays = []
        try:
            for field in self.target:
                index = batch.schema.get_field_index(field.name)
                array = batch.column(index) if index >= 0 else pa.nulls(batch.num_rows, field.type)
                arrays.append(_conform(array, field.type, (field.name,), rows))
        except _ValueDoesNotFit as err:
            uid = batch.column("video_uid")[err.row].as_py()
            raise SchemaError(
                self.source,
                f"video {uid!r}: column {'.'.join(err.path)!r} holds {err.value!r}, which does not fit {err.dtype}",
            ) from err
        return pa.RecordBatch.from_arrays(arrays, schema=self.target)

    # -- schema checks (once per source) ---------------------------------------
    def _check(self, src: pa.DataType | None, tgt: pa.DataType, path: FieldPath) -> None:
        name = ".".join(path)
        if src is None:
            if path in self._required:
                raise SchemaError(self.source, f"missing required column {name!r}")
            self._missing.append(name)
            return
        if pa.types.is_dictionary(src):
            src = src.value_type
        if pa.types.is_null(src):
            self._leaves.append(path)
            return
        if pa.types.is_struct(tgt):
            if not pa.types.is_struct(src):
                raise self._mismatch(name, src, tgt, "a struct")
            for child in tgt:
                child_path = (*path, child.name)
                self._check(_child_type(src, child.name, child_path, self.source), child.type, child_path)
        elif pa.types.is_list(tgt):
            if not (pa.types.is_list(src) or pa.types.is_large_list(src)):
                raise self._mismatch(name, src, tgt, "a list")
            self._check(src.value_type, tgt.value_type, path)
        else:
            accepts, what = _LEAF_RULES[_leaf_kind(tgt)]
            if not accepts(src):
                raise self._mismatch(name, src, tgt, what)
            self._leaves.append(path)

    def _mismatch(self, name: str, src: pa.DataType, tgt: pa.DataType, what: str) -> SchemaError:
        return SchemaError(self.source, f"column {name!r} has type {src}; expected {tgt} ({what})")


# -- the rules ------------------------------------------------------------------
def _is_text(dtype: pa.DataType) -> bool:
    return pa.types.is_string(dtype) or pa.types.is_large_string(dtype) or pa.types.is_string_view(dtype)


_LEAF_RULES: dict[str, tuple[Callable[[pa.DataType], bool], str]] = {
    "string": (_is_text, "any string type"),
    "integer": (pa.types.is_integer, "any integer type whose values fit"),
    "floating": (pa.types.is_floating, "any floating-point type"),
}


def _leaf_kind(dtype: pa.DataType) -> str:
    if _is_text(dtype):
        return "string"
    if pa.types.is_integer(dtype):
        return "integer"
    if pa.types.is_floating(dtype):
        return "floating"
    raise TypeError(f"no conversion rule for canonical type {dtype}")  # a new type in graphkit.schema


def _child_type(parent: pa.Schema | pa.StructType, name: str, path: FieldPath, source: str) -> pa.DataType | None:
    names = parent.names if isinstance(parent, pa.Schema) else [field.name for field in parent]
    count = names.count(name)
    if count > 1:
        raise SchemaError(source, f"column {'.'.join(path)!r} appears {count} times")
    if count == 0:
        return None
    return parent.field(name).type


# -- batch conversion -------------------------------------------------------------
class _ValueDoesNotFit(Exception):
    def __init__(self, path: FieldPath, row: int, value: object, dtype: pa.DataType) -> None:
        super().__init__(path, row, value, dtype)
        self.path, self.row, self.value, self.dtype = path, row, value, dtype


def _identity_rows(num_rows: int) -> RowLookup:
    return lambda: np.arange(num_rows)


def _identical(a: pa.DataType, b: pa.DataType) -> bool:
    # ``==`` ignores the names of list value fields; their text form does not.
    return a == b and str(a) == str(b)


def _conform(array: pa.Array, tgt: pa.DataType, path: FieldPath, rows: RowLookup) -> pa.Array:
    src = array.type
    if _identical(src, tgt):
        return array
    if src == tgt:
        return array.view(tgt)  # same layout, only a list field name or nullability differs
    if pa.types.is_dictionary(src):
        array = array.dictionary_decode()
        src = array.type
    if pa.types.is_null(src):
        return pa.nulls(len(array), tgt)
    if pa.types.is_struct(tgt):
        return _conform_struct(array, tgt, path, rows)
    if pa.types.is_list(tgt):
        return _conform_list(array, tgt, path, rows)
    if pa.types.is_integer(tgt):
        return _conform_integer(array, tgt, path, rows)
    if pa.types.is_floating(tgt):
        return _conform_floating(array, tgt, path, rows)
    return array.cast(tgt)


def _conform_struct(array: pa.StructArray, tgt: pa.StructType, path: FieldPath, rows: RowLookup) -> pa.Array:
    src = array.type
    children = []
    for field in tgt:
        index = src.get_field_index(field.name)
        child = array.field(index) if index >= 0 else pa.nulls(len(array), field.type)
        children.append(_conform(child, field.type, (*path, field.name), rows))
    mask = array.is_null() if array.null_count else None
    return pa.StructArray.from_arrays(children, fields=list(tgt), mask=mask)


def _conform_list(array: pa.Array, tgt: pa.ListType, path: FieldPath, rows: RowLookup) -> pa.Array:
    # A sliced list shares its parent's whole values array: cut the values to
    # the slice so the work stays proportional to the batch.
    offsets = array.offsets.to_numpy()
    first, last = int(offsets[0]), int(offsets[-1])
    if last - first > np.iinfo(np.int32).max:
        raise ValueError(f"column {'.'.join(path)!r} holds over 2**31 values in one batch; lower batch_size")
    offsets = (offsets - first).astype(np.int32, copy=False)
    values = array.values.slice(first, last - first)

    def value_rows() -> np.ndarray:
        return rows()[np.repeat(np.arange(len(array)), np.diff(offsets))]

    values = _conform(values, tgt.value_type, path, value_rows)
    mask = array.is_null() if array.null_count else None
    return pa.ListArray.from_arrays(pa.array(offsets), values, type=tgt, mask=mask)


def _conform_integer(array: pa.Array, tgt: pa.DataType, path: FieldPath, rows: RowLookup) -> pa.Array:
    try:
        return array.cast(tgt)
    except pa.ArrowInvalid as err:
        info = np.iinfo(tgt.to_pandas_dtype())
        wide = array.cast(pa.float64())  # only to locate the value, so rounding is harmless
        bad = pc.or_(pc.less(wide, info.min), pc.greater(wide, info.max))
        position = pc.index(bad, True).as_py()
        if position < 0:
            raise
        raise _ValueDoesNotFit(path, int(rows()[position]), array[position].as_py(), tgt) from err


def _conform_floating(array: pa.Array, tgt: pa.DataType, path: FieldPath, rows: RowLookup) -> pa.Array:
    out = array.cast(tgt, safe=False)  # rounding a double to float32 is intended
    if array.type.bit_width > tgt.bit_width:
        overflow = pc.and_(pc.is_finite(array), pc.is_inf(out))
        position = pc.index(overflow, True).as_py()
        if position >= 0:
            raise _ValueDoesNotFit(path, int(rows()[position]), array[position].as_py(), tgt)
    return out
