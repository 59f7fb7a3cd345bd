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
column, its type and the expected one: a problem of the whole source.

A *value* that does not fit (a ``uint64`` ``view_count`` above ``2**63``,
``level`` 40000, a ``float64`` beyond ``float32``) is a problem of its row
only. Each batch is converted whole, the bad values located with vectorized
comparisons, and every row holding one is handed to the source's
:class:`BadRows`: under ``on_bad_rows="error"`` it raises a
:class:`~graphkit.errors.RowError` for the first, naming the source, the row
(``videos.parquet, row 17``, or the line a JSON reader gives) and the video;
under ``"skip"`` those rows alone are left out of the batch and reported as
:class:`~graphkit.validation.Violation` objects (``value_out_of_range``). So
is a row whose ``video_uid`` is null (``null_video_uid``): only its place in
the source can name it. ``video_uid``, ``nodes`` and the
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
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit.arrays import out_of_range
from graphkit.errors import SchemaError, quote
from graphkit.schema import METADATA_TYPE, NODE_TYPE, STRUCTURE_FIELDS
from graphkit.strings import value_text
from graphkit.typing import FieldPath, RowLookup
from graphkit.validation import Violation

__all__ = ["target_schema", "required_columns", "Conformer", "BadRows", "OnBadRows", "ON_BAD_ROWS"]

logger = logging.getLogger(__name__)

#: What a reader does with a row it cannot read (:attr:`graphkit.loaders.config.ReaderConfig.on_bad_rows`).
OnBadRows = Literal["error", "skip"]
#: The values of :data:`OnBadRows`.
ON_BAD_ROWS: tuple[str, ...] = ("error", "skip")


class BadRows:
    """What a reader does with a row it cannot read: raise, or leave it out and report it.

    One object per source, shared by its parsing (JSON) and its
    :class:`Conformer`, so every bad row of a source meets the same policy.

    Args:
        policy (str, optional): ``"error"`` raises a
            :class:`~graphkit.errors.RowError`; ``"skip"`` leaves the row out
            and passes its :class:`~graphkit.validation.Violation` to
            ``report``. (default: :obj:`"error"`)
        report (callable, optional): Receives each skipped row's violation;
            without one, each is logged as a warning (never dropped silently).

    Examples:
        >>> seen = []
        >>> BadRows("skip", seen.append)("a.jsonl:3", None, "malformed_row", "invalid JSON")
        >>> [str(v) for v in seen]
        ['a.jsonl:3: malformed_row: invalid JSON']
        >>> BadRows()("a.jsonl:3", "v1", "wrong_type", "column 'nodes.start' holds False")
        Traceback (most recent call last):
        ...
        graphkit.errors.RowError: a.jsonl:3: video 'v1': wrong_type: column 'nodes.start' holds False
    """

    def __init__(self, policy: OnBadRows = "error", report: Callable[[Violation], None] | None = None) -> None:
        if policy not in ON_BAD_ROWS:
            raise ValueError(f"on_bad_rows={policy!r} is not one of {ON_BAD_ROWS}")
        self.policy = policy
        self.report = report

    @property
    def skipping(self) -> bool:
        """Whether bad rows are left out (``"skip"``) rather than raised."""
        return self.policy == "skip"

    def __call__(self, where: str, video_uid: str | None, rule: str, message: str) -> None:
        """Raise or record one bad row.

        Args:
            where (str): The source and the row (``"a.jsonl:3"``).
            video_uid (str or None): The row's video, when it can be read.
            rule (str): A key of :data:`graphkit.validation.RULES`.
            message (str): What is wrong (values quoted with :func:`~graphkit.errors.quote`).

        Raises:
            RowError: Under ``"error"``.
        """
        violation = Violation(video_uid, None, rule, message, source=where)
        if not self.skipping:
            raise violation.to_error()
        if self.report is None:
            logger.warning("skipping %s", violation)
        else:
            self.report(violation)


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
        bad_rows (BadRows, optional): What to do with a row holding a value
            that does not fit. (default: raise)
        first_row (int, optional): The number of the source's first row
            converted here, for naming rows (a fragment of a file starts
            further in). (default: :obj:`0`)

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

    def __init__(self, source_schema: pa.Schema, target: pa.Schema, *, source: str,
                 bad_rows: BadRows | None = None, first_row: int = 0) -> None:
        self.source = source
        self.target = target
        self.bad_rows = bad_rows or BadRows()
        self._next_row = first_row
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

    def __call__(self, batch: pa.RecordBatch, rows: Sequence[str] | None = None) -> pa.RecordBatch:
        """Convert one batch of the checked source schema to the target schema.

        Args:
            batch (pyarrow.RecordBatch): Rows of the source.
            rows (Sequence[str], optional): Where each row was read, for
                messages (``"a.jsonl:3"``); by default ``"SOURCE, row N"``,
                counting the rows this conformer has seen.

        Returns:
            pyarrow.RecordBatch: The same rows in the target schema, less the
            bad rows when they are skipped.

        Raises:
            RowError: If a value does not fit its canonical type, naming the
                source, the row, the video and the column (under ``"error"``).
        """
        first_row, self._next_row = self._next_row, self._next_row + batch.num_rows
        lookup = _identity_rows(batch.num_rows)
        problems = _Problems()
        arrays = []
        for field in self.target:
            index = batch.schema.get_field_index(field.name)
            array = batch.column(index) if index >= 0 else pa.nulls(batch.num_rows, field.type)
            arrays.append(_conform(array, field.type, (field.name,), lookup, problems))
        out = pa.RecordBatch.from_arrays(arrays, schema=self.target)
        uid = out.column("video_uid")
        bad = problems.first_per_row()
        if uid.null_count:  # only its place in the source can name such a row
            for row in np.flatnonzero(~uid.is_valid().to_numpy(zero_copy_only=False)).tolist():
                bad.setdefault(row, ("null_video_uid", "video_uid is null"))
        if not bad:
            return out
        for row in sorted(bad):
            where = rows[row] if rows is not None else f"{self.source}, row {first_row + row}"
            self.bad_rows(where, value_text(uid, row), *bad[row])  # raises under "error"
        keep = np.ones(batch.num_rows, dtype=bool)
        keep[list(bad)] = False
        return out.filter(pa.array(keep))

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
class _Problems:
    """Values that do not fit, found while converting one batch (vectorized, per column)."""

    def __init__(self) -> None:
        self._found: list[tuple[FieldPath, np.ndarray, pa.Array, pa.DataType]] = []

    def add(self, path: FieldPath, rows: np.ndarray, values: pa.Array, dtype: pa.DataType) -> None:
        self._found.append((path, rows, values, dtype))

    def first_per_row(self) -> dict[int, tuple[str, str]]:
        """``{row: (rule, message)}`` for the first bad value of each row (in column order)."""
        bad: dict[int, tuple[str, str]] = {}
        for path, rows, values, dtype in self._found:
            rows_here, first = np.unique(rows, return_index=True)
            for row, position in zip(rows_here.tolist(), first.tolist()):  # one per bad row
                if row not in bad:
                    value = quote(values[position].as_py())
                    bad[row] = ("value_out_of_range", f"column {'.'.join(path)!r} holds {value}, "
                                                      f"which does not fit {dtype}")
        return bad


def _identity_rows(num_rows: int) -> RowLookup:
    return lambda: np.arange(num_rows)


def _identical(a: pa.DataType, b: pa.DataType) -> bool:
    # ``==`` ignores the names of list value fields; their text form does not.
    return a == b and str(a) == str(b)


def _conform(array: pa.Array, tgt: pa.DataType, path: FieldPath, rows: RowLookup, problems: _Problems) -> pa.Array:
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
        return _conform_struct(array, tgt, path, rows, problems)
    if pa.types.is_list(tgt):
        return _conform_list(array, tgt, path, rows, problems)
    if pa.types.is_integer(tgt):
        return _conform_integer(array, tgt, path, rows, problems)
    if pa.types.is_floating(tgt):
        return _conform_floating(array, tgt, path, rows, problems)
    return array.cast(tgt)


def _conform_struct(array: pa.StructArray, tgt: pa.StructType, path: FieldPath, rows: RowLookup,
                    problems: _Problems) -> pa.Array:
    src = array.type
    children = []
    for field in tgt:
        index = src.get_field_index(field.name)
        child = array.field(index) if index >= 0 else pa.nulls(len(array), field.type)
        children.append(_conform(child, field.type, (*path, field.name), rows, problems))
    mask = array.is_null() if array.null_count else None
    return pa.StructArray.from_arrays(children, fields=list(tgt), mask=mask)


def _conform_list(array: pa.Array, tgt: pa.ListType, path: FieldPath, rows: RowLookup,
                  problems: _Problems) -> pa.Array:
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

    values = _conform(values, tgt.value_type, path, value_rows, problems)
    mask = array.is_null() if array.null_count else None
    return pa.ListArray.from_arrays(pa.array(offsets), values, type=tgt, mask=mask)


def _conform_integer(array: pa.Array, tgt: pa.DataType, path: FieldPath, rows: RowLookup,
                     problems: _Problems) -> pa.Array:
    try:
        return array.cast(tgt)
    except pa.ArrowInvalid:
        bad = out_of_range(array, tgt)  # exact, in the source's own type
        if not bad.any():
            raise
    return _without(array, bad, path, rows, problems, tgt).cast(tgt)


def _conform_floating(array: pa.Array, tgt: pa.DataType, path: FieldPath, rows: RowLookup,
                      problems: _Problems) -> pa.Array:
    out = array.cast(tgt, safe=False)  # rounding a double to float32 is intended
    if array.type.bit_width > tgt.bit_width:
        overflow = pc.and_(pc.is_finite(array), pc.is_inf(out))
        if overflow.true_count:
            bad = overflow.fill_null(False).to_numpy(zero_copy_only=False)
            out = _without(array, bad, path, rows, problems, tgt).cast(tgt, safe=False)
    return out


def _without(array: pa.Array, bad: np.ndarray, path: FieldPath, rows: RowLookup, problems: _Problems,
             tgt: pa.DataType) -> pa.Array:
    """``array`` with its ``bad`` values nulled, each recorded (with its row) in ``problems``."""
    positions = np.flatnonzero(bad)
    problems.add(path, rows()[positions], array.take(pa.array(positions)), tgt)
    return pc.if_else(pa.array(bad), pa.scalar(None, array.type), array)
