"""What every task shares: its label, features and video-level split (:class:`LabelledTask`).

A task predicts a ``gpt.action`` label kind (:data:`graphkit.labels.LABEL_KINDS`)
of some segments, keeps the ``top_k`` most frequent training classes, builds
node features (:class:`~graphkit.features.FeatureConfig`) and splits whole
videos into train / valid / test by a hash of ``video_uid``
(:mod:`graphkit.splits`). :class:`~graphkit.tasks.NodeTask` and
:class:`~graphkit.tasks.ExampleTask` add how their targets and batches are
made.

Examples:
    >>> task = LabelledTask(label="actor", top_k=5)
    >>> LabelledTask.from_dict(task.to_dict()) == task
    True
    >>> LabelledTask.from_dict({"label": "verb", "topk": 5})
    Traceback (most recent call last):
    ...
    ValueError: unknown LabelledTask keys ['topk']; expected some of ['features', 'fractions', 'label', 'split_seed', 'top_k']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import numpy as np
import pyarrow as pa

from graphkit import schema
from graphkit.features import FeatureConfig
from graphkit.labels import LABEL_KINDS, extract_labels
from graphkit.splits import DEFAULT_FRACTIONS, split_of
from graphkit.tree import TreeBatch

__all__ = ["LabelledTask", "LABEL_SOURCE", "reject_unknown_keys"]

#: The Segment property each label kind is read from.
LABEL_SOURCE: dict[str, str] = {"verb": "action_brief", "brief": "action_brief", "actor": "actor"}

_Task = TypeVar("_Task", bound="LabelledTask")


def reject_unknown_keys(cls: type, data: Mapping[str, Any]) -> None:
    """Raise :class:`ValueError` naming the keys of ``data`` that are not fields of dataclass ``cls``.

    Examples:
        >>> reject_unknown_keys(FeatureConfig, {"dim": 8, "dims": 8})
        Traceback (most recent call last):
        ...
        ValueError: unknown FeatureConfig keys ['dims']; expected some of ['dim', 'seed', 'temporal', \
'text_encoder', 'text_fields', 'transcript_dim']
    """
    known = {item.name for item in dataclasses.fields(cls)}
    unknown = sorted(str(key) for key in data if key not in known)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} keys {unknown}; expected some of {sorted(known)}")


@dataclass(frozen=True)
class LabelledTask:
    """The label, features and split of a task.

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

    Raises:
        ValueError: If the label kind is unknown.
    """

    #: The task's name in :data:`graphkit.tasks.TASKS`.
    name: ClassVar[str] = ""

    label: str = "verb"
    features: FeatureConfig = field(default_factory=FeatureConfig)
    top_k: int | None = 50
    split_seed: int = 0
    fractions: tuple[float, float, float] = DEFAULT_FRACTIONS

    def __post_init__(self) -> None:
        if self.label not in LABEL_KINDS:
            raise ValueError(f"label={self.label!r}; expected one of {LABEL_KINDS}")

    # -- description ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description, the inverse of :meth:`from_dict`.

        Returns:
            dict[str, Any]: The task's ``name``, then every field,
            ``fractions`` as a list and ``features`` as
            :meth:`FeatureConfig.to_dict <graphkit.features.FeatureConfig.to_dict>`
            gives it.
        """
        data: dict[str, Any] = {"name": self.name}
        data |= {item.name: getattr(self, item.name) for item in dataclasses.fields(self)}
        data["fractions"] = list(self.fractions)
        data["features"] = self.features.to_dict()
        return data

    @classmethod
    def from_dict(cls: type[_Task], data: Mapping[str, Any]) -> _Task:
        """Rebuild a task saved with :meth:`to_dict`; absent keys take their defaults.

        Args:
            data (Mapping[str, Any]): A :meth:`to_dict` result (e.g. read from
                JSON); a ``name`` key, if any, must be this task's.

        Raises:
            ValueError: If ``data`` or its ``features`` has a key that is not a
                field (named in the message), ``name`` is another task's, or a
                value is invalid.
        """
        values = dict(data)
        name = values.pop("name", cls.name)
        if name != cls.name:
            raise ValueError(f"a {name!r} task is not a {cls.name!r} task")
        reject_unknown_keys(cls, values)
        if "features" in values:
            reject_unknown_keys(FeatureConfig, values["features"])
            values["features"] = FeatureConfig(**values["features"])  # it makes text_fields a tuple
        if "fractions" in values:
            values["fractions"] = tuple(values["fractions"])
        return cls(**values)

    # -- what a reader must read -----------------------------------------------------
    @property
    def node_fields(self) -> tuple[str, ...]:
        """Node fields a reader must decode for this task."""
        return (*schema.STRUCTURE_FIELDS, *self.features.text_fields, "gpt")

    @property
    def reads_metadata(self) -> bool:
        """Whether a reader must read the videos' ``metadata`` too (the transcript features need it)."""
        return self.features.transcript

    # -- split and labels ------------------------------------------------------------
    def split(self, trees: TreeBatch) -> np.ndarray:
        """``[V]`` int8 split of each video (0 train, 1 valid, 2 test)."""
        return split_of(trees.video_uid, fractions=self.fractions, seed=self.split_seed)

    def label_text(self, trees: TreeBatch) -> pa.Array:
        """``[N]`` the segment property the labels are made of (:data:`LABEL_SOURCE`).

        Raises:
            ValueError: If the batch was read without it.
        """
        name = LABEL_SOURCE[self.label]
        if name not in trees.text:
            raise ValueError(f"the {self.label!r} label needs the segments' {name!r}; read the 'gpt' field")
        return trees.text[name]

    def labels(self, trees: TreeBatch) -> pa.Array:
        """``[N]`` label string of each segment (:func:`graphkit.labels.extract_labels`), null where none."""
        return extract_labels(self.label_text(trees), self.label)
