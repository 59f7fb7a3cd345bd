"""Deterministic train/valid/test splits by video.

Segments of one video share captions, speakers and scenes, so a split by
segment would leak; graphkit splits by *video*. Each ``video_uid`` is hashed
with a keyed BLAKE2b (the key is the seed) to a number ``u`` uniform in
``[0, 1)``, and the video goes to split ``i`` when ``u`` falls in the ``i``-th
interval of the cumulative fractions: with ``(0.8, 0.1, 0.1)``, ``u < 0.8`` is
train, ``0.8 <= u < 0.9`` valid, the rest test.

So a video's split depends only on its uid, the seed and the fractions, never
on which other videos are present, in what order, or in which batch; adding
videos to a dataset moves none of the old ones, and growing one fraction only
moves videos next to the boundaries. Split names follow OGB
(:data:`SPLIT_NAMES`), so :func:`split_indices` matches the
``get_idx_split()`` contract.

Each *unique* uid is hashed once: a per-node ``video_uid`` column works as
well as one uid per video.

Examples:
    >>> split = split_of(["8JOpXDtraZI", "0Rtv7y3jTBo", "8JOpXDtraZI"], fractions=(0.5, 0.25, 0.25))
    >>> split
    array([2, 0, 2], dtype=int8)
    >>> [SPLIT_NAMES[i] for i in split]
    ['test', 'train', 'test']
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from graphkit.arrays import as_string_array, seed_key
from graphkit.typing import UidArrayLike

__all__ = [
    "SPLIT_NAMES",
    "TRAIN",
    "VALID",
    "TEST",
    "DEFAULT_FRACTIONS",
    "split_of",
    "split_masks",
    "split_indices",
]

logger = logging.getLogger(__name__)

#: Split names in index order (OGB naming).
SPLIT_NAMES: tuple[str, str, str] = ("train", "valid", "test")
#: Split indices returned by :func:`split_of`.
TRAIN, VALID, TEST = 0, 1, 2
#: The default train/valid/test fractions.
DEFAULT_FRACTIONS: tuple[float, float, float] = (0.8, 0.1, 0.1)

_PERSON = b"graphkit.split"


def _check_fractions(fractions: Sequence[float]) -> np.ndarray:
    try:
        values = [float(f) for f in fractions]
    except (TypeError, ValueError) as err:
        raise ValueError(f"fractions must be three numbers, got {fractions!r}") from err
    if len(values) != len(SPLIT_NAMES):
        raise ValueError(
            f"fractions must have one entry per split {SPLIT_NAMES}, got {fractions!r}"
        )
    if any(not math.isfinite(f) or f < 0 for f in values):
        raise ValueError(f"fractions must be finite and non-negative, got {fractions!r}")
    if not math.isclose(sum(values), 1.0, abs_tol=1e-6):
        raise ValueError(f"fractions must sum to 1, got {fractions!r} (sum {sum(values)})")
    return np.cumsum(values)[:-1]


def _as_uid_array(video_uids: UidArrayLike) -> pa.Array:
    uids = as_string_array(video_uids, "video_uids")
    if uids.null_count:
        raise ValueError(f"video_uids has {uids.null_count} null values; every node needs a video")
    return uids


def split_of(
    video_uids: UidArrayLike,
    *,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    seed: int = 0,
) -> np.ndarray:
    """The split of each video (or of each node's video).

    Args:
        video_uids (pyarrow.Array or Sequence[str]): Video uids, one per video
            or one per node; no nulls.
        fractions (Sequence[float], optional): Train, valid and test
            fractions, non-negative, summing to 1.
            (default: :obj:`(0.8, 0.1, 0.1)`)
        seed (int, optional): Selects the hash; another seed gives another,
            independent split. (default: :obj:`0`)

    Returns:
        numpy.ndarray: ``int8`` of the same length: :data:`TRAIN` (0),
        :data:`VALID` (1) or :data:`TEST` (2).

    Raises:
        ValueError: If the fractions are invalid or a uid is null.
        TypeError: If the uids are not strings or the seed is not an integer.

    Examples:
        >>> split_of(["a", "b", "c", "d"], fractions=(1.0, 0.0, 0.0))
        array([0, 0, 0, 0], dtype=int8)
    """
    edges = _check_fractions(fractions)
    key = seed_key(seed)
    uids = _as_uid_array(video_uids)
    encoded = uids.dictionary_encode()
    unique = encoded.dictionary.to_pylist()
    digests = b"".join(
        hashlib.blake2b(uid.encode("utf-8"), digest_size=8, key=key, person=_PERSON).digest()
        for uid in unique
    )
    # The top 53 bits give a double in [0, 1) with every value exactly representable.
    uniform = (np.frombuffer(digests, dtype="<u8") >> np.uint64(11)).astype(np.float64) * 2.0**-53
    per_video = np.searchsorted(edges, uniform, side="right").astype(np.int8)
    logger.debug("split %d videos: %s", len(unique), np.bincount(per_video, minlength=3).tolist())
    return per_video[encoded.indices.to_numpy(zero_copy_only=False)]


def split_masks(
    video_uids: UidArrayLike,
    *,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Boolean masks of the three splits, keyed by :data:`SPLIT_NAMES`.

    Args:
        video_uids (pyarrow.Array or Sequence[str]): As in :func:`split_of`.
        fractions (Sequence[float], optional): As in :func:`split_of`.
            (default: :obj:`(0.8, 0.1, 0.1)`)
        seed (int, optional): As in :func:`split_of`. (default: :obj:`0`)

    Returns:
        dict[str, numpy.ndarray]: ``{"train": ..., "valid": ..., "test": ...}``,
        each ``bool`` of the same length; exactly one is true per entry.

    Raises:
        ValueError: As :func:`split_of`.
        TypeError: As :func:`split_of`.

    Examples:
        >>> masks = split_masks(["a", "b"], fractions=(0.0, 1.0, 0.0))
        >>> {name: mask.tolist() for name, mask in masks.items()}
        {'train': [False, False], 'valid': [True, True], 'test': [False, False]}
    """
    split = split_of(video_uids, fractions=fractions, seed=seed)
    return {name: split == index for index, name in enumerate(SPLIT_NAMES)}


def split_indices(
    video_uids: UidArrayLike,
    *,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Positions in each split, like OGB's ``get_idx_split()``.

    Takes the arguments of :func:`split_of` and raises as it does.

    Returns:
        dict[str, numpy.ndarray]: ``{"train", "valid", "test"}`` to sorted
        ``int64`` positions into :obj:`video_uids`.

    Examples:
        >>> split_indices(["a", "b", "a"], fractions=(0.0, 0.0, 1.0))["test"]
        array([0, 1, 2])
    """
    masks = split_masks(video_uids, fractions=fractions, seed=seed)
    return {name: np.flatnonzero(mask).astype(np.int64) for name, mask in masks.items()}
