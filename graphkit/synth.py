"""Synthetic Action100M data: seeded, streaming, in the exact published schema.

Tests, examples and benchmarks cannot ship the real Action100M files (they are
under a research licence), so this module makes schema-identical stand-ins at
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

import functools
import logging
import math
import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit.schema import GPT_TYPE, METADATA_TYPE, NODE_TYPE, SOURCE_SCHEMA, TRANSCRIPT_TYPE

__all__ = [
    "TaskStep",
    "Task",
    "TASKS",
    "VERB_FORMS",
    "SynthConfig",
    "generate_batch",
    "generate_batches",
]

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- #
# Task grammars
# --------------------------------------------------------------------------- #

#: Base form -> (third person singular, gerund) of every verb the grammars use.
VERB_FORMS: dict[str, tuple[str, str]] = {
    "add": ("adds", "adding"),
    "adjust": ("adjusts", "adjusting"),
    "apply": ("applies", "applying"),
    "attach": ("attaches", "attaching"),
    "brush": ("brushes", "brushing"),
    "check": ("checks", "checking"),
    "clean": ("cleans", "cleaning"),
    "close": ("closes", "closing"),
    "cover": ("covers", "covering"),
    "crack": ("cracks", "cracking"),
    "cut": ("cuts", "cutting"),
    "dig": ("digs", "digging"),
    "draw": ("draws", "drawing"),
    "drill": ("drills", "drilling"),
    "dry": ("dries", "drying"),
    "explain": ("explains", "explaining"),
    "flip": ("flips", "flipping"),
    "fold": ("folds", "folding"),
    "glue": ("glues", "gluing"),
    "heat": ("heats", "heating"),
    "insert": ("inserts", "inserting"),
    "install": ("installs", "installing"),
    "knead": ("kneads", "kneading"),
    "loosen": ("loosens", "loosening"),
    "measure": ("measures", "measuring"),
    "mix": ("mixes", "mixing"),
    "open": ("opens", "opening"),
    "paint": ("paints", "painting"),
    "peel": ("peels", "peeling"),
    "place": ("places", "placing"),
    "point to": ("points to", "pointing to"),
    "pour": ("pours", "pouring"),
    "press": ("presses", "pressing"),
    "pull": ("pulls", "pulling"),
    "pump": ("pumps", "pumping"),
    "remove": ("removes", "removing"),
    "rinse": ("rinses", "rinsing"),
    "shape": ("shapes", "shaping"),
    "show": ("shows", "showing"),
    "slice": ("slices", "slicing"),
    "spray": ("sprays", "spraying"),
    "stir": ("stirs", "stirring"),
    "strip": ("strips", "stripping"),
    "test": ("tests", "testing"),
    "thread": ("threads", "threading"),
    "tie": ("ties", "tying"),
    "tighten": ("tightens", "tightening"),
    "turn off": ("turns off", "turning off"),
    "turn on": ("turns on", "turning on"),
    "wrap": ("wraps", "wrapping"),
}

_ARTICLE = re.compile(r"\b(?:the|a|an) ")


@dataclass(frozen=True)
class TaskStep:
    """One step of a task script: a verb applied to an object.

    Args:
        verb (str): Base form of the verb, a key of :data:`VERB_FORMS`
            (``"insert"``, ``"turn off"``).
        obj (str): The object, without article (``"wire"``).
        rest (str, optional): A complement with articles (``"into the jet"``).
            (default: :obj:`""`)

    Examples:
        >>> step = TaskStep("insert", "wire", "into the jet")
        >>> step.brief, step.phrase("gerund")
        ('Insert wire into jet', 'inserting the wire into the jet')
    """

    verb: str
    obj: str
    rest: str = ""

    def __post_init__(self) -> None:
        if self.verb not in VERB_FORMS:
            raise ValueError(f"verb {self.verb!r} has no entry in VERB_FORMS")

    @property
    def brief(self) -> str:
        """The imperative phrase of ``gpt.action.brief`` ("Insert wire into jet")."""
        rest = _ARTICLE.sub("", self.rest)
        return _capitalize(" ".join(part for part in (self.verb, self.obj, rest) if part))

    def phrase(self, form: str = "base") -> str:
        """The verb phrase with articles in the given form.

        Args:
            form (str, optional): ``"base"`` ("insert the wire into the jet"),
                ``"third"`` ("inserts ...") or ``"gerund"`` ("inserting ...").
                (default: :obj:`"base"`)

        Returns:
            str: The lowercase phrase.

        Raises:
            ValueError: If :obj:`form` is not one of the three forms.
        """
        verbs = {
            "base": self.verb,
            "third": VERB_FORMS[self.verb][0],
            "gerund": VERB_FORMS[self.verb][1],
        }
        if form not in verbs:
            raise ValueError(f"form={form!r}; expected one of {sorted(verbs)}")
        return " ".join(part for part in (verbs[form], f"the {self.obj}", self.rest) if part)


@dataclass(frozen=True)
class Task:
    """A task grammar: what a video is about and the ordered steps it shows.

    Args:
        name (str): The task as a verb phrase ("make pancakes").
        setting (str): Where it happens ("in a kitchen").
        titles (tuple[str, ...]): Video titles to choose from.
        scenery (tuple[str, ...]): Scene sentences used in long captions.
        steps (tuple[TaskStep, ...]): The script, in order (at most 12 steps).
    """

    name: str
    setting: str
    titles: tuple[str, ...]
    scenery: tuple[str, ...]
    steps: tuple[TaskStep, ...]


def _parse_tasks(text: str) -> tuple[Task, ...]:
    """The :class:`Task` grammars written in the format of :data:`_TASK_GRAMMARS`, in order."""
    blocks: list[dict[str, list[str]]] = []
    for line in filter(None, text.splitlines()):
        key, value = line.split(": ", 1)
        if key == "task":
            blocks.append({"task": [], "title": [], "scene": [], "step": []})
        blocks[-1][key].append(value)
    tasks = []
    for block in blocks:
        name, setting = block["task"][0].split(" | ")
        steps = tuple(TaskStep(*step.split(" / ")) for step in block["step"])
        tasks.append(Task(name, setting, tuple(block["title"]), tuple(block["scene"]), steps))
    return tuple(tasks)


# One "key: value" line each: "task: <name> | <setting>" starts a task, then its
# "title:" and "scene:" sentences, then its script, one "step: <verb> / <object>"
# or "step: <verb> / <object> / <rest>" line per step, in order.
_TASK_GRAMMARS = """
task: make pancakes | in a kitchen
title: How to Make Pancakes
title: Fluffy Pancakes Recipe
title: Easy Homemade Pancakes from Scratch
scene: A mixing bowl and a carton of eggs sit on the counter.
scene: A frying pan rests on a gas stove.
step: explain / recipe
step: add / flour / to the bowl
step: crack / eggs / into the bowl
step: pour / milk / into the bowl
step: stir / batter / with a whisk
step: heat / pan / on the stove
step: pour / batter / into the pan
step: flip / pancake / with a spatula
step: place / pancakes / on the plate
step: show / pancakes

task: fix a flat bike tire | in a garage
title: How to Fix a Flat Bike Tire
title: Bike Puncture Repair in 5 Minutes
title: Fixing a Flat Tyre - Beginner Guide
scene: A bicycle hangs upside down on a repair stand.
scene: Tire levers and a patch kit lie on a workbench.
step: show / flat tire
step: remove / wheel / from the frame
step: open / valve
step: pull / inner tube / out of the tire
step: check / inner tube / for holes
step: apply / patch / to the tube
step: insert / inner tube / into the tire
step: pump / air / into the tire
step: attach / wheel / to the frame
step: show / bike

task: build a wooden shelf | in a workshop
title: How to Build a Simple Wooden Shelf
title: DIY Floating Shelf
title: Building a Shelf with Basic Tools
scene: Pine boards are stacked next to a workbench.
scene: A drill and a box of screws sit on the bench.
step: explain / tools
step: measure / board / with a tape measure
step: cut / board / with a saw
step: drill / holes / into the board
step: insert / dowels / into the holes
step: apply / glue / to the joints
step: attach / brackets / to the board
step: tighten / screws / with a screwdriver
step: attach / shelf / to the wall
step: show / shelf

task: plant a tree | in a garden
title: How to Plant a Tree
title: Planting a Fruit Tree the Right Way
title: Tree Planting Tips for Beginners
scene: A young tree in a plastic pot stands on the lawn.
scene: A shovel leans against a wooden fence.
step: explain / location
step: remove / tree / from the pot
step: loosen / roots / by hand
step: place / tree / in the hole
step: add / soil / around the roots
step: press / soil / around the trunk
step: pour / water / around the tree
step: add / mulch / around the tree
step: show / tree

task: replace a kitchen faucet | under a kitchen sink
title: How to Replace a Kitchen Faucet
title: Kitchen Faucet Installation
title: Replacing an Old Faucet Yourself
scene: The cabinet under the sink is open and full of pipes.
scene: A new faucet lies in its box on the counter.
step: turn off / water supply
step: open / cabinet
step: remove / supply lines / from the valves
step: loosen / mounting nut / with a wrench
step: remove / old faucet / from the sink
step: clean / sink / with a sponge
step: insert / new faucet / into the sink hole
step: tighten / mounting nut
step: attach / supply lines / to the faucet
step: turn on / water supply
step: test / faucet

task: change the engine oil | in a garage
title: How to Change Your Oil
title: Oil Change at Home - Step by Step
title: DIY Engine Oil and Filter Change
scene: A car is parked on ramps with its hood closed.
scene: An oil drain pan sits on the concrete floor.
step: open / hood
step: remove / drain plug / with a wrench
step: pour / old oil / into the drain pan
step: remove / oil filter
step: install / new oil filter
step: insert / drain plug / into the oil pan
step: tighten / drain plug
step: add / oil / to the engine
step: check / dipstick
step: close / hood

task: wire an electrical outlet | at a wall outlet
title: How to Wire an Outlet
title: Replacing an Electrical Outlet Safely
title: Outlet Wiring Made Easy
scene: An open electrical box shows black and white wires.
scene: A voltage tester lies on a step ladder.
step: turn off / breaker
step: remove / cover plate
step: remove / outlet / from the box
step: strip / wire / with pliers
step: insert / wire / into the terminal
step: tighten / terminal screw
step: insert / outlet / into the box
step: attach / cover plate
step: test / outlet / with a tester

task: paint a wall | in a living room
title: How to Paint a Wall Like a Pro
title: Painting a Room - Beginner Tips
title: Wall Painting Tutorial
scene: Drop cloths cover the floor and the furniture.
scene: A paint roller and a tray lie by the wall.
step: explain / supplies
step: apply / tape / to the edges
step: open / paint can / with a screwdriver
step: stir / paint
step: pour / paint / into the tray
step: apply / paint / with a roller
step: paint / corners / with a brush
step: remove / tape / from the edges
step: show / wall

task: make a paper greeting card | at a craft table
title: How to Make a Greeting Card
title: Easy DIY Birthday Card
title: Handmade Paper Card Tutorial
scene: Sheets of colored paper are spread on the table.
scene: Scissors, glue and markers lie in a tray.
step: explain / materials
step: fold / paper / in half
step: cut / paper / with scissors
step: glue / paper / onto the card
step: draw / design / on the front
step: add / stickers / to the card
step: attach / ribbon / to the card
step: show / card

task: bake bread | in a kitchen
title: How to Bake Bread at Home
title: Simple White Bread Recipe
title: No-Fail Homemade Bread
scene: A bag of flour and a jar of yeast sit on the counter.
scene: A loaf pan waits next to the oven.
step: add / flour / to the bowl
step: add / yeast / to the bowl
step: pour / water / into the bowl
step: mix / dough / with a spoon
step: knead / dough / on the counter
step: cover / bowl / with a towel
step: shape / loaf
step: place / loaf / in the oven
step: remove / bread / from the oven
step: slice / bread

task: clean windscreen washer jets | beside a car
title: How To Clean Windscreen Washer Jets
title: Blocked Washer Jets Fix
title: Unblock Your Washer Jets in Minutes
scene: A car is parked on a driveway with its bonnet open.
scene: A thin wire and a pin lie on the bonnet.
step: open / hood
step: point to / washer jets
step: insert / wire / into the jet
step: clean / jet / with a brush
step: spray / water / through the jet
step: adjust / jet / with a pin
step: close / hood
step: test / washer jets

task: install a phone screen protector | at a desk
title: How to Install a Screen Protector
title: Bubble-Free Screen Protector Install
title: Screen Protector Tutorial
scene: A phone lies face up on a clean desk.
scene: A cleaning cloth and a plastic card lie beside it.
step: open / package
step: clean / screen / with a cloth
step: peel / backing film
step: place / protector / over the screen
step: press / protector / onto the screen
step: remove / bubbles / with a card
step: show / phone

task: make a fruit smoothie | in a kitchen
title: How to Make a Smoothie
title: Healthy Banana Berry Smoothie
title: 5 Minute Breakfast Smoothie
scene: A blender stands on the counter next to a fruit bowl.
scene: Bananas and berries are laid out on a board.
step: explain / ingredients
step: peel / banana
step: cut / banana / into slices
step: add / fruit / to the blender
step: pour / milk / into the blender
step: turn on / blender
step: pour / smoothie / into the glass
step: show / smoothie

task: sew a button | at a sewing table
title: How to Sew a Button
title: Sewing a Button Back On
title: Button Sewing for Beginners
scene: A shirt lies flat on the table with a loose button.
scene: A spool of thread and a pin cushion sit nearby.
step: thread / needle
step: tie / knot / at the end of the thread
step: insert / needle / into the fabric
step: pull / thread / through the button
step: wrap / thread / around the button
step: tie / knot / under the button
step: cut / thread / with scissors
step: show / shirt

task: upgrade laptop memory | at a desk
title: How to Upgrade Laptop RAM
title: Laptop Memory Upgrade Guide
title: Adding RAM to Your Laptop
scene: A laptop lies upside down on an anti-static mat.
scene: A small screwdriver set is open on the desk.
step: turn off / laptop
step: remove / screws / from the back panel
step: open / case
step: remove / memory module
step: insert / memory module / into the slot
step: press / module / into place
step: close / case
step: tighten / screws
step: turn on / laptop
step: show / system settings

task: clean white sneakers | at a bathroom sink
title: How to Clean White Sneakers
title: Make Your Shoes Look New Again
title: Sneaker Cleaning Hack
scene: A pair of dirty white sneakers sits on a towel.
scene: A brush and a bowl of soapy water are ready.
step: remove / laces / from the shoes
step: brush / dirt / off the shoes
step: mix / cleaning solution / in a bowl
step: clean / soles / with a brush
step: rinse / shoes / under the tap
step: dry / shoes / with a towel
step: insert / laces / into the eyelets
step: show / sneakers

task: make soft boiled eggs | in a kitchen
title: How to Make Soft Boiled Eggs
title: Perfect Soft Boiled Eggs with Toast Soldiers
title: Jammy Eggs Every Time
scene: A small pot of water sits on the stove.
scene: A bowl of ice water waits next to the stove.
step: pour / water / into the pot
step: heat / water / on the stove
step: place / eggs / in the pot
step: place / eggs / into the ice bath
step: crack / shell / with a spoon
step: peel / eggs
step: slice / toast / into strips
step: show / eggs

task: patch a hole in drywall | in a hallway
title: How to Patch a Hole in Drywall
title: Drywall Repair Made Easy
title: Fix a Hole in the Wall Fast
scene: A fist-sized hole is visible in a white wall.
scene: A putty knife and a tub of compound sit on a stool.
step: explain / damage
step: cut / patch / to size
step: place / patch / over the hole
step: apply / joint compound / with a knife
step: clean / surface / with sandpaper
step: clean / dust / with a cloth
step: paint / patch
step: show / wall
"""

#: The task grammars videos are drawn from (uniformly).
TASKS: tuple[Task, ...] = _parse_tasks(_TASK_GRAMMARS)

_MAX_STEPS = 12  # the longest script a task may have; slots are laid out for it


# --------------------------------------------------------------------------- #
# Configuration
# --------------------------------------------------------------------------- #


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


# --------------------------------------------------------------------------- #
# Counter-based randomness: every draw is a hash of (seed, video, node, purpose)
# --------------------------------------------------------------------------- #

_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = 0x9E3779B97F4A7C15
_MASK64 = (1 << 64) - 1
_TIME_KEY = 1 << 40  # separates videos in combined (video, centisecond) sort keys
_TRANSCRIPT_NODE = 1 << 62  # node keys of transcript lines, above every tree node


def _mix(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finalizer: a bijection of uint64 that scrambles bits."""
    with np.errstate(over="ignore"):  # multiplication modulo 2**64 is the point
        x = x ^ (x >> np.uint64(30))
        x = x * _MUL1
        x = x ^ (x >> np.uint64(27))
        x = x * _MUL2
        return x ^ (x >> np.uint64(31))


@functools.cache
def _salt(purpose: str) -> np.uint64:
    """A 64-bit constant per purpose; different purposes draw independent streams."""
    return np.uint64((zlib.crc32(purpose.encode()) * _GOLDEN + 0x632BE59BD9B4E019) & _MASK64)


class _Random:
    """Uniform and normal draws keyed by (seed, video, node, purpose).

    ``video`` indexes the batch's videos; ``node`` is a node's heap number
    (0 for per-video draws); ``purpose`` names what the draw decides.

    Args:
        seed (int): The generator seed.
        videos (numpy.ndarray): Global video indices (uint64) of the batch.
    """

    def __init__(self, seed: int, videos: np.ndarray) -> None:
        seed_key = _mix(np.array([(seed ^ 0x5EED5EED5EED5EED) & _MASK64], dtype=np.uint64))
        self.video_key = _mix(videos.astype(np.uint64) + seed_key)

    def bits(self, video: np.ndarray, node: np.ndarray | int, purpose: str) -> np.ndarray:
        """64 random bits per item; a bijection of ``node`` for fixed video and purpose."""
        node = np.asarray(node, dtype=np.uint64).reshape(-1)  # 1-d: array, not scalar, arithmetic
        return _mix(self.video_key[video] + _mix(node ^ _salt(purpose)))

    def uniform(self, video: np.ndarray, node: np.ndarray | int, purpose: str) -> np.ndarray:
        """Uniform floats in the open interval (0, 1)."""
        bits = self.bits(video, node, purpose) >> np.uint64(11)
        return (bits.astype(np.float64) + 0.5) * (1.0 / (1 << 53))

    def normal(self, video: np.ndarray, node: np.ndarray | int, purpose: str) -> np.ndarray:
        """Standard normal floats (Box-Muller)."""
        radius = np.sqrt(-2.0 * np.log(self.uniform(video, node, purpose + " radius")))
        return radius * np.cos(2.0 * np.pi * self.uniform(video, node, purpose + " angle"))

    def index(
        self, video: np.ndarray, node: np.ndarray | int, purpose: str, size: int | np.ndarray
    ) -> np.ndarray:
        """Uniform integers in ``[0, size)`` (``size`` may vary per item)."""
        size = np.asarray(size)
        return np.minimum((self.uniform(video, node, purpose) * size).astype(np.int64), size - 1)


# --------------------------------------------------------------------------- #
# Text tables (built once)
# --------------------------------------------------------------------------- #

_ACTORS: tuple[tuple[str, bool], ...] = (  # (actor, is plural)
    ("the presenter's hands", True),
    ("the presenter", False),
    ("a man", False),
    ("a woman", False),
    ("a person", False),
    ("a hand", False),
    ("the person's hands", True),
    ("two people", True),
    ("the host", False),
    ("a man wearing a blue T-shirt", False),
    ("a woman in an apron", False),
)
_CAPTION_SUBJECTS = (
    "A person is",
    "A man is",
    "A woman is",
    "Someone is",
    "Two hands are",
    "The presenter is",
    "The video shows a person",
    "The clip shows someone",
    "In this video, a person is",
)
_IMAGE_SUBJECTS = (
    "The image shows a person",
    "The image depicts a man",
    "The image depicts a woman",
    "This image features a pair of hands",
    "The image shows someone",
)
_GENERIC_GERUNDS = ("working with", "handling", "holding", "looking at", "moving", "reaching for")
_GENERIC_OBJECTS = ("something", "an object", "a small item", "some material", "a tool", "it")
_POSITIONS = ("nearby", "in the background", "on the left", "on the right", "on the table")
_EXTRA_NOUNS = (
    "cat",
    "dog",
    "window",
    "lamp",
    "chair",
    "plant",
    "clock",
    "mug",
    "laptop",
    "poster",
    "radio",
    "box",
)
_CAPTION_FILLERS = (
    "The lighting is bright and even.",
    "The camera stays still throughout.",
    "The background is slightly blurred.",
    "Text appears briefly at the bottom of the screen.",
    "The shot is a close-up.",
    "The scene is indoors.",
    "The video is filmed from above.",
    "The camera moves slowly to the right.",
    "Music plays in the background.",
    "The colors are warm and natural.",
    "The movements are slow and careful.",
    "The frame is slightly shaky.",
)
_IMAGE_FILLERS = (
    "Overall, the image gives a clear view of the activity.",
    "The purpose of the image appears to be instructional.",
    "The image is well lit and in focus.",
    "The composition draws attention to the hands.",
    "The image seems to be a frame from a tutorial video.",
)
_BRIEF_EXTRAS = (" carefully", " slowly", " by hand", " again", " with both hands", " firmly")
_MANNERS = (
    "",
    ", keeping the motion steady",
    " with slow, careful movements",
    ", then pauses briefly",
    " while explaining each move to the camera",
    ", checking the result afterwards",
)
_CAMERAS = (
    "The camera stays close on the hands.",
    "The shot is steady and well lit.",
    "The camera shows the work from above.",
    "Captions appear at the bottom of the frame.",
    "The presenter occasionally looks at the camera.",
)
_NA_VALUES = ("N/A", "n/a", "N/a")
_NA_SHARES = np.array([0.9, 0.05, 0.05])  # the real sample only has "N/A"; readers must not care
_OWN_ACTOR_RATE = 0.85  # gpt nodes naming the video's main actor; the rest name another one
_CAPITALIZED_ACTOR_RATE = 0.1
_DESCRIPTION_OPENERS = (
    "In this video I show you how to {name}.",
    "Learn how to {name} with this easy step by step guide.",
    "Today we {name} - it is easier than you think!",
    "A quick tutorial on how to {name} at home.",
)
_DESCRIPTION_MIDDLES = (
    "Everything you need is listed below.",
    "Leave a comment if you have any questions.",
    "This method has worked for me for years.",
    "Watch until the end for a bonus tip.",
    "",
)
_DESCRIPTION_CLOSERS = (
    "Thanks for watching!",
    "Please like and subscribe for more videos.",
    "Follow us on social media for updates.",
    "See you in the next video.",
)
_TITLE_SUFFIXES = (
    "",
    "",
    "",
    " | Easy DIY",
    " - Step by Step",
    " (Tutorial)",
    "!",
    " - Full Guide",
)
_SPEECH_STEP = (
    "now we're going to {phrase}",
    "so you want to {phrase}",
    "next {phrase}",
    "i'm going to {phrase}",
)
_SPEECH_FILLERS = (
    "so",
    "okay",
    "alright guys",
    "and there you go",
    "make sure it's nice and tight",
    "just like that",
    "you can see here",
    "that's it",
    "let me show you",
    "hi everyone welcome back to my channel",
    "don't forget to subscribe",
    "as you can see",
    "this is really important",
    "take your time with this",
)
_SLOTS = 2 * _MAX_STEPS  # slot 2k plays step k, slot 2k+1 revisits step k-1
# plm_action forms: "pour batter into pan", "Pour the batter into the pan.",
# "Pouring the batter into the pan", "Pour batter into pan", "pour batter in".
_PLM_FORM_SHARES = np.array([0.3, 0.2, 0.15, 0.3, 0.05])
_PLM_FORMS = len(_PLM_FORM_SHARES)
_BRIEF_FORMS = 4


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class _Tables:
    """The template strings, as Arrow arrays indexed by integer codes."""

    num_steps: np.ndarray  # steps per task
    step_offset: np.ndarray  # first global step of each task
    steps: tuple[TaskStep, ...]  # all steps, task by task ("global steps")
    brief: pa.Array  # global step * _BRIEF_FORMS + form
    core: pa.Array  # global step * 2 + actor is plural: "inserts the wire into the jet"
    plm_action: pa.Array  # global step * _PLM_FORMS + form
    verb_piece: pa.Array  # global step -> gerund; then the generic gerunds
    object_piece: pa.Array  # object with complement, object alone, generic objects
    setting: pa.Array  # task -> " in a kitchen"
    scenery: pa.Array  # task * scenery_per_task + j -> " A mixing bowl ..."
    scenery_per_task: int
    distractor: pa.Array  # " The lamp can be seen nearby."
    caption_subject: pa.Array
    image_subject: pa.Array
    caption_filler: pa.Array
    image_filler: pa.Array
    actor: pa.Array  # actor, then capitalized actor
    actor_plural: np.ndarray
    brief_extra: pa.Array
    manner: pa.Array
    camera: pa.Array
    na: pa.Array
    title: pa.Array
    title_offset: np.ndarray
    title_count: np.ndarray
    title_suffix: pa.Array
    description_opener: pa.Array  # task * openers + j
    description_middle: pa.Array
    description_closer: pa.Array
    speech_step: pa.Array  # global step * len(_SPEECH_STEP) + j
    speech_filler: pa.Array


def _strings(values: Sequence[str]) -> pa.Array:
    return pa.array(list(values), type=pa.string())


@functools.lru_cache(maxsize=1)
def _tables() -> _Tables:
    steps = tuple(step for task in TASKS for step in task.steps)
    num_steps = np.array([len(task.steps) for task in TASKS], dtype=np.int64)
    if num_steps.max() > _MAX_STEPS or num_steps.min() < 2:
        raise ValueError(f"every task needs 2 to {_MAX_STEPS} steps; got {num_steps.tolist()}")
    brief, core, plm = [], [], []
    for step in steps:
        plain = step.brief
        with_articles = _capitalize(step.phrase("base"))
        brief += [plain, with_articles, _capitalize(step.phrase("gerund")), plain.lower()]
        core += [step.phrase("third"), step.phrase("base")]
        truncated = plain.lower()[: max(4, len(plain) - 3)]
        plm += [
            plain.lower(),
            with_articles + ".",
            _capitalize(step.phrase("gerund")),
            plain,
            truncated,
        ]
    objects_with_rest = [" ".join(p for p in (f"the {s.obj}", s.rest) if p) for s in steps]
    objects_alone = [f"the {s.obj}" for s in steps]
    nouns = sorted({s.obj for s in steps} | set(_EXTRA_NOUNS))
    scenery_per_task = len(TASKS[0].scenery)
    if any(len(task.scenery) != scenery_per_task for task in TASKS):
        raise ValueError("every task needs the same number of scenery sentences")
    titles = [title for task in TASKS for title in task.titles]
    title_count = np.array([len(task.titles) for task in TASKS], dtype=np.int64)
    return _Tables(
        num_steps=num_steps,
        step_offset=np.concatenate([[0], np.cumsum(num_steps)[:-1]]),
        steps=steps,
        brief=_strings(brief),
        core=_strings(core),
        plm_action=_strings(plm),
        verb_piece=_strings([VERB_FORMS[s.verb][1] for s in steps] + list(_GENERIC_GERUNDS)),
        object_piece=_strings(objects_with_rest + objects_alone + list(_GENERIC_OBJECTS)),
        setting=_strings([f" {task.setting}" for task in TASKS]),
        scenery=_strings([f" {line}" for task in TASKS for line in task.scenery]),
        scenery_per_task=scenery_per_task,
        distractor=_strings(
            [f" The {noun} can be seen {where}." for noun in nouns for where in _POSITIONS]
        ),
        caption_subject=_strings(_CAPTION_SUBJECTS),
        image_subject=_strings(_IMAGE_SUBJECTS),
        caption_filler=_strings([f" {line}" for line in _CAPTION_FILLERS]),
        image_filler=_strings([f"\n\t+ {line}" for line in _IMAGE_FILLERS]),
        actor=_strings([a for a, _ in _ACTORS] + [_capitalize(a) for a, _ in _ACTORS]),
        actor_plural=np.array([plural for _, plural in _ACTORS], dtype=np.int64),
        brief_extra=_strings(_BRIEF_EXTRAS),
        manner=_strings(_MANNERS),
        camera=_strings([f" {line}" for line in _CAMERAS]),
        na=_strings(_NA_VALUES),
        title=_strings(titles),
        title_offset=np.concatenate([[0], np.cumsum(title_count)[:-1]]),
        title_count=title_count,
        title_suffix=_strings(_TITLE_SUFFIXES),
        description_opener=_strings(
            [opener.format(name=task.name) for task in TASKS for opener in _DESCRIPTION_OPENERS]
        ),
        description_middle=_strings(_DESCRIPTION_MIDDLES),
        description_closer=_strings(_DESCRIPTION_CLOSERS),
        speech_step=_strings(
            [form.format(phrase=s.phrase("base")) for s in steps for form in _SPEECH_STEP]
        ),
        speech_filler=_strings(_SPEECH_FILLERS),
    )


def _pick(table: pa.Array, index: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """``table[index]``, null where ``null`` is true."""
    indices = pa.array(index.astype(np.int32, copy=False), mask=null)
    return table.take(indices)


def _join(*pieces: pa.Array | str) -> pa.Array:
    """Concatenate string pieces element-wise; null pieces are left out."""
    return pc.binary_join_element_wise(*pieces, "", null_handling="skip")


def _fixed_width_strings(chars: np.ndarray) -> pa.Array:
    """A string array from an ``(n, width)`` uint8 array of ASCII codes."""
    count, width = chars.shape
    offsets = np.arange(0, (count + 1) * width, width, dtype=np.int32)
    data = np.ascontiguousarray(chars, dtype=np.uint8)
    return pa.StringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(data))


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_UID_CHARS = np.frombuffer(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", dtype=np.uint8
)
_UID_LAST_CHARS = np.frombuffer(b"AEIMQUYcgkosw048", dtype=np.uint8)  # YouTube ids end in 4 bits


_BYTE_HEX = _HEX[np.stack([np.arange(256) >> 4, np.arange(256) & 15], axis=1)]  # (256, 2)
# Where each of the 36 UUID characters comes from among 32 hex digits + one "-".
_UUID_LAYOUT = np.array(
    [*range(0, 8), 32, *range(8, 12), 32, *range(12, 16), 32, *range(16, 20), 32, *range(20, 32)]
)


def _uuid_strings(high: np.ndarray, low: np.ndarray) -> pa.Array:
    """UUID strings (version 5 layout, like the real node ids) from 128 bits."""
    count = len(high)
    octets = np.concatenate(
        [
            high.astype(">u8").view(np.uint8).reshape(count, 8),
            low.astype(">u8").view(np.uint8).reshape(count, 8),
        ],
        axis=1,
    )
    octets[:, 6] = 0x50 | (octets[:, 6] & 0x0F)  # version 5
    octets[:, 8] = 0x80 | (octets[:, 8] & 0x3F)  # RFC 4122 variant
    digits = np.empty((count, 33), dtype=np.uint8)
    digits[:, :32] = _BYTE_HEX[octets].reshape(count, 32)
    digits[:, 32] = ord("-")
    return _fixed_width_strings(digits[:, _UUID_LAYOUT])


def _video_uid_strings(bits: np.ndarray) -> pa.Array:
    """11-character YouTube-like ids; distinct bits give distinct ids."""
    shifts = np.arange(0, 60, 6, dtype=np.uint64)
    chars = np.empty((len(bits), 11), dtype=np.uint8)
    chars[:, :10] = _UID_CHARS[((bits[:, None] >> shifts) & np.uint64(63)).astype(np.int64)]
    chars[:, 10] = _UID_LAST_CHARS[(bits >> np.uint64(60)).astype(np.int64)]
    return _fixed_width_strings(chars)


# --------------------------------------------------------------------------- #
# Generation
# --------------------------------------------------------------------------- #


@dataclass
class _Trees:
    """The nodes of a batch, in output order (video by video, breadth first)."""

    video: np.ndarray  # batch-local video of each node
    heap: np.ndarray  # uint64 heap number: root 1, children 2h and 2h + 1
    level: np.ndarray
    start: np.ndarray  # centiseconds
    end: np.ndarray
    parent: np.ndarray  # row of the parent, -1 for the root
    is_leaf: np.ndarray
    counts: np.ndarray  # nodes per video


def _ambiguous(start_cs: np.ndarray, end_cs: np.ndarray, threshold: float) -> np.ndarray:
    """Segments whose ``end - start >= threshold`` differs in float32 and float64.

    The stored times are float32; a reader may subtract them in float32 or in
    float64. On a handful of segments of exactly the threshold the two
    disagree, and whether ``gpt`` is set would then depend on the reader.
    """
    start, end = (start_cs / 100.0).astype(np.float32), (end_cs / 100.0).astype(np.float32)
    in_float32 = (end - start) >= np.float32(threshold)
    in_float64 = (end.astype(np.float64) - start.astype(np.float64)) >= threshold
    return in_float32 != in_float64


def _grow_trees(rand: _Random, duration_cs: np.ndarray, config: SynthConfig) -> _Trees:
    """Split segments level by level, all videos of the batch at once."""
    min_cs = max(1, round(config.min_segment * 100))
    log_midpoint = math.log(config.split_midpoint)
    video = np.arange(len(duration_cs), dtype=np.int64)
    heap = np.ones(len(duration_cs), dtype=np.uint64)
    start = np.zeros(len(duration_cs), dtype=np.int64)
    end = duration_cs.astype(np.int64)
    parent = np.full(len(duration_cs), -1, dtype=np.int64)
    levels: list[tuple[np.ndarray, ...]] = []
    first_row = 0
    for level in range(config.max_depth + 1):
        length = end - start
        seconds = length / 100.0
        split_probability = 1.0 / (
            1.0 + np.exp(-(np.log(seconds) - log_midpoint) / config.split_slope)
        )
        split = (length >= 2 * min_cs) & (rand.uniform(video, heap, "split") < split_probability)
        if level == config.max_depth:
            split[:] = False
        levels.append(
            (video, heap, np.full(len(video), level, dtype=np.int16), start, end, parent, ~split)
        )
        rows = np.flatnonzero(split)
        if len(rows) == 0:
            break
        s, e, v, h = start[rows], end[rows], video[rows], heap[rows]
        spread = config.split_spread + config.split_spread_growth * np.log((e - s) / 100.0)
        z = rand.normal(v, h, "split fraction")
        fraction = 1.0 / (1.0 + np.exp(-np.maximum(spread, 0.0) * z))
        # Cut on the 10-ms grid; one integer cut ends child 0 and starts child 1.
        cut = np.clip(s + np.rint(fraction * (e - s)).astype(np.int64), s + min_cs, e - min_cs)
        for _ in range(2):  # move a cut that leaves a child's gpt threshold ambiguous
            ambiguous = _ambiguous(s, cut, config.gpt_min_duration) | _ambiguous(
                cut, e, config.gpt_min_duration
            )
            if not ambiguous.any():
                break
            moved = np.where(cut + 1 <= e - min_cs, cut + 1, cut - 1)
            cut = np.where(ambiguous & (moved >= s + min_cs), moved, cut)
        video = np.repeat(v, 2)
        heap = np.stack([2 * h, 2 * h + np.uint64(1)], axis=1).ravel()
        start = np.stack([s, cut], axis=1).ravel()
        end = np.stack([cut, e], axis=1).ravel()
        parent = np.repeat(first_row + rows, 2)
        first_row += len(split)
    video, heap, level_, start, end, parent, is_leaf = (
        np.concatenate(column) for column in zip(*levels, strict=True)
    )
    # Levels are stored one after the other and in time order within a level;
    # a stable sort by video gives each video's nodes breadth first.
    order = np.argsort(video, kind="stable")
    row_of = np.empty_like(order)
    row_of[order] = np.arange(len(order))
    parent = parent[order]
    parent = np.where(parent >= 0, row_of[np.maximum(parent, 0)], -1)
    return _Trees(
        video=video[order],
        heap=heap[order],
        level=level_[order],
        start=start[order],
        end=end[order],
        parent=parent,
        is_leaf=is_leaf[order],
        counts=np.bincount(video, minlength=len(duration_cs)),
    )


@dataclass
class _Script:
    """How each video's task script is laid over its time line."""

    task: np.ndarray  # per video
    slot_end: np.ndarray  # (videos, _SLOTS) cumulative end of each slot, as a fraction of the video
    slot_step: np.ndarray  # (videos, _SLOTS) step (index in the task) played in each slot


def _lay_out_script(
    rand: _Random, videos: np.ndarray, task: np.ndarray, config: SynthConfig
) -> _Script:
    tables = _tables()
    num_steps = tables.num_steps[task]
    weights = np.zeros((len(videos), _SLOTS))
    slot_step = np.zeros((len(videos), _SLOTS), dtype=np.int64)
    for k in range(_MAX_STEPS):
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
    return _Script(task=task, slot_end=slot_end, slot_step=slot_step)


def _step_at(script: _Script, video: np.ndarray, fraction: np.ndarray) -> np.ndarray:
    """The script step playing at ``fraction`` of each video's length."""
    slot = (script.slot_end[video, : _SLOTS - 1] <= fraction[:, None]).sum(axis=1)
    return script.slot_step[video, slot]


def _true_steps(trees: _Trees, script: _Script, duration_cs: np.ndarray) -> np.ndarray:
    """Each node's step: the one covering most of its span (via its leaves)."""
    leaves = np.flatnonzero(trees.is_leaf)
    leaf_video = trees.video[leaves]
    leaf_keys = leaf_video * _TIME_KEY + trees.start[leaves]
    order = np.argsort(leaf_keys)
    leaves, leaf_keys, leaf_video = leaves[order], leaf_keys[order], leaf_video[order]
    middle = (trees.start[leaves] + trees.end[leaves]) / (2.0 * duration_cs[leaf_video])
    leaf_step = _step_at(script, leaf_video, middle)
    # Prefix sums of leaf time per step let every node sum its leaves at once.
    covered = np.zeros((len(leaves) + 1, _MAX_STEPS), dtype=np.int64)
    covered[np.arange(1, len(leaves) + 1), leaf_step] = trees.end[leaves] - trees.start[leaves]
    np.cumsum(covered, axis=0, out=covered)
    first = np.searchsorted(leaf_keys, trees.video * _TIME_KEY + trees.start)
    stop = np.searchsorted(leaf_keys, trees.video * _TIME_KEY + trees.end)
    best = np.zeros(len(trees.video), dtype=np.int64)
    best_time = np.full(len(trees.video), -1, dtype=np.int64)
    for k in range(_MAX_STEPS):
        time = covered[stop, k] - covered[first, k]
        better = time > best_time
        best[better] = k
        best_time[better] = time[better]
    return best


def _captions(
    rand: _Random,
    video: np.ndarray,
    node: np.ndarray,
    task: np.ndarray,
    step: np.ndarray,
    config: SynthConfig,
    *,
    image: bool,
) -> pa.Array:
    """Noisy captions of the given nodes' true steps."""
    tables = _tables()
    kind = "llama3" if image else "plm"
    num_steps = len(tables.steps)
    names_verb = rand.uniform(video, node, f"{kind} names verb") < config.caption_verb_rate
    names_object = rand.uniform(video, node, f"{kind} names object") < config.caption_object_rate
    verb_index = np.where(
        names_verb,
        step,
        num_steps + rand.index(video, node, f"{kind} generic verb", len(_GENERIC_GERUNDS)),
    )
    object_index = np.where(
        names_object,
        np.where(names_verb, step, num_steps + step),
        2 * num_steps + rand.index(video, node, f"{kind} generic object", len(_GENERIC_OBJECTS)),
    )
    subjects = tables.image_subject if image else tables.caption_subject
    subject = _pick(subjects, rand.index(video, node, f"{kind} subject", len(subjects)))
    setting = _pick(
        tables.setting,
        task,
        rand.uniform(video, node, f"{kind} setting") >= config.caption_setting_rate,
    )
    distractor = _pick(
        tables.distractor,
        rand.index(video, node, f"{kind} distractor", len(tables.distractor)),
        rand.uniform(video, node, f"{kind} has distractor") >= config.caption_distractor_rate,
    )
    fillers = tables.image_filler if image else tables.caption_filler
    filler_a = _pick(
        fillers,
        rand.index(video, node, f"{kind} filler a", len(fillers)),
        rand.uniform(video, node, f"{kind} has filler a") >= config.caption_filler_rate,
    )
    filler_b = _pick(
        fillers,
        rand.index(video, node, f"{kind} filler b", len(fillers)),
        rand.uniform(video, node, f"{kind} has filler b") >= config.caption_filler_rate,
    )
    pieces: list[pa.Array | str] = [
        subject,
        " ",
        _pick(tables.verb_piece, verb_index),
        " ",
        _pick(tables.object_piece, object_index),
        setting,
        ".",
        distractor,
    ]
    if image:
        scenery = _pick(
            tables.scenery,
            task * tables.scenery_per_task
            + rand.index(video, node, f"{kind} scenery", tables.scenery_per_task),
        )
        pieces += ["\n\n* Scene:\n\t+", scenery, filler_a, filler_b]
    else:
        pieces += [filler_a, filler_b]
    return _join(*pieces)


def _plm_actions(
    rand: _Random,
    video: np.ndarray,
    node: np.ndarray,
    task: np.ndarray,
    step: np.ndarray,
    config: SynthConfig,
) -> pa.Array:
    """``plm_action``: the true step, a neighbouring one or a random one of the task."""
    tables = _tables()
    num_steps = tables.num_steps[task]
    pick = rand.uniform(video, node, "plm action pick")
    direction = np.where(rand.uniform(video, node, "plm action neighbour") < 0.5, -1, 1)
    neighbour = np.clip(step + direction, 0, num_steps - 1)
    neighbour = np.where(
        neighbour == step, step - direction, neighbour
    )  # bounce off the script's ends
    random_step = rand.index(video, node, "plm action random", num_steps)
    guessed = np.where(
        pick < config.plm_action_correct_rate,
        step,
        np.where(
            pick < config.plm_action_correct_rate + config.plm_action_neighbour_rate,
            neighbour,
            random_step,
        ),
    )
    global_step = tables.step_offset[task] + guessed
    form = np.searchsorted(
        np.cumsum(_PLM_FORM_SHARES)[:-1], rand.uniform(video, node, "plm action form"), side="right"
    )
    null = rand.uniform(video, node, "plm action null") < config.plm_action_null_rate
    return _pick(tables.plm_action, global_step * _PLM_FORMS + form, null)


def _gpt(
    rand: _Random,
    video: np.ndarray,
    node: np.ndarray,
    task: np.ndarray,
    global_step: np.ndarray,
    video_actor: np.ndarray,
    config: SynthConfig,
) -> tuple[list[pa.Array], list[pa.Array]]:
    """The ``gpt`` summary and action strings of the given nodes."""
    tables = _tables()
    num_actors = len(_ACTORS)
    own_actor = rand.uniform(video, node, "own actor") < _OWN_ACTOR_RATE
    actor = np.where(
        own_actor, video_actor[video], rand.index(video, node, "other actor", num_actors)
    )
    plural = tables.actor_plural[actor]
    actor_capitalized = _pick(tables.actor, actor + num_actors)
    core = _pick(tables.core, 2 * global_step + plural)
    variant = rand.uniform(video, node, "brief variant") < config.brief_variant_rate
    form = np.where(variant, 1 + rand.index(video, node, "brief form", _BRIEF_FORMS - 1), 0)
    extra = _pick(
        tables.brief_extra,
        rand.index(video, node, "brief extra word", len(_BRIEF_EXTRAS)),
        rand.uniform(video, node, "has brief extra") >= config.brief_extra_words_rate,
    )
    brief = _join(_pick(tables.brief, global_step * _BRIEF_FORMS + form), extra)
    manner = _pick(tables.manner, rand.index(video, node, "manner", len(_MANNERS)))
    detailed = _join(actor_capitalized, " ", core, manner, ".")
    actor_value = _pick(
        tables.actor,
        actor + num_actors * (rand.uniform(video, node, "actor case") < _CAPITALIZED_ACTOR_RATE),
    )
    na_draw = rand.uniform(video, node, "na")
    na_case = rand.uniform(video, node, "na case")
    na_value = _pick(tables.na, np.searchsorted(np.cumsum(_NA_SHARES)[:-1], na_case, side="right"))
    no_action = pa.array(na_draw < config.na_rate)
    no_actor = pa.array(
        (na_draw < config.na_rate) | (rand.uniform(video, node, "actor na") < config.actor_na_rate)
    )
    summary_brief = _join(actor_capitalized, " ", core, _pick(tables.setting, task), ".")
    scenery = _pick(
        tables.scenery,
        task * tables.scenery_per_task
        + rand.index(video, node, "scenery", tables.scenery_per_task),
    )
    camera = _pick(tables.camera, rand.index(video, node, "camera", len(_CAMERAS)))
    summary_detailed = _join(summary_brief, scenery, camera)
    return (
        [summary_brief, summary_detailed],
        [
            pc.if_else(no_action, na_value, brief),
            pc.if_else(no_action, na_value, detailed),
            pc.if_else(no_actor, na_value, actor_value),
        ],
    )


def _spread(values: pa.Array, present: np.ndarray) -> pa.Array:
    """A string array with ``values`` in order at the rows where ``present`` is
    true and null elsewhere, sharing the character data (no copy)."""
    if values.null_count or not pa.types.is_string(values.type):
        index = np.cumsum(present) - 1
        return values.take(pa.array(np.maximum(index, 0), mask=~present))
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[
        values.offset : values.offset + len(values) + 1
    ]
    before = np.concatenate([[0], np.cumsum(present)])  # values placed before each row
    validity = pa.array(present, type=pa.bool_()).buffers()[1]
    return pa.Array.from_buffers(
        pa.string(),
        len(present),
        [validity, pa.py_buffer(np.ascontiguousarray(offsets[before])), values.buffers()[2]],
        null_count=int(len(present) - before[-1]),
    )


def _metadata(
    rand: _Random, script: _Script, duration_cs: np.ndarray, config: SynthConfig
) -> pa.StructArray:
    tables = _tables()
    num_videos = len(duration_cs)
    video = np.arange(num_videos)
    task = script.task
    title = _join(
        _pick(
            tables.title,
            tables.title_offset[task] + rand.index(video, 0, "title", tables.title_count[task]),
        ),
        _pick(tables.title_suffix, rand.index(video, 0, "title suffix", len(_TITLE_SUFFIXES))),
    )
    description_draw = rand.bits(video, 0, "description")
    openers, middles, closers = (
        len(_DESCRIPTION_OPENERS),
        len(_DESCRIPTION_MIDDLES),
        len(_DESCRIPTION_CLOSERS),
    )
    description = _join(
        _pick(
            tables.description_opener,
            task * openers + (description_draw % np.uint64(openers)).astype(np.int64),
        ),
        " ",
        _pick(
            tables.description_middle,
            ((description_draw >> np.uint64(8)) % np.uint64(middles)).astype(np.int64),
        ),
        " ",
        _pick(
            tables.description_closer,
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
    step = _step_at(script, line_video, time * 100.0 / duration_cs[line_video])
    global_step = tables.step_offset[task[line_video]] + step
    speech_forms = len(_SPEECH_STEP)
    mentions = (
        rand.uniform(line_video, line_node, "transcript mention") < config.transcript_step_rate
    )
    text = pc.if_else(
        pa.array(mentions),
        _pick(
            tables.speech_step,
            global_step * speech_forms
            + rand.index(line_video, line_node, "transcript form", speech_forms),
        ),
        _pick(
            tables.speech_filler,
            rand.index(line_video, line_node, "transcript filler", len(_SPEECH_FILLERS)),
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


def _check_count(name: str, value: object, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name}={value} must be >= {minimum}")
    return int(value)


def _check_seed_and_config(seed: object, config: object) -> tuple[int, SynthConfig]:
    seed = _check_count("seed", seed)
    if seed > _MASK64:
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
    tables = _tables()
    rand = _Random(seed, np.arange(first_video, first_video + num_videos, dtype=np.uint64))
    video = np.arange(num_videos)

    # Video lengths: log-normal on the 10-ms grid.
    sigma = config.video_duration_sigma
    log_median = math.log(config.mean_video_duration) - sigma * sigma / 2.0
    seconds = np.exp(log_median + sigma * rand.normal(video, 0, "duration"))
    seconds = np.clip(seconds, config.min_video_duration, config.max_video_duration)
    duration_cs = np.maximum(np.rint(seconds * 100.0).astype(np.int64), 1)

    trees = _grow_trees(rand, duration_cs, config)
    task = rand.index(video, 0, "task", len(TASKS))
    script = _lay_out_script(rand, video, task, config)
    step = _true_steps(trees, script, duration_cs)
    node_task = task[trees.video]
    global_step = tables.step_offset[node_task] + step

    # Times: both sides of a cut come from the same centisecond value, so they
    # are the same float32.
    start = (trees.start / 100.0).astype(np.float32)
    end = (trees.end / 100.0).astype(np.float32)
    node_id = _uuid_strings(
        rand.bits(trees.video, trees.heap, "uuid high"),
        rand.bits(trees.video, trees.heap, "uuid low"),
    )
    parent_id = node_id.take(pa.array(np.maximum(trees.parent, 0), mask=trees.parent < 0))

    plm_caption_null = (
        rand.uniform(trees.video, trees.heap, "plm caption null") < config.plm_caption_null_rate
    )
    plm_caption = _captions(
        rand, trees.video, trees.heap, node_task, global_step, config, image=False
    )
    plm_caption = pc.if_else(pa.array(plm_caption_null), pa.scalar(None, pa.string()), plm_caption)
    plm_action = _plm_actions(rand, trees.video, trees.heap, node_task, step, config)

    leaves = np.flatnonzero(trees.is_leaf)
    llama3_caption = _spread(
        _captions(
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
    video_actor = rand.index(video, 0, "actor", len(_ACTORS))
    summary, action = _gpt(
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
                [_spread(a, has_gpt) for a in summary], fields=list(summary_type)
            ),
            pa.StructArray.from_arrays(
                [_spread(a, has_gpt) for a in action], fields=list(action_type)
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
    video_uid = _video_uid_strings(_mix(rand.video_key ^ np.uint64(0x1D)))
    metadata = _metadata(rand, script, duration_cs, config)
    return pa.RecordBatch.from_arrays([video_uid, metadata, nodes_column], schema=SOURCE_SCHEMA)


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
