"""PyTorch Geometric datasets of Action100M videos, processed once and cached.

Each video is one :class:`~torch_geometric.data.HeteroData` graph (see
:mod:`graphkit.pyg`) with segment features ``x``, labels ``y`` (``-1`` where
unlabelled) and ``train_mask``/``valid_mask``/``test_mask`` from a
:class:`~graphkit.tasks.NodeTask`. Processing streams the sources twice: once
to fit the label vocabulary on the training videos, once to build the graphs.

* :class:`Action100MDataset` (an ``InMemoryDataset``) keeps all graphs in one
  collated store, written in one piece from the columnar batch rather than
  collated graph by graph; for data that fits in memory.
* :class:`Action100MOnDiskDataset` keeps them in compact memory-mapped
  shards (:mod:`graphkit.loaders.shards`, about 60 bytes per segment) and
  builds each mini-batch straight from them; for preview and full scale.

Both follow PyG's dataset contract (``processed_file_names``, ``process()``)
and OGB's ``get_idx_split()``; ``DataLoader`` batches whole videos.

Both are caches keyed by what they were built from
(:func:`graphkit.loaders.ondisk.dataset_key`: the graphkit version, the task
with its label, vocabulary and feature options, the validation rules, and
each source file's path, size and modification time). Given sources, a
dataset whose stored key does not vouch for them is processed again, never
reused; given none, it is read as it is, and a task other than the stored
one is refused.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import pickle
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import torch
from torch_geometric.data import Dataset, HeteroData, InMemoryDataset

from graphkit.errors import DatasetError
from graphkit.labels import LabelVocabulary
from graphkit.loaders.batches import ShardedVideos
from graphkit.loaders.embedding_cache import cached_text_encoder
from graphkit.loaders.fragments import plan_fragments
from graphkit.loaders.ondisk import MANIFEST, build_shards, dataset_key, key_matches, read_manifest
from graphkit.loaders.sources import source_list
from graphkit.loaders.trees import iter_tree_batches
from graphkit.pyg import to_hetero_batch, to_in_memory_storage
from graphkit.redact import redact
from graphkit.splits import SPLIT_NAMES
from graphkit.tasks import NodeTask
from graphkit.tree import TreeBatch
from graphkit.validation import ValidationConfig, ValidationReport, Violation

__all__ = ["Action100MDataset", "Action100MOnDiskDataset", "build_dataset", "optional_sources", "stored_task"]

logger = logging.getLogger(__name__)

_TASK_FILE = "task.json"


def _read_meta_file(path: Path) -> dict[str, Any]:
    """The in-memory dataset's ``task.json``, or a :class:`DatasetError` naming it."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DatasetError(f"{path} is unreadable ({err}); run convert again") from err
    missing = [key for key in ("task", "vocabulary", "video_uid", "split", "skipped")
               if not isinstance(meta, dict) or key not in meta]
    if missing:
        raise DatasetError(f"{path} is corrupt (lacks {missing}); run convert again")
    return meta


def stored_task(root: str | Path) -> NodeTask | None:
    """The task a dataset directory's processed files were built for, or :obj:`None` if none are.

    A dataset reuses its processed files whatever task it is given, so a
    caller that needs a given task compares it with this first.

    Args:
        root (str or Path): The ``root`` of an :class:`Action100MDataset` or
            :class:`Action100MOnDiskDataset`.

    Returns:
        NodeTask or None: The stored task (:meth:`NodeTask.from_dict`).
    """
    manifest = read_manifest(Path(root) / "processed")
    if manifest is not None:
        return NodeTask.from_dict(manifest["task"])
    path = Path(root) / "processed" / _TASK_FILE
    if not path.exists():
        return None
    return NodeTask.from_dict(_read_meta_file(path)["task"])


def optional_sources(sources: Any) -> list[Any]:
    """The ``sources`` of a dataset, which may be left out when it is processed already.

    :obj:`None` or an empty list is no source; anything else goes through
    :func:`~graphkit.loaders.sources.source_list` (a single path string is one
    source, never a list of characters).

    Examples:
        >>> optional_sources(None), optional_sources("videos.parquet")
        ([], ['videos.parquet'])
    """
    if sources is None or (isinstance(sources, (list, tuple)) and not sources):
        return []
    return source_list(sources, "sources")


class _Action100MBase:
    """What both datasets share: sources, task, vocabulary, splits."""

    sources: Sequence[str]
    task: NodeTask
    validation: ValidationConfig
    batch_size: int

    def _configure(self, sources: Sequence[str] | None, task: NodeTask | None,
                   validation: ValidationConfig | None, batch_size: int) -> None:
        self.sources = optional_sources(sources)
        self.task = task or NodeTask()
        self.validation = validation or ValidationConfig()
        self.batch_size = batch_size

    def _require_sources(self) -> None:
        if not self.sources:
            raise ValueError(f"{self.processed_dir} holds no processed data and no sources were given")

    def _batches(self, fields: Sequence[str], report: ValidationReport | None = None):
        return iter_tree_batches(self.sources, node_fields=fields, metadata=self.task.reads_metadata,
                                 batch_size=self.batch_size, validation=self.validation, report=report)

    def _fit_vocabulary(self) -> LabelVocabulary:
        return self.task.fit_vocabulary(self._batches(self.task.node_fields))

    def _key(self) -> dict[str, Any]:
        """What the processed files are built from (:func:`~graphkit.loaders.ondisk.dataset_key`)."""
        return dataset_key(plan_fragments(self.sources), self.task, self.validation)

    def _write_meta(self, path: str, vocabulary: LabelVocabulary, split: np.ndarray, uids: list[str],
                    report: ValidationReport, key: dict[str, Any]) -> None:
        meta = {
            "key": key,
            "task": self.task.to_dict(),
            "vocabulary": vocabulary.to_dict(),
            "video_uid": uids,
            "split": split.tolist(),
            "skipped": [str(v) for v in report.skipped],
            "violations": [dataclasses.asdict(v) for v in report.skipped],
        }
        Path(path).write_text(redact(json.dumps(meta)), encoding="utf-8")

    def _read_meta(self, path: str) -> None:
        meta = _read_meta_file(Path(path))
        self.vocabulary = LabelVocabulary.from_dict(meta["vocabulary"])
        self.video_uids: list[str] = meta["video_uid"]
        self._split = torch.tensor(meta["split"], dtype=torch.int8)
        self.skipped: list[str] = meta["skipped"]
        #: The videos (and rows, and files) left out while processing, as :class:`~graphkit.validation.Violation`.
        self.violations: list[Violation] = [Violation(**entry) for entry in meta.get("violations", [])]

    @property
    def num_segments(self) -> int:
        """Segments over all videos."""
        return int(self._data["segment"].num_nodes)

    @property
    def num_segment_features(self) -> int:
        """Width of the segments' features ``x`` (the same in every video).

        Raises:
            ValueError: If the dataset holds no video.
        """
        if len(self) == 0:
            raise ValueError(f"{self.processed_dir} holds no video")
        return int(self[0]["segment"].x.size(1))

    def get_idx_split(self) -> dict[str, torch.Tensor]:
        """Video indices of each split, OGB style: ``{"train", "valid", "test"}``."""
        return {name: torch.nonzero(self._split == code).flatten() for code, name in enumerate(SPLIT_NAMES)}

    def loader(self, indices: Sequence[int] | torch.Tensor, *, batch_size: int = 32, shuffle: bool = False,
               generator: torch.Generator | None = None, num_workers: int = 0, replicas: int = 1, rank: int = 0):
        """A PyG ``DataLoader`` of mini-batches of whole videos (the same call as the on-disk dataset's).

        Raises:
            ValueError: If ``replicas`` > 1: data-parallel runs read the on-disk dataset.
        """
        from torch_geometric.loader import DataLoader

        if replicas > 1:
            raise ValueError("data-parallel training reads the on-disk dataset; convert or train with --on-disk")
        return DataLoader(self[torch.as_tensor(indices)], batch_size=batch_size, shuffle=shuffle,
                          generator=generator, num_workers=num_workers)


class Action100MDataset(_Action100MBase, InMemoryDataset):
    """Action100M videos as an in-memory PyG dataset of heterogeneous graphs.

    Args:
        root (str): Directory of the processed files (``processed/``).
        sources (Sequence[str], optional): Files, directories, globs or URLs
            to read; needed only when the processed files do not exist yet.
        task (NodeTask, optional): Features, labels and splits.
            (default: the stored task, else :obj:`NodeTask()`)
        validation (ValidationConfig, optional): Invariant checking.
            (default: strict, raising)
        batch_size (int, optional): Videos per record batch while processing.
            (default: :obj:`256`)
        transform (callable, optional): Applied on every access.
        force_reload (bool, optional): Process again even if cached.
            (default: :obj:`False`)

    The processed files are reused only for the inputs they were built from:
    given sources that are other files, files that changed (size or
    modification time), another task or other validation rules, the dataset
    is processed again.

    Raises:
        ValueError: If nothing is processed and no sources are given, or no
            sources are given and the stored dataset was built for another task.
        DatasetError: If the stored files are damaged and no sources are given.

    Examples:
        >>> import tempfile, pyarrow.parquet as pq
        >>> from graphkit.testing import example_rows
        >>> tmp = tempfile.mkdtemp()
        >>> pq.write_table(example_rows(4), tmp + "/four.parquet")
        >>> dataset = Action100MDataset(tmp + "/ds", [tmp + "/four.parquet"], log=False)
        >>> len(dataset), dataset[0]["segment"].x.shape
        (4, torch.Size([3, 261]))
        >>> dataset.vocabulary.classes
        ('cut', '<other>')
    """

    def __init__(
        self,
        root: str,
        sources: Sequence[str] | None = None,
        task: NodeTask | None = None,
        validation: ValidationConfig | None = None,
        batch_size: int = 256,
        transform: Callable | None = None,
        force_reload: bool = False,
        log: bool = True,
    ) -> None:
        self._configure(sources, task, validation, batch_size)
        processed = Path(root) / "processed"
        stored = None
        if (processed / "data.pt").is_file() and (processed / _TASK_FILE).exists():
            try:
                stored = _read_meta_file(processed / _TASK_FILE)
            except DatasetError as err:
                if not self.sources:
                    raise
                logger.warning("%s; processing the sources again", err)
                force_reload = True
        if stored is not None and not force_reload:
            if task is None:
                self.task = NodeTask.from_dict(stored["task"])
            if self.sources:
                if not key_matches(stored.get("key"), self._key()):
                    logger.info("%s was built from other inputs; processing again", processed)
                    force_reload = True
            elif NodeTask.from_dict(stored["task"]) != self.task:
                raise ValueError(f"the dataset in {root} was built for the task {stored['task']}, not "
                                 f"{self.task.to_dict()}; give its sources to rebuild it, or use another root")
        super().__init__(root, transform, force_reload=force_reload, log=log)
        try:
            self.load(self.processed_paths[0], data_cls=HeteroData)
        except (OSError, RuntimeError, EOFError, KeyError, ValueError, pickle.UnpicklingError) as err:
            damaged = DatasetError(f"{self.processed_paths[0]} is unreadable ({type(err).__name__}); "
                                   "run convert again")
            if not self.sources:
                raise damaged from err
            logger.warning("%s; processing the sources again", damaged)
            self.process()
            self.load(self.processed_paths[0], data_cls=HeteroData)
        self._read_meta(self.processed_paths[1])

    @property
    def raw_file_names(self) -> list[str]:
        return []  # sources are read where they are; nothing is downloaded

    @property
    def processed_file_names(self) -> list[str]:
        return ["data.pt", _TASK_FILE]

    def download(self) -> None:
        pass

    def process(self) -> None:
        self._require_sources()
        key = self._key()  # the inputs as they are before reading: a file changed meanwhile is read again
        # What says the directory holds a dataset goes first: a build cut short leaves none that looks done.
        for stale in (self.processed_paths[1], str(Path(self.processed_dir) / MANIFEST)):
            Path(stale).unlink(missing_ok=True)
        vocabulary = self._fit_vocabulary()
        report = ValidationReport()
        parts, arrays = [], []
        encoder = cached_text_encoder(self.task.features.text_encoder) if self.task.features.embedded else None
        for trees in self._batches(self.task.node_fields, report):
            if trees.num_videos:
                parts.append(trees)
                arrays.append(self.task.arrays(trees, vocabulary, encoder))
        if not parts:
            raise ValueError(f"no valid video in {self.sources}")
        trees = TreeBatch.concat(parts)
        segment_data = {k: np.concatenate([a[k] for a in arrays]) for k in arrays[0] if k != "split"}
        batch = to_hetero_batch(trees, segment_data)
        data, slices = to_in_memory_storage(batch)
        torch.save((data.to_dict(), slices, HeteroData), self.processed_paths[0])
        self._write_meta(self.processed_paths[1], vocabulary, self.task.split(trees),
                         trees.video_uid.to_pylist(), report, key)
        logger.info("processed %s", report.summary())


class Action100MOnDiskDataset(Dataset):
    """Action100M videos in compact on-disk shards, for preview and full scale.

    Processing streams the sources once (:func:`graphkit.loaders.ondisk.build_shards`)
    into shards of a few dozen bytes per segment (:mod:`graphkit.loaders.shards`);
    reading gathers batches of videos from memory-mapped shards
    (:mod:`graphkit.loaders.batches`), so memory is bounded by a batch, not by
    the dataset. The processed files are reused only for the inputs they
    were built from: given sources whose files changed (size or modification
    time), another task or other validation rules, the dataset is rebuilt.

    Args:
        root (str): Directory of the processed files (``processed/``).
        sources (Sequence[str], optional): What to read; needed only when
            nothing (or something else) was processed yet.
        task (NodeTask, optional): Features, labels and splits.
            (default: the stored task, else :obj:`NodeTask()`)
        validation (ValidationConfig, optional): Invariant checking.
            (default: strict, raising)
        batch_size (int, optional): Videos per tree batch while processing.
            (default: :obj:`256`)
        videos_per_shard (int, optional): Videos per shard. (default: :obj:`1024`)
        transform (callable, optional): Applied to each video on access.
        force_reload (bool, optional): Process again even if cached.
            (default: :obj:`False`)

    Raises:
        ValueError: If nothing is processed and no sources are given, or the
            stored dataset was built for another task than the one given.
        DatasetError: If the stored files are damaged and no sources are given.

    Examples:
        >>> import tempfile, pyarrow.parquet as pq
        >>> from graphkit.testing import example_rows
        >>> tmp = tempfile.mkdtemp()
        >>> pq.write_table(example_rows(4), tmp + "/four.parquet")
        >>> dataset = Action100MOnDiskDataset(tmp + "/ds", [tmp + "/four.parquet"], log=False)
        >>> len(dataset), dataset[0]["segment"].x.shape, dataset.checksum == dataset.manifest["checksum"]
        (4, torch.Size([3, 261]), True)
        >>> batch = next(iter(dataset.loader(dataset.get_idx_split()["train"], batch_size=8)))
        >>> batch.num_graphs == dataset.get_idx_split()["train"].numel()
        True
    """

    def __init__(
        self,
        root: str,
        sources: Sequence[str] | None = None,
        task: NodeTask | None = None,
        validation: ValidationConfig | None = None,
        batch_size: int = 256,
        videos_per_shard: int = 1024,
        transform: Callable | None = None,
        force_reload: bool = False,
        log: bool = True,
    ) -> None:
        self.sources = optional_sources(sources)
        self.validation = validation or ValidationConfig()
        self.batch_size = batch_size
        self.videos_per_shard = videos_per_shard
        processed = Path(root) / "processed"
        try:
            stored = read_manifest(processed)
        except DatasetError as err:
            if not self.sources:
                raise
            logger.warning("%s; processing the sources again", err)
            stored, force_reload = None, True
        if task is None:
            task = NodeTask.from_dict(stored["task"]) if stored else NodeTask()
        self.task = task
        if stored is not None and not force_reload:
            if self.sources:
                fragments = plan_fragments(self.sources, videos_per_fragment=videos_per_shard)
                if not key_matches(stored["key"], dataset_key(fragments, task, self.validation)):
                    logger.info("%s was built from other inputs; processing again", processed)
                    force_reload = True
            elif NodeTask.from_dict(stored["task"]) != task:
                raise ValueError(f"the dataset in {root} was built for the task {stored['task']}, not "
                                 f"{task.to_dict()}; give its sources to rebuild it, or use another root")
        super().__init__(root, transform, force_reload=force_reload, log=log)
        self.manifest = read_manifest(self.processed_dir)
        self.videos = ShardedVideos(self.processed_dir, self.manifest)
        self.vocabulary = self.videos.vocabulary
        self.skipped = [entry["video_uid"] for entry in self.manifest["skipped"]]

    @property
    def raw_file_names(self) -> list[str]:
        return []

    @property
    def processed_file_names(self) -> list[str]:
        return [MANIFEST]

    def download(self) -> None:
        pass

    def process(self) -> None:
        if not self.sources:
            raise ValueError(f"{self.processed_dir} holds no processed data and no sources were given")
        build_shards(self.sources, self.processed_dir, self.task, validation=self.validation,
                     batch_size=self.batch_size, videos_per_shard=self.videos_per_shard)

    def len(self) -> int:
        return len(self.videos)

    def get(self, idx: int) -> HeteroData:
        return self.videos.collate([idx]).get_example(0)

    @property
    def checksum(self) -> str:
        """SHA-256 of the stored content (the same whichever engine wrote it)."""
        return self.manifest["checksum"]

    def _positions(self) -> np.ndarray:
        """Positions in the whole dataset of this view's videos (a subset such as ``dataset[idx]``, or all)."""
        return np.asarray(self.indices(), dtype=np.int64)

    @property
    def num_segments(self) -> int:
        """Segments over this view's videos."""
        if self._indices is None:
            return int(self.manifest["segments"])
        return int(self.videos.num_segments(self._positions()).sum())

    @property
    def video_uids(self) -> list[str]:
        """This view's video ids, in order."""
        return self.videos.video_uid.take(pa.array(self._positions())).to_pylist()

    @property
    def num_segment_features(self) -> int:
        """Width of the segments' features ``x``."""
        return self.task.features.num_features

    def get_idx_split(self) -> dict[str, torch.Tensor]:
        """Indices (into this view) of each split's videos, OGB style: ``{"train", "valid", "test"}``."""
        split = torch.from_numpy(self.videos.split[self._positions()].astype(np.int8))
        return {name: torch.nonzero(split == code).flatten() for code, name in enumerate(SPLIT_NAMES)}

    def loader(self, indices: Sequence[int] | torch.Tensor, *, batch_size: int = 32, shuffle: bool = False,
               generator: torch.Generator | None = None, num_workers: int = 0, replicas: int = 1, rank: int = 0):
        """Mini-batches of whole videos, built straight from the shards (see :meth:`ShardedVideos.loader
        <graphkit.loaders.batches.ShardedVideos.loader>`)."""
        positions = self._positions()[np.asarray(indices, dtype=np.int64)]  # indices into this view
        return self.videos.loader(positions, batch_size=batch_size, shuffle=shuffle, generator=generator,
                                  num_workers=num_workers, replicas=replicas, rank=rank)


def build_dataset(
    sources: Sequence[str],
    out: str | Path,
    *,
    task: NodeTask | None = None,
    on_disk: bool = False,
    validation: ValidationConfig | None = None,
    batch_size: int = 256,
    **kwargs: Any,
) -> Action100MDataset | Action100MOnDiskDataset:
    """Process sources into a dataset directory (in memory or on disk)."""
    cls = Action100MOnDiskDataset if on_disk else Action100MDataset
    return cls(str(out), source_list(sources, "sources"), task=task, validation=validation, batch_size=batch_size,
               log=False, **kwargs)
