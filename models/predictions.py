"""Every segment's prediction by a trained run: :class:`SegmentPredictor`.

:func:`graphkit.models.evaluate.evaluate` scores a run on its labelled
segments; a :class:`SegmentPredictor` predicts *every* segment of some videos
(labelled or not) with the run's model, so the predictions can be looked at
next to the data, e.g. written onto the graph by
:func:`graphkit.loaders.neo4j.predictions.write_predictions`
(``graphkit neo4j write-predictions RUN_DIR``).

It reloads a training output directory the way ``evaluate`` does
(:func:`graphkit.models.checkpoint.load_model`: the saved config, vocabulary
and best weights), builds each tree batch's features and video-level split
with the saved task (:meth:`graphkit.tasks.NodeTask.arrays`), and runs the
model once per batch: a prediction is the vocabulary's class with the highest
logit (``<other>`` for a class outside the top K), its confidence the softmax
maximum. Each batch becomes one :class:`PredictionBatch` of columns, so memory
is bounded by a batch of videos.

A run's id (:attr:`SegmentPredictor.run_id`) is ``<model>-<12 hex digits of
the SHA-256 of model.pt>``: the same weights always give the same id, and
retraining gives another.

A typical use (not run here: it needs a trained run)::

    from graphkit.models.predictions import SegmentPredictor

    predictor = SegmentPredictor("runs/hier")
    for batch in predictor.iter_batches():           # the run's own sources
        print(batch.node_id[:3], batch.predicted[:3], batch.confidence[:3])
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import torch

from graphkit.models.checkpoint import CHECKPOINT, load_model
from graphkit.redact import is_redacted
from graphkit.splits import SPLIT_NAMES
from graphkit.tree import TreeBatch

__all__ = ["PredictionBatch", "SegmentPredictor", "run_id"]


def run_id(out_dir: str | Path, model: str) -> str:
    """A training run's id: its model name and a digest of its checkpoint.

    Args:
        out_dir (str or Path): A :func:`graphkit.models.train.train` output directory.
        model (str): The run's model name (``config.model``).

    Returns:
        str: ``"<model>-<first 12 hex digits of SHA-256(model.pt)>"``.

    Examples:
        >>> import tempfile
        >>> out = Path(tempfile.mkdtemp())
        >>> _ = (out / CHECKPOINT).write_bytes(b"weights")
        >>> run_id(out, "hier")
        'hier-9a129038d9a0'
    """
    digest = hashlib.sha256()
    with open(Path(out_dir) / CHECKPOINT, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return f"{model}-{digest.hexdigest()[:12]}"


@dataclass(frozen=True)
class PredictionBatch:
    """The predictions of one tree batch, one entry per segment, in the batch's node order.

    Args:
        video_uid (pyarrow.Array): Each segment's video.
        node_id (pyarrow.Array): Each segment's ``node_id``.
        predicted (pyarrow.Array): The predicted class name (a string).
        confidence (numpy.ndarray): ``[N]`` float32 softmax maximum.
        split (pyarrow.Array): The split of the segment's video
            (``"train"``, ``"valid"`` or ``"test"``).
        videos (pyarrow.Array): The batch's videos, once each.
    """

    video_uid: pa.Array
    node_id: pa.Array
    predicted: pa.Array
    confidence: np.ndarray
    split: pa.Array
    videos: pa.Array

    def __len__(self) -> int:
        return len(self.node_id)


class SegmentPredictor:
    """Predict every segment with a trained run's model.

    Args:
        out_dir (str or Path): A :func:`graphkit.models.train.train` output directory.
        device (str, optional): See :func:`~graphkit.models.config.resolve_device`.
            (default: :obj:`"auto"`)

    Attributes:
        config (TrainConfig): The run's saved configuration.
        label (str): What the run predicts (``"verb"``, ``"brief"``, ``"actor"``).
        run_id (str): :func:`run_id` of the run.

    Raises:
        FileNotFoundError: If ``out_dir`` is not a training output directory.
        ValueError: If one of its files is damaged.
    """

    def __init__(self, out_dir: str | Path, device: str = "auto") -> None:
        self.out_dir = Path(out_dir)
        self.model, self.config, self.vocabulary = load_model(out_dir, device)
        self.model.eval()
        self.task = self.config.task()
        self.label = self.config.label
        self.run_id = run_id(out_dir, self.config.model)
        self._device = next(self.model.parameters()).device
        self._classes = pa.array(list(self.vocabulary.classes), type=pa.string())

    def __repr__(self) -> str:
        return f"{type(self).__name__}(run_id={self.run_id!r}, label={self.label!r})"

    def sources(self, sources: Sequence[str] | str | None = None) -> list[str]:
        """The sources to predict: ``sources``, or else the run's own.

        Raises:
            ValueError: If no source is known, or the run's sources were saved
                without their credentials (then they must be given).
        """
        if sources is not None:
            return [str(sources)] if isinstance(sources, (str, Path)) else [str(s) for s in sources]
        saved = list(self.config.sources)
        if not saved:
            raise ValueError(f"{self.out_dir} names no source; give the sources to predict")
        if any(is_redacted(s) for s in saved):
            raise ValueError(f"the sources of {self.out_dir} were saved without their credentials; "
                             "give the sources to predict")
        return saved

    @torch.no_grad()
    def predict(self, trees: TreeBatch) -> PredictionBatch:
        """The predictions of every segment of a tree batch (one forward pass).

        Args:
            trees (TreeBatch): Videos read with at least :attr:`task.node_fields
                <graphkit.tasks.NodeTask.node_fields>`.

        Returns:
            PredictionBatch: One entry per segment, in ``trees``' node order.
        """
        from graphkit.pyg import to_hetero_batch

        arrays = self.task.arrays(trees, self.vocabulary)
        node_video = trees.video_uid.take(pa.array(trees.video_index))
        split = pa.array(list(SPLIT_NAMES), type=pa.string()).take(pa.array(arrays["split"].astype(np.int64)))
        if trees.num_nodes == 0:
            empty = pa.array([], type=pa.string())
            return PredictionBatch(node_video, trees.node_id, empty, np.zeros(0, np.float32), split, trees.video_uid)
        batch = to_hetero_batch(trees, {k: v for k, v in arrays.items() if k != "split"}).to(self._device)
        logits = self.model(batch).float()
        if logits.shape[0] != trees.num_nodes:  # a model must score every segment, in order
            raise RuntimeError(f"{type(self.model).__name__} gave {logits.shape[0]} rows for {trees.num_nodes} segments")
        confidence, best = torch.softmax(logits, dim=1).max(dim=1)
        predicted = self._classes.take(pa.array(best.cpu().numpy()))
        return PredictionBatch(node_video, trees.node_id, predicted, confidence.cpu().numpy().astype(np.float32),
                               split, trees.video_uid)

    def iter_batches(self, sources: Sequence[str] | str | None = None, *,
                     batch_size: int | None = None) -> Iterator[PredictionBatch]:
        """Stream the predictions of every segment of some sources, batch by batch.

        Args:
            sources (Sequence[str] or str, optional): Files, directories, globs
                or URLs; :obj:`None` uses the run's own. (default: :obj:`None`)
            batch_size (int, optional): Videos per batch; :obj:`None` uses
                the run's training batch size. (default: :obj:`None`)

        Yields:
            PredictionBatch: One per tree batch read.

        Raises:
            ValueError: See :meth:`sources`; or a bad ``batch_size``.
        """
        from graphkit.loaders.trees import iter_tree_batches

        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int)
                                       or batch_size < 1):
            raise ValueError(f"batch_size={batch_size!r} must be a positive int or None")
        for trees in iter_tree_batches(self.sources(sources), node_fields=self.task.node_fields,
                                       metadata=self.task.reads_metadata,
                                       batch_size=batch_size or self.config.batch_size):
            if trees.num_videos:
                yield self.predict(trees)
