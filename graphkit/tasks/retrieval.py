"""Text-to-segment retrieval: given a ``gpt.action.brief``, rank the segments of its video.

Each segment with a brief (not ``N/A``) is a query: the brief's hashed bag of
words (``query_x``, the text encoder's input) must find its own segment
among all segments of its video. The segment encoder reads the whole video
graph with the ``segment`` task's features (captions and timing, never a
``gpt`` field); the brief reaches the model only as its query. Metrics:
recall@1, @5 and @10 and the mean rank (1 = first), overall and per level of
the described segment.

Examples:
    >>> from graphkit.testing import example_rows
    >>> from graphkit.tree import TreeBatch
    >>> trees = TreeBatch.from_arrow(example_rows(2))
    >>> from graphkit.features import FeatureConfig
    >>> task = RetrievalTask(features=FeatureConfig(dim=8))
    >>> store = task.batch(trees, task.fit_vocabulary([trees]))["segment"]
    >>> store.query_x.shape, store.is_query.tolist()
    (torch.Size([6, 8]), [True, False, False, True, False, False])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from graphkit.features import hashed_bag_of_words
from graphkit.labels import LabelVocabulary
from graphkit.tasks.segment import NodeTask
from graphkit.tree import TreeBatch

if TYPE_CHECKING:
    from torch_geometric.data import Batch

__all__ = ["RetrievalTask", "RETRIEVAL_METRICS"]

#: The metrics of the retrieval task.
RETRIEVAL_METRICS: tuple[str, ...] = ("recall@1", "recall@5", "recall@10", "mean_rank")


@dataclass(frozen=True)
class RetrievalTask(NodeTask):
    """Rank the segments of a video for a brief; the arguments are :class:`~graphkit.tasks.NodeTask`'s.

    ``label`` says which segments are queries (those with a ``brief``
    label, by default); the query text is always ``gpt.action.brief``.
    """

    name: ClassVar[str] = "retrieval"

    label: str = "brief"

    def query_features(self, trees: TreeBatch) -> np.ndarray:
        """``[N, dim]`` float32 hashed bag of words of each segment's brief (zeros where none)."""
        if "action_brief" not in trees.text:
            raise ValueError("the retrieval task needs the segments' 'action_brief'; read the 'gpt' field")
        return hashed_bag_of_words(trees.text["action_brief"], self.features.dim, seed=self.features.seed)

    def batch(self, trees: TreeBatch, vocabulary: LabelVocabulary) -> Batch:
        """The whole video graphs (:meth:`NodeTask.batch`) plus ``query_x`` and ``is_query``.

        ``is_query`` marks segments with a label, and the split masks select
        the queries of each split.
        """
        from graphkit.pyg import to_hetero_batch

        arrays = self.arrays(trees, vocabulary)
        data = {key: value for key, value in arrays.items() if key != "split"}
        data["is_query"] = arrays["y"] >= 0
        data["query_x"] = self.query_features(trees)
        return to_hetero_batch(trees, data)
