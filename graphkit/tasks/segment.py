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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit import schema
from graphkit.features import (
    TEMPORAL_COLUMNS,
    FeatureConfig,
    TextEncoder,
    TokenCounts,
    hashed_token_counts,
    temporal_features,
    text_encoder,
)
from graphkit.labels import LABEL_KINDS, LabelVocabulary, extract_labels
from graphkit.splits import DEFAULT_FRACTIONS, SPLIT_NAMES, split_of
from graphkit.tree import TreeBatch

if TYPE_CHECKING:
    from torch_geometric.data import Batch

__all__ = ["NodeTask", "LABEL_SOURCE", "segment_arrays"]

#: The Segment property each label kind is read from.
LABEL_SOURCE: dict[str, str] = {"verb": "action_brief", "brief": "action_brief", "actor": "actor"}


@dataclass(frozen=True)
class NodeTask:
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

    #: The task's name in :data:`graphkit.tasks.TASKS`.
    name: ClassVar[str] = "segment"

    label: str = "verb"
    features: FeatureConfig = field(default_factory=FeatureConfig)
    top_k: int | None = 50
    split_seed: int = 0
    fractions: tuple[float, float, float] = DEFAULT_FRACTIONS

    def __post_init__(self) -> None:
        if self.label not in LABEL_KINDS:
            raise ValueError(f"label={self.label!r}; expected one of {LABEL_KINDS}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description, the inverse of :meth:`from_dict`.

        Returns:
            dict[str, Any]: ``label``, ``top_k``, ``split_seed``, ``fractions``
            (a list) and ``features`` (``text_fields`` as a list, ``dim``,
            ``seed``, ``temporal``, and ``text_encoder`` unless it is the
            default ``"hashing"``, so the keys of hashed datasets stay as
            they were).

        Examples:
            >>> task = NodeTask(label="actor", top_k=None, features=FeatureConfig(dim=8))
            >>> task.to_dict()["features"]["dim"], NodeTask.from_dict(task.to_dict()) == task
            (8, True)
        """
        return {
            "label": self.label,
            "top_k": self.top_k,
            "split_seed": self.split_seed,
            "fractions": list(self.fractions),
            "features": {
                "text_fields": list(self.features.text_fields),
                "dim": self.features.dim,
                "seed": self.features.seed,
                "temporal": self.features.temporal,
            } | ({"text_encoder": self.features.text_encoder} if self.features.text_encoder != "hashing" else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NodeTask:
        """Rebuild a task saved with :meth:`to_dict`; absent keys take their defaults.

        Args:
            data (Mapping[str, Any]): A :meth:`to_dict` result (e.g. read from JSON).

        Returns:
            NodeTask: The task.

        Raises:
            ValueError: If ``data`` or its ``features`` has a key that is not a
                field (named in the message), or a value is invalid.

        Examples:
            >>> NodeTask.from_dict({"label": "brief", "top_k": 5}).top_k
            5
            >>> NodeTask.from_dict({"label": "verb", "topk": 5})
            Traceback (most recent call last):
            ...
            ValueError: unknown NodeTask keys ['topk']; expected some of ['features', 'fractions', 'label', 'split_seed', 'top_k']
        """
        _reject_unknown_keys(cls, data)
        values = dict(data)
        if "features" in values:
            features = values["features"]
            _reject_unknown_keys(FeatureConfig, features)
            values["features"] = FeatureConfig(**features)  # it makes text_fields a tuple
        if "fractions" in values:
            values["fractions"] = tuple(values["fractions"])
        return cls(**values)

    @property
    def node_fields(self) -> tuple[str, ...]:
        """Node fields a reader must decode for this task."""
        return (*schema.STRUCTURE_FIELDS, *self.features.text_fields, "gpt")

    def split(self, trees: TreeBatch) -> np.ndarray:
        """``[V]`` int8 split of each video (0 train, 1 valid, 2 test)."""
        return split_of(trees.video_uid, fractions=self.fractions, seed=self.split_seed)

    def _label_text(self, trees: TreeBatch) -> pa.Array:
        name = LABEL_SOURCE[self.label]
        if name not in trees.text:
            raise ValueError(f"the {self.label!r} label needs the segments' {name!r}; read the 'gpt' field")
        return trees.text[name]

    def labels(self, trees: TreeBatch) -> pa.Array:
        """``[N]`` label string of each segment (:func:`graphkit.labels.extract_labels`), null where none."""
        return extract_labels(self._label_text(trees), self.label)

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
        return self.features_from_counts(trees, self.token_counts(trees), self.text_embeddings(trees, encoder))

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

    def features_from_counts(self, trees: TreeBatch, tokens: TokenCounts | None,
                             embeddings: np.ndarray | None = None) -> np.ndarray:
        """:meth:`feature_matrix` rebuilt from the tree, its :meth:`token_counts` and
        :meth:`text_embeddings`, bit for bit.

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
        y = vocabulary.encode(self._label_text(trees)).astype(np.int64)
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


def _reject_unknown_keys(cls: type, data: Mapping[str, Any]) -> None:
    """Raise :class:`ValueError` naming the keys of ``data`` that are not fields of dataclass ``cls``."""
    known = {f.name for f in fields(cls)}
    unknown = sorted(str(key) for key in data if key not in known)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} keys {unknown}; expected some of {sorted(known)}")
