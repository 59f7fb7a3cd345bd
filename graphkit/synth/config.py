"""The generator's configuration: every knob of :mod:`graphkit.synth` in one frozen record.

A :class:`SynthConfig` fixes the shape of the synthetic trees (video lengths,
when and where segments are split), where annotations sit and how noisy the
captions are. Its defaults reproduce the real Action100M sample; the same
``(num_videos, seed, config)`` always gives the same bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

__all__ = ["SynthConfig"]


@dataclass(frozen=True)
class SynthConfig:
    """Every knob of the generator; the defaults match the real sample.

    The tree and timing defaults were measured on the real Action100M sample
    (7 videos, 2,715 segments, ~1.5 segments per second of video). With them a
    video has ~390 segments on average; the preview's ~15M segments over ~120K
    videos (~125 per video) correspond to ``mean_video_duration=90``.

    The text noise rates were set once, before any model was trained, from one
    principle: a node's own captions should name its action often but not
    reliably, so that context (parent, siblings, temporal neighbours) adds
    information. They are not tuned for any model.

    Args:
        mean_video_duration (float, optional): Mean video length in seconds
            (log-normal). (default: :obj:`280.0`)
        video_duration_sigma (float, optional): Shape of the log-normal video
            length (its log's standard deviation). (default: :obj:`0.7`)
        min_video_duration (float, optional): Shortest video, in seconds.
            (default: :obj:`5.0`)
        max_video_duration (float, optional): Longest video, in seconds.
            (default: :obj:`3600.0`)
        min_segment (float, optional): Shortest segment, in seconds; a node
            shorter than twice this is never split. (default: :obj:`0.5`)
        split_midpoint (float, optional): Segment length, in seconds, that is
            split with probability 1/2. (default: :obj:`1.8`)
        split_slope (float, optional): Width of the logistic split curve in
            ``log`` seconds; smaller is steeper. (default: :obj:`0.55`)
        split_spread (float, optional): Standard deviation of the logit of the
            split fraction for a 1-second segment. (default: :obj:`0.37`)
        split_spread_growth (float, optional): Growth of that standard
            deviation per unit of ``log`` seconds: long segments are cut more
            lopsidedly. (default: :obj:`0.265`)
        max_depth (int, optional): Deepest level; nodes there are never split.
            (default: :obj:`24`)
        gpt_min_duration (float, optional): Segments at least this long (from
            the stored float32 ``end - start``) carry ``gpt``; shorter ones have
            ``gpt`` null. (default: :obj:`4.0`)
        na_rate (float, optional): Share of ``gpt`` nodes whose action brief,
            detailed action and actor are ``N/A``. (default: :obj:`0.045`)
        actor_na_rate (float, optional): Extra share of ``gpt`` nodes with
            only the actor ``N/A``. (default: :obj:`0.012`)
        brief_variant_rate (float, optional): Share of action briefs not in
            the plain form ("Insert wire into jet") but with articles, as a
            gerund ("Inserting the wire into the jet") or lowercase.
            (default: :obj:`0.3`)
        brief_extra_words_rate (float, optional): Share of action briefs with
            an extra word or two ("carefully"). (default: :obj:`0.1`)
        caption_verb_rate (float, optional): Chance that a caption names the
            node's true verb (otherwise a generic one: "handling").
            (default: :obj:`0.5`)
        caption_object_rate (float, optional): Chance that a caption names the
            node's true object (otherwise "something", "a tool", ...).
            (default: :obj:`0.7`)
        caption_setting_rate (float, optional): Chance that a caption names the
            task's setting ("in a kitchen"). (default: :obj:`0.5`)
        caption_distractor_rate (float, optional): Chance that a caption also
            names an unrelated object. (default: :obj:`0.3`)
        caption_filler_rate (float, optional): Chance of each of two generic
            filler sentences. (default: :obj:`0.5`)
        plm_action_correct_rate (float, optional): Chance that ``plm_action``
            names the true step. (default: :obj:`0.5`)
        plm_action_neighbour_rate (float, optional): Chance that it names the
            previous or next step of the script instead; otherwise it names a
            random step of the same task. (default: :obj:`0.3`)
        plm_caption_null_rate (float, optional): Share of nodes whose
            ``plm_caption`` is null. (default: :obj:`0.002`)
        plm_action_null_rate (float, optional): Share of nodes whose
            ``plm_action`` is null. (default: :obj:`0.001`)
        step_skip_rate (float, optional): Chance that a video skips a step of
            its script. (default: :obj:`0.1`)
        step_repeat_rate (float, optional): Chance that a video goes back to
            the previous step after a step. (default: :obj:`0.1`)
        transcript_rate (float, optional): Share of videos with a transcript.
            (default: :obj:`0.9`)
        transcript_step_rate (float, optional): Share of transcript lines that
            mention the current step. (default: :obj:`0.3`)

    Raises:
        ValueError: If a knob is out of range.

    Examples:
        >>> SynthConfig(na_rate=0.1).na_rate
        0.1
        >>> SynthConfig(min_segment=0)
        Traceback (most recent call last):
        ...
        ValueError: min_segment=0 must be > 0
    """

    mean_video_duration: float = 280.0
    video_duration_sigma: float = 0.7
    min_video_duration: float = 5.0
    max_video_duration: float = 3600.0
    min_segment: float = 0.5
    split_midpoint: float = 1.8
    split_slope: float = 0.55
    split_spread: float = 0.37
    split_spread_growth: float = 0.265
    max_depth: int = 24
    gpt_min_duration: float = 4.0
    na_rate: float = 0.045
    actor_na_rate: float = 0.012
    brief_variant_rate: float = 0.3
    brief_extra_words_rate: float = 0.1
    caption_verb_rate: float = 0.5
    caption_object_rate: float = 0.7
    caption_setting_rate: float = 0.5
    caption_distractor_rate: float = 0.3
    caption_filler_rate: float = 0.5
    plm_action_correct_rate: float = 0.5
    plm_action_neighbour_rate: float = 0.3
    plm_caption_null_rate: float = 0.002
    plm_action_null_rate: float = 0.001
    step_skip_rate: float = 0.1
    step_repeat_rate: float = 0.1
    transcript_rate: float = 0.9
    transcript_step_rate: float = 0.3

    def __post_init__(self) -> None:
        positive = (
            "mean_video_duration",
            "min_video_duration",
            "max_video_duration",
            "min_segment",
            "split_midpoint",
            "split_slope",
        )
        for name in positive:
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name}={value!r} must be > 0")
        for name in (
            "video_duration_sigma",
            "split_spread",
            "split_spread_growth",
            "gpt_min_duration",
        ):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name}={value!r} must be >= 0")
        for spec in fields(self):
            if spec.name.endswith("_rate"):
                value = getattr(self, spec.name)
                if not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
                    raise ValueError(f"{spec.name}={value!r} must lie in [0, 1]")
        if self.plm_action_correct_rate + self.plm_action_neighbour_rate > 1.0:
            raise ValueError(
                f"plm_action_correct_rate + plm_action_neighbour_rate = "
                f"{self.plm_action_correct_rate + self.plm_action_neighbour_rate} must be <= 1"
            )
        if self.min_video_duration > self.max_video_duration:
            raise ValueError(
                f"min_video_duration={self.min_video_duration} must be <= "
                f"max_video_duration={self.max_video_duration}"
            )
        if self.max_video_duration > 86_400:
            raise ValueError(
                f"max_video_duration={self.max_video_duration} must be <= 86400 (a day)"
            )
        if round(self.min_segment * 100) < 1:
            raise ValueError(f"min_segment={self.min_segment} must be >= 0.01 (the time grid)")
        if (
            isinstance(self.max_depth, bool)
            or not isinstance(self.max_depth, int)
            or not 0 <= self.max_depth <= 60
        ):
            raise ValueError(f"max_depth={self.max_depth!r} must be an int in [0, 60]")
