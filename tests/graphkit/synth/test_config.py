"""Tests of graphkit.synth.config: the knobs' validation."""

from __future__ import annotations

import pytest

from graphkit.synth import SynthConfig


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"min_segment": 0}, "min_segment=0 must be > 0"),
        ({"na_rate": 1.5}, "na_rate=1.5 must lie in \\[0, 1\\]"),
        ({"max_depth": -1}, "max_depth=-1 must be an int in \\[0, 60\\]"),
        ({"min_video_duration": 100.0, "max_video_duration": 50.0}, "min_video_duration=100.0"),
        ({"plm_action_correct_rate": 0.8, "plm_action_neighbour_rate": 0.3}, "must be <= 1"),
        ({"split_spread": float("nan")}, "split_spread=nan must be >= 0"),
    ],
)
def test_config_rejects_out_of_range_knobs(kwargs: dict, match: str):
    with pytest.raises(ValueError, match=match):
        SynthConfig(**kwargs)
