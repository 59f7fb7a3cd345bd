"""Arrow record batches in the published schema, decoded into numpy columns.

:func:`decode` checks the column types of a record batch
(:data:`graphkit.schema.SOURCE_SCHEMA`, possibly projected to fewer node
fields), reads structure into numpy arrays and text into Arrow arrays, and
resolves ``parent_id`` to positions (:func:`graphkit.tree.parents.resolve_parents`).
Nothing is validated here: :meth:`graphkit.tree.TreeBatch.from_arrow` checks
the :class:`Decoded` columns before it builds a batch from them. A column of
the wrong type is a :class:`~graphkit.errors.SchemaError` (the whole batch);
a value that does not fit (a ``level`` of 40000 in an ``int64`` column, a
``start`` beyond ``float32``) is read as null or infinite and left to the
validator, which reports that video alone.

Examples:
    >>> from graphkit.testing import example_rows
    >>> decoded = decode(example_rows(1))
    >>> decoded.counts.tolist(), decoded.parent.tolist(), "plm_caption" in decoded.texts
    ([3], [-1, 0, 0], True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit import schema
from graphkit.arrays import out_of_range, valid_mask
from graphkit.errors import SchemaError
from graphkit.tree.parents import resolve_parents

__all__ = ["Decoded", "decode"]


@dataclass
class Decoded:
    """Raw columns of a record batch, before validation (made by :func:`decode`)."""

    video_uid: pa.Array
    counts: np.ndarray
    node_id: pa.Array
    parent_id: pa.Array
    parent: np.ndarray
    id_code: np.ndarray | None
    level: np.ndarray
    level_valid: np.ndarray
    start: np.ndarray
    end: np.ndarray
    time_valid: np.ndarray
    texts: dict[str, pa.Array]
    metadata: pa.StructArray | None
    level_overflow: np.ndarray | None = None

    def check_args(self) -> dict[str, object]:
        """The keyword arguments of :func:`graphkit.validation.find_violations` (but ``config``)."""
        names = (
            "video_uid counts node_id parent_id parent id_code level level_valid "
            "start end time_valid texts metadata level_overflow"
        ).split()
        return {name: getattr(self, name) for name in names}

    def tree_columns(self) -> dict[str, object]:
        """The :class:`~graphkit.tree.TreeBatch` fields these columns give (all but ``tiling``)."""
        return {
            "video_uid": self.video_uid,
            "node_offsets": np.r_[0, np.cumsum(self.counts)].astype(np.int64),
            "node_id": self.node_id,
            "parent": self.parent,
            "level": self.level.astype(np.int16, copy=False),
            "start": self.start,
            "end": self.end,
            "text": self.texts,
            "metadata": self.metadata,
        }


def _column(batch: pa.RecordBatch | pa.Table, name: str) -> pa.Array:
    if name not in batch.schema.names:
        raise SchemaError("record batch", f"missing column {name!r}")
    column = batch.column(name)
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _require(path: str, array: pa.Array, check: object, expected: str) -> None:
    if not check(array.type):  # type: ignore[operator]
        raise SchemaError("record batch", f"column {path!r} has type {array.type}, expected {expected}")


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def decode(batch: pa.RecordBatch | pa.Table) -> Decoded:
    """Read the columns of a record batch in the published schema and resolve parents.

    Raises:
        SchemaError: If a required column is missing or has the wrong type.
    """
    video_uid = _column(batch, "video_uid")
    _require("video_uid", video_uid, _is_text, "string")
    nodes = _column(batch, "nodes")
    _require("nodes", nodes, lambda t: pa.types.is_list(t) or pa.types.is_large_list(t), "list<struct>")
    _require("nodes.element", nodes.values, pa.types.is_struct, "struct")
    counts = pc.list_value_length(nodes).fill_null(0).to_numpy().astype(np.int64)
    values = nodes.flatten()
    names = set(values.type.names)
    missing = [f for f in schema.STRUCTURE_FIELDS if f not in names]
    if missing:
        raise SchemaError("record batch", f"missing node fields {missing} in column 'nodes'")

    def node_field(name: str) -> pa.Array:
        return pc.struct_field(values, name)

    node_id, parent_id = node_field("node_id"), node_field("parent_id")
    _require("nodes.node_id", node_id, _is_text, "string")
    _require("nodes.parent_id", parent_id, lambda t: _is_text(t) or pa.types.is_null(t), "string")
    level_arr = node_field("level")
    _require("nodes.level", level_arr, pa.types.is_integer, "int16")
    start_arr, end_arr = node_field("start"), node_field("end")
    for path, arr in (("nodes.start", start_arr), ("nodes.end", end_arr)):
        _require(path, arr, pa.types.is_floating, "float")

    level_arr, level_overflow = _int16(level_arr)
    level = level_arr.fill_null(0).to_numpy().astype(np.int16, copy=False)
    start = _floats(start_arr)
    end = _floats(end_arr)
    level_valid = valid_mask(level_arr)
    time_valid = valid_mask(start_arr) & valid_mask(end_arr)

    layout = (level, start) if level_valid.all() and time_valid.all() else None
    parent, id_code = resolve_parents(node_id, parent_id, counts, layout)
    texts = _texts(values, names)
    metadata = _column(batch, "metadata") if "metadata" in batch.schema.names else None
    return Decoded(
        video_uid, counts, node_id, parent_id, parent, id_code, level, level_valid,
        start, end, time_valid, texts, metadata, level_overflow,
    )


def _int16(array: pa.Array) -> tuple[pa.Array, np.ndarray | None]:
    """Levels as ``int16``; one that does not fit becomes null, flagged in the mask returned."""
    if array.type == pa.int16():
        return array, None
    try:
        return array.cast(pa.int16()), None
    except pa.ArrowInvalid:
        overflow = out_of_range(array, pa.int16())
        return pc.if_else(pa.array(overflow), pa.scalar(None, array.type), array).cast(pa.int16()), overflow


def _floats(array: pa.Array) -> np.ndarray:
    # float64 beyond float32 becomes infinite, which the validator reports (non_finite_time).
    array = array.cast(pa.float32(), safe=False) if array.type != pa.float32() else array
    if array.null_count:
        array = array.fill_null(np.nan)
    return array.to_numpy(zero_copy_only=False)


def _texts(values: pa.StructArray, names: set[str]) -> dict[str, pa.Array]:
    texts = {name: pc.struct_field(values, name) for name in schema.TEXT_PROPERTIES if name in names}
    if "gpt" in names:
        gpt = pc.struct_field(values, "gpt")
        for prop, (group, leaf) in schema.GPT_FIELDS.items():
            group_names = gpt.type.field(group).type.names if group in gpt.type.names else []
            if leaf in group_names:
                texts[prop] = pc.struct_field(gpt, [gpt.type.get_field_index(group), gpt.type.field(group).type.get_field_index(leaf)])
    return texts

