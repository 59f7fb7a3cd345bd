"""Node annotations: the captions, ``plm_action`` and ``gpt`` strings of each segment.

Every node has a *true step* (see :mod:`graphkit.synth.script`); its
annotations are views of that step of differing reliability. ``gpt`` states
it plainly: ``gpt.action.brief`` is the step's imperative phrase (a few
spellings, some extra words, ``N/A`` on a small share of nodes) and the
summaries and detailed action name an actor and the task's setting. The
captions (``plm_caption``, and ``llama3_caption`` on leaves, in an image
style) are *noisy*: they name the true verb and object only some of the time,
among generic words, filler and distractors. ``plm_action`` names the true
step, a neighbouring step of the script or a random step of the task. The
rates come from :class:`~graphkit.synth.config.SynthConfig`.

Every function takes parallel arrays, one item per annotated node: its
batch-local video, its heap number (the random draws' node key), its task and
its step.

Examples:
    >>> import numpy as np
    >>> from graphkit.synth.config import SynthConfig
    >>> from graphkit.synth.rng import Random
    >>> rand, one = Random(0, np.arange(1, dtype=np.uint64)), np.zeros(1, dtype=np.int64)
    >>> text = captions(rand, one, one + 1, one, one, SynthConfig(), image=False)[0].as_py()
    >>> text.endswith(".")
    True
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit.synth.config import SynthConfig
from graphkit.synth.rng import Random
from graphkit.synth.text import BRIEF_FORMS, NA_SHARES, PLM_FORM_SHARES, join, pick, tables

__all__ = ["captions", "gpt_strings", "plm_actions"]

_OWN_ACTOR_RATE = 0.85  # gpt nodes naming the video's main actor; the rest name another one
_CAPITALIZED_ACTOR_RATE = 0.1


def captions(
    rand: Random,
    video: np.ndarray,
    node: np.ndarray,
    task: np.ndarray,
    step: np.ndarray,
    config: SynthConfig,
    *,
    image: bool,
) -> pa.Array:
    """Noisy captions of the given nodes' true steps.

    Args:
        rand (Random): The batch's random draws.
        video (numpy.ndarray): The batch-local video of each node.
        node (numpy.ndarray): The heap number of each node.
        task (numpy.ndarray): The task of each node's video.
        step (numpy.ndarray): The true *global* step of each node (task by
            task over all tasks' steps).
        config (SynthConfig): The caption noise rates.
        image (bool): ``llama3_caption`` (an image description with a scene
            section) rather than ``plm_caption``.

    Returns:
        pyarrow.Array: One caption per node, never null.
    """
    table = tables()
    kind = "llama3" if image else "plm"
    num_steps = len(table.steps)
    names_verb = rand.uniform(video, node, f"{kind} names verb") < config.caption_verb_rate
    names_object = rand.uniform(video, node, f"{kind} names object") < config.caption_object_rate
    verb_index = np.where(
        names_verb,
        step,
        num_steps + rand.index(video, node, f"{kind} generic verb", table.generic_verbs),
    )
    object_index = np.where(
        names_object,
        np.where(names_verb, step, num_steps + step),
        2 * num_steps + rand.index(video, node, f"{kind} generic object", table.generic_objects),
    )
    subjects = table.image_subject if image else table.caption_subject
    subject = pick(subjects, rand.index(video, node, f"{kind} subject", len(subjects)))
    setting = pick(
        table.setting,
        task,
        rand.uniform(video, node, f"{kind} setting") >= config.caption_setting_rate,
    )
    distractor = pick(
        table.distractor,
        rand.index(video, node, f"{kind} distractor", len(table.distractor)),
        rand.uniform(video, node, f"{kind} has distractor") >= config.caption_distractor_rate,
    )
    fillers = table.image_filler if image else table.caption_filler
    filler_a = pick(
        fillers,
        rand.index(video, node, f"{kind} filler a", len(fillers)),
        rand.uniform(video, node, f"{kind} has filler a") >= config.caption_filler_rate,
    )
    filler_b = pick(
        fillers,
        rand.index(video, node, f"{kind} filler b", len(fillers)),
        rand.uniform(video, node, f"{kind} has filler b") >= config.caption_filler_rate,
    )
    pieces: list[pa.Array | str] = [
        subject,
        " ",
        pick(table.verb_piece, verb_index),
        " ",
        pick(table.object_piece, object_index),
        setting,
        ".",
        distractor,
    ]
    if image:
        scenery = pick(
            table.scenery,
            task * table.scenery_per_task
            + rand.index(video, node, f"{kind} scenery", table.scenery_per_task),
        )
        pieces += ["\n\n* Scene:\n\t+", scenery, filler_a, filler_b]
    else:
        pieces += [filler_a, filler_b]
    return join(*pieces)


def plm_actions(
    rand: Random,
    video: np.ndarray,
    node: np.ndarray,
    task: np.ndarray,
    step: np.ndarray,
    config: SynthConfig,
) -> pa.Array:
    """``plm_action``: the true step, a neighbouring one or a random one of the task.

    ``rand``, ``video``, ``node`` and ``task`` are as in :func:`captions`.

    Args:
        step (numpy.ndarray): The true step of each node, an index into its
            task's script.
        config (SynthConfig): The guess and null rates.

    Returns:
        pyarrow.Array: One action per node, null on a small share.
    """
    table = tables()
    num_steps = table.num_steps[task]
    draw = rand.uniform(video, node, "plm action pick")
    direction = np.where(rand.uniform(video, node, "plm action neighbour") < 0.5, -1, 1)
    neighbour = np.clip(step + direction, 0, num_steps - 1)
    neighbour = np.where(
        neighbour == step, step - direction, neighbour
    )  # bounce off the script's ends
    random_step = rand.index(video, node, "plm action random", num_steps)
    guessed = np.where(
        draw < config.plm_action_correct_rate,
        step,
        np.where(
            draw < config.plm_action_correct_rate + config.plm_action_neighbour_rate,
            neighbour,
            random_step,
        ),
    )
    global_step = table.step_offset[task] + guessed
    form = np.searchsorted(
        np.cumsum(PLM_FORM_SHARES)[:-1], rand.uniform(video, node, "plm action form"), side="right"
    )
    null = rand.uniform(video, node, "plm action null") < config.plm_action_null_rate
    return pick(table.plm_action, global_step * len(PLM_FORM_SHARES) + form, null)


def gpt_strings(
    rand: Random,
    video: np.ndarray,
    node: np.ndarray,
    task: np.ndarray,
    global_step: np.ndarray,
    video_actor: np.ndarray,
    config: SynthConfig,
) -> tuple[list[pa.Array], list[pa.Array]]:
    """The ``gpt`` summary and action strings of the given nodes.

    Args:
        rand (Random): The batch's random draws.
        video (numpy.ndarray): The batch-local video of each node.
        node (numpy.ndarray): The heap number of each node.
        task (numpy.ndarray): The task of each node's video.
        global_step (numpy.ndarray): The true global step of each node.
        video_actor (numpy.ndarray): The main actor of every video of the
            batch (indexed by batch-local video, not by node).
        config (SynthConfig): The ``N/A`` and brief-variant rates.

    Returns:
        tuple[list[pyarrow.Array], list[pyarrow.Array]]: The summary's
        ``brief`` and ``detailed`` strings, and the action's ``brief``,
        ``detailed`` and ``actor`` strings, one per node each.
    """
    table = tables()
    num_actors = table.num_actors
    own_actor = rand.uniform(video, node, "own actor") < _OWN_ACTOR_RATE
    actor = np.where(
        own_actor, video_actor[video], rand.index(video, node, "other actor", num_actors)
    )
    plural = table.actor_plural[actor]
    actor_capitalized = pick(table.actor, actor + num_actors)
    core = pick(table.core, 2 * global_step + plural)
    variant = rand.uniform(video, node, "brief variant") < config.brief_variant_rate
    form = np.where(variant, 1 + rand.index(video, node, "brief form", BRIEF_FORMS - 1), 0)
    extra = pick(
        table.brief_extra,
        rand.index(video, node, "brief extra word", len(table.brief_extra)),
        rand.uniform(video, node, "has brief extra") >= config.brief_extra_words_rate,
    )
    brief = join(pick(table.brief, global_step * BRIEF_FORMS + form), extra)
    manner = pick(table.manner, rand.index(video, node, "manner", len(table.manner)))
    detailed = join(actor_capitalized, " ", core, manner, ".")
    actor_value = pick(
        table.actor,
        actor + num_actors * (rand.uniform(video, node, "actor case") < _CAPITALIZED_ACTOR_RATE),
    )
    na_draw = rand.uniform(video, node, "na")
    na_case = rand.uniform(video, node, "na case")
    na_value = pick(table.na, np.searchsorted(np.cumsum(NA_SHARES)[:-1], na_case, side="right"))
    no_action = pa.array(na_draw < config.na_rate)
    no_actor = pa.array(
        (na_draw < config.na_rate) | (rand.uniform(video, node, "actor na") < config.actor_na_rate)
    )
    summary_brief = join(actor_capitalized, " ", core, pick(table.setting, task), ".")
    scenery = pick(
        table.scenery,
        task * table.scenery_per_task
        + rand.index(video, node, "scenery", table.scenery_per_task),
    )
    camera = pick(table.camera, rand.index(video, node, "camera", len(table.camera)))
    summary_detailed = join(summary_brief, scenery, camera)
    return (
        [summary_brief, summary_detailed],
        [
            pc.if_else(no_action, na_value, brief),
            pc.if_else(no_action, na_value, detailed),
            pc.if_else(no_actor, na_value, actor_value),
        ],
    )
