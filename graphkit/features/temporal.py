"""Per-node position in the tree and in time: the five temporal feature columns.

See :mod:`graphkit.features` for the columns (:data:`TEMPORAL_FEATURE_NAMES`).

Examples:
    >>> TEMPORAL_FEATURE_NAMES[:2]
    ('level', 'log_duration')
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

__all__ = ["TEMPORAL_FEATURE_NAMES", "TEMPORAL_COLUMNS", "temporal_features"]

#: The columns of :func:`temporal_features`, in order.
TEMPORAL_FEATURE_NAMES: tuple[str, ...] = (
    "level",
    "log_duration",
    "relative_start",
    "relative_end",
    "height",
)
#: The per-node inputs :func:`node_features` needs for temporal features.
TEMPORAL_COLUMNS: tuple[str, ...] = ("level", "start", "end", "video_start", "video_end", "height")


def _as_float_array(values: Any, name: str) -> np.ndarray:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        if values.null_count:
            raise ValueError(f"{name} has {values.null_count} null values")
        values = values.to_numpy(zero_copy_only=False)
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise TypeError(f"{name} must be numeric, got dtype {array.dtype}")
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} has non-finite values (NaN or infinity)")
    return array


def temporal_features(
    level: Any,
    start: Any,
    end: Any,
    video_start: Any,
    video_end: Any,
    height: Any,
) -> np.ndarray:
    """Per-node position in the tree and in time.

    Every argument is one value per node (numpy or Arrow, no nulls); the video
    span is repeated for every node of the video.

    Args:
        level (numpy.ndarray): Depth in the tree, root = 0.
        start (numpy.ndarray): Segment start, seconds.
        end (numpy.ndarray): Segment end, seconds.
        video_start (numpy.ndarray): Start of the node's video (its root).
        video_end (numpy.ndarray): End of the node's video (its root).
        height (numpy.ndarray): Distance to the deepest leaf below, leaves = 0.

    Returns:
        numpy.ndarray: ``float32`` of shape ``(N, 5)``, columns
        :data:`TEMPORAL_FEATURE_NAMES`: level, ``log1p`` of the duration,
        relative start and relative end (``(t - video_start) / (video_end -
        video_start)``, 0 for a video of zero length) and height.

    Raises:
        ValueError: If the lengths differ, a value is null or not finite, or
            a segment ends before it starts.
        TypeError: If an argument is not numeric.

    Examples:
        >>> temporal_features([0, 1, 1], [0.0, 0.0, 3.0], [10.0, 3.0, 10.0],
        ...                   [0.0] * 3, [10.0] * 3, [1, 0, 0]).round(3)
        array([[0.   , 2.398, 0.   , 1.   , 1.   ],
               [1.   , 1.386, 0.   , 0.3  , 0.   ],
               [1.   , 2.079, 0.3  , 1.   , 0.   ]], dtype=float32)
    """
    names = ("level", "start", "end", "video_start", "video_end", "height")
    arrays = [
        _as_float_array(values, name)
        for values, name in zip((level, start, end, video_start, video_end, height), names)
    ]
    lengths = {name: len(array) for name, array in zip(names, arrays)}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"temporal inputs differ in length: {lengths}")
    level_, start_, end_, video_start_, video_end_, height_ = arrays
    duration = end_ - start_
    if (duration < 0).any():
        at = int(np.flatnonzero(duration < 0)[0])
        raise ValueError(f"node {at} ends before it starts: start={start_[at]}, end={end_[at]}")
    span = video_end_ - video_start_
    safe_span = np.where(span > 0, span, 1.0)
    relative_start = np.where(span > 0, (start_ - video_start_) / safe_span, 0.0)
    relative_end = np.where(span > 0, (end_ - video_start_) / safe_span, 0.0)
    columns = (level_, np.log1p(duration), relative_start, relative_end, height_)
    return np.stack(columns, axis=1).astype(np.float32)
