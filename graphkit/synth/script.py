"""Scripts in time: which step of its task each moment of a video shows.

A video follows one task (:data:`~graphkit.synth.grammar.TASKS`); its script
is laid over the video's time line as :data:`SLOTS` *slots*. Slot ``2k``
plays step ``k`` (unless the video skips it) and slot ``2k + 1`` revisits step
``k - 1`` (sometimes), each for a random share of the video. A leaf belongs
to the step playing at its midpoint, and a node's *true step* is the one
covering most of its time span, summed over its leaves.

Examples:
    >>> import numpy as np
    >>> from graphkit.synth.config import SynthConfig
    >>> from graphkit.synth.rng import Random
    >>> videos = np.arange(2)
    >>> rand = Random(0, videos.astype(np.uint64))
    >>> script = lay_out_script(rand, videos, np.array([0, 3]), SynthConfig())
    >>> script.slot_end.shape, bool((script.slot_end[:, -1] == 1.0).all())
    ((2, 24), True)
    >>> steps = step_at(script, videos, np.array([0.5, 0.5]))
    >>> bool(((0 <= steps) & (steps < tables().num_steps[script.task])).all())
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graphkit.synth.config import SynthConfig
from graphkit.synth.grammar import MAX_STEPS
from graphkit.synth.rng import Random
from graphkit.synth.text import tables
from graphkit.synth.trees import Trees

__all__ = ["SLOTS", "Script", "lay_out_script", "step_at", "true_steps"]

SLOTS = 2 * MAX_STEPS
"""Time slots per video: slot ``2k`` plays step ``k``, slot ``2k + 1`` revisits step ``k - 1``."""

_TIME_KEY = 1 << 40  # separates videos in combined (video, centisecond) sort keys


@dataclass
class Script:
    """How each video's task script is laid over its time line."""

    task: np.ndarray  # per video
    slot_end: np.ndarray  # (videos, SLOTS) cumulative end of each slot, as a fraction of the video
    slot_step: np.ndarray  # (videos, SLOTS) step (index in the task) played in each slot


def lay_out_script(rand: Random, videos: np.ndarray, task: np.ndarray, config: SynthConfig) -> Script:
    """Lay each video's script over its time line.

    Step lengths are Gamma(2) draws; a step is skipped with probability
    ``config.step_skip_rate`` and followed by a revisit of the previous step
    with probability ``config.step_repeat_rate``. A video that skips every
    step plays its first step throughout.

    Args:
        rand (Random): The batch's random draws.
        videos (numpy.ndarray): Batch-local video indices.
        task (numpy.ndarray): Each video's task (an index into ``TASKS``).
        config (SynthConfig): The skip and repeat rates.

    Returns:
        Script: The slots of every video.
    """
    table = tables()
    num_steps = table.num_steps[task]
    weights = np.zeros((len(videos), SLOTS))
    slot_step = np.zeros((len(videos), SLOTS), dtype=np.int64)
    for k in range(MAX_STEPS):
        exists = k < num_steps
        # Gamma(2) step lengths: steps vary in length, rarely vanish.
        length = -np.log(
            rand.uniform(videos, 0, f"slot {k} length a")
            * rand.uniform(videos, 0, f"slot {k} length b")
        )
        kept = exists & (rand.uniform(videos, 0, f"slot {k} skip") >= config.step_skip_rate)
        weights[:, 2 * k] = np.where(kept, length, 0.0)
        slot_step[:, 2 * k] = k
        if k > 0:
            revisit = kept & (
                rand.uniform(videos, 0, f"slot {k} revisit") < config.step_repeat_rate
            )
            weights[:, 2 * k + 1] = np.where(revisit, 0.5 * length, 0.0)
            slot_step[:, 2 * k + 1] = k - 1
    empty = weights.sum(axis=1) == 0
    weights[empty, 0] = 1.0  # every step skipped: play the first one throughout
    slot_end = np.cumsum(weights, axis=1)
    slot_end /= slot_end[:, -1:]
    return Script(task=task, slot_end=slot_end, slot_step=slot_step)


def step_at(script: Script, video: np.ndarray, fraction: np.ndarray) -> np.ndarray:
    """The script step playing at ``fraction`` of each video's length.

    Args:
        script (Script): The batch's scripts.
        video (numpy.ndarray): A batch-local video per item.
        fraction (numpy.ndarray): A time per item, as a fraction of its video's length.

    Returns:
        numpy.ndarray: The step (an index into the video's task script) per item.
    """
    slot = (script.slot_end[video, : SLOTS - 1] <= fraction[:, None]).sum(axis=1)
    return script.slot_step[video, slot]


def true_steps(trees: Trees, script: Script, duration_cs: np.ndarray) -> np.ndarray:
    """Each node's step: the one covering most of its span (via its leaves).

    Args:
        trees (Trees): The batch's nodes.
        script (Script): The batch's scripts.
        duration_cs (numpy.ndarray): Each video's length, in centiseconds.

    Returns:
        numpy.ndarray: The true step (an index into the task script) per node.
    """
    leaves = np.flatnonzero(trees.is_leaf)
    leaf_video = trees.video[leaves]
    leaf_keys = leaf_video * _TIME_KEY + trees.start[leaves]
    order = np.argsort(leaf_keys)
    leaves, leaf_keys, leaf_video = leaves[order], leaf_keys[order], leaf_video[order]
    middle = (trees.start[leaves] + trees.end[leaves]) / (2.0 * duration_cs[leaf_video])
    leaf_step = step_at(script, leaf_video, middle)
    # Prefix sums of leaf time per step let every node sum its leaves at once.
    covered = np.zeros((len(leaves) + 1, MAX_STEPS), dtype=np.int64)
    covered[np.arange(1, len(leaves) + 1), leaf_step] = trees.end[leaves] - trees.start[leaves]
    np.cumsum(covered, axis=0, out=covered)
    first = np.searchsorted(leaf_keys, trees.video * _TIME_KEY + trees.start)
    stop = np.searchsorted(leaf_keys, trees.video * _TIME_KEY + trees.end)
    best = np.zeros(len(trees.video), dtype=np.int64)
    best_time = np.full(len(trees.video), -1, dtype=np.int64)
    for k in range(MAX_STEPS):
        time = covered[stop, k] - covered[first, k]
        better = time > best_time
        best[better] = k
        best_time[better] = time[better]
    return best
