"""Building a sharded on-disk dataset: sources -> fragments -> shards -> manifest.

:func:`build_shards` cuts the sources into fragments
(:func:`~graphkit.loaders.fragments.plan_fragments`), turns each fragment
into shards (:func:`process_fragment`, which any process can run on its own),
and then, in one place, fits the label vocabulary from the shards' label
counts, drops videos whose ``video_uid`` an earlier fragment already had, and
writes ``manifest.json``. The manifest records what the dataset was built
from (:func:`dataset_key`: the task, the validation rules and each source
file's size and modification time), so a cache is reused only for the
inputs it was made of, and a content checksum: the SHA-256 of the shards'
checksums in order and of the videos dropped, the same whichever engine
wrote the shards.

The directory is written beside the old one and moved into place at the end,
so an interrupted build never leaves a half-written dataset that looks done.

Examples:
    >>> import tempfile, pyarrow.parquet as pq
    >>> from graphkit.testing import example_rows
    >>> tmp = tempfile.mkdtemp()
    >>> pq.write_table(example_rows(5), tmp + "/five.parquet")
    >>> manifest = build_shards([tmp + "/five.parquet"], tmp + "/processed", NodeTask())
    >>> manifest["videos"], manifest["segments"], len(manifest["checksum"])
    (5, 15, 64)
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphkit import __version__
from graphkit.errors import DatasetError, InvariantError
from graphkit.features import text_encoder_info
from graphkit.labels import LabelVocabulary
from graphkit.loaders.fragments import fragment_name, plan_fragments
from graphkit.loaders.parquet import ParquetFragment
from graphkit.loaders.shards import Shard, ShardInfo, ShardWriter, shard_tables
from graphkit.loaders.trees import iter_tree_batches
from graphkit.parallel import available_cpus
from graphkit.redact import redact
from graphkit.tasks import NodeTask
from graphkit.validation import ValidationConfig, ValidationReport, Violation

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST",
    "FragmentResult",
    "dataset_key",
    "key_matches",
    "process_fragment",
    "build_shards",
    "read_manifest",
    "run_fragments",
    "fragment_total_videos",
]

logger = logging.getLogger(__name__)

#: Version of the shard layout and manifest; another version is rebuilt, never read.
FORMAT_VERSION: int = 1

#: The manifest's file name in the processed directory.
MANIFEST: str = "manifest.json"


@dataclass
class FragmentResult:
    """What processing one fragment produced.

    Attributes:
        index (int): The fragment's position in the plan.
        shards (list[ShardInfo]): Shards written, in order.
        skipped (list[Violation]): Videos left out under ``errors="skip"``.
        tiling (bool): Whether every batch had its tiling checked.
        rows (int): Videos read, kept or skipped.
        seconds (float): Time taken.
    """

    index: int
    shards: list[ShardInfo] = field(default_factory=list)
    skipped: list[Violation] = field(default_factory=list)
    tiling: bool = True
    rows: int = 0
    seconds: float = 0.0

    @property
    def segments(self) -> int:
        """Segments written (before duplicates across fragments are dropped)."""
        return sum(info.segments for info in self.shards)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (to send between processes), the inverse of :meth:`from_dict`."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FragmentResult:
        """The result saved by :meth:`to_dict`.

        Examples:
            >>> FragmentResult.from_dict(FragmentResult(3, rows=7).to_dict())
            FragmentResult(index=3, shards=[], skipped=[], tiling=True, rows=7, seconds=0.0)
        """
        return cls(index=int(data["index"]), shards=[ShardInfo.from_dict(info) for info in data["shards"]],
                   skipped=[Violation(**violation) for violation in data["skipped"]], tiling=bool(data["tiling"]),
                   rows=int(data["rows"]), seconds=float(data["seconds"]))


def _validation_dict(validation: ValidationConfig) -> dict[str, Any]:
    return json.loads(json.dumps(dataclasses.asdict(validation), default=str, sort_keys=True))


def dataset_key(fragments: Sequence[Any], task: NodeTask, validation: ValidationConfig) -> dict[str, Any]:
    """What a dataset is built from: format, graphkit version, task, validation and each input file's identity.

    The task holds the label kind, the vocabulary options (``top_k``), the
    split and the feature options; embedded features add the encoder's name,
    version and width (``text_encoder``: a new model or tokenizer rebuilds
    the dataset). A file is identified by its path, size
    and modification time; a source that is not a local file (a URL, a
    table, a dataset) cannot be checked, and its key says so
    (``"unkeyed"``), so such a cache is never reused for sources given
    again. Names are redacted (:func:`graphkit.redact.redact`): a URL's
    credentials never reach the manifest.

    Returns:
        dict[str, Any]: JSON-ready; equal keys mean the same inputs.
    """
    inputs: dict[str, dict[str, Any]] = {}
    for fragment in fragments:  # files, not fragments: how they are cut is not what they hold
        path = fragment.path if isinstance(fragment, ParquetFragment) else fragment
        name = redact(fragment_name(path))
        if isinstance(path, (str, os.PathLike)) and os.path.isfile(path):
            stat = os.stat(path)
            inputs.setdefault(name, {"source": name, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns})
        else:
            inputs.setdefault(name, {"source": name, "unkeyed": True})
    key = {"format": FORMAT_VERSION, "graphkit": __version__, "task": task.to_dict(),
           "validation": _validation_dict(validation), "inputs": list(inputs.values())}
    if task.features.embedded:
        key["text_encoder"] = dataclasses.asdict(text_encoder_info(task.features.text_encoder))
    return key


def key_matches(stored: dict[str, Any], key: dict[str, Any]) -> bool:
    """Whether a stored dataset key vouches for ``key``: equal, and with every input checkable.

    Examples:
        >>> key = {"format": 1, "inputs": [{"source": "<Table>", "unkeyed": True}]}
        >>> key_matches(key, key)
        False
    """
    return stored == key and not any(entry.get("unkeyed") for entry in key["inputs"])


def process_fragment(
    index: int,
    fragment: Any,
    directory: str | Path,
    task: NodeTask,
    *,
    validation: ValidationConfig | None = None,
    batch_size: int = 256,
    videos_per_shard: int = 1024,
    threads: int = 1,
) -> FragmentResult:
    """Turn one fragment into shards named ``{index:05d}-{part:03d}`` under ``directory``.

    Runs anywhere (a worker process, a Ray task): it reads only its fragment
    and writes only its own shards. Memory is bounded by one batch of trees
    and one shard's compact columns. ``threads`` hash each batch's text
    (:class:`~graphkit.loaders.shards.ShardWriter`); the shards do not
    depend on their number.

    Raises:
        SourceError: If the fragment cannot be read (unless skipped).
        InvariantError: If a video breaks a rule under ``errors="raise"``.
    """
    started = time.perf_counter()
    validation = validation or ValidationConfig()
    report = ValidationReport()
    writer = ShardWriter(directory, task, videos_per_shard, threads=threads)
    result = FragmentResult(index)
    for trees in iter_tree_batches(fragment, node_fields=task.node_fields, metadata=task.reads_metadata,
                                   batch_size=batch_size, validation=validation, report=report):
        result.tiling &= trees.tiling or trees.num_videos == 0
        while trees.num_videos:
            # Shards end at exactly videos_per_shard kept videos, wherever the batches end.
            room = writer.room
            head, trees = (trees, trees.select(slice(0, 0))) if trees.num_videos <= room else (
                trees.select(slice(0, room)), trees.select(slice(room, trees.num_videos)))
            writer.add(head)
            if writer.full:
                result.shards.append(writer.flush(f"{index:05d}-{len(result.shards):03d}"))
    result.shards.extend(writer.close(f"{index:05d}-{len(result.shards):03d}"))
    result.skipped = list(report.skipped)
    result.rows = report.videos_kept + report.videos_skipped
    result.seconds = time.perf_counter() - started
    return result


def _combine(results: Sequence[FragmentResult], directory: Path, task: NodeTask, validation: ValidationConfig,
             key: dict[str, Any], fragments: Sequence[Any]) -> dict[str, Any]:
    """The manifest of the fragments' shards: vocabulary, duplicates dropped, counts, checksum."""
    ordered = sorted(results, key=lambda r: r.index)
    shards = [info for result in ordered for info in result.shards]
    # Messages name the input a shard was read from, not the shard.
    source_of = {info.name: fragment_name(fragments[result.index]) for result in ordered for info in result.shards}
    counts: collections.Counter[str] = collections.Counter()
    seen: dict[str, str] = {}
    excluded: dict[str, list[int]] = {}
    skipped = [violation for result in results for violation in result.skipped]
    excluded_segments = 0
    for info in shards:
        shard = Shard(directory / info.name)
        labels = shard.labels
        counts.update(dict(zip(labels.column("label").to_pylist(), labels.column("train_count").to_pylist())))
        uids = shard.videos.column("video_uid").to_pylist()
        for position, uid in enumerate(uids):
            if uid in seen:
                message = f"video_uid {uid!r} of {source_of[info.name]} was already read in {seen[uid]}"
                if validation.errors != "skip":
                    raise InvariantError(uid, None, "duplicate_video_uid", message)
                skipped.append(Violation(uid, None, "duplicate_video_uid", message))
                excluded.setdefault(info.name, []).append(position)
                excluded_segments += int(shard.segment_ptr[position + 1] - shard.segment_ptr[position])
            else:
                seen[uid] = source_of[info.name]
    if not shards:
        raise ValueError("no valid video in the sources")
    vocabulary = LabelVocabulary.from_counts(counts, kind=task.label, top_k=task.top_k)
    digest = hashlib.sha256(f"graphkit shards {FORMAT_VERSION}\n".encode())
    for info in shards:
        digest.update(f"{info.checksum}\n".encode())
    digest.update(json.dumps(excluded, sort_keys=True).encode())
    # The stored codes mean classes only through the task and its vocabulary.
    digest.update(json.dumps({"task": task.to_dict(), "vocabulary": vocabulary.to_dict()}, sort_keys=True).encode())
    excluded_videos = sum(len(v) for v in excluded.values())
    return {
        "format": FORMAT_VERSION,
        "key": key,
        "task": task.to_dict(),
        "vocabulary": vocabulary.to_dict(),
        "tiling": all(result.tiling for result in results),
        "shards": [info.to_dict() for info in shards],
        "excluded": excluded,
        "videos": sum(info.videos for info in shards) - excluded_videos,
        "segments": sum(info.segments for info in shards) - excluded_segments,
        "bytes": sum(info.bytes for info in shards),
        "checksum": digest.hexdigest(),
        "skipped": [{"video_uid": v.video_uid, "node_id": v.node_id, "rule": v.rule, "message": v.message,
                     "source": v.source} for v in skipped],
    }


def build_shards(
    sources: Sequence[Any],
    directory: str | Path,
    task: NodeTask,
    *,
    validation: ValidationConfig | None = None,
    batch_size: int = 256,
    videos_per_shard: int = 1024,
    run: Callable[..., list[FragmentResult]] | None = None,
    on_plan: Callable[[int | None], None] | None = None,
    on_fragment: Callable[[FragmentResult], None] | None = None,
) -> dict[str, Any]:
    """Process sources into a sharded dataset directory and return its manifest.

    Args:
        sources (Source or Sequence): What :func:`graphkit.loaders.sources.iter_record_batches`
            accepts: one source or a list (a single path string is one source).
        directory (str or Path): The processed directory to (re)write.
        task (NodeTask): Features, labels and splits.
        validation (ValidationConfig, optional): Invariant checking. (default: strict)
        batch_size (int, optional): Videos per tree batch. (default: :obj:`256`)
        videos_per_shard (int, optional): Videos per shard and, for parquet,
            per fragment. (default: :obj:`1024`)
        run (callable, optional): ``run(fragments, staging, task, validation,
            batch_size, videos_per_shard, on_fragment)`` processes all
            fragments and returns their results (an engine, e.g. Ray); by
            default they run one after another in this process.
        on_plan (callable, optional): Called once with the number of videos
            the sources hold (:obj:`None` when unknown before reading).
        on_fragment (callable, optional): Called with each fragment's result
            as it finishes (e.g. to advance a progress bar).

    Returns:
        dict[str, Any]: The manifest (also written to ``directory/manifest.json``).
    """
    validation = validation or ValidationConfig()
    directory = Path(directory)
    fragments = plan_fragments(sources, videos_per_fragment=videos_per_shard)
    key = dataset_key(fragments, task, validation)
    if on_plan is not None:
        on_plan(fragment_total_videos(fragments))
    if directory.exists() and not directory.is_dir():
        raise NotADirectoryError(f"{directory} is a file, not a dataset directory")
    if directory.parent.exists() and not directory.parent.is_dir():
        raise NotADirectoryError(f"{directory.parent} is a file, not a directory")
    _remove_stale_builds(directory)
    staging = directory.with_name(f"{directory.name}.building-{os.getpid()}")
    retired = directory.with_name(f"{directory.name}.retired-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        runner = run or run_fragments
        results = runner(fragments, staging, task, validation, batch_size, videos_per_shard, on_fragment)
        manifest = _combine(results, staging, task, validation, key, fragments)
        (staging / MANIFEST).write_text(redact(json.dumps(manifest)), encoding="utf-8")
        # Two renames: at every moment the directory is the old dataset, or the new one, or absent.
        if directory.exists():
            directory.rename(retired)
        staging.rename(directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(retired, ignore_errors=True)
    logger.info("wrote %d videos, %d segments in %d shards (%d bytes) to %s", manifest["videos"],
                manifest["segments"], len(manifest["shards"]), manifest["bytes"], directory)
    return manifest


def _remove_stale_builds(directory: Path) -> None:
    """Delete what builds of ``directory`` killed outright (``SIGKILL``) left beside it."""
    if not directory.parent.is_dir():
        return
    for path in directory.parent.glob(f"{directory.name}.*-*"):
        kind, _, pid = path.name[len(directory.name) + 1:].partition("-")
        if kind in ("building", "retired") and pid.isdigit() and not _process_alive(int(pid)):
            logger.info("removing %s, left by an interrupted build", path)
            shutil.rmtree(path, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_fragments(fragments: Sequence[Any], staging: Path, task: NodeTask, validation: ValidationConfig,
                  batch_size: int, videos_per_shard: int,
                  on_fragment: Callable[[FragmentResult], None] | None) -> list[FragmentResult]:
    """The default engine of :func:`build_shards`: the fragments one after another in this process.

    Each batch's text is hashed on every CPU this process may use
    (:func:`graphkit.parallel.available_cpus`); the shards are the same bytes
    whatever the number of threads.
    """
    results = []
    threads = available_cpus()
    for index, fragment in enumerate(fragments):
        result = process_fragment(index, fragment, staging, task, validation=validation, batch_size=batch_size,
                                  videos_per_shard=videos_per_shard, threads=threads)
        results.append(result)
        if on_fragment is not None:
            on_fragment(result)
    return results


_MANIFEST_KEYS = ("format", "key", "task", "vocabulary", "tiling", "shards", "excluded", "videos", "segments",
                  "bytes", "checksum", "skipped")


def read_manifest(directory: str | Path) -> dict[str, Any] | None:
    """The manifest of a processed directory, or :obj:`None` if there is none (or of another format).

    Raises:
        DatasetError: If the manifest or a shard it lists is unreadable,
            incomplete or of the wrong size (named in the message).
    """
    path = Path(directory) / MANIFEST
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DatasetError(f"{path} is unreadable ({err}); run convert again") from err
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        return None if isinstance(manifest, dict) else _corrupt(path, "not a JSON object")
    missing = [key for key in _MANIFEST_KEYS if key not in manifest]
    if missing or not isinstance(manifest["shards"], list):
        _corrupt(path, f"lacks {missing or ['a list of shards']}")
    for entry in manifest["shards"]:
        if not isinstance(entry, dict) or not {"name", "bytes"} <= set(entry):
            _corrupt(path, f"lists a shard it does not describe: {entry!r}")
        shard = Path(directory) / str(entry["name"])
        tables = shard_tables(NodeTask.from_dict(manifest["task"]))
        files = [shard / f"{table}.arrow" for table in tables]
        absent = [str(f) for f in files if not f.is_file()]
        if absent:
            raise DatasetError(f"{absent[0]} is missing; run convert again")
        size = sum(f.stat().st_size for f in files)
        if size != entry["bytes"]:
            raise DatasetError(f"{shard} holds {size} bytes, not the {entry['bytes']} written; run convert again")
    return manifest


def _corrupt(path: Path, why: str) -> Any:
    raise DatasetError(f"{path} is corrupt ({why}); run convert again")


def fragment_total_videos(fragments: Sequence[Any]) -> int | None:
    """Videos the fragments hold, when every one is a parquet fragment (else :obj:`None`)."""
    if all(isinstance(f, ParquetFragment) for f in fragments):
        return sum(f.num_rows for f in fragments)
    return None
