"""Fixtures shared by the loader tests."""

from __future__ import annotations

import pytest

from graphkit.loaders.synth import write_parquet


@pytest.fixture(scope="session")
def source(tmp_path_factory):
    """60 synthetic videos in row groups of 8: several fragments and shards at small sizes.

    A test module may define its own ``source``, which then wins in that module.
    """
    path = tmp_path_factory.mktemp("sharded") / "videos.parquet"
    write_parquet(path, 60, seed=3, videos_per_row_group=8)
    return str(path)
