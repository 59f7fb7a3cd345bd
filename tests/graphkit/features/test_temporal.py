from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from graphkit.features import TEMPORAL_FEATURE_NAMES, temporal_features


def test_temporal_features_columns() -> None:
    x = temporal_features(
        level=[0, 1, 1, 2],
        start=pa.array([10.0, 10.0, 14.0, 14.0], pa.float32()),
        end=np.array([20.0, 14.0, 20.0, 14.0]),
        video_start=[10.0] * 4,
        video_end=[20.0] * 4,
        height=[2, 0, 1, 0],
    )
    assert x.dtype == np.float32 and x.shape == (4, len(TEMPORAL_FEATURE_NAMES))
    expected = np.array(
        [
            [0, np.log1p(10), 0.0, 1.0, 2],
            [1, np.log1p(4), 0.0, 0.4, 0],
            [1, np.log1p(6), 0.4, 1.0, 1],
            [2, 0.0, 0.4, 0.4, 0],
        ],
        dtype=np.float32,
    )
    np.testing.assert_allclose(x, expected, rtol=1e-6)


def test_temporal_features_of_a_zero_length_video() -> None:
    x = temporal_features([0], [5.0], [5.0], [5.0], [5.0], [0])
    np.testing.assert_array_equal(x, [[0, 0, 0, 0, 0]])


def test_temporal_features_reject_bad_input() -> None:
    ok = dict(level=[0, 1], start=[0.0, 0.0], end=[4.0, 2.0], video_start=[0.0, 0.0],
              video_end=[4.0, 4.0], height=[1, 0])
    with pytest.raises(ValueError, match="node 1 ends before it starts"):
        temporal_features(**{**ok, "end": [4.0, -1.0]})
    with pytest.raises(ValueError, match="start has non-finite values"):
        temporal_features(**{**ok, "start": [0.0, float("nan")]})
    with pytest.raises(ValueError, match="differ in length"):
        temporal_features(**{**ok, "height": [1]})
    with pytest.raises(ValueError, match="level has 1 null values"):
        temporal_features(**{**ok, "level": pa.array([0, None])})
    with pytest.raises(TypeError, match="height must be numeric"):
        temporal_features(**{**ok, "height": ["a", "b"]})
