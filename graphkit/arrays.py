"""Private argument checks and Arrow helpers shared by graphkit's modules.

:mod:`graphkit.features`, :mod:`graphkit.labels` and :mod:`graphkit.splits`
accept strings in whatever form the caller holds them (an Arrow array or
chunked array, a Python list, a numpy array) and work on one contiguous Arrow
string array; :func:`as_string_array` does that conversion
and rejects everything else with a :class:`TypeError` that names the argument.
They also hash with a keyed BLAKE2b whose key is an integer seed;
:func:`seed_key` checks the seed and turns it into the 8-byte key.
:func:`check_positive_int` checks a size argument, :func:`valid_mask`
reads an Arrow array's validity as a numpy mask, :func:`out_of_range`
finds the integers that do not fit a narrower type, exactly (never through
a float, which cannot tell ``2**63`` from ``2**63 - 1``), and
:func:`map_chunks` runs a text transform :data:`NODES_PER_CHUNK` rows at a time.
:func:`shortest_decimal` is how every sink stores a float32 as a Python or Neo4j float.

Nothing here is public API: the names may change without notice.

Examples:
    >>> as_string_array(["a", None]).type
    DataType(string)
    >>> seed_key(1)
    b'\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00'
    >>> valid_mask(pa.array([1, None])).tolist()
    [True, False]
    >>> shortest_decimal(np.array([70.67], dtype=np.float32)).tolist()
    [70.67]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit.typing import StringArrayLike

__all__ = ["NODES_PER_CHUNK", "as_string_array", "seed_key", "check_positive_int", "valid_mask", "out_of_range",
           "map_chunks", "shortest_decimal", "concat_ranges"]

#: Rows (one per node) that text transforms work on at a time: the temporaries
#: of one chunk (about 2 KB per node of caption text) bound their memory,
#: whatever the batch size.
NODES_PER_CHUNK: int = 16384


def as_string_array(values: StringArrayLike, name: str = "values") -> pa.Array:
    """One contiguous Arrow string array (``string`` or ``large_string``).

    Chunked arrays are combined, Python and numpy sequences are converted to
    ``string``, and ``null`` or ``string_view`` arrays are cast to ``string``.
    Nulls are kept; callers that forbid them check afterwards.

    Args:
        values (StringArrayLike): The strings, null allowed.
        name (str, optional): The argument's name in error messages.
            (default: :obj:`"values"`)

    Returns:
        pyarrow.Array: The strings as a ``string`` or ``large_string`` array.

    Raises:
        TypeError: If :obj:`values` is a single ``str`` or ``bytes``, or does
            not hold strings.

    Examples:
        >>> as_string_array(pa.chunked_array([["a"], ["b"]])).to_pylist()
        ['a', 'b']
        >>> as_string_array("abc", "texts")
        Traceback (most recent call last):
        ...
        TypeError: texts must be an array of strings, not a single string
    """
    if isinstance(values, (str, bytes)):
        single = "string" if isinstance(values, str) else "bytes"
        raise TypeError(f"{name} must be an array of strings, not a single {single}")
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    elif not isinstance(values, pa.Array):
        try:
            values = pa.array(values, type=pa.string())
        except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
            raise TypeError(f"{name} must hold strings or None: {err}") from err
    if pa.types.is_null(values.type) or pa.types.is_string_view(values.type):
        values = values.cast(pa.string())
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        raise TypeError(f"{name} must be a string array, got Arrow type {values.type}")
    return values


def seed_key(seed: Any) -> bytes:
    """The 8-byte BLAKE2b key of a seed: the seed as a signed little-endian int64.

    Args:
        seed (int): The seed; any Python or numpy integer in the int64 range,
            but not a ``bool``.

    Returns:
        bytes: Eight bytes.

    Raises:
        TypeError: If :obj:`seed` is not an integer.
        ValueError: If :obj:`seed` does not fit in 64 bits.

    Examples:
        >>> seed_key(-1)
        b'\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff'
        >>> seed_key(True)
        Traceback (most recent call last):
        ...
        TypeError: seed must be an integer, got True
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    if not -(2**63) <= seed < 2**63:
        raise ValueError(f"seed must fit in 64 bits, got {seed!r}")
    return int(seed).to_bytes(8, "little", signed=True)


def check_positive_int(value: Any, name: str) -> int:
    """:obj:`value` as an ``int``, if it is a positive (Python or numpy) integer.

    Raises:
        ValueError: If :obj:`value` is not an integer (or is a ``bool``) or is below 1.

    Examples:
        >>> check_positive_int(3, "dim")
        3
        >>> check_positive_int(0, "dim")
        Traceback (most recent call last):
        ...
        ValueError: dim must be a positive integer, got 0
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def valid_mask(array: pa.Array) -> np.ndarray:
    """``[len(array)]`` bool, true where :obj:`array` is not null (no copy of a null-free array's data)."""
    if array.null_count == 0:
        return np.ones(len(array), dtype=bool)
    return array.is_valid().to_numpy(zero_copy_only=False)


def map_chunks(transform: Callable[[pa.Array], pa.Array], values: pa.Array) -> pa.Array:
    """``transform(values)``, computed :data:`NODES_PER_CHUNK` rows at a time.

    For element-wise transforms, whose result does not depend on how the rows
    are cut; the pieces are concatenated into one array.

    Examples:
        >>> import pyarrow.compute as pc
        >>> map_chunks(pc.utf8_upper, pa.array(["a", None] * 3000)).to_pylist()[:3]
        ['A', None, 'A']
    """
    if len(values) <= NODES_PER_CHUNK:
        return transform(values)
    return pa.concat_arrays([transform(values.slice(start, NODES_PER_CHUNK))
                             for start in range(0, len(values), NODES_PER_CHUNK)])


def out_of_range(array: pa.Array, dtype: pa.DataType) -> np.ndarray:
    """``[len(array)]`` bool, true where an integer of :obj:`array` does not fit the integer type :obj:`dtype`.

    The comparison is made in the array's own type, so it is exact for every
    width and sign (nulls are never out of range).

    Examples:
        >>> out_of_range(pa.array([2**63 + 1, 5], pa.uint64()), pa.int64()).tolist()
        [True, False]
        >>> out_of_range(pa.array([-1, 40000, None]), pa.int16()).tolist()
        [False, True, False]
    """
    source, target = np.iinfo(array.type.to_pandas_dtype()), np.iinfo(dtype.to_pandas_dtype())
    bad = np.zeros(len(array), dtype=bool)
    if target.max < source.max:
        bad |= pc.fill_null(pc.greater(array, pa.scalar(target.max, array.type)), False).to_numpy(zero_copy_only=False)
    if target.min > source.min:
        bad |= pc.fill_null(pc.less(array, pa.scalar(target.min, array.type)), False).to_numpy(zero_copy_only=False)
    return bad


def shortest_decimal(values: Any) -> np.ndarray:
    """float32 values as float64s holding each one's shortest round-trip decimal.

    The float32 nearest to 70.67 is exactly 70.66999816894531...; widened as
    it is, that binary value is what a float64 sink would store. This gives
    ``70.67`` instead: the shortest decimal whose float32 is the same value
    (what ``str(np.float32(x))`` prints), parsed as a float64. Casting the
    result back to float32 gives the original bits, NaN and infinities
    included. Vectorized: Arrow's float32-to-text cast (the shortest
    representation, as its CSV writer uses) and text-to-float64 cast.

    Args:
        values (array-like): float32 values (anything numpy turns into them).

    Returns:
        numpy.ndarray: float64, the same shape.

    Examples:
        >>> x = np.array([0.1, 1e-7, 4.0, 3.7000008], dtype=np.float32)
        >>> shortest_decimal(x).tolist()
        [0.1, 1e-07, 4.0, 3.7000008]
        >>> bool((shortest_decimal(x).astype(np.float32) == x).all())
        True
    """
    array = np.asarray(values, dtype=np.float32)
    flat = pa.array(array.ravel())
    decimal = pc.cast(pc.cast(flat, pa.string()), pa.float64())
    return decimal.to_numpy(zero_copy_only=False).reshape(array.shape)


def concat_ranges(starts: Any, counts: Any) -> np.ndarray:
    """``numpy.concatenate([numpy.arange(s, s + c) for s, c in zip(starts, counts)])``, without a Python loop.

    The gather of ragged runs: a video's nodes, an example's members, a
    shard's rows.

    Args:
        starts (array_like): ``[K]`` first value of each run.
        counts (array_like): ``[K]`` non-negative length of each run.

    Returns:
        numpy.ndarray: ``[counts.sum()]`` int64.

    Examples:
        >>> concat_ranges([5, 0, 9], [2, 3, 0]).tolist()
        [5, 6, 0, 1, 2]
    """
    starts = np.asarray(starts, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    run_offsets = np.concatenate(([0], np.cumsum(counts)[:-1]))
    return np.arange(total, dtype=np.int64) - np.repeat(run_offsets - starts, counts)
