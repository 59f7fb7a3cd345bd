"""Identifiers: node UUIDs and YouTube-like video ids, built from random bits.

Node ids are UUID strings in the version-5 layout of the real files; video
ids are 11-character YouTube-like strings. Both are made from random uint64
bits (see :mod:`graphkit.synth.rng`) with numpy, as fixed-width ASCII arrays
turned into Arrow string arrays without a Python loop.

Examples:
    >>> import numpy as np
    >>> uuid_strings(np.array([0], dtype=np.uint64), np.array([0], dtype=np.uint64)).to_pylist()
    ['00000000-0000-5000-8000-000000000000']
    >>> video_uid_strings(np.array([0, 1], dtype=np.uint64)).to_pylist()
    ['AAAAAAAAAAA', 'BAAAAAAAAAA']
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = ["uuid_strings", "video_uid_strings"]


def _fixed_width_strings(chars: np.ndarray) -> pa.Array:
    """A string array from an ``(n, width)`` uint8 array of ASCII codes."""
    count, width = chars.shape
    offsets = np.arange(0, (count + 1) * width, width, dtype=np.int32)
    data = np.ascontiguousarray(chars, dtype=np.uint8)
    return pa.StringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(data))


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_UID_CHARS = np.frombuffer(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", dtype=np.uint8
)
_UID_LAST_CHARS = np.frombuffer(b"AEIMQUYcgkosw048", dtype=np.uint8)  # YouTube ids end in 4 bits
_BYTE_HEX = _HEX[np.stack([np.arange(256) >> 4, np.arange(256) & 15], axis=1)]  # (256, 2)
# Where each of the 36 UUID characters comes from among 32 hex digits + one "-".
_UUID_LAYOUT = np.array(
    [*range(0, 8), 32, *range(8, 12), 32, *range(12, 16), 32, *range(16, 20), 32, *range(20, 32)]
)


def uuid_strings(high: np.ndarray, low: np.ndarray) -> pa.Array:
    """UUID strings (version 5 layout, like the real node ids) from 128 bits.

    Six of the 128 bits are overwritten by the version and variant fields.

    Args:
        high (numpy.ndarray): The first 64 bits of each id (uint64).
        low (numpy.ndarray): The last 64 bits of each id (uint64).

    Returns:
        pyarrow.Array: One 36-character lowercase UUID string per item.
    """
    count = len(high)
    octets = np.concatenate(
        [
            high.astype(">u8").view(np.uint8).reshape(count, 8),
            low.astype(">u8").view(np.uint8).reshape(count, 8),
        ],
        axis=1,
    )
    octets[:, 6] = 0x50 | (octets[:, 6] & 0x0F)  # version 5
    octets[:, 8] = 0x80 | (octets[:, 8] & 0x3F)  # RFC 4122 variant
    digits = np.empty((count, 33), dtype=np.uint8)
    digits[:, :32] = _BYTE_HEX[octets].reshape(count, 32)
    digits[:, 32] = ord("-")
    return _fixed_width_strings(digits[:, _UUID_LAYOUT])


def video_uid_strings(bits: np.ndarray) -> pa.Array:
    """11-character YouTube-like ids; distinct bits give distinct ids.

    Args:
        bits (numpy.ndarray): 64 random bits per id (uint64).

    Returns:
        pyarrow.Array: One id per item, from ``A-Za-z0-9-_``; the last
        character carries 4 bits, as in YouTube ids.
    """
    shifts = np.arange(0, 60, 6, dtype=np.uint64)
    chars = np.empty((len(bits), 11), dtype=np.uint8)
    chars[:, :10] = _UID_CHARS[((bits[:, None] >> shifts) & np.uint64(63)).astype(np.int64)]
    chars[:, 10] = _UID_LAST_CHARS[(bits >> np.uint64(60)).astype(np.int64)]
    return _fixed_width_strings(chars)


# --------------------------------------------------------------------------- #
# Generation
# --------------------------------------------------------------------------- #
