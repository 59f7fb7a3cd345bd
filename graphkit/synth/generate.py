"""The generator's API: synthetic Action100M rows for a range of videos, in the published schema.

:func:`generate_batch` makes the rows of videos ``first_video ..
first_video + num_videos - 1`` as one record batch and
:func:`generate_batches` streams videos ``0 .. num_videos - 1`` in batches of
bounded size. A batch is made in stages, each for all its videos at once:
video lengths, trees (:mod:`~graphkit.synth.trees`), tasks and scripts
(:mod:`~graphkit.synth.script`), node times and ids
(:mod:`~graphkit.synth.ids`), node annotations
(:mod:`~graphkit.synth.annotation`) and video metadata
(:mod:`~graphkit.synth.metadata`). Video ``i`` depends only on ``(seed, i)``
and the :class:`~graphkit.synth.config.SynthConfig`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit.schema import GPT_TYPE, NODE_TYPE, SOURCE_SCHEMA
from graphkit.synth.annotation import captions, gpt_strings, plm_actions
from graphkit.synth.config import SynthConfig
from graphkit.synth.grammar import TASKS
from graphkit.synth.ids import uuid_strings, video_uid_strings
from graphkit.synth.metadata import metadata
from graphkit.synth.rng import MASK64, Random, mix
from graphkit.synth.script import lay_out_script, true_steps
from graphkit.synth.text import spread, tables
from graphkit.synth.trees import grow_trees

__all__ = ["generate_batch", "generate_batches"]


def _check_count(name: str, value: object, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name}={value} must be >= {minimum}")
    return int(value)


def _check_seed_and_config(seed: object, config: object) -> tuple[int, SynthConfig]:
    seed = _check_count("seed", seed)
    if seed > MASK64:
        raise ValueError(f"seed={seed} must be < 2**64")
    if config is None:
        return seed, SynthConfig()
    if not isinstance(config, SynthConfig):
        raise TypeError(f"config must be a SynthConfig or None, got {type(config).__name__}")
    return seed, config


def generate_batch(
    num_videos: int, *, seed: int = 0, first_video: int = 0, config: SynthConfig | None = None
) -> pa.RecordBatch:
    """Synthetic Action100M rows for videos ``first_video .. first_video + num_videos - 1``.

    Video ``i`` depends only on ``(seed, i)`` and :obj:`config`, so batches
    can be generated in any order and size and still agree.

    Args:
        num_videos (int): How many videos (rows).
        seed (int, optional): The seed, in ``[0, 2**64)``. (default: :obj:`0`)
        first_video (int, optional): Global index of the first video.
            (default: :obj:`0`)
        config (SynthConfig, optional): Generator settings; :obj:`None` uses
            the defaults. (default: :obj:`None`)

    Returns:
        pyarrow.RecordBatch: ``num_videos`` rows with the schema
        :data:`graphkit.schema.SOURCE_SCHEMA`.

    Raises:
        TypeError: If a count is not an int or :obj:`config` is not a
            :class:`SynthConfig`.
        ValueError: If a count is negative or the seed is out of range.

    Examples:
        >>> batch = generate_batch(2, seed=1)
        >>> [len(nodes) for nodes in batch.column("nodes").to_pylist()] == [
        ...     len(generate_batch(1, seed=1, first_video=i).column("nodes")[0]) for i in range(2)]
        True
        >>> len(batch.column("video_uid")[0].as_py())
        11
    """
    num_videos = _check_count("num_videos", num_videos)
    first_video = _check_count("first_video", first_video)
    seed, config = _check_seed_and_config(seed, config)
    if first_video + num_videos > 1 << 62:
        raise ValueError(f"first_video + num_videos = {first_video + num_videos} must be <= 2**62")
    if num_videos == 0:
        return pa.RecordBatch.from_pylist([], schema=SOURCE_SCHEMA)
    table = tables()
    rand = Random(seed, np.arange(first_video, first_video + num_videos, dtype=np.uint64))
    video = np.arange(num_videos)

    # Video lengths: log-normal on the 10-ms grid.
    sigma = config.video_duration_sigma
    log_median = math.log(config.mean_video_duration) - sigma * sigma / 2.0
    seconds = np.exp(log_median + sigma * rand.normal(video, 0, "duration"))
    seconds = np.clip(seconds, config.min_video_duration, config.max_video_duration)
    duration_cs = np.maximum(np.rint(seconds * 100.0).astype(np.int64), 1)

    trees = grow_trees(rand, duration_cs, config)
    task = rand.index(video, 0, "task", len(TASKS))
    script = lay_out_script(rand, video, task, config)
    step = true_steps(trees, script, duration_cs)
    node_task = task[trees.video]
    global_step = table.step_offset[node_task] + step

    # Times: both sides of a cut come from the same centisecond value, so they
    # are the same float32.
    start = (trees.start / 100.0).astype(np.float32)
    end = (trees.end / 100.0).astype(np.float32)
    node_id = uuid_strings(
        rand.bits(trees.video, trees.heap, "uuid high"),
        rand.bits(trees.video, trees.heap, "uuid low"),
    )
    parent_id = node_id.take(pa.array(np.maximum(trees.parent, 0), mask=trees.parent < 0))

    plm_caption_null = (
        rand.uniform(trees.video, trees.heap, "plm caption null") < config.plm_caption_null_rate
    )
    plm_caption = captions(
        rand, trees.video, trees.heap, node_task, global_step, config, image=False
    )
    plm_caption = pc.if_else(pa.array(plm_caption_null), pa.scalar(None, pa.string()), plm_caption)
    plm_action = plm_actions(rand, trees.video, trees.heap, node_task, step, config)

    leaves = np.flatnonzero(trees.is_leaf)
    llama3_caption = spread(
        captions(
            rand,
            trees.video[leaves],
            trees.heap[leaves],
            node_task[leaves],
            global_step[leaves],
            config,
            image=True,
        ),
        trees.is_leaf,
    )

    # gpt on every segment of at least gpt_min_duration, judged on the stored floats.
    has_gpt = end.astype(np.float64) - start.astype(np.float64) >= config.gpt_min_duration
    annotated = np.flatnonzero(has_gpt)
    video_actor = rand.index(video, 0, "actor", table.num_actors)
    summary, action = gpt_strings(
        rand,
        trees.video[annotated],
        trees.heap[annotated],
        node_task[annotated],
        global_step[annotated],
        video_actor,
        config,
    )
    summary_type, action_type = GPT_TYPE.field("summary").type, GPT_TYPE.field("action").type
    gpt = pa.StructArray.from_arrays(
        [
            pa.StructArray.from_arrays(
                [spread(a, has_gpt) for a in summary], fields=list(summary_type)
            ),
            pa.StructArray.from_arrays(
                [spread(a, has_gpt) for a in action], fields=list(action_type)
            ),
        ],
        fields=list(GPT_TYPE),
        mask=pa.array(~has_gpt),
    )

    nodes = pa.StructArray.from_arrays(
        [
            node_id,
            parent_id,
            pa.array(trees.level, type=pa.int16()),
            pa.array(start),
            pa.array(end),
            plm_action,
            plm_caption,
            llama3_caption,
            gpt,
        ],
        fields=list(NODE_TYPE),
    )
    offsets = np.concatenate([[0], np.cumsum(trees.counts)]).astype(np.int32)
    nodes_column = pa.ListArray.from_arrays(
        pa.array(offsets), nodes, type=SOURCE_SCHEMA.field("nodes").type
    )
    # A bijection of the video index (for a given seed): uids never collide.
    video_uid = video_uid_strings(mix(rand.video_key ^ np.uint64(0x1D)))
    video_metadata = metadata(rand, script, duration_cs, config)
    return pa.RecordBatch.from_arrays([video_uid, video_metadata, nodes_column], schema=SOURCE_SCHEMA)


def generate_batches(
    num_videos: int,
    *,
    seed: int = 0,
    config: SynthConfig | None = None,
    videos_per_batch: int = 1000,
) -> Iterator[pa.RecordBatch]:
    """Synthetic videos ``0 .. num_videos - 1`` as a stream of record batches.

    Memory stays bounded by :obj:`videos_per_batch` whatever the total; the
    videos do not depend on :obj:`videos_per_batch`.
    :func:`graphkit.loaders.synth.write_parquet` writes them to a file.

    Args:
        num_videos (int): How many videos (rows).
        seed (int, optional): The seed. (default: :obj:`0`)
        config (SynthConfig, optional): Generator settings. (default: :obj:`None`)
        videos_per_batch (int, optional): Videos per batch. (default: :obj:`1000`)

    Yields:
        pyarrow.RecordBatch: Up to :obj:`videos_per_batch` rows each, in the
        schema :data:`graphkit.schema.SOURCE_SCHEMA`.

    Raises:
        TypeError: If a count or the seed is not an int or :obj:`config` is
            not a :class:`SynthConfig`.
        ValueError: If a count or the seed is out of range.

    Examples:
        >>> [batch.num_rows for batch in generate_batches(25, videos_per_batch=10)]
        [10, 10, 5]
    """
    num_videos = _check_count("num_videos", num_videos)
    videos_per_batch = _check_count("videos_per_batch", videos_per_batch, minimum=1)
    seed, config = _check_seed_and_config(seed, config)
    return _batches(num_videos, seed, config, videos_per_batch)


def _batches(num_videos: int, seed: int, config: SynthConfig, videos_per_batch: int) -> Iterator[pa.RecordBatch]:
    for first in range(0, num_videos, videos_per_batch):
        count = min(videos_per_batch, num_videos - first)
        yield generate_batch(count, seed=seed, first_video=first, config=config)
