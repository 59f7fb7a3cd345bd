"""Counter-based randomness: every draw is a hash of ``(seed, video, node, purpose)``.

There is no generator state to advance. A draw is the splitmix64 finalizer
(:func:`mix`) applied to a key built from the seed, the video's global index,
a node number and a 64-bit salt per *purpose* (a short string naming what the
draw decides, such as ``"split"``). So video ``i`` gets the same draws in
whichever batch it is generated, draws for different purposes are
independent, and whole arrays are drawn at once with numpy.

Examples:
    >>> import numpy as np
    >>> rand = Random(7, np.arange(3, dtype=np.uint64))
    >>> first = rand.uniform(np.arange(3), 0, "demo")
    >>> bool(((0 < first) & (first < 1)).all())
    True
    >>> again = Random(7, np.arange(2, 3, dtype=np.uint64)).uniform(np.array([0]), 0, "demo")
    >>> bool(again[0] == first[2])  # the same video, in another batch
    True
"""

from __future__ import annotations

import functools
import zlib

import numpy as np

__all__ = ["MASK64", "Random", "mix"]

_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = 0x9E3779B97F4A7C15

MASK64 = (1 << 64) - 1
"""All 64 bits set: seeds and keys are reduced modulo ``2**64``."""


def mix(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finalizer: a bijection of uint64 that scrambles bits.

    Args:
        x (numpy.ndarray): uint64 values.

    Returns:
        numpy.ndarray: The scrambled uint64 values, one per input; distinct
        inputs give distinct outputs.

    Examples:
        >>> import numpy as np
        >>> [hex(v) for v in mix(np.array([0, 1], dtype=np.uint64))]
        ['0x0', '0x5692161d100b05e5']
    """
    with np.errstate(over="ignore"):  # multiplication modulo 2**64 is the point
        x = x ^ (x >> np.uint64(30))
        x = x * _MUL1
        x = x ^ (x >> np.uint64(27))
        x = x * _MUL2
        return x ^ (x >> np.uint64(31))


@functools.cache
def _salt(purpose: str) -> np.uint64:
    """A 64-bit constant per purpose; different purposes draw independent streams."""
    return np.uint64((zlib.crc32(purpose.encode()) * _GOLDEN + 0x632BE59BD9B4E019) & MASK64)


class Random:
    """Uniform and normal draws keyed by (seed, video, node, purpose).

    ``video`` indexes the batch's videos; ``node`` is a node's heap number
    (0 for per-video draws); ``purpose`` names what the draw decides.

    Args:
        seed (int): The generator seed, in ``[0, 2**64)``.
        videos (numpy.ndarray): Global video indices (uint64) of the batch.

    Attributes:
        video_key (numpy.ndarray): One uint64 key per video of the batch,
            a bijection of the global video index for a given seed.
    """

    def __init__(self, seed: int, videos: np.ndarray) -> None:
        seed_key = mix(np.array([(seed ^ 0x5EED5EED5EED5EED) & MASK64], dtype=np.uint64))
        self.video_key = mix(videos.astype(np.uint64) + seed_key)

    def bits(self, video: np.ndarray, node: np.ndarray | int, purpose: str) -> np.ndarray:
        """64 random bits per item; a bijection of ``node`` for fixed video and purpose."""
        node = np.asarray(node, dtype=np.uint64).reshape(-1)  # 1-d: array, not scalar, arithmetic
        return mix(self.video_key[video] + mix(node ^ _salt(purpose)))

    def uniform(self, video: np.ndarray, node: np.ndarray | int, purpose: str) -> np.ndarray:
        """Uniform floats in the open interval (0, 1)."""
        bits = self.bits(video, node, purpose) >> np.uint64(11)
        return (bits.astype(np.float64) + 0.5) * (1.0 / (1 << 53))

    def normal(self, video: np.ndarray, node: np.ndarray | int, purpose: str) -> np.ndarray:
        """Standard normal floats (Box-Muller)."""
        radius = np.sqrt(-2.0 * np.log(self.uniform(video, node, purpose + " radius")))
        return radius * np.cos(2.0 * np.pi * self.uniform(video, node, purpose + " angle"))

    def index(
        self, video: np.ndarray, node: np.ndarray | int, purpose: str, size: int | np.ndarray
    ) -> np.ndarray:
        """Uniform integers in ``[0, size)`` (``size`` may vary per item)."""
        size = np.asarray(size)
        return np.minimum((self.uniform(video, node, purpose) * size).astype(np.int64), size - 1)
