"""Streaming validated tree batches from any source.

:func:`iter_tree_batches` joins the readers of :mod:`graphkit.loaders.sources` to
:meth:`graphkit.tree.TreeBatch.from_arrow`: each Arrow record batch read from
the sources (files, directories, globs, URLs, JSON, HF datasets) becomes a
validated :class:`~graphkit.tree.TreeBatch`, so memory stays bounded by one
batch. Under ``errors="skip"`` exactly the bad videos are left out, each
reported by name in a :class:`~graphkit.validation.ValidationReport`: the
rows a reader cannot read (named by source and row, ``rows.jsonl:3``), the
videos that break an invariant, a ``video_uid`` seen in an earlier batch
(``duplicate_video_uid``), and the files that cannot be read at all
(``unreadable_source``); every other video of the batch and the file is kept.

Examples:
    >>> import tempfile, pyarrow.parquet as pq
    >>> from graphkit.testing import example_rows
    >>> path = tempfile.mkdtemp() + "/three.parquet"
    >>> pq.write_table(example_rows(3), path)
    >>> [t.num_videos for t in iter_tree_batches(path, batch_size=2)]
    [2, 1]
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from graphkit.loaders.config import ReaderConfig
from graphkit.loaders.sources import iter_record_batches
from graphkit.schema import STRUCTURE_FIELDS
from graphkit.tree import TreeBatch
from graphkit.validation import ValidationConfig, ValidationReport, Violation

__all__ = ["iter_tree_batches", "read_trees"]

logger = logging.getLogger(__name__)


def iter_tree_batches(
    source: Any,
    *,
    node_fields: Sequence[str] | None = STRUCTURE_FIELDS,
    metadata: bool = False,
    batch_size: int = 256,
    validation: ValidationConfig | None = None,
    report: ValidationReport | None = None,
    prefetch: int = 2,
) -> Iterator[TreeBatch]:
    """Validated tree batches from a source, one record batch at a time.

    Args:
        source: What :func:`graphkit.loaders.sources.iter_record_batches` accepts.
        node_fields (Sequence[str], optional): Node fields to decode;
            :obj:`None` reads all. (default: the structural fields)
        metadata (bool, optional): Also read video metadata. (default: :obj:`False`)
        batch_size (int, optional): Videos per batch; 256 measured fastest
            (cache-sized batches). (default: :obj:`256`)
        validation (ValidationConfig, optional): Invariant checking; strict and
            raising by default.
        report (ValidationReport, optional): Filled with kept and skipped
            videos (and unreadable files, when the reader skips them).
        prefetch (int, optional): Batches read and validated ahead by a
            background thread while the caller works on the current one
            (Arrow and numpy release the GIL, so reading overlaps the
            caller's work); ``0`` reads in the caller's thread.
            (default: :obj:`2`)

    Yields:
        TreeBatch: The valid videos of each record batch (possibly empty).

    Raises:
        SourceError: If a source cannot be read (unless the reader skips it).
        InvariantError: If a video breaks a rule under ``errors="raise"``.
    """
    validation = validation or ValidationConfig()
    report = report if report is not None else ValidationReport()
    batches = _validated_batches(source, node_fields, metadata, batch_size, validation, report, prefetch)
    if prefetch <= 0:
        yield from batches
    else:
        yield from _read_ahead(batches, prefetch)


def _validated_batches(
    source: Any,
    node_fields: Sequence[str] | None,
    metadata: bool,
    batch_size: int,
    validation: ValidationConfig,
    report: ValidationReport,
    prefetch: int,
) -> Iterator[TreeBatch]:
    fields = None if node_fields is None else tuple(dict.fromkeys((*STRUCTURE_FIELDS, *node_fields)))
    reader = ReaderConfig(
        batch_size=batch_size,
        node_fields=fields,
        metadata=metadata,
        on_bad_files="skip" if validation.errors == "skip" else "error",
        on_bad_rows="skip" if validation.errors == "skip" else "error",
    )
    seen: set[bytes] = set()
    records = iter_record_batches(source, reader)
    rejected = 0  # rows of records.rejected already in the report
    # Decoding parquet (Arrow threads) and checking trees (numpy) each run ahead
    # in their own thread, so both overlap the caller's work.
    for record_batch in _read_ahead(records, prefetch) if prefetch > 0 else records:
        record_batch = _drop_seen(record_batch, seen, report, validation)
        trees = TreeBatch.from_arrow(record_batch, config=validation)
        rejected = _report_rejected(records, rejected, report)
        for violation in trees.violations:
            report.add(violation)
        seen.update(trees.video_uid.view(pa.binary()).to_pylist())
        report.videos_kept += trees.num_videos
        report.nodes_kept += trees.num_nodes
        yield trees
    _report_rejected(records, rejected, report)
    for path, reason in getattr(records, "skipped", []):
        report.add(Violation(None, None, "unreadable_source", f"{path}: {reason}"))


_DONE = object()


def _read_ahead(items: Iterator[Any], depth: int) -> Iterator[Any]:
    """Run ``items`` in a background thread, at most ``depth`` items ahead.

    An exception in the thread is raised in the caller at the same point of
    the sequence; a caller that stops early stops the thread.
    """
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[Any, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                slots.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((_DONE, None))
        except BaseException as err:  # handed to the caller, not lost
            put((_DONE, err))

    worker = threading.Thread(target=produce, name="graphkit-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item, err = slots.get()
            if item is _DONE:
                if err is not None:
                    raise err
                return
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


def _report_rejected(records: Any, done: int, report: ValidationReport) -> int:
    """Add the rows the reader left out since the last call; returns how many are reported now."""
    rejected = getattr(records, "rejected", [])
    for violation in rejected[done:]:
        report.add(violation)
    return max(done, len(rejected))


def _drop_seen(
    batch: pa.RecordBatch, seen: set[bytes], report: ValidationReport, validation: ValidationConfig
) -> pa.RecordBatch:
    """Remove videos whose uid an earlier batch already had (or raise).

    Uids are compared as bytes: this runs before validation, so a uid may
    still be invalid UTF-8 (the validator reports it).
    """
    if not seen:
        return batch
    uids = batch.column("video_uid").view(pa.binary()).to_pylist()
    again = np.array([uid in seen for uid in uids], dtype=bool)
    if not again.any():
        return batch
    message = "video_uid already read in an earlier batch"
    repeated = [uid.decode("utf-8", "backslashreplace") for uid in np.asarray(uids, dtype=object)[again]]
    if validation.errors == "raise":
        raise Violation(repeated[0], None, "duplicate_video_uid", message).to_error()
    for uid in repeated:
        report.add(Violation(uid, None, "duplicate_video_uid", message))
    return batch.filter(pa.array(~again))


def read_trees(source: Any, **kwargs: Any) -> TreeBatch:
    """All videos of a source as one :class:`TreeBatch` (small data only).

    Args:
        source: What :func:`iter_tree_batches` accepts.
        **kwargs: Passed to :func:`iter_tree_batches`.

    Raises:
        ValueError: If the source holds no video.
    """
    batches = [b for b in iter_tree_batches(source, **kwargs) if b.num_videos]
    if not batches:
        raise ValueError(f"no valid video in {source!r}")
    return TreeBatch.concat(batches)
