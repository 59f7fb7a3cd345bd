"""Parent summarization: predict an internal segment's label from its children's subtrees alone.

In the spirit of HierVL's parent–child aggregation: each example is one
internal segment with a label (the target) and its whole subtree; the model
reads the descendants' captions and timing and the tree among them, while
the target's own text is hidden (set to null before any feature is built),
and nothing above or beside the subtree (the ancestors, whose captions may
describe the target) is in the graph at all. The prediction sits on the
target's node, which keeps its timing and place in the tree.

The rule the batch builder enforces: every member lies in its target's
subtree (checked by climbing parent links), and the target's text is hidden.

Examples:
    >>> from graphkit.testing import example_rows
    >>> from graphkit.tree import TreeBatch
    >>> trees = TreeBatch.from_arrow(example_rows(2))
    >>> examples = ParentTask().examples_of(trees, np.array([3]))
    >>> examples.node.tolist(), examples.text_hidden.tolist()
    ([3, 4, 5], [True, False, False])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from graphkit.arrays import concat_ranges
from graphkit.tasks.base import ExampleTask
from graphkit.tasks.examples import Examples, evenly_spaced
from graphkit.tree import TreeBatch

__all__ = ["ParentTask"]


@dataclass(frozen=True)
class ParentTask(ExampleTask):
    """Predict an internal segment's label from its subtree, its own text hidden; see the module docstring.

    Args: those of :class:`~graphkit.tasks.base.ExampleTask`.
    """

    name: ClassVar[str] = "parent"
    rule: ClassVar[str] = "a segment outside the target's subtree would be visible"

    def examples(self, trees: TreeBatch, labelled: np.ndarray) -> Examples:
        """One example per labelled internal segment (at most ``examples_per_video`` per video)."""
        targets = np.flatnonzero(~trees.is_leaf & labelled)
        spread = evenly_spaced(trees.video_index[targets], self.examples_per_video)
        return self.examples_of(trees, targets[spread])

    def examples_of(self, trees: TreeBatch, targets: np.ndarray) -> Examples:
        """The examples of some targets: each one's subtree, gathered one level at a time.

        Args:
            trees (TreeBatch): The videos.
            targets (numpy.ndarray): ``[E]`` node positions of internal segments.
        """
        targets = np.asarray(targets, dtype=np.int64)
        linked = np.flatnonzero(trees.parent >= 0)
        children = linked[np.argsort(trees.parent[linked], kind="stable")]
        first = np.r_[0, np.cumsum(trees.num_children)[:-1]]
        owners, nodes = [np.arange(targets.size)], [targets]
        owner, frontier = owners[0], targets
        while frontier.size:
            count = trees.num_children[frontier]
            frontier = children[concat_ranges(first[frontier], count)]
            owner = np.repeat(owner, count)
            owners.append(owner)
            nodes.append(frontier)
        owner, node = np.concatenate(owners), np.concatenate(nodes)
        key = owner * trees.num_nodes + node
        resort = np.argsort(key, kind="stable")
        owner, node, key = owner[resort], node[resort], key[resort]
        offsets = np.r_[0, np.cumsum(np.bincount(owner, minlength=targets.size))].astype(np.int64)
        query = np.searchsorted(key, np.arange(targets.size) * trees.num_nodes + targets)
        return Examples(video=trees.video_index[targets], offsets=offsets, node=node,
                        text_hidden=node == targets[owner], query=query, target=targets,
                        attrs={"root": targets})

    def forbidden(self, trees: TreeBatch, examples: Examples) -> tuple[np.ndarray, np.ndarray]:
        """Members outside their target's subtree (none may be read), and the target itself (its text)."""
        root = examples.attrs["root"][examples.example_of_member]
        node = examples.node
        steps = trees.level[node].astype(np.int64) - trees.level[root]
        current = node.copy()
        for _ in range(int(steps.max(initial=0))):  # climb one level per step, all members at once
            move = steps > 0
            current[move] = trees.parent[current[move]]
            steps[move] -= 1
        outside = (steps != 0) | (current != root)
        return outside, node == root
