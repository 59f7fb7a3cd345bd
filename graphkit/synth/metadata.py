"""Video metadata: the title, description, counts, upload date and transcript of each video.

The ``metadata`` struct of a row describes the whole video. Its title comes
from the task's titles (with a suffix), its description from templates that
name the task, its view and like counts from log-normal draws and its upload
date lies between 2006 and 2024. The transcript has one line every few
seconds; a share of the lines mention the step playing at that time (see
:mod:`graphkit.synth.script`), the rest are generic filler speech.

Examples:
    >>> import numpy as np
    >>> from graphkit.synth.config import SynthConfig
    >>> from graphkit.synth.rng import Random
    >>> from graphkit.synth.script import lay_out_script
    >>> videos, config = np.arange(2), SynthConfig()
    >>> rand = Random(0, videos.astype(np.uint64))
    >>> script = lay_out_script(rand, videos, np.array([0, 1]), config)
    >>> meta = metadata(rand, script, np.array([6000, 12000]), config)
    >>> meta.field("duration").to_pylist()
    [60, 120]
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit.schema import METADATA_TYPE, TRANSCRIPT_TYPE
from graphkit.synth.config import SynthConfig
from graphkit.synth.rng import Random
from graphkit.synth.script import Script, step_at
from graphkit.synth.text import join, pick, tables

__all__ = ["metadata"]

_TRANSCRIPT_NODE = 1 << 62  # node keys of transcript lines, above every tree node


def metadata(rand: Random, script: Script, duration_cs: np.ndarray, config: SynthConfig) -> pa.StructArray:
    """The ``metadata`` column of a batch.

    Args:
        rand (Random): The batch's random draws.
        script (Script): The batch's scripts (the videos' tasks and steps in time).
        duration_cs (numpy.ndarray): Each video's length, in centiseconds.
        config (SynthConfig): The transcript rates.

    Returns:
        pyarrow.StructArray: One row per video, of type
        :data:`graphkit.schema.METADATA_TYPE`.
    """
    table = tables()
    num_videos = len(duration_cs)
    video = np.arange(num_videos)
    task = script.task
    title = join(
        pick(
            table.title,
            table.title_offset[task] + rand.index(video, 0, "title", table.title_count[task]),
        ),
        pick(table.title_suffix, rand.index(video, 0, "title suffix", len(table.title_suffix))),
    )
    description_draw = rand.bits(video, 0, "description")
    openers, middles, closers = (
        table.openers_per_task,
        len(table.description_middle),
        len(table.description_closer),
    )
    description = join(
        pick(
            table.description_opener,
            task * openers + (description_draw % np.uint64(openers)).astype(np.int64),
        ),
        " ",
        pick(
            table.description_middle,
            ((description_draw >> np.uint64(8)) % np.uint64(middles)).astype(np.int64),
        ),
        " ",
        pick(
            table.description_closer,
            ((description_draw >> np.uint64(16)) % np.uint64(closers)).astype(np.int64),
        ),
    )
    views = np.exp(math.log(8000.0) + 2.0 * rand.normal(video, 0, "view count"))
    views = np.minimum(views, 5e9).astype(np.int64)
    like_ratio = np.exp(math.log(0.012) + 0.8 * rand.normal(video, 0, "like ratio"))
    likes = np.minimum(views * like_ratio, views).astype(np.int64)
    days = rand.index(video, 0, "upload date", 6939)  # 2006-01-01 .. 2024-12-31
    dates = np.datetime_as_string(np.datetime64("2006-01-01") + days, unit="D")
    upload_date = pc.replace_substring(pa.array(dates.astype(object), type=pa.string()), "-", "")

    # Transcript: one line every `spacing` seconds; some lines name the step.
    spacing = 2.0 + 2.5 * rand.uniform(video, 0, "transcript spacing")
    has_transcript = rand.uniform(video, 0, "has transcript") < config.transcript_rate
    lines = np.where(has_transcript, np.floor(duration_cs / 100.0 / spacing), 0).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(lines)]).astype(np.int32)
    line_video = np.repeat(video, lines)
    line = np.arange(offsets[-1]) - offsets[:-1][line_video]
    line_node = (line + _TRANSCRIPT_NODE).astype(np.uint64)
    jitter = rand.uniform(line_video, line_node, "transcript jitter")
    time = (line + 0.2 + 0.6 * jitter) * spacing[line_video]
    step = step_at(script, line_video, time * 100.0 / duration_cs[line_video])
    global_step = table.step_offset[task[line_video]] + step
    speech_forms = table.speech_forms
    mentions = (
        rand.uniform(line_video, line_node, "transcript mention") < config.transcript_step_rate
    )
    text = pc.if_else(
        pa.array(mentions),
        pick(
            table.speech_step,
            global_step * speech_forms
            + rand.index(line_video, line_node, "transcript form", speech_forms),
        ),
        pick(
            table.speech_filler,
            rand.index(line_video, line_node, "transcript filler", len(table.speech_filler)),
        ),
    )
    time_text = pc.cast(pa.array(np.round(time, 2)), pa.string())
    transcript_item = TRANSCRIPT_TYPE.value_type
    transcript = pa.ListArray.from_arrays(
        pa.array(offsets),
        pa.StructArray.from_arrays([time_text, text], fields=list(transcript_item)),
        type=TRANSCRIPT_TYPE,
    )
    return pa.StructArray.from_arrays(
        [
            title,
            description,
            pa.array(views),
            pa.array(likes),
            pa.array(np.rint(duration_cs / 100.0).astype(np.int64)),
            upload_date,
            transcript,
        ],
        fields=list(METADATA_TYPE),
    )
