"""Text tables: every string the generator emits, as Arrow arrays indexed by integer codes.

Synthetic text is never formatted node by node. The grammars (:data:`TASKS`)
and the phrase lists below are expanded once into :class:`Tables`: Arrow
string arrays in which, say, ``brief[global_step * BRIEF_FORMS + form]`` is
one spelling of one step's action brief. A *global step* numbers the steps of
all tasks in order, task by task. Annotations then draw integer codes with
numpy and assemble strings with :func:`pick` (a ``take``), :func:`join` (an
element-wise concatenation) and :func:`spread` (scattering values over rows),
all in :mod:`pyarrow.compute`.

Examples:
    >>> import numpy as np
    >>> table = tables()
    >>> join(pick(table.caption_subject, np.array([0, 1])), " here.").to_pylist()
    ['A person is here.', 'A man is here.']
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit.synth.grammar import MAX_STEPS, TASKS, VERB_FORMS, TaskStep, capitalize

__all__ = [
    "BRIEF_FORMS",
    "NA_SHARES",
    "PLM_FORM_SHARES",
    "Tables",
    "join",
    "pick",
    "spread",
    "tables",
]

# The phrase lists the tables are built from (see tables()).
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

# plm_action forms: "pour batter into pan", "Pour the batter into the pan.",
# "Pouring the batter into the pan", "Pour batter into pan", "pour batter in".
PLM_FORM_SHARES = np.array([0.3, 0.2, 0.15, 0.3, 0.05])
"""How often each of the spellings of :attr:`Tables.plm_action` is used, per step."""

NA_SHARES = np.array([0.9, 0.05, 0.05])
"""How often each spelling of :attr:`Tables.na` occurs ("N/A", "n/a", "N/a").

The real sample only has "N/A"; readers must not care.
"""

BRIEF_FORMS = 4
"""Spellings per step in :attr:`Tables.brief`: plain, with articles, gerund, lowercase."""


@dataclass(frozen=True)
class Tables:
    """The template strings, as Arrow arrays indexed by integer codes.

    Build it with :func:`tables`. Comments in the source give each array's
    index; ``plm_forms = len(PLM_FORM_SHARES)``.
    """

    num_steps: np.ndarray  # steps per task
    step_offset: np.ndarray  # first global step of each task
    steps: tuple[TaskStep, ...]  # all steps, task by task ("global steps")
    brief: pa.Array  # global step * BRIEF_FORMS + form
    core: pa.Array  # global step * 2 + actor is plural: "inserts the wire into the jet"
    plm_action: pa.Array  # global step * plm_forms + form
    verb_piece: pa.Array  # global step -> gerund; then the generic gerunds
    generic_verbs: int  # how many generic gerunds
    object_piece: pa.Array  # object with complement, object alone, generic objects
    generic_objects: int  # how many generic objects
    setting: pa.Array  # task -> " in a kitchen"
    scenery: pa.Array  # task * scenery_per_task + j -> " A mixing bowl ..."
    scenery_per_task: int
    distractor: pa.Array  # " The lamp can be seen nearby."
    caption_subject: pa.Array
    image_subject: pa.Array
    caption_filler: pa.Array
    image_filler: pa.Array
    actor: pa.Array  # actor, then capitalized actor
    actor_plural: np.ndarray  # actor -> 1 if plural ("the presenter's hands"), else 0
    brief_extra: pa.Array
    manner: pa.Array
    camera: pa.Array
    na: pa.Array
    title: pa.Array
    title_offset: np.ndarray
    title_count: np.ndarray
    title_suffix: pa.Array
    description_opener: pa.Array  # task * openers_per_task + j
    openers_per_task: int
    description_middle: pa.Array
    description_closer: pa.Array
    speech_step: pa.Array  # global step * speech_forms + j
    speech_forms: int
    speech_filler: pa.Array

    @property
    def num_actors(self) -> int:
        """How many actors :attr:`actor` lists (before their capitalized copies)."""
        return len(self.actor_plural)


def _strings(values: Sequence[str]) -> pa.Array:
    return pa.array(list(values), type=pa.string())


@functools.lru_cache(maxsize=1)
def tables() -> Tables:
    """The template tables, built once from :data:`TASKS` and the phrase lists.

    Returns:
        Tables: The shared tables (cached; do not modify).

    Raises:
        ValueError: If a task has fewer than 2 or more than ``MAX_STEPS``
            steps, or the tasks differ in their number of scenery sentences.
    """
    steps = tuple(step for task in TASKS for step in task.steps)
    num_steps = np.array([len(task.steps) for task in TASKS], dtype=np.int64)
    if num_steps.max() > MAX_STEPS or num_steps.min() < 2:
        raise ValueError(f"every task needs 2 to {MAX_STEPS} steps; got {num_steps.tolist()}")
    brief, core, plm = [], [], []
    for step in steps:
        plain = step.brief
        with_articles = capitalize(step.phrase("base"))
        brief += [plain, with_articles, capitalize(step.phrase("gerund")), plain.lower()]
        core += [step.phrase("third"), step.phrase("base")]
        truncated = plain.lower()[: max(4, len(plain) - 3)]
        plm += [
            plain.lower(),
            with_articles + ".",
            capitalize(step.phrase("gerund")),
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
    return Tables(
        num_steps=num_steps,
        step_offset=np.concatenate([[0], np.cumsum(num_steps)[:-1]]),
        steps=steps,
        brief=_strings(brief),
        core=_strings(core),
        plm_action=_strings(plm),
        verb_piece=_strings([VERB_FORMS[s.verb][1] for s in steps] + list(_GENERIC_GERUNDS)),
        generic_verbs=len(_GENERIC_GERUNDS),
        object_piece=_strings(objects_with_rest + objects_alone + list(_GENERIC_OBJECTS)),
        generic_objects=len(_GENERIC_OBJECTS),
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
        actor=_strings([a for a, _ in _ACTORS] + [capitalize(a) for a, _ in _ACTORS]),
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
        openers_per_task=len(_DESCRIPTION_OPENERS),
        description_middle=_strings(_DESCRIPTION_MIDDLES),
        description_closer=_strings(_DESCRIPTION_CLOSERS),
        speech_step=_strings(
            [form.format(phrase=s.phrase("base")) for s in steps for form in _SPEECH_STEP]
        ),
        speech_forms=len(_SPEECH_STEP),
        speech_filler=_strings(_SPEECH_FILLERS),
    )


def pick(table: pa.Array, index: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """``table[index]``, null where ``null`` is true.

    Args:
        table (pyarrow.Array): The values.
        index (numpy.ndarray): Integer positions in :obj:`table`, one per output row.
        null (numpy.ndarray, optional): Booleans, one per row: true rows are
            null. (default: :obj:`None`, no nulls)

    Returns:
        pyarrow.Array: ``len(index)`` values of :obj:`table`.

    Examples:
        >>> import numpy as np, pyarrow as pa
        >>> pick(pa.array(["a", "b"]), np.array([1, 1, 0]), np.array([False, True, False])).to_pylist()
        ['b', None, 'a']
    """
    indices = pa.array(index.astype(np.int32, copy=False), mask=null)
    return table.take(indices)


def join(*pieces: pa.Array | str) -> pa.Array:
    """Concatenate string pieces element-wise; null pieces are left out.

    Args:
        *pieces (pyarrow.Array or str): String arrays of one length, or
            strings repeated on every row.

    Returns:
        pyarrow.Array: The concatenations.

    Examples:
        >>> import pyarrow as pa
        >>> join(pa.array(["a", "b"]), "-", pa.array(["x", None])).to_pylist()
        ['a-x', 'b-']
    """
    return pc.binary_join_element_wise(*pieces, "", null_handling="skip")


def spread(values: pa.Array, present: np.ndarray) -> pa.Array:
    """Scatter ``values`` over the rows where ``present`` is true.

    A string array without nulls shares its character data (no copy); other
    arrays are gathered with ``take``.

    Args:
        values (pyarrow.Array): One value per true entry of :obj:`present`, in order.
        present (numpy.ndarray): Booleans, one per output row.

    Returns:
        pyarrow.Array: ``len(present)`` rows: the values in order where
        :obj:`present` is true, null elsewhere.

    Examples:
        >>> import numpy as np, pyarrow as pa
        >>> spread(pa.array(["a", "b"]), np.array([False, True, True])).to_pylist()
        [None, 'a', 'b']
    """
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
