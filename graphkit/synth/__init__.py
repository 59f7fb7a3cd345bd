"""Synthetic Action100M data: seeded, streaming, in the exact published schema.

Tests, examples and benchmarks cannot ship the real Action100M files (they are
under a research licence), so this package makes schema-identical stand-ins at
any scale, from ten videos to the preview's ~120K videos.

**Structure.** A video is a binary *Tree-of-Captions*: the root spans the
whole video and every internal node is cut once, at a split point, into two
children that tile it exactly (the same float32 value ends the first child and
starts the second). Whether a segment of ``d`` seconds is cut follows a
logistic curve in ``log d`` and where it is cut follows a logit-normal
fraction that gets more lopsided for longer segments; both curves, the
0.5-second minimum segment and the 10-ms time grid were measured on the real
sample, and give the same shape: deep (up to ~20 levels), unbalanced trees
with a median segment of ~1.9 s, ~73% of segments shorter than 4 s and ~1.5
nodes per second of video. Video lengths are log-normal, so most videos last a
few minutes while some last seconds and some an hour (about 390 segments per
video on average with the defaults). Nodes are listed in breadth-first order
(level by level, in time order), as in the real files. ``gpt`` is set exactly
on segments of 4 s or more, judged on the stored float32 times; no segment
sits so close to 4 s that float32 and float64 subtraction would disagree.

**Semantics.** Each video follows one of the :data:`TASKS`, a grammar with an
ordered script of steps, each a ``(verb, object)`` pair ("Insert wire into
jet"). The script is laid over the video in time (steps are sometimes skipped,
sometimes revisited), so each leaf belongs to one step and a run of
consecutive leaves shares it. A node's *true step* is the one covering most of
its time span. The ``gpt`` annotations state the true step plainly
(``gpt.action.brief`` is its imperative phrase, with a few variants such as
gerunds, and ``N/A`` on ~4.5% of nodes); the captions are *noisy* views of it
(``plm_caption`` and ``llama3_caption`` name the verb and the object only some
of the time, among filler and distractors; ``plm_action`` is often a
neighbouring step). A node's own text is thus partial evidence, and its
parent, siblings and temporal neighbours, which mostly share its step, carry
real extra signal. The noise rates are fixed in :class:`SynthConfig` from this
reasoning alone, never tuned to favour any model.

**Determinism.** Every random draw is a counter-based hash of
``(seed, video index, node, purpose)``: video ``i`` is the same whichever
batch it is generated in, and the same seed gives the same bytes. Trees are
grown level by level with numpy across all videos of a batch, and strings are
assembled with :mod:`pyarrow.compute` from template tables, so there is no
Python loop per node.

**Modules.** :mod:`~graphkit.synth.grammar` (the task grammars, package data
in ``data/``), :mod:`~graphkit.synth.config` (:class:`SynthConfig`),
:mod:`~graphkit.synth.rng` (counter-based draws),
:mod:`~graphkit.synth.text` (the string tables),
:mod:`~graphkit.synth.trees` (tree growth), :mod:`~graphkit.synth.script`
(steps in time), :mod:`~graphkit.synth.ids`,
:mod:`~graphkit.synth.annotation` (node text),
:mod:`~graphkit.synth.metadata` (video metadata) and
:mod:`~graphkit.synth.generate` (:func:`generate_batch`,
:func:`generate_batches`).

Examples:
    >>> from graphkit.schema import SOURCE_SCHEMA
    >>> batch = generate_batch(3, seed=7)
    >>> batch.num_rows, batch.schema.equals(SOURCE_SCHEMA)
    (3, True)
    >>> batch.slice(1).equals(generate_batch(2, seed=7, first_video=1))
    True
    >>> root = batch.column("nodes")[0][0]
    >>> root["parent_id"].as_py(), root["level"].as_py(), root["start"].as_py()
    (None, 0, 0.0)
"""

from __future__ import annotations

from graphkit.synth.config import SynthConfig
from graphkit.synth.generate import generate_batch, generate_batches
from graphkit.synth.grammar import TASKS, VERB_FORMS, Task, TaskStep

__all__ = [
    "TaskStep",
    "Task",
    "TASKS",
    "VERB_FORMS",
    "SynthConfig",
    "generate_batch",
    "generate_batches",
]
