"""The videos of a task that cuts examples out of them, in memory: :class:`TaskDataset`.

:class:`~graphkit.loaders.pyg_dataset.Action100MDataset` stores one finished
graph per video for the ``segment`` task. Tasks whose examples are graphs cut
out of videos (:class:`graphkit.tasks.ExampleTask`: ``anticipation``,
``parent``), and ``retrieval``, hold the validated trees instead and build
each mini-batch when it is drawn (:meth:`ExampleTask.batch <graphkit.tasks.ExampleTask.batch>`,
vectorized), so the declared rule of what the model may read is enforced on
every batch. It offers the calls :func:`graphkit.models.train.train` makes of
a dataset: :meth:`get_idx_split`, :meth:`loader`, :attr:`vocabulary` and
:attr:`num_segment_features`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from graphkit.splits import SPLIT_NAMES
from graphkit.tree import TreeBatch

if TYPE_CHECKING:
    from torch_geometric.data import Batch

    from graphkit.tasks import Task

__all__ = ["TaskDataset", "TaskLoader"]

logger = logging.getLogger(__name__)


class TaskLoader:
    """Mini-batches of the examples of some videos, built when drawn; iterable any number of times.

    Args:
        dataset (TaskDataset): The videos.
        indices (torch.Tensor): Video positions to draw from.
        batch_size (int): Videos per mini-batch.
        shuffle (bool): Draw the videos in a new order each pass.
        generator (torch.Generator, optional): Seeds the order.
    """

    def __init__(self, dataset: TaskDataset, indices: torch.Tensor, batch_size: int, shuffle: bool,
                 generator: torch.Generator | None) -> None:
        self.dataset, self.indices, self.batch_size = dataset, indices, batch_size
        self.shuffle, self.generator = shuffle, generator

    def __len__(self) -> int:
        return -(-int(self.indices.numel()) // self.batch_size)

    def __iter__(self) -> Iterator[Batch]:
        order = self.indices
        if self.shuffle:
            order = order[torch.randperm(order.numel(), generator=self.generator)]
        for start in range(0, order.numel(), self.batch_size):
            trees = self.dataset.trees.select(order[start:start + self.batch_size].numpy())
            yield self.dataset.task.batch(trees, self.dataset.vocabulary)


class TaskDataset:
    """The validated trees of some sources, for a task that builds its batches when drawn.

    Args:
        sources (Sequence[str]): Files, directories, globs or URLs.
        task (Task): The task (:class:`~graphkit.tasks.ExampleTask`, :class:`~graphkit.tasks.RetrievalTask`).
        batch_size (int, optional): Videos per record batch while reading.
            (default: :obj:`256`)

    Raises:
        ValueError: If no source is given, or the sources hold no video.
    """

    def __init__(self, sources: Sequence[Any], task: Task, batch_size: int = 256) -> None:
        from graphkit.loaders.trees import iter_tree_batches

        if not sources:
            raise ValueError(f"the {task.name!r} task reads its sources each run; give them")
        batches = [trees for trees in iter_tree_batches(list(sources), node_fields=task.node_fields,
                                                        metadata=task.reads_metadata, batch_size=batch_size) if trees.num_videos]
        if not batches:
            raise ValueError(f"no video in {list(sources)}")
        self.task = task
        self.trees: TreeBatch = TreeBatch.concat(batches)
        self.vocabulary = task.fit_vocabulary([self.trees])
        probe = task.batch(self.trees.select(np.arange(min(1, self.trees.num_videos))), self.vocabulary)
        self.num_segment_features: int = int(probe["segment"].x.size(1))
        logger.info("%s task: %d videos, %d classes", task.name, self.trees.num_videos,
                    self.vocabulary.num_classes)

    def __len__(self) -> int:
        return self.trees.num_videos

    def get_idx_split(self) -> dict[str, torch.Tensor]:
        """``{"train", "valid", "test"}``: video positions of each split."""
        split = self.task.split(self.trees)
        return {name: torch.from_numpy(np.flatnonzero(split == code)) for code, name in enumerate(SPLIT_NAMES)}

    def loader(self, indices: Sequence[int] | torch.Tensor, *, batch_size: int = 32, shuffle: bool = False,
               generator: torch.Generator | None = None, num_workers: int = 0, replicas: int = 1,
               rank: int = 0) -> TaskLoader:
        """Mini-batches of the examples of ``batch_size`` videos at a time (the datasets' call).

        Raises:
            ValueError: If ``replicas`` > 1 or ``num_workers`` > 0, which this dataset does not offer yet.
        """
        if replicas > 1 or num_workers > 0:
            raise ValueError(f"the {self.task.name!r} task trains in one process without workers "
                             "(--workers 0, no torchrun)")
        return TaskLoader(self, torch.as_tensor(indices, dtype=torch.long), batch_size, shuffle, generator)
