"""Task grammars: what a synthetic video is about and the steps it shows.

A *task grammar* (:class:`Task`) is an instructional task ("make pancakes")
with a setting, a few video titles and scene sentences, and an ordered
*script* of steps. A step (:class:`TaskStep`) is a verb applied to an object,
with an optional complement ("insert" / "wire" / "into the jet"); every verb
is a base form listed in :data:`VERB_FORMS`, which gives its third-person and
gerund forms.

The grammars are package data, written in a small line format (see
:func:`parse_tasks` and :func:`parse_verb_forms`): ``data/tasks.txt`` and
``data/verbs.txt`` beside this module. :data:`TASKS` holds them, parsed once
at import.

Examples:
    >>> TASKS[0].name, TASKS[0].steps[1].brief
    ('make pancakes', 'Add flour to bowl')
    >>> VERB_FORMS["turn off"]
    ('turns off', 'turning off')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files

__all__ = [
    "MAX_STEPS",
    "TASKS",
    "VERB_FORMS",
    "Task",
    "TaskStep",
    "capitalize",
    "parse_tasks",
    "parse_verb_forms",
]

MAX_STEPS = 12
"""The longest script a task may have; script slots are laid out for it."""

_ARTICLE = re.compile(r"\b(?:the|a|an) ")


def _data_lines(text: str) -> list[str]:
    """The lines of a grammar file that carry data: not blank, not ``#`` comments."""
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def _read(name: str) -> str:
    """The text of a file in this package's ``data/`` folder."""
    return (files(__package__) / "data" / name).read_text(encoding="utf-8")


def capitalize(text: str) -> str:
    """The text with its first character upper-cased and the rest untouched.

    Unlike :meth:`str.capitalize`, later capitals stay ("T-shirt").

    Args:
        text (str): Any text, possibly empty.

    Returns:
        str: The capitalized text.

    Examples:
        >>> capitalize("a man wearing a blue T-shirt")
        'A man wearing a blue T-shirt'
    """
    return text[:1].upper() + text[1:]


def parse_verb_forms(text: str) -> dict[str, tuple[str, str]]:
    """The verb table written one ``<base> / <third person> / <gerund>`` line per verb.

    Args:
        text (str): The table; blank lines and ``#`` lines are ignored.

    Returns:
        dict[str, tuple[str, str]]: Base form -> (third person singular,
        gerund), in the order written.

    Examples:
        >>> parse_verb_forms("# a comment\\npoint to / points to / pointing to\\n")
        {'point to': ('points to', 'pointing to')}
    """
    forms = {}
    for line in _data_lines(text):
        base, third, gerund = line.split(" / ")
        forms[base] = (third, gerund)
    return forms


#: Base form -> (third person singular, gerund) of every verb the grammars use.
VERB_FORMS: dict[str, tuple[str, str]] = parse_verb_forms(_read("verbs.txt"))


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
        return capitalize(" ".join(part for part in (self.verb, self.obj, rest) if part))

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
        steps (tuple[TaskStep, ...]): The script, in order (at most
            :data:`MAX_STEPS` steps).
    """

    name: str
    setting: str
    titles: tuple[str, ...]
    scenery: tuple[str, ...]
    steps: tuple[TaskStep, ...]


def parse_tasks(text: str) -> tuple[Task, ...]:
    """The task grammars written in the line format of ``data/tasks.txt``.

    One ``key: value`` line each: ``task: <name> | <setting>`` starts a task,
    then come its ``title:`` and ``scene:`` sentences, then its script, one
    ``step: <verb> / <object>`` or ``step: <verb> / <object> / <rest>`` line
    per step, in order. Blank lines and ``#`` lines are ignored.

    Args:
        text (str): The grammars.

    Returns:
        tuple[Task, ...]: The tasks, in the order written.

    Raises:
        ValueError: If a step's verb is not in :data:`VERB_FORMS`.

    Examples:
        >>> (task,) = parse_tasks("task: open a jar | in a kitchen\\ntitle: Jars\\nstep: open / jar\\n")
        >>> task.setting, task.titles, task.scenery, task.steps
        ('in a kitchen', ('Jars',), (), (TaskStep(verb='open', obj='jar', rest=''),))
    """
    blocks: list[dict[str, list[str]]] = []
    for line in _data_lines(text):
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


#: The task grammars videos are drawn from (uniformly).
TASKS: tuple[Task, ...] = parse_tasks(_read("tasks.txt"))
