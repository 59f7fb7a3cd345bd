"""Cutting sources into independent pieces of work: :func:`plan_fragments`.

A *fragment* is a source that can be processed on its own, in any process:
a run of consecutive row groups of a local parquet file
(:class:`~graphkit.loaders.parquet.ParquetFragment`) holding about
``videos_per_fragment`` videos, or, for every other kind of source (JSON
files, remote files, datasets, tables), the whole source. Fragments cover
their sources exactly, in reading order, so processing them one after the
other reads what reading the sources reads, and the plan depends only on the
files' metadata: a single process and a cluster cut the same pieces.

Examples:
    >>> import tempfile
    >>> from graphkit.loaders.synth import write_parquet
    >>> path = tempfile.mkdtemp() + "/v.parquet"
    >>> _ = write_parquet(path, 25, videos_per_row_group=10)
    >>> [(f.row_groups, f.num_rows) for f in plan_fragments([path], videos_per_fragment=15)]
    [((0, 1), 20), ((2,), 5)]
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from graphkit.arrays import check_positive_int
from graphkit.loaders.parquet import ParquetFragment
from graphkit.loaders.sources import file_format, resolve_files, source_list

__all__ = ["plan_fragments", "fragment_name"]


def fragment_name(fragment: Any) -> str:
    """How messages name a fragment (a path, a row-group range, or a description).

    Examples:
        >>> fragment_name("videos.json")
        'videos.json'
    """
    if isinstance(fragment, ParquetFragment):
        return fragment.name
    if isinstance(fragment, (str, os.PathLike)):
        return os.fspath(fragment)
    return f"<{type(fragment).__name__}>"


def plan_fragments(
    sources: Sequence[Any],
    *,
    videos_per_fragment: int = 1024,
    storage_options: Mapping[str, Any] | None = None,
) -> list[Any]:
    """Cut sources into fragments of about ``videos_per_fragment`` videos each.

    Args:
        sources (Source or Sequence): What :func:`graphkit.loaders.sources.iter_record_batches`
            accepts: one source or a list (see :func:`~graphkit.loaders.sources.source_list`).
        videos_per_fragment (int, optional): Row groups of a parquet file are
            joined until they hold at least this many videos (a larger row
            group is a fragment by itself). (default: :obj:`1024`)
        storage_options (Mapping, optional): Passed to :mod:`fsspec` for URLs.

    Returns:
        list: Fragments in reading order; each is itself a source.

    Raises:
        SourceError: If a path or glob matches nothing.
        TypeError: If ``sources`` is neither a source nor a list of them.
    """
    check_positive_int(videos_per_fragment, "videos_per_fragment")
    fragments: list[Any] = []
    seen: set[str] = set()
    for source in source_list(sources, "sources"):
        if not isinstance(source, (str, os.PathLike)):
            fragments.append(source)
            continue
        text = os.fspath(source)
        for path in resolve_files(text, storage_options=storage_options):
            if path in seen:
                continue  # the stream reads a file reached twice once, and so does the plan
            seen.add(path)
            fragments.extend(_parquet_fragments(path, videos_per_fragment))
    return fragments


def _parquet_fragments(path: str, videos_per_fragment: int) -> list[Any]:
    """The fragments of one file: row-group runs if it is a local parquet file, else the file."""
    local = path[len("file://"):] if path.startswith("file://") else path
    if "://" in local or file_format(local) not in (None, "parquet") or not os.path.isfile(local):
        return [path]  # remote, JSON or not a file: read whole by its reader
    try:
        metadata = pq.read_metadata(local)
    except (pa.ArrowException, OSError):
        return [path]  # not parquet after all: the reader names the problem
    if metadata.num_row_groups == 0:
        return [path]
    fragments, groups, rows = [], [], 0
    for group in range(metadata.num_row_groups):
        groups.append(group)
        rows += metadata.row_group(group).num_rows
        if rows >= videos_per_fragment:
            fragments.append(ParquetFragment(local, tuple(groups), rows))
            groups, rows = [], 0
    if groups:
        fragments.append(ParquetFragment(local, tuple(groups), rows))
    return fragments
