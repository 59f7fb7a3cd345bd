"""The on-disk shard: many videos' graphs in a few bytes per segment.

A shard is a directory of four Arrow IPC files, each one table, read back
memory-mapped (zero-copy) so a batch of videos is a few vectorized gathers:

* ``videos.arrow``: per video ``video_uid``, ``split`` (int8) and its
  ``num_segments`` and ``num_tokens``;
* ``segments.arrow``: per segment, in each video's node order, ``parent``
  (position within its video, ``-1`` for the root), ``level``, ``start``,
  ``end``, ``label`` (a code into ``labels.arrow``, ``-1`` for none) and
  ``num_tokens``;
* ``tokens.arrow``: per nonzero hash bucket of a segment, ``bucket`` and its
  signed token ``count`` (:class:`~graphkit.features.TokenCounts`);
* ``labels.arrow``: the shard's distinct ``label`` strings and how many
  training segments carry each (``train_count``);
* ``embeddings.arrow``, only when the task's text block is a sentence
  embedding (:attr:`FeatureConfig.embedded
  <graphkit.features.FeatureConfig.embedded>`): per segment its
  ``embedding``, a fixed-size list of ``float16`` (then ``tokens.arrow`` is
  empty). The vectors come from the shared on-disk embedding cache
  (:func:`graphkit.loaders.embedding_cache.cached_text_encoder`), so each
  distinct text is embedded once across runs and datasets.
* ``transcript.arrow``, only when the features have a transcript block
  (:attr:`FeatureConfig.transcript <graphkit.features.FeatureConfig.transcript>`):
  per nonzero hash bucket of a leaf's speech, ``bucket`` and ``count``
  (:func:`~graphkit.features.transcript_token_counts`, before pooling);
  the videos and segments then carry ``num_transcript_tokens`` too.

Integer columns take the narrowest dtype that holds the shard's values. No
derived array is stored: the edges, heights and child orders come back from
the parents and times (:class:`~graphkit.tree.TreeBatch`), the features from
the token counts (the transcript's pooled up the tree again), bit for bit (:meth:`NodeTask.features_from_counts
<graphkit.tasks.NodeTask.features_from_counts>`), and the class of a label
from the vocabulary fitted once all shards are written. Each shard records
the SHA-256 of its files' bytes, which are the same whichever process wrote
them.

Examples:
    >>> import tempfile
    >>> from graphkit.testing import example_rows
    >>> from graphkit.tasks import NodeTask
    >>> from graphkit.tree import TreeBatch
    >>> task, trees = NodeTask(), TreeBatch.from_arrow(example_rows(3))
    >>> writer = ShardWriter(tempfile.mkdtemp(), task)
    >>> writer.add(trees)
    >>> info = writer.close("shard-0")[0]
    >>> info.videos, info.segments
    (3, 9)
    >>> _, _, segments, _ = Shard(writer.directory / "shard-0").gather([0])
    >>> segments["parent"].tolist()
    [-1, 0, 0]
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit.arrays import concat_ranges
from graphkit.features import TextEncoder, TokenCounts
from graphkit.loaders.embedding_cache import cached_text_encoder
from graphkit.tasks import NodeTask
from graphkit.tree import TreeBatch

__all__ = ["SHARD_TABLES", "EMBEDDINGS", "TRANSCRIPT", "shard_tables", "ShardInfo", "ShardWriter", "Shard", "narrowest_int"]

#: The tables of a shard, in checksum order.
SHARD_TABLES: tuple[str, ...] = ("videos", "segments", "tokens", "labels")

#: The table of segment embeddings, after :data:`SHARD_TABLES` in checksum order, present only for embedded features.
EMBEDDINGS: str = "embeddings"

#: The table of the leaves' transcript token counts, last in checksum order, present only with a transcript block.
TRANSCRIPT: str = "transcript"


def shard_tables(task: NodeTask) -> tuple[str, ...]:
    """The tables a shard of ``task`` holds, in checksum order.

    Examples:
        >>> shard_tables(NodeTask())
        ('videos', 'segments', 'tokens', 'labels')
    """
    return (*SHARD_TABLES, *([EMBEDDINGS] if task.features.embedded else []),
            *([TRANSCRIPT] if task.features.transcript else []))

_INT_TYPES = (np.int8, np.int16, np.int32, np.int64)
_UINT_TYPES = (np.uint8, np.uint16, np.uint32, np.uint64)


def narrowest_int(values: np.ndarray) -> np.ndarray:
    """``values`` in the narrowest integer dtype that holds them (unsigned if none is negative).

    Examples:
        >>> narrowest_int(np.array([0, 300])).dtype, narrowest_int(np.array([-1, 5])).dtype
        (dtype('uint16'), dtype('int8'))
    """
    if values.size == 0:
        return values.astype(np.uint8)
    low, high = int(values.min()), int(values.max())
    for dtype in _UINT_TYPES if low >= 0 else _INT_TYPES:
        info = np.iinfo(dtype)
        if info.min <= low and high <= info.max:
            return values.astype(dtype, copy=False)
    raise OverflowError(f"integers from {low} to {high} fit no 64-bit dtype")  # pragma: no cover


@dataclass(frozen=True)
class ShardInfo:
    """What a written shard holds.

    Attributes:
        name (str): Its directory name.
        videos (int): Videos.
        segments (int): Segments.
        tokens (int): Stored (segment, bucket) entries.
        bytes (int): Size of its files.
        checksum (str): SHA-256 of its files' bytes, in :data:`SHARD_TABLES` order.
    """

    name: str
    videos: int
    segments: int
    tokens: int
    bytes: int
    checksum: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, the inverse of :meth:`from_dict`."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ShardInfo:
        """The shard info saved by :meth:`to_dict`."""
        return cls(**data)


class ShardWriter:
    """Turns tree batches into shards of about ``videos_per_shard`` videos each.

    Add batches with :meth:`add`; a shard is written whenever enough videos
    are pending (see :meth:`flush`), and :meth:`close` writes the rest. A
    pending shard holds only its compact columns, never the batches' text.

    Args:
        directory (str or Path): Where shard directories are created.
        task (NodeTask): Features (the text fields hashed) and labels.
        videos_per_shard (int, optional): Videos that make a shard full.
            (default: :obj:`1024`)
        encoder (TextEncoder, optional): What embeds the text when the
            task's features are embedded. (default: this process's
            :func:`~graphkit.loaders.embedding_cache.cached_text_encoder`)
        threads (int, optional): Threads hashing each batch's text; the
            shards are the same bytes whatever their number. (default: :obj:`1`)
    """

    def __init__(self, directory: str | Path, task: NodeTask, videos_per_shard: int = 1024,
                 encoder: TextEncoder | None = None, threads: int = 1) -> None:
        self.directory = Path(directory)
        self.task = task
        self.videos_per_shard = videos_per_shard
        self.threads = threads
        if encoder is None and task.features.embedded:
            encoder = cached_text_encoder(task.features.text_encoder)
        self.encoder = encoder
        self._pending: list[dict[str, np.ndarray]] = []
        self._uids: list[pa.Array] = []
        self._label_codes: dict[str, int] = {}
        self._train_counts = np.zeros(0, dtype=np.int64)
        self._videos = 0

    def add(self, trees: TreeBatch) -> None:
        """Queue the videos of one batch (an empty batch is ignored)."""
        if trees.num_videos == 0:
            return
        tokens = self.task.token_counts(trees, threads=self.threads)
        embeddings = self.task.text_embeddings(trees, self.encoder)
        transcript = self.task.transcript_counts(trees)
        labels = self.task.labels(trees)
        codes = self._label_codes_of(labels)
        split = self.task.split(trees)
        train = split[trees.video_index] == 0
        counts = np.bincount(codes[train & (codes >= 0)], minlength=len(self._label_codes))
        counts[: self._train_counts.size] += self._train_counts
        self._train_counts = counts
        local_parent = np.where(trees.parent >= 0, trees.parent - trees.node_offsets[trees.video_index], -1)
        num_tokens = np.zeros(trees.num_nodes, np.int64) if tokens is None else tokens.num_tokens
        token_ptr = np.concatenate(([0], np.cumsum(num_tokens)))
        self._pending.append({
            "split": split.astype(np.int8),
            "num_segments": narrowest_int(trees.nodes_per_video.astype(np.int64)),
            "video_tokens": narrowest_int(np.diff(token_ptr[trees.node_offsets])),
            "parent": narrowest_int(local_parent),
            "level": narrowest_int(trees.level.astype(np.int64)),
            "start": np.asarray(trees.start, dtype=np.float32),
            "end": np.asarray(trees.end, dtype=np.float32),
            "label": narrowest_int(codes),
            "num_tokens": narrowest_int(num_tokens),
            "bucket": narrowest_int(np.zeros(0, np.int64) if tokens is None else tokens.bucket),
            "count": narrowest_int(np.zeros(0, np.int64) if tokens is None else tokens.count),
        } | ({} if embeddings is None else {"embedding": embeddings})
          | ({} if transcript is None else _transcript_columns(trees, transcript)))
        self._uids.append(trees.video_uid)
        self._videos += trees.num_videos

    @property
    def room(self) -> int:
        """Videos that still fit in the pending shard."""
        return max(0, self.videos_per_shard - self._videos)

    @property
    def full(self) -> bool:
        """Whether the pending videos make a shard."""
        return self._videos >= self.videos_per_shard

    def _label_codes_of(self, labels: pa.Array) -> np.ndarray:
        encoded = pc.dictionary_encode(labels)
        names = encoded.dictionary.to_pylist()
        lookup = np.array([self._label_codes.setdefault(name, len(self._label_codes)) for name in names] or [0],
                          dtype=np.int64)
        indices = encoded.indices.to_numpy(zero_copy_only=False)
        valid = pc.is_valid(labels).to_numpy(zero_copy_only=False)
        return np.where(valid, lookup[np.where(valid, indices, 0).astype(np.int64)], -1)

    def flush(self, name: str) -> ShardInfo | None:
        """Write the pending videos as shard ``name``; :obj:`None` if none are pending."""
        if not self._pending:
            return None
        columns = {key: np.concatenate([part[key] for part in self._pending]) for key in self._pending[0]}
        tables = {
            "videos": pa.table({
                "video_uid": pa.concat_arrays([uid.cast(pa.string()) for uid in self._uids]),
                "split": columns["split"],
                "num_segments": columns["num_segments"],
                "num_tokens": columns["video_tokens"],
            }),
            "segments": pa.table({name: columns[name] for name in
                                  ("parent", "level", "start", "end", "label", "num_tokens")}),
            "tokens": pa.table({"bucket": columns["bucket"], "count": columns["count"]}),
            "labels": pa.table({
                "label": pa.array(list(self._label_codes), type=pa.string()),
                "train_count": pa.array(self._train_counts.astype(np.int64)),
            }),
        }
        if "embedding" in columns:
            vectors = columns["embedding"]
            tables[EMBEDDINGS] = pa.table({"embedding": pa.FixedSizeListArray.from_arrays(
                pa.array(vectors.reshape(-1), pa.float16()), vectors.shape[1])})
        if "transcript_bucket" in columns:
            tables["videos"] = tables["videos"].append_column(
                "num_transcript_tokens", pa.array(narrowest_int(columns["video_transcript_tokens"])))
            tables["segments"] = tables["segments"].append_column(
                "num_transcript_tokens", pa.array(narrowest_int(columns["num_transcript_tokens"])))
            tables[TRANSCRIPT] = pa.table({"bucket": narrowest_int(columns["transcript_bucket"]),
                                           "count": narrowest_int(columns["transcript_count"])})
        info = _write_shard(self.directory / name, tables)
        self._pending, self._uids, self._label_codes, self._videos = [], [], {}, 0
        self._train_counts = np.zeros(0, dtype=np.int64)
        return info

    def close(self, name: str) -> list[ShardInfo]:
        """Write whatever is pending as shard ``name``; the infos written (zero or one)."""
        info = self.flush(name)
        return [] if info is None else [info]


def _write_shard(path: Path, tables: dict[str, pa.Table]) -> ShardInfo:
    path.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    for name in (*SHARD_TABLES, EMBEDDINGS, TRANSCRIPT):
        if name not in tables:
            continue
        sink = pa.BufferOutputStream()
        with pa.ipc.new_file(sink, tables[name].schema) as writer:
            writer.write_table(tables[name])
        data = sink.getvalue()
        digest.update(hashlib.sha256(data).digest())
        with open(path / f"{name}.arrow", "wb") as handle:
            handle.write(data)
        size += data.size
    return ShardInfo(name=path.name, videos=tables["videos"].num_rows, segments=tables["segments"].num_rows,
                     tokens=tables["tokens"].num_rows, bytes=size, checksum=digest.hexdigest())


class Shard:
    """A written shard, memory-mapped: videos by position, gathered in batches.

    Args:
        path (str or Path): The shard's directory.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        # The maps stay open as long as the shard: its columns are views of them.
        names = [*SHARD_TABLES, *(name for name in (EMBEDDINGS, TRANSCRIPT) if (self.path / f"{name}.arrow").is_file())]
        self._maps = {name: pa.memory_map(str(self.path / f"{name}.arrow"), "r") for name in names}
        tables = {name: pa.ipc.open_file(source).read_all() for name, source in self._maps.items()}
        self.videos, self.labels = tables["videos"], tables["labels"]
        self._segments = {name: _numpy(tables["segments"], name) for name in tables["segments"].column_names}
        if EMBEDDINGS in tables:  # [segments, dim] float16, a view of the map
            column = tables[EMBEDDINGS].column("embedding").combine_chunks()
            self._segments["embedding"] = column.values.to_numpy(zero_copy_only=False).reshape(
                len(column), column.type.list_size)
        self._tokens = {name: _numpy(tables["tokens"], name) for name in tables["tokens"].column_names}
        self.split = _numpy(self.videos, "split")
        self.video_uid = self.videos.column("video_uid").combine_chunks()
        self.segment_ptr = np.concatenate(([0], np.cumsum(_numpy(self.videos, "num_segments"), dtype=np.int64)))
        self.token_ptr = np.concatenate(([0], np.cumsum(_numpy(self.videos, "num_tokens"), dtype=np.int64)))
        self._transcript: dict[str, np.ndarray] = {}
        if TRANSCRIPT in tables:
            self._transcript = {f"transcript_{name}": _numpy(tables[TRANSCRIPT], name)
                                for name in tables[TRANSCRIPT].column_names}
            self.transcript_ptr = np.concatenate(
                ([0], np.cumsum(_numpy(self.videos, "num_transcript_tokens"), dtype=np.int64)))

    @property
    def num_videos(self) -> int:
        """Videos in the shard."""
        return self.videos.num_rows

    def gather(self, videos: np.ndarray) -> tuple[pa.Array, np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
        """The stored columns of some videos, in the order given.

        Args:
            videos (numpy.ndarray): Positions of videos in the shard.

        Returns:
            tuple: ``(video_uid, split, segments, tokens)``: the videos' ids
            and split codes, and their segment and token columns
            concatenated in that order (integer columns as stored; a
            shard with embeddings adds the ``[n, dim]`` float16
            ``"embedding"`` to the segment columns, one with a transcript
            ``"transcript_bucket"`` and ``"transcript_count"`` to the token
            columns).
        """
        videos = np.asarray(videos, dtype=np.int64)
        rows = _runs(self.segment_ptr, videos)
        entries = _runs(self.token_ptr, videos)
        segments = {name: column[rows] for name, column in self._segments.items()}
        tokens = {name: column[entries] for name, column in self._tokens.items()}
        if self._transcript:
            spoken = _runs(self.transcript_ptr, videos)
            tokens |= {name: column[spoken] for name, column in self._transcript.items()}
        return self.video_uid.take(pa.array(videos)), self.split[videos], segments, tokens


def _transcript_columns(trees: TreeBatch, counts: TokenCounts) -> dict[str, np.ndarray]:
    """The pending columns of a batch's transcript counts (per video, per segment, per entry)."""
    ptr = counts.ptr
    return {"video_transcript_tokens": np.diff(ptr[trees.node_offsets]), "num_transcript_tokens": counts.num_tokens,
            "transcript_bucket": counts.bucket, "transcript_count": counts.count}


def _numpy(table: pa.Table, name: str) -> np.ndarray:
    return table.column(name).combine_chunks().to_numpy(zero_copy_only=False)


def _runs(ptr: np.ndarray, videos: np.ndarray) -> np.ndarray:
    """The rows ``ptr[v]:ptr[v + 1]`` of each video, concatenated in the order given."""
    return concat_ranges(ptr[videos], ptr[videos + 1] - ptr[videos])
