"""Arrow string values checked for encoding and size, vectorized, and read back safely.

Every text field graphkit reads (ids, captions, ``gpt`` fields, metadata,
transcript entries) goes through the same check, :func:`check_strings`:
for each value of an Arrow ``string`` array it tells whether the bytes are
valid UTF-8, how many bytes it holds, and whether it is empty. The work is
done on the array's buffers with numpy, never value by value in Python:

* the lengths are the differences of the offsets buffer;
* validity of the encoding is first asked of Arrow for the whole array at
  once (``validate(full=True)``, SIMD); only when that fails is the
  data buffer scanned byte by byte with numpy (:func:`invalid_utf8`), to
  find *which* values are bad.

:func:`value_text` reads one value back as text whatever its bytes (invalid
sequences become ``\\x..`` escapes), so a message about one value never fails
on another. The limits themselves (how long an id or a caption may be) are
the validator's: :data:`graphkit.validation.MAX_ID_BYTES` and
:data:`graphkit.validation.MAX_TEXT_BYTES`.

Examples:
    >>> import pyarrow as pa
    >>> checks = check_strings(pa.array(["ok", "", None, "x" * 9]), max_bytes=8)
    >>> checks.too_long.tolist(), checks.empty.tolist(), bool(checks.invalid_utf8.any())
    ([False, False, False, True], [False, True, False, False], False)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from graphkit.arrays import valid_mask

__all__ = ["StringChecks", "check_strings", "invalid_utf8", "string_lengths", "value_text"]


@dataclass(frozen=True)
class StringChecks:
    """What :func:`check_strings` found, one entry per value (all ``[n]`` bool but ``num_bytes``).

    Args:
        num_bytes (numpy.ndarray): ``[n]`` length in bytes (0 for null).
        invalid_utf8 (numpy.ndarray): Set, and its bytes are not valid UTF-8.
        too_long (numpy.ndarray): Set, and longer than the limit asked for.
        empty (numpy.ndarray): Set, and zero bytes long.
    """

    num_bytes: np.ndarray
    invalid_utf8: np.ndarray
    too_long: np.ndarray
    empty: np.ndarray


def check_strings(array: pa.Array, max_bytes: int) -> StringChecks:
    """Encoding, size and emptiness of every value of a string array.

    Args:
        array (pyarrow.Array): ``string``, ``large_string`` (or ``null``)
            values; a chunked array is combined.
        max_bytes (int): Values longer than this many bytes are ``too_long``.

    Returns:
        StringChecks: One mask per problem.

    Raises:
        TypeError: If the array does not hold strings.
    """
    array = _as_string(array)
    num_bytes = _spans(array)  # a null's span, normally empty, is masked below only if it matters
    too_long = num_bytes > max_bytes
    empty = num_bytes == 0
    if array.null_count and (too_long.any() or empty.any()):
        valid = valid_mask(array)
        too_long &= valid
        empty &= valid
        num_bytes = np.where(valid, num_bytes, 0)
    return StringChecks(num_bytes=num_bytes, invalid_utf8=invalid_utf8(array), too_long=too_long, empty=empty)


def string_lengths(array: pa.Array) -> np.ndarray:
    """``[n]`` int64 byte length of each value (0 for null), from the offsets alone.

    Examples:
        >>> string_lengths(pa.array(["é", None, "abc"])).tolist()
        [2, 0, 3]
    """
    array = _as_string(array)
    lengths = _spans(array).astype(np.int64)
    if array.null_count and lengths.any():
        lengths[~valid_mask(array)] = 0  # a null may own bytes; it has no length
    return lengths


def _spans(array: pa.Array) -> np.ndarray:
    """``[n]`` bytes between each value's offsets (nulls included, as they are stored)."""
    if len(array) == 0 or pa.types.is_null(array.type):
        return np.zeros(len(array), dtype=np.int64)
    return np.diff(_offsets(array))


def invalid_utf8(array: pa.Array) -> np.ndarray:
    """``[n]`` bool, true for each set value whose bytes are not valid UTF-8.

    Valid means what Python's ``bytes.decode("utf-8")`` accepts: no stray
    continuation byte, no truncated sequence, no overlong form, no surrogate
    (U+D800 to U+DFFF), nothing above U+10FFFF. Each value is judged on its
    own bytes (a sequence may not run into the next value).

    The common case costs one pass of Arrow's SIMD validation over the
    values' bytes taken as one string, and one gather of each value's first
    byte: if the whole is valid and no value starts inside a character,
    every value is valid. Only otherwise are the bytes scanned with numpy to
    find which values are not.

    Examples:
        >>> import numpy as np
        >>> raw = [b"ok", b"\\xff", b"caf\\xc3\\xa9", b"\\xc3", b"\\xed\\xa0\\x80"]
        >>> data = b"".join(raw)
        >>> offsets = np.cumsum([0] + [len(r) for r in raw]).astype(np.int32)
        >>> bad = pa.Array.from_buffers(pa.string(), 5, [None, pa.py_buffer(offsets), pa.py_buffer(data)])
        >>> invalid_utf8(bad).tolist()
        [False, True, False, True, True]
    """
    array = _as_string(array)
    n = len(array)
    if n == 0 or pa.types.is_null(array.type):
        return np.zeros(n, dtype=bool)
    offsets = _offsets(array)
    low, high = int(offsets[0]), int(offsets[-1])
    if high == low:
        return np.zeros(n, dtype=bool)
    data = np.frombuffer(array.buffers()[2], dtype=np.uint8, count=high - low, offset=low)
    starts = (offsets[:-1] - low).astype(np.int64)
    if _valid_whole(array.buffers()[2].slice(low, high - low)) and not np.any(
        (data[starts[starts < data.size]] & 0xC0) == 0x80
    ):
        return np.zeros(n, dtype=bool)
    bad_at = _bad_sequence_starts(data, starts)
    bad = np.zeros(n, dtype=bool)
    if bad_at.size:
        # The value holding each bad byte: the last one starting at or before it.
        bad[np.searchsorted(starts, bad_at, side="right") - 1] = True
    return bad & valid_mask(array)


def _valid_whole(data: pa.Buffer) -> bool:
    """Whether the bytes, taken as one string, are valid UTF-8 (Arrow's SIMD check)."""
    whole = pa.Array.from_buffers(pa.large_string(), 1, [None, pa.py_buffer(np.array([0, data.size], np.int64)), data])
    try:
        whole.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _bad_sequence_starts(data: np.ndarray, value_starts: np.ndarray) -> np.ndarray:
    """Positions in ``data`` where an invalid UTF-8 sequence starts (vectorized over all bytes).

    A *break* is a byte that is not a continuation byte, or the first byte of
    a value. A valid sequence is a break that is a lead byte followed by
    exactly as many continuation bytes as the lead announces, up to the next
    break, with the second byte in the range the lead allows.
    """
    size = data.size
    if size == 0:
        return np.zeros(0, dtype=np.int64)
    continuation = (data & 0xC0) == 0x80
    is_break = ~continuation
    in_range = value_starts[value_starts < size]
    is_break[in_range] = True
    breaks = np.flatnonzero(is_break)
    run = np.append(breaks[1:], size) - breaks - 1  # continuation bytes after each break
    lead = data[breaks]
    need = np.full(breaks.size, -1, dtype=np.int64)  # -1: cannot start a sequence
    need[lead < 0x80] = 0
    need[(lead >= 0xC2) & (lead <= 0xDF)] = 1
    need[(lead & 0xF0) == 0xE0] = 2
    need[(lead >= 0xF0) & (lead <= 0xF4)] = 3
    bad = (need != run) | continuation[breaks]  # a value that starts mid-sequence
    second = data[np.minimum(breaks + 1, size - 1)]
    checked = ~bad & (need >= 2)
    low = np.where(lead == 0xE0, 0xA0, np.where(lead == 0xF0, 0x90, 0x80))
    high = np.where(lead == 0xED, 0x9F, np.where(lead == 0xF4, 0x8F, 0xBF))
    bad |= checked & ((second < low) | (second > high))  # overlong, surrogate, above U+10FFFF
    return breaks[bad]


def value_text(array: pa.Array, index: int) -> str | None:
    """Value ``index`` of a string array as text, whatever its bytes (never raises).

    Bytes that are not UTF-8 become ``\\x..`` escapes, so a message can name
    a value that is itself the defect.

    Examples:
        >>> value_text(pa.array(["a", None]), 0), value_text(pa.array(["a", None]), 1)
        ('a', None)
    """
    try:
        value = array[index]
        if not value.is_valid:
            return None
        if isinstance(value, (pa.StringScalar, pa.LargeStringScalar)):
            raw = array.slice(index, 1).view(pa.binary() if pa.types.is_string(array.type) else pa.large_binary())
            return raw[0].as_py().decode("utf-8", "backslashreplace")
        return str(value.as_py())
    except Exception:  # a message must never fail while naming a value
        return f"<value {index}>"


def _as_string(array: pa.Array) -> pa.Array:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_string_view(array.type):
        array = array.cast(pa.string())
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type) or pa.types.is_null(array.type)):
        raise TypeError(f"expected a string array, got Arrow type {array.type}")
    return array


def _offsets(array: pa.Array) -> np.ndarray:
    dtype = np.int64 if pa.types.is_large_string(array.type) else np.int32
    return np.frombuffer(array.buffers()[1], dtype=dtype)[array.offset : array.offset + len(array) + 1]
