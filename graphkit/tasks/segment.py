"""The segment-classification task: features, labels and splits of a tree batch.

A :class:`NodeTask` says what a model sees and what it predicts: node features
built by :mod:`graphkit.features` from the captions and the tree's timing
(never from ``gpt`` text, which the targets come from), a label of each
segment from its ``gpt.action`` annotation (:mod:`graphkit.labels`), and a
video-level train/valid/test split from a hash of ``video_uid``
(:mod:`graphkit.splits`). :meth:`NodeTask.arrays` returns them as plain numpy
arrays in node order, ready for :func:`graphkit.pyg.to_hetero_batch`.

Examples:
    >>> from graphkit.testing import example_rows
    >>> from graphkit.tree import TreeBatch
    >>> trees = TreeBatch.from_arrow(example_rows(2))
    >>> from graphkit.features import FeatureConfig
    >>> task = NodeTask(features=FeatureConfig(dim=16))
    >>> vocabulary = task.fit_vocabulary([trees])
    >>> arrays = task.arrays(trees, vocabulary)
    >>> vocabulary.classes
    ('cut', '<other>')
    >>> arrays["x"].shape, arrays["y"].tolist()
    ((6, 21), [0, -1, -1, 0, -1, -1])
"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit.features import (
    TEMPORAL_COLUMNS,
    TextEncoder,
    TokenCounts,
    hashed_token_counts,
    pool_transcript,
    temporal_features,
    text_encoder,
    transcript_token_counts,
)
from graphkit.labels import LabelVocabulary
from graphkit.splits import SPLIT_NAMES
from graphkit.tasks.labelled import LabelledTask
from graphkit.transcript import align_transcript
from graphkit.tree import TreeBatch

if TYPE_CHECKING:
    from torch_geometric.data import Batch

__all__ = ["NodeTask", "segment_arrays"]


@dataclass(frozen=True)
class NodeTask(LabelledTask):
    """Predict each segment's action label from captions and tree context.

    Args:
        label (str, optional): One of :data:`graphkit.labels.LABEL_KINDS`.
            (default: :obj:`"verb"`)
        features (FeatureConfig, optional): Node features.
            (default: :obj:`FeatureConfig()`)
        top_k (int, optional): Classes kept (the rest are ``<other>``);
            :obj:`None` keeps all. (default: :obj:`50`)
        split_seed (int, optional): Seed of the video-level split. (default: :obj:`0`)
        fractions (tuple[float, float, float], optional): Train, valid and test
            shares of videos. (default: :obj:`(0.8, 0.1, 0.1)`)
    """

    name: ClassVar[str] = "segment"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description, the inverse of :meth:`from_dict`.

        Returns:
            dict[str, Any]: ``label``, ``features`` (:meth:`FeatureConfig.to_dict
            <graphkit.features.FeatureConfig.to_dict>`), ``top_k``,
            ``split_seed`` and ``fractions`` (a list); a subclass's
            ``name`` too, but not ``"segment"``: the keys of the datasets
            built from it predate the name and stay as they were.

        Examples:
            >>> from graphkit.features import FeatureConfig
            >>> task = NodeTask(label="actor", top_k=None, features=FeatureConfig(dim=8))
            >>> task.to_dict()["features"]["dim"], NodeTask.from_dict(task.to_dict()) == task
            (8, True)
            >>> NodeTask.from_dict({"label": "verb", "topk": 5})
            Traceback (most recent call last):
            ...
            ValueError: unknown NodeTask keys ['topk']; expected some of ['features', 'fractions', 'label', 'split_seed', 'top_k']
        """
        data = super().to_dict()
        if data["name"] == NodeTask.name:
            del data["name"]
        return data

    def train_label_counts(self, trees: TreeBatch, labels: pa.Array | None = None) -> dict[str, int]:
        """Training segments per label string in one batch (what :meth:`fit_vocabulary` sums).

        Args:
            trees (TreeBatch): The videos.
            labels (pyarrow.Array, optional): :meth:`labels` of ``trees``, when
                already computed.

        Returns:
            dict[str, int]: Label string -> training segments with it.
        """
        labels = self.labels(trees) if labels is None else labels
        train_nodes = self.split(trees)[trees.video_index] == 0
        counted = pc.value_counts(labels.filter(pa.array(train_nodes)).drop_null())
        return dict(zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist()))

    def fit_vocabulary(self, batches: Iterable[TreeBatch]) -> LabelVocabulary:
        """Fit the label vocabulary on the training videos' segments only, in one streaming pass.

        Args:
            batches (Iterable[TreeBatch]): The data, in one or more batches;
                only label counts are kept between batches.

        Returns:
            LabelVocabulary: Top-K classes of the training split, plus ``<other>``.
        """
        counts: collections.Counter[str] = collections.Counter()
        for trees in batches:
            counts.update(self.train_label_counts(trees))
        return LabelVocabulary.from_counts(counts, kind=self.label, top_k=self.top_k)

    def _text_columns(self, trees: TreeBatch) -> list[pa.Array]:
        missing = [name for name in self.features.text_fields if name not in trees.text]
        if missing:
            raise ValueError(f"features need the segments' {missing}; read those fields")
        return [trees.text[name] for name in self.features.text_fields]

    def _temporal_columns(self, trees: TreeBatch) -> dict[str, object]:
        root_of_node = trees.root[trees.video_index]
        temporal = {
            "level": trees.level,
            "start": trees.start,
            "end": trees.end,
            "video_start": trees.start[root_of_node],
            "video_end": trees.end[root_of_node],
            "height": trees.height,
        }
        return {name: temporal[name] for name in TEMPORAL_COLUMNS}

    def feature_matrix(self, trees: TreeBatch, encoder: TextEncoder | None = None) -> np.ndarray:
        """``[N, F]`` float32 node features (no ``gpt`` text): :func:`graphkit.features.node_features`'s.

        Args:
            trees (TreeBatch): The videos.
            encoder (TextEncoder, optional): The :obj:`features.text_encoder`
                to embed with (e.g. a cached one); :obj:`None` makes one when
                the features are embedded. (default: :obj:`None`)
        """
        return self.features_from_counts(trees, self.token_counts(trees), self.text_embeddings(trees, encoder),
                                         self.transcript_counts(trees))

    def text_embeddings(self, trees: TreeBatch, encoder: TextEncoder | None = None) -> np.ndarray | None:
        """The embedded text block of :meth:`feature_matrix`, as it is stored: ``float16``.

        Each segment's text fields are joined with a space (nulls skipped),
        as :func:`graphkit.features.node_features` joins them.

        Args:
            trees (TreeBatch): The videos.
            encoder (TextEncoder, optional): What embeds; :obj:`None` makes
                :obj:`features.text_encoder` (:func:`graphkit.features.text_encoder`).
                (default: :obj:`None`)

        Returns:
            numpy.ndarray or None: ``[N, dim]`` float16; :obj:`None` unless
            :attr:`FeatureConfig.embedded <graphkit.features.FeatureConfig.embedded>`.
        """
        if not self.features.embedded:
            return None
        texts = self._text_columns(trees)
        joined = texts[0] if len(texts) == 1 else pc.binary_join_element_wise(*texts, " ", null_handling="skip")
        encoder = text_encoder(self.features.text_encoder) if encoder is None else encoder
        return np.asarray(encoder.encode(joined), dtype=np.float32).astype(np.float16)

    def token_counts(self, trees: TreeBatch, threads: int = 1) -> TokenCounts | None:
        """The hashed text block of :meth:`feature_matrix` in sparse, exact form.

        Args:
            trees (TreeBatch): The segments.
            threads (int, optional): Threads hashing the text
                (:func:`~graphkit.features.hashed_token_counts`). (default: :obj:`1`)

        Returns:
            TokenCounts or None: The segments' nonzero buckets; :obj:`None`
            when the features have no text field.
        """
        if not self.features.text_fields or self.features.embedded:
            return None
        return hashed_token_counts(self._text_columns(trees), self.features.dim, seed=self.features.seed,
                                   threads=threads)

    def transcript_counts(self, trees: TreeBatch) -> TokenCounts | None:
        """The transcript block of :meth:`feature_matrix` in sparse, exact form, before pooling.

        Returns:
            TokenCounts or None: Each leaf's nonzero buckets
            (:func:`~graphkit.features.transcript_token_counts`); :obj:`None`
            when the features have no transcript block.

        Raises:
            ValueError: If the batch was read without its metadata.
        """
        if not self.features.transcript:
            return None
        if trees.metadata is None:
            raise ValueError(f"transcript_dim={self.features.transcript_dim} needs the videos' transcripts; "
                             "read the batch with its metadata")
        # Not logged here: a task's batches may be built every epoch; `graphkit transcript` reports the lines.
        lines = align_transcript(trees, log=False)
        return transcript_token_counts(trees, lines, dim=self.features.transcript_dim, seed=self.features.seed)

    def features_from_counts(self, trees: TreeBatch, tokens: TokenCounts | None,
                             embeddings: np.ndarray | None = None,
                             transcript: TokenCounts | None = None) -> np.ndarray:
        """:meth:`feature_matrix` rebuilt from the tree, its :meth:`token_counts`,
        :meth:`text_embeddings` and :meth:`transcript_counts`, bit for bit.

        Examples:
            >>> from graphkit.testing import example_rows
            >>> trees = TreeBatch.from_arrow(example_rows(2))
            >>> task = NodeTask()
            >>> task.features_from_counts(trees, task.token_counts(trees)).shape
            (6, 261)
        """
        blocks = [] if tokens is None else [tokens.to_dense()]
        if embeddings is not None:
            blocks.append(np.asarray(embeddings).astype(np.float32))
        if self.features.transcript:
            if transcript is None:
                raise ValueError(f"transcript_dim={self.features.transcript_dim} but no transcript counts given")
            blocks.append(pool_transcript(trees, transcript))
        if self.features.temporal:
            blocks.append(temporal_features(*self._temporal_columns(trees).values()))
        return np.concatenate(blocks, axis=1)

    def arrays(self, trees: TreeBatch, vocabulary: LabelVocabulary,
               encoder: TextEncoder | None = None) -> dict[str, np.ndarray]:
        """Features, labels and masks of every segment, in node order (``encoder``: see :meth:`feature_matrix`).

        Returns:
            dict[str, numpy.ndarray]: ``x`` ``[N, F]`` float32; ``y`` ``[N]``
            int64 class, ``-1`` where unlabelled (no ``gpt``, or ``N/A``);
            ``split`` ``[N]`` int8; and boolean ``train_mask``, ``valid_mask``,
            ``test_mask`` over labelled segments of each split.
        """
        y = vocabulary.encode(self.label_text(trees)).astype(np.int64)
        return segment_arrays(self.feature_matrix(trees, encoder), y, self.split(trees)[trees.video_index])

    def batch(self, trees: TreeBatch, vocabulary: LabelVocabulary) -> Batch:
        """:meth:`arrays` on every video's whole graph, as :func:`graphkit.pyg.to_hetero_batch` builds it.

        Examples:
            >>> from graphkit.testing import example_rows
            >>> trees = TreeBatch.from_arrow(example_rows(2))
            >>> task = NodeTask()
            >>> task.batch(trees, task.fit_vocabulary([trees]))["segment"].y.tolist()
            [0, -1, -1, 0, -1, -1]
        """
        from graphkit.pyg import to_hetero_batch

        arrays = self.arrays(trees, vocabulary)
        return to_hetero_batch(trees, {key: value for key, value in arrays.items() if key != "split"})


def segment_arrays(x: np.ndarray, y: np.ndarray, split: np.ndarray) -> dict[str, np.ndarray]:
    """What :meth:`NodeTask.arrays` returns, from features, labels and each segment's split.

    Args:
        x (numpy.ndarray): ``[N, F]`` features.
        y (numpy.ndarray): ``[N]`` int64 classes, ``-1`` where unlabelled.
        split (numpy.ndarray): ``[N]`` int8 split code of each segment's video.

    Returns:
        dict[str, numpy.ndarray]: ``x``, ``y``, ``split`` and the three masks.

    Examples:
        >>> out = segment_arrays(np.zeros((3, 1), np.float32), np.array([0, -1, 2]), np.array([0, 0, 1], np.int8))
        >>> out["train_mask"].tolist(), out["valid_mask"].tolist()
        ([True, False, False], [False, False, True])
    """
    labelled = y >= 0
    out = {"x": x, "y": y, "split": split}
    for code, name in enumerate(SPLIT_NAMES):
        out[f"{name}_mask"] = labelled & (split == code)
    return out
