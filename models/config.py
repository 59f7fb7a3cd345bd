"""The configuration of a training run: :class:`TrainConfig` and the device it runs on.

A :class:`TrainConfig` is everything one run of :func:`graphkit.models.train.train`
depends on; it is checked when built (a bad value raises :class:`ValueError`
at once, not epochs later), written to the run's ``config.json`` and read back
by :func:`graphkit.models.checkpoint.load_model`. :func:`resolve_device` turns
its ``device`` name into a :class:`torch.device`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from graphkit.models.registry import MODELS

if TYPE_CHECKING:
    from graphkit.tasks import Task

__all__ = ["TrainConfig", "resolve_device"]


@dataclass(frozen=True)
class TrainConfig:
    """Everything one training run depends on.

    Args:
        model (str, optional): A name of :data:`models.MODELS`. (default: :obj:`"hier"`)
        sources (tuple[str, ...], optional): Files, directories, globs or URLs;
            may be empty when :obj:`dataset_root` already holds a processed
            dataset. (default: :obj:`()`)
        out (str, optional): Output directory. (default: :obj:`"runs/model"`)
        label (str, optional): Label kind: ``"verb"``, ``"brief"`` or
            ``"actor"``. (default: :obj:`"verb"`)
        epochs (int, optional): Most epochs. (default: :obj:`20`)
        lr (float, optional): Adam learning rate. (default: :obj:`0.005`)
        weight_decay (float, optional): Adam weight decay. (default: :obj:`0.0`)
        hidden (int, optional): Hidden width. (default: :obj:`64`)
        layers (int, optional): Layers; :obj:`None` takes the model's default.
            (default: :obj:`None`)
        dropout (float, optional): Dropout. (default: :obj:`0.2`)
        batch_size (int, optional): Videos per mini-batch. (default: :obj:`32`)
        seed (int, optional): Seed of weights, dropout and shuffling. (default: :obj:`0`)
        patience (int, optional): Epochs without a better validation macro-F1
            before stopping. (default: :obj:`5`)
        device (str, optional): ``"auto"`` (CUDA when present), ``"cpu"``,
            ``"cuda"`` or ``"cuda:N"``. (default: :obj:`"auto"`)
        dataset_root (str, optional): Cache directory of the processed
            dataset; :obj:`None` uses ``out/dataset``. (default: :obj:`None`)
        top_k (int, optional): Label classes kept; the rest are ``<other>``.
            (default: :obj:`50`)
        feature_dim (int, optional): Hash buckets of the caption features.
            (default: :obj:`256`)
        split_seed (int, optional): Seed of the video-level split. (default: :obj:`0`)
        label_fraction (float, optional): Share of the training videos whose
            labels are used, a label budget drawn with ``seed`` by
            :func:`labelled_videos`; the other training videos are left out.
            The label vocabulary (top-K classes) stays the one the dataset
            fitted on all training videos, and validation stays fully
            labelled (it picks the epoch). (default: :obj:`1.0`)
        init_weights (str, optional): A ``state_dict`` file (``torch.save``)
            to start from instead of random weights, e.g. an encoder
            pretrained with :mod:`graphkit.losses`; it must fit the model
            exactly. (default: :obj:`None`)
        progress (bool, optional): Show a progress bar on stderr. (default: :obj:`False`)
        on_disk (bool, optional): Train from the compact on-disk dataset
            (:class:`~graphkit.loaders.pyg_dataset.Action100MOnDiskDataset`),
            in memory bounded by a batch; a ``dataset_root`` that already
            holds one is read as such either way. (default: :obj:`False`)
        threads (int, optional): CPU threads of torch; :obj:`None` times a
            training step with 1, 2, 4, ... threads up to the CPUs this
            process may use and keeps the fastest (on a shared machine more
            threads can be several times slower). (default: :obj:`None`)
        workers (int, optional): ``DataLoader`` worker processes building
            the next batches while the model trains. (default: :obj:`0`)
        text_encoder (str, optional): The caption features' encoder, one of
            :data:`graphkit.features.TEXT_ENCODERS` (``"minilm"``: sentence
            embeddings, each distinct text embedded once through the on-disk
            embedding cache). (default: :obj:`"hashing"`)
        transcript_dim (int, optional): Hash buckets of the transcript
            features appended to every segment's (the ASR lines in it, its
            leaves' summed into it; :attr:`FeatureConfig.transcript_dim
            <graphkit.features.FeatureConfig.transcript_dim>`); ``0``: none.
            (default: :obj:`0`)
        task_name (str, optional): The task, a name of
            :data:`graphkit.tasks.TASKS`: ``"segment"`` (every segment's
            label), ``"anticipation"``, ``"parent"`` or ``"retrieval"``; all
            but ``segment`` read their sources each run, in memory.
            (default: :obj:`"segment"`)

    Raises:
        ValueError: If a value is out of range or the model or label is unknown.

    Examples:
        >>> TrainConfig(model="mlp", epochs=3).to_dict()["epochs"]
        3
        >>> TrainConfig(model="cnn")
        Traceback (most recent call last):
        ...
        ValueError: model='cnn'; expected one of ['gat', 'gcn', 'hier', 'mlp', 'sage', 'tree_lstm']
    """

    model: str = "hier"
    sources: tuple[str, ...] = ()
    out: str = "runs/model"
    label: str = "verb"
    epochs: int = 20
    lr: float = 0.005
    weight_decay: float = 0.0
    hidden: int = 64
    layers: int | None = None
    dropout: float = 0.2
    batch_size: int = 32
    seed: int = 0
    patience: int = 5
    device: str = "auto"
    dataset_root: str | None = None
    top_k: int = 50
    feature_dim: int = 256
    split_seed: int = 0
    label_fraction: float = 1.0
    init_weights: str | None = None
    progress: bool = False
    on_disk: bool = False
    threads: int | None = None
    workers: int = 0
    text_encoder: str = "hashing"
    transcript_dim: int = 0
    task_name: str = "segment"

    def __post_init__(self) -> None:
        from graphkit.labels import LABEL_KINDS

        if isinstance(self.sources, (str, os.PathLike)):  # one source, not its characters
            object.__setattr__(self, "sources", (self.sources,))
        elif isinstance(self.sources, bytes):
            raise TypeError(f"sources must be a path or a list of paths, got bytes {self.sources!r}")
        object.__setattr__(self, "sources", tuple(os.fspath(s) for s in self.sources))
        object.__setattr__(self, "out", str(self.out))
        if self.dataset_root is not None:
            object.__setattr__(self, "dataset_root", str(self.dataset_root))
        if self.init_weights is not None:
            object.__setattr__(self, "init_weights", str(self.init_weights))
            if not Path(self.init_weights).is_file():
                raise ValueError(f"init_weights={self.init_weights!r} is not a file")
        if self.model not in MODELS:
            raise ValueError(f"model={self.model!r}; expected one of {sorted(MODELS)}")
        if self.label not in LABEL_KINDS:
            raise ValueError(f"label={self.label!r}; expected one of {LABEL_KINDS}")
        for name in ("epochs", "hidden", "batch_size", "patience", "top_k", "feature_dim"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive int")
        if self.threads is not None and (isinstance(self.threads, bool) or not isinstance(self.threads, int)
                                         or self.threads < 1):
            raise ValueError(f"threads={self.threads!r} must be a positive int or None")
        for name in ("workers", "transcript_dim"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name}={value!r} must be an int >= 0")
        if self.layers is not None and (not isinstance(self.layers, int) or self.layers < 1):
            raise ValueError(f"layers={self.layers!r} must be a positive int or None")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr={self.lr!r} must be > 0")
        if not self.weight_decay >= 0:
            raise ValueError(f"weight_decay={self.weight_decay!r} must be >= 0")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout={self.dropout!r} must lie in [0, 1)")
        if not 0.0 < self.label_fraction <= 1.0:
            raise ValueError(f"label_fraction={self.label_fraction!r} must lie in (0, 1]")
        from graphkit.features import TEXT_ENCODERS

        if self.text_encoder not in TEXT_ENCODERS:
            raise ValueError(f"text_encoder={self.text_encoder!r}; expected one of {TEXT_ENCODERS}")
        resolve_device(self.device)
        from graphkit.tasks import TASKS

        if self.task_name not in TASKS:
            raise ValueError(f"task_name={self.task_name!r}; expected one of {sorted(TASKS)}")
        if self.task_name != "segment" and self.on_disk:
            raise ValueError(f"task_name={self.task_name!r} trains in memory; leave out on_disk (--on-disk), "
                             "which the 'segment' task offers")
        if self.task_name != "segment" and self.text_encoder != "hashing":
            # The other tasks build their examples' features themselves, from hashed words only.
            raise ValueError(f"task_name={self.task_name!r} reads hashed caption features; leave out "
                             f"text_encoder={self.text_encoder!r}, which the 'segment' task offers")

    @property
    def dataset_dir(self) -> Path:
        """Where the processed dataset lives."""
        return Path(self.dataset_root) if self.dataset_root is not None else Path(self.out) / "dataset"

    def task(self) -> Task:
        """The task of this run (:func:`graphkit.tasks.build_task`; a :class:`~graphkit.tasks.NodeTask` for ``segment``)."""
        from graphkit.features import FeatureConfig
        from graphkit.tasks import build_task

        features = FeatureConfig(dim=self.feature_dim, text_encoder=self.text_encoder,
                                 transcript_dim=self.transcript_dim)
        return build_task(self.task_name, label=self.label, features=features, top_k=self.top_k,
                          split_seed=self.split_seed)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``sources`` as a list)."""
        data = asdict(self)
        data["sources"] = list(self.sources)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        """The inverse of :meth:`to_dict`; unknown keys are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


def resolve_device(device: str) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; other names are checked.

    Args:
        device (str): ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Returns:
        torch.device: The device to run on.

    Raises:
        ValueError: If the name is not a device, or CUDA is asked for and absent.

    Examples:
        >>> resolve_device("cpu")
        device(type='cpu')
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device={device!r}; expected 'auto', 'cpu', 'cuda' or 'cuda:N'") from err
    if resolved.type not in ("cpu", "cuda"):
        raise ValueError(f"device={device!r}; expected 'auto', 'cpu', 'cuda' or 'cuda:N'")
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but CUDA is not available; use 'auto' or 'cpu'")
    return resolved
