"""The tasks by name: :data:`TASKS`, :func:`build_task` and :func:`task_from_dict`.

Examples:
    >>> sorted(TASKS)
    ['anticipation', 'parent', 'retrieval', 'segment']
    >>> build_task("parent", label="actor").label
    'actor'
    >>> build_task("captioning")
    Traceback (most recent call last):
    ...
    ValueError: task='captioning'; expected one of ['anticipation', 'parent', 'retrieval', 'segment']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphkit.tasks.anticipation import AnticipationTask
from graphkit.tasks.base import Task
from graphkit.tasks.parent import ParentTask
from graphkit.tasks.retrieval import RetrievalTask
from graphkit.tasks.segment import NodeTask

__all__ = ["TASKS", "build_task", "task_from_dict"]

#: Task classes by name (``graphkit train --task NAME``).
TASKS: dict[str, type] = {"segment": NodeTask, "anticipation": AnticipationTask, "parent": ParentTask,
                          "retrieval": RetrievalTask}


def build_task(name: str, **options: Any) -> Task:
    """The task called ``name``, built with ``options`` (its dataclass fields).

    Raises:
        ValueError: If ``name`` is not in :data:`TASKS`.
    """
    if name not in TASKS:
        raise ValueError(f"task={name!r}; expected one of {sorted(TASKS)}")
    return TASKS[name](**options)


def task_from_dict(data: Mapping[str, Any]) -> Task:
    """Rebuild a task from its ``to_dict()``; one without ``name`` is a ``segment`` task.

    Examples:
        >>> task_from_dict(build_task("anticipation", top_k=7).to_dict()).top_k
        7
    """
    name = data.get("name", "segment")
    if name not in TASKS:
        raise ValueError(f"task={name!r}; expected one of {sorted(TASKS)}")
    return TASKS[name].from_dict({key: value for key, value in data.items() if key != "name"})
