"""Private argument checks shared by the features, labels and splits modules.

:mod:`graphkit.features`, :mod:`graphkit.labels` and :mod:`graphkit.splits`
accept strings in whatever form the caller holds them (an Arrow array or
chunked array, a Python list, a numpy array) and work on one contiguous Arrow
string array; :func:`as_string_array` does that conversion
and rejects everything else with a :class:`TypeError` that names the argument.
They also hash with a keyed BLAKE2b whose key is an integer seed;
:func:`seed_key` checks the seed and turns it into the 8-byte key.

Nothing here is public API: the names may change without notice.

Examples:
    >>> as_string_array(["a", None]).type
    DataType(string)
    >>> seed_key(1)
    b'\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Union

import numpy as np
import pyarrow as pa

__all__ = ["StringArrayLike", "as_string_array", "seed_key"]

#: Strings as Arrow (chunked) arrays or Python/numpy sequences; null is allowed.
StringArrayLike = Union[pa.Array, pa.ChunkedArray, Sequence[Union[str, None]], np.ndarray]


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
