"""Writing synthetic Action100M data (:mod:`graphkit.synth`) to parquet files.

Examples:
    >>> import pathlib, tempfile
    >>> import pyarrow.parquet as pq
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "synth.parquet"
    ...     _ = write_parquet(path, 25, videos_per_row_group=10)
    ...     pq.ParquetFile(path).metadata.num_row_groups, pq.read_table(path).num_rows
    (3, 25)
"""

from __future__ import annotations

import logging
import os
import pathlib

import pyarrow.parquet as pq

from graphkit.schema import SOURCE_SCHEMA
from graphkit.synth import SynthConfig, generate_batches

__all__ = ["write_parquet"]

logger = logging.getLogger(__name__)


def write_parquet(
    path: str | os.PathLike[str],
    num_videos: int,
    *,
    seed: int = 0,
    config: SynthConfig | None = None,
    videos_per_row_group: int = 1000,
) -> pathlib.Path:
    """Write ``num_videos`` synthetic videos to a parquet file, streaming.

    Videos are generated and written one row group at a time, so memory stays
    bounded by :obj:`videos_per_row_group` whatever the total. The file has
    exactly the published schema; its contents do not depend on
    :obj:`videos_per_row_group`.

    Args:
        path (str or os.PathLike): The file to write (its folder must exist).
        num_videos (int): How many videos (rows).
        seed (int, optional): The seed. (default: :obj:`0`)
        config (SynthConfig, optional): Generator settings. (default: :obj:`None`)
        videos_per_row_group (int, optional): Videos per row group.
            (default: :obj:`1000`)

    Returns:
        pathlib.Path: The path written.

    Raises:
        TypeError: If a count or the seed is not an int or :obj:`config` is
            not a :class:`~graphkit.synth.SynthConfig`.
        ValueError: If a count or the seed is out of range.
    """
    if isinstance(videos_per_row_group, bool) or not isinstance(videos_per_row_group, int):
        raise TypeError(f"videos_per_row_group must be an int, got {videos_per_row_group!r}")
    if videos_per_row_group < 1:
        raise ValueError(f"videos_per_row_group={videos_per_row_group} must be >= 1")
    batches = generate_batches(num_videos, seed=seed, config=config, videos_per_batch=videos_per_row_group)
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(path, SOURCE_SCHEMA) as writer:
        for batch in batches:
            writer.write_batch(batch, row_group_size=batch.num_rows)
    logger.info("wrote %d synthetic videos to %s", num_videos, path)
    return path
