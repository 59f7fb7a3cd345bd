"""Mini-batches of videos straight from shards: :class:`ShardedVideos` and its loader.

A batch is made in one go from the shards' columns, not collated graph by
graph: the chosen videos' segment and token rows are gathered (vectorized),
a :class:`~graphkit.tree.TreeBatch` is rebuilt from the parents and times,
the features from the token counts, and :func:`graphkit.pyg.to_hetero_batch`
makes the PyG :class:`~torch_geometric.data.Batch` that the models read,
the very layout the in-memory dataset gives (features equal bit for bit).

:class:`ShardBatchSampler` draws each batch from one shard (shards in a
shuffled order, videos shuffled within a shard), so a batch reads one
contiguous region of the disk, and :meth:`ShardedVideos.loader` runs the
batches through a :class:`torch.utils.data.DataLoader` with worker
processes that build the next batches while the model trains.

Examples:
    >>> import tempfile, pyarrow.parquet as pq
    >>> from graphkit.testing import example_rows
    >>> from graphkit.loaders.ondisk import build_shards
    >>> from graphkit.tasks import NodeTask
    >>> tmp = tempfile.mkdtemp()
    >>> pq.write_table(example_rows(5), tmp + "/five.parquet")
    >>> manifest = build_shards([tmp + "/five.parquet"], tmp + "/processed", NodeTask())
    >>> videos = ShardedVideos(tmp + "/processed", manifest)
    >>> batch = videos.collate([3, 1])
    >>> batch.num_graphs, batch["segment"].x.shape
    (2, torch.Size([6, 261]))
"""

from __future__ import annotations

import collections
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import torch
from torch.utils.data import DataLoader, Sampler

from graphkit.features import TokenCounts
from graphkit.labels import LabelVocabulary
from graphkit.loaders.shards import Shard
from graphkit.pyg import to_hetero_batch
from graphkit.tasks import NodeTask, segment_arrays
from graphkit.tree import TreeBatch

__all__ = ["ShardedVideos", "ShardBatchSampler"]


class ShardedVideos:
    """The videos of a sharded dataset, by position, and mini-batches of them.

    Attributes:
        open_shards (int): Shards kept memory-mapped at once (least recently
            used closed first). (default: :obj:`4`)

    Args:
        directory (str or Path): The processed directory.
        manifest (dict): Its manifest (:func:`graphkit.loaders.ondisk.read_manifest`).
    """

    open_shards: int = 4

    def __init__(self, directory: str | Path, manifest: dict[str, Any]) -> None:
        self.directory = Path(directory)
        self.task = NodeTask.from_dict(manifest["task"])
        self.vocabulary = LabelVocabulary.from_dict(manifest["vocabulary"])
        self.tiling = bool(manifest["tiling"])
        self.names = [info["name"] for info in manifest["shards"]]
        self._shards: collections.OrderedDict[int, Shard] = collections.OrderedDict()
        self._classes: dict[int, np.ndarray] = {}
        kept, splits, uids = [], [], []
        for index, info in enumerate(manifest["shards"]):
            shard = self.shard(index)
            keep = np.ones(shard.num_videos, dtype=bool)
            keep[manifest["excluded"].get(info["name"], [])] = False
            kept.append(np.flatnonzero(keep))
            splits.append(shard.split[keep])
            uids.append(shard.video_uid.filter(pa.array(keep)))
        self._local = np.concatenate(kept) if kept else np.zeros(0, np.int64)
        self._shard_of = np.repeat(np.arange(len(kept)), [k.size for k in kept])
        self.split = np.concatenate(splits) if splits else np.zeros(0, np.int8)
        #: ``[V]`` video ids, in dataset order.
        self.video_uid: pa.Array = pa.concat_arrays(uids) if uids else pa.array([], pa.string())

    def __len__(self) -> int:
        return int(self._local.size)

    def __getstate__(self) -> dict[str, Any]:
        # Memory maps do not pickle; a worker opens the shards it reads.
        state = dict(self.__dict__)
        state["_shards"] = collections.OrderedDict()
        return state

    def shard(self, index: int) -> Shard:
        """Shard ``index``, opened (memory-mapped) on first use.

        At most :attr:`open_shards` stay open: the pages of a mapped file
        count in the process's resident memory once read, so keeping every
        shard of a large dataset open would grow it by the dataset's size
        over an epoch. Opening one again costs about a millisecond.
        """
        if index in self._shards:
            self._shards.move_to_end(index)
        else:
            self._shards[index] = Shard(self.directory / self.names[index])
            while len(self._shards) > self.open_shards:
                self._shards.popitem(last=False)
        return self._shards[index]

    def num_segments(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """Segments of each video."""
        indices = np.asarray(indices, dtype=np.int64)
        counts = np.zeros(indices.size, dtype=np.int64)
        shards = self._shard_of[indices]
        for shard_id in np.unique(shards):
            chosen = shards == shard_id
            counts[chosen] = np.diff(self.shard(int(shard_id)).segment_ptr)[self._local[indices[chosen]]]
        return counts

    def shard_of(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """The shard holding each video."""
        return self._shard_of[np.asarray(indices, dtype=np.int64)]

    def _label_classes(self, index: int) -> np.ndarray:
        if index not in self._classes:
            labels = self.shard(index).labels.column("label")
            self._classes[index] = np.append(self.vocabulary.encode_labels(labels), -1)
        return self._classes[index]

    def collate(self, indices: Sequence[int] | np.ndarray) -> Any:
        """The PyG ``Batch`` of some videos, in the order given.

        Args:
            indices (Sequence[int]): Positions of videos in the dataset.

        Returns:
            torch_geometric.data.Batch: As :func:`graphkit.pyg.to_hetero_batch`
            makes it, with ``x``, ``y`` and the three masks on the segments.
        """
        given = np.asarray(indices).reshape(-1)
        if given.size and (given.dtype == np.bool_ or not np.issubdtype(given.dtype, np.integer)):
            raise TypeError(f"video indices must be integers, got dtype {given.dtype}")
        indices = given.astype(np.int64)
        if indices.size == 0:
            raise ValueError("a batch needs at least one video")
        if indices.min() < 0 or indices.max() >= len(self):
            raise IndexError(f"video index out of range for {len(self)} videos")
        shard_ids = self._shard_of[indices]
        # One gather per run of videos from the same shard keeps the order given.
        run_starts = np.flatnonzero(np.diff(shard_ids, prepend=-1))
        parts = []
        for begin, stop in zip(run_starts, [*run_starts[1:], indices.size]):
            shard_id = int(shard_ids[begin])
            shard = self.shard(shard_id)
            local = self._local[indices[begin:stop]]
            uid, split, segments, tokens = shard.gather(local)
            label = segments["label"].astype(np.int64)
            segments["y"] = self._label_classes(shard_id)[label]  # label -1 picks the appended -1
            segments["num_segments"] = np.diff(shard.segment_ptr)[local]
            parts.append((uid, split, segments, tokens))
        return self._batch(parts)

    def _batch(self, parts: list[tuple[pa.Array, np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]]) -> Any:
        def joined(group: int, name: str) -> np.ndarray:
            return np.concatenate([part[group][name] for part in parts])

        uid = pa.concat_arrays([part[0] for part in parts])
        split = np.concatenate([part[1] for part in parts])
        counts = joined(2, "num_segments").astype(np.int64)
        node_offsets = np.concatenate(([0], np.cumsum(counts)))
        num_nodes = int(node_offsets[-1])
        video_index = np.repeat(np.arange(counts.size), counts)
        parent = joined(2, "parent").astype(np.int64)
        parent = np.where(parent >= 0, parent + node_offsets[video_index], -1)
        trees = TreeBatch(
            video_uid=uid, node_offsets=node_offsets, node_id=pa.nulls(num_nodes, pa.string()), parent=parent,
            level=joined(2, "level").astype(np.int16), start=joined(2, "start"), end=joined(2, "end"),
            tiling=self.tiling,
        )
        token_counts, embeddings = None, None
        if self.task.features.embedded:
            embeddings = joined(2, "embedding")
        elif self.task.features.text_fields:
            token_counts = TokenCounts(joined(2, "num_tokens").astype(np.int64), joined(3, "bucket").astype(np.int64),
                                       joined(3, "count").astype(np.int64), self.task.features.dim)
        transcript = None
        if self.task.features.transcript:
            transcript = TokenCounts(joined(2, "num_transcript_tokens").astype(np.int64),
                                     joined(3, "transcript_bucket").astype(np.int64),
                                     joined(3, "transcript_count").astype(np.int64), self.task.features.transcript_dim)
        data = segment_arrays(self.task.features_from_counts(trees, token_counts, embeddings, transcript),
                              joined(2, "y"), split[video_index])
        return to_hetero_batch(trees, {name: value for name, value in data.items() if name != "split"})

    def loader(
        self,
        indices: Sequence[int] | np.ndarray | torch.Tensor,
        *,
        batch_size: int = 32,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
        num_workers: int = 0,
        replicas: int = 1,
        rank: int = 0,
    ) -> DataLoader:
        """A ``DataLoader`` of mini-batches of the given videos.

        Args:
            indices (Sequence[int]): Videos to go through.
            batch_size (int, optional): Videos per batch (the last of each
                shard may hold fewer). (default: :obj:`32`)
            shuffle (bool, optional): Shuffle shards and videos each epoch.
                (default: :obj:`False`)
            generator (torch.Generator, optional): Source of the shuffling.
            num_workers (int, optional): Worker processes building batches;
                ``0`` builds them in this process. (default: :obj:`0`)
            replicas (int, optional): Processes of a data-parallel run; see
                :class:`ShardBatchSampler`. (default: :obj:`1`)
            rank (int, optional): This process among them. (default: :obj:`0`)

        Returns:
            torch.utils.data.DataLoader: Yields PyG ``Batch`` objects.
        """
        sampler = ShardBatchSampler(self, indices, batch_size=batch_size, shuffle=shuffle, generator=generator,
                                    replicas=replicas, rank=rank)
        return DataLoader(_Batches(self), batch_sampler=sampler, collate_fn=_as_is, num_workers=num_workers,
                          persistent_workers=num_workers > 0)


class _Batches(torch.utils.data.Dataset):
    """The map-style dataset a ``DataLoader`` asks for whole batches (``__getitems__``)."""

    def __init__(self, videos: ShardedVideos) -> None:
        self.videos = videos

    def __len__(self) -> int:
        return len(self.videos)

    def __getitem__(self, index: int) -> Any:
        return self.videos.collate([index])

    def __getitems__(self, indices: list[int]) -> Any:
        return self.videos.collate(indices)


def _as_is(batch: Any) -> Any:
    return batch


class ShardBatchSampler(Sampler[list[int]]):
    """Batches of video positions, each from one shard.

    Args:
        videos (ShardedVideos): The dataset.
        indices (Sequence[int]): Videos to draw from.
        batch_size (int): Videos per batch.
        shuffle (bool, optional): Each epoch, shuffle the videos within each
            shard and the order of all batches. (default: :obj:`False`)
        generator (torch.Generator, optional): Source of the shuffling.
        replicas (int, optional): Processes of a data-parallel run. Each
            draws the same global batches (same generator seed) and keeps
            videos ``rank, rank + replicas, ...`` of each; a global batch of
            fewer than ``replicas`` videos (a shard's last) is left out, on
            every rank alike. (default: :obj:`1`)
        rank (int, optional): This process, in ``[0, replicas)``. (default: :obj:`0`)
    """

    def __init__(self, videos: ShardedVideos, indices: Sequence[int] | np.ndarray | torch.Tensor, *,
                 batch_size: int, shuffle: bool = False, generator: torch.Generator | None = None,
                 replicas: int = 1, rank: int = 0) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size} must be positive")
        if not 0 <= rank < replicas:
            raise ValueError(f"rank={rank} must lie in [0, replicas={replicas})")
        self.replicas, self.rank = replicas, rank
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        shards = videos.shard_of(self.indices)
        order = np.argsort(shards, kind="stable")
        self._groups = np.split(self.indices[order], np.flatnonzero(np.diff(shards[order])) + 1) if order.size else []

    def __len__(self) -> int:
        sizes = [min(self.batch_size, group.size - start) for group in self._groups
                 for start in range(0, group.size, self.batch_size)]
        return sum(size >= self.replicas for size in sizes)

    def _permutation(self, n: int) -> np.ndarray:
        return torch.randperm(n, generator=self.generator).numpy()

    def __iter__(self) -> Iterator[list[int]]:
        batches = []
        for group in self._groups:
            if self.shuffle:
                group = group[self._permutation(group.size)]
            batches.extend(group[i:i + self.batch_size].tolist() for i in range(0, group.size, self.batch_size))
        order = self._permutation(len(batches)) if self.shuffle else range(len(batches))
        for i in order:
            if len(batches[i]) >= self.replicas:
                yield batches[i][self.rank :: self.replicas]
