"""Prediction tasks on Action100M trees: what a model predicts, reads and must never read.

A task (:class:`~graphkit.tasks.base.Task`) names its targets, the node that
carries each prediction, the inputs a model may read and those it must never
read (enforced when a batch is built), how a batch is built, and its metrics.
The tasks, by name (:data:`TASKS`):

* ``segment`` (:class:`NodeTask`): every segment's ``gpt.action`` label
  (verb, brief or actor) from the whole video's captions and tree;
* ``anticipation`` (:class:`AnticipationTask`): the next leaf's label from
  the segments that have ended by the cut;
* ``parent`` (:class:`ParentTask`): an internal segment's label from its
  subtree, its own text hidden;
* ``retrieval`` (:class:`RetrievalTask`): given a segment's brief, rank the
  segments of its video.

Examples:
    >>> from graphkit.testing import example_rows
    >>> from graphkit.tree import TreeBatch
    >>> task = build_task("parent")
    >>> trees = TreeBatch.from_arrow(example_rows(2))
    >>> batch = task.batch(trees, task.fit_vocabulary([trees]))
    >>> batch.num_graphs, batch["segment"].y.tolist()
    (2, [0, -1, -1, 0, -1, -1])
"""

from graphkit.tasks.anticipation import AnticipationTask
from graphkit.tasks.base import METRICS, ExampleTask, Task
from graphkit.tasks.examples import Examples
from graphkit.tasks.labelled import LABEL_SOURCE, LabelledTask
from graphkit.tasks.parent import ParentTask
from graphkit.tasks.registry import TASKS, build_task, task_from_dict
from graphkit.tasks.retrieval import RetrievalTask
from graphkit.tasks.segment import NodeTask, segment_arrays

__all__ = [
    "Task",
    "ExampleTask",
    "Examples",
    "METRICS",
    "NodeTask",
    "AnticipationTask",
    "ParentTask",
    "RetrievalTask",
    "TASKS",
    "build_task",
    "task_from_dict",
    "LABEL_SOURCE",
    "LabelledTask",
    "segment_arrays",
]
