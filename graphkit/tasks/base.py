"""What a prediction task is: :class:`Task`, and :class:`ExampleTask` for tasks on cut-out graphs.

A task says

* what its **targets** are and which node carries each prediction (the
  batch's ``'segment'`` store: ``y`` on the carrying nodes, ``-1`` elsewhere,
  and ``train_mask``/``valid_mask``/``test_mask`` from the video-level split);
* what the model **may read** and what it must **never** read: a declared
  rule, enforced when the batch is built, not by convention;
* how a **batch** is built from a :class:`~graphkit.tree.TreeBatch`
  (:meth:`Task.batch`, a PyG ``Batch``);
* its **metrics**: top-1 (accuracy), top-5 and macro-F1, overall and per
  level of the target (``target_level`` on the carrying nodes where it is not
  the carrier's own level), scored by :class:`graphkit.models.evaluator.Evaluator`.

:class:`graphkit.tasks.NodeTask` (``segment``) predicts every segment's label
on the whole video graph; its rule is that no ``gpt`` field is ever a feature
(:func:`graphkit.features.check_no_label_leakage`). An :class:`ExampleTask`
(``anticipation``, ``parent``) predicts from a graph cut out of a video for
each example (:mod:`graphkit.tasks.examples`): the model reads only the cut's
members, and :meth:`ExampleTask.forbidden` declares which members would be a
leak (refused with :class:`~graphkit.errors.LeakageError`) and whose text
must be hidden (set to null before any feature is computed, whatever the
examples said).
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit.arrays import concat_ranges
from graphkit.features import hashed_token_counts, pool_transcript, spoken_token_counts, temporal_features
from graphkit.labels import LabelVocabulary
from graphkit.tasks.examples import Examples, check_members, example_heights, example_trees
from graphkit.tasks.labelled import LabelledTask
from graphkit.tasks.segment import segment_arrays
from graphkit.transcript import Transcript, align_transcript
from graphkit.tree import TreeBatch

if TYPE_CHECKING:
    from torch_geometric.data import Batch

__all__ = ["Task", "ExampleTask", "METRICS"]

#: The metrics every task reports (:class:`graphkit.models.evaluator.Evaluator`'s).
METRICS: tuple[str, ...] = ("top1", "top5", "macro_f1")


@runtime_checkable
class Task(Protocol):
    """What :func:`graphkit.models.train.train` and ``graphkit evaluate`` need of a task."""

    name: ClassVar[str]
    label: str

    @property
    def node_fields(self) -> tuple[str, ...]:
        """Node fields a reader must decode for this task."""

    @property
    def reads_metadata(self) -> bool:
        """Whether a reader must read the videos' ``metadata`` too."""

    def split(self, trees: TreeBatch) -> np.ndarray:
        """``[V]`` int8 split of each video (0 train, 1 valid, 2 test)."""

    def fit_vocabulary(self, batches: Iterable[TreeBatch]) -> LabelVocabulary:
        """The label vocabulary, fitted on the training videos' targets."""

    def batch(self, trees: TreeBatch, vocabulary: LabelVocabulary) -> Batch:
        """The model's input and targets for some videos, as a PyG ``Batch``."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description."""


@dataclass(frozen=True)
class ExampleTask(LabelledTask):
    """Base of tasks that predict from a graph cut out of a video for each example.

    Subclasses set :attr:`name` and implement :meth:`examples` and
    :meth:`forbidden`.

    Args:
        label (str, optional): One of :data:`graphkit.labels.LABEL_KINDS`.
            (default: :obj:`"verb"`)
        features (FeatureConfig, optional): Node features; hashed captions
            only (the cut graphs hash their members' text themselves, after
            hiding what the rule hides). (default: :obj:`FeatureConfig()`)
        top_k (int, optional): Classes kept (the rest are ``<other>``);
            :obj:`None` keeps all. (default: :obj:`50`)
        split_seed (int, optional): Seed of the video-level split. (default: :obj:`0`)
        fractions (tuple[float, float, float], optional): Train, valid and test
            shares of videos. (default: :obj:`(0.8, 0.1, 0.1)`)
        examples_per_video (int, optional): Most examples of one video, evenly
            spread over its candidates (it bounds a batch's size);
            :obj:`None` keeps all. (default: :obj:`16`)

    Raises:
        ValueError: If the label kind is unknown, ``examples_per_video`` is not
            a positive int or :obj:`None`, or the features are embedded.
    """

    #: What :meth:`forbidden` refuses, for the error message.
    rule: ClassVar[str] = ""

    examples_per_video: int | None = 16

    def __post_init__(self) -> None:
        super().__post_init__()
        most = self.examples_per_video
        if most is not None and (isinstance(most, bool) or not isinstance(most, int) or most < 1):
            raise ValueError(f"examples_per_video={most!r} must be a positive int or None")
        if self.features.embedded:
            raise ValueError(f"the {self.name!r} task reads hashed caption features; text_encoder="
                             f"{self.features.text_encoder!r} is what the 'segment' task offers")

    # -- what subclasses define -----------------------------------------------
    def examples(self, trees: TreeBatch, labelled: np.ndarray) -> Examples:
        """The examples of some videos, each with a labelled target.

        Args:
            trees (TreeBatch): The videos.
            labelled (numpy.ndarray): ``[N]`` bool, segments with a label.
        """
        raise NotImplementedError

    def forbidden(self, trees: TreeBatch, examples: Examples) -> tuple[np.ndarray, np.ndarray]:
        """The declared rule: ``([M] members that must not be read at all, [M] members whose text must not be)``."""
        raise NotImplementedError

    def labelled_examples(self, trees: TreeBatch) -> Examples:
        """:meth:`examples` of ``trees`` whose targets have a label."""
        return self.examples(trees, self.labels(trees).is_valid().to_numpy(zero_copy_only=False))

    def fit_vocabulary(self, batches: Iterable[TreeBatch]) -> LabelVocabulary:
        """Fit the label vocabulary on the training videos' targets, in one streaming pass."""
        counts: collections.Counter[str] = collections.Counter()
        for trees in batches:
            if not trees.num_videos:
                continue
            examples = self.labelled_examples(trees)
            train = examples.target[self.split(trees)[examples.video] == 0]
            counted = pc.value_counts(self.labels(trees).take(pa.array(train)).drop_null())
            counts.update(dict(zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist())))
        return LabelVocabulary.from_counts(counts, kind=self.label, top_k=self.top_k)

    # -- batches -----------------------------------------------------------------
    def inputs(self, trees: TreeBatch, examples: Examples,
               extra: Mapping[str, np.ndarray] | None = None) -> Batch:
        """What the model reads: one graph per example, built from its members alone.

        The declared rule (:meth:`forbidden`) is checked first: a forbidden
        member raises, forbidden text is hidden whatever ``examples`` says.

        Args:
            trees (TreeBatch): The videos.
            examples (Examples): Their examples.
            extra (Mapping[str, numpy.ndarray], optional): ``[M]`` arrays to
                store on the members too (targets, masks). (default: :obj:`None`)

        Returns:
            torch_geometric.data.Batch: Segment stores with ``x``, the tree
            columns of the cut and ``query`` (bool, the carrying members);
            segment relations only (no video node: its length is the future).

        Raises:
            LeakageError: If a member is one the task forbids.
        """
        from graphkit.pyg import to_hetero_batch

        if examples.num_examples and (np.diff(examples.offsets) < 1).any():
            raise ValueError("every example needs at least one member")
        owner = examples.example_of_member
        if (examples.query < examples.offsets[:-1]).any() or (examples.query >= examples.offsets[1:]).any():
            raise ValueError("an example's query is not one of its members")
        unreadable, text_forbidden = self.forbidden(trees, examples)
        check_members(trees, examples, unreadable, self.rule)
        hidden = Examples(examples.video, examples.offsets, examples.node, examples.text_hidden | text_forbidden,
                          examples.query, examples.target, examples.attrs)
        cut = example_trees(trees, hidden)
        height = example_heights(cut)
        blocks = []
        if self.features.text_fields:
            columns = [cut.text[name] for name in self.features.text_fields]
            blocks.append(hashed_token_counts(columns, self.features.dim, seed=self.features.seed).to_dense())
        if self.features.transcript:
            blocks.append(self.member_transcript(trees, hidden, cut))
        if self.features.temporal:
            first = examples.offsets[:-1]
            span_start = np.minimum.reduceat(cut.start, first)[owner] if cut.num_nodes else cut.start
            span_end = np.maximum.reduceat(cut.end, first)[owner] if cut.num_nodes else cut.end
            blocks.append(temporal_features(cut.level, cut.start, cut.end, span_start, span_end, height))
        x = np.concatenate(blocks, axis=1) if blocks else np.zeros((cut.num_nodes, 0), np.float32)
        query = np.zeros(cut.num_nodes, dtype=bool)
        query[examples.query] = True
        import torch  # here, not at the top: `convert --on-disk` imports the tasks and must not pay for torch

        data = {"x": x, "height": torch.from_numpy(height.astype(np.int64)), "query": query, **(extra or {})}
        return to_hetero_batch(cut, data, videos=False)

    def hears(self, trees: TreeBatch, examples: Examples, transcript: Transcript, member: np.ndarray,
              line: np.ndarray) -> np.ndarray:
        """Which (member, line) pairs the model may hear: ``[P]`` bool (here: all of them).

        Args:
            trees (TreeBatch): The videos.
            examples (Examples): Their examples.
            transcript (Transcript): The videos' aligned lines.
            member (numpy.ndarray): ``[P]`` member of each pair: a leaf of its video.
            line (numpy.ndarray): ``[P]`` a line that falls in it.
        """
        return np.ones(member.size, dtype=bool)

    def member_transcript(self, trees: TreeBatch, examples: Examples, cut: TreeBatch) -> np.ndarray:
        """``[M, transcript_dim]``: each member's transcript row, pooled within its cut.

        A member that is a leaf of its video holds the lines that fall in it
        and that :meth:`hears` allows; the others sum their members below
        them (:func:`~graphkit.features.pool_transcript` on the cut, so no
        line of a segment outside the cut is heard); a member whose text is
        hidden gets a zero row.

        Raises:
            ValueError: If the batch was read without its metadata.
        """
        if trees.metadata is None:
            raise ValueError(f"transcript_dim={self.features.transcript_dim} needs the videos' transcripts; "
                             "read the batch with its metadata")
        lines = align_transcript(trees, log=False)  # a batch is built again every epoch
        # Every (member, line) pair: the members that are each DURING edge's leaf.
        by_node = np.argsort(examples.node, kind="stable")
        nodes = examples.node[by_node]
        low = np.searchsorted(nodes, lines.during_segment, side="left")
        high = np.searchsorted(nodes, lines.during_segment, side="right")
        member = by_node[concat_ranges(low, high - low)]
        line = np.repeat(lines.during_line, high - low)
        heard = self.hears(trees, examples, lines, member, line)
        counts = spoken_token_counts(lines, member[heard], line[heard], examples.node.size,
                                     self.features.transcript_dim, seed=self.features.seed)
        rows = pool_transcript(cut, counts)
        rows[examples.text_hidden] = 0.0
        return rows

    def batch(self, trees: TreeBatch, vocabulary: LabelVocabulary) -> Batch:
        """The examples of ``trees`` with their targets: :meth:`inputs` plus ``y``, masks, ``target_level``.

        ``y`` is the target's class on each query member (``-1`` elsewhere),
        the masks select the query members of each split, and
        ``target_level`` is the target's level (what the evaluator groups by).
        """
        examples = self.labelled_examples(trees)
        y = np.full(examples.node.size, -1, dtype=np.int64)
        encoded = vocabulary.encode(self.label_text(trees)).astype(np.int64)
        y[examples.query] = encoded[examples.target]
        split = self.split(trees)[examples.video][examples.example_of_member]
        target_level = trees.level[examples.node].astype(np.int64)
        target_level[examples.query] = trees.level[examples.target]
        extra = {name: value for name, value in segment_arrays(np.zeros((y.size, 0), np.float32), y, split).items()
                 if name != "x"}
        extra["target_level"] = target_level
        return self.inputs(trees, examples, extra)
