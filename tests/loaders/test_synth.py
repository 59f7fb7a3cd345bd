"""Tests of graphkit.loaders.synth: synthetic data written to parquet."""

from __future__ import annotations

import pathlib

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from graphkit.loaders.synth import write_parquet
from graphkit.schema import SOURCE_SCHEMA
from graphkit.synth import generate_batch
from tests.paths import SAMPLE

REAL_SAMPLE = SAMPLE


@pytest.fixture(scope="module")
def batch() -> pa.RecordBatch:
    return generate_batch(200, seed=0)


def test_schema_is_exactly_the_published_one(batch: pa.RecordBatch, tmp_path: pathlib.Path):
    assert batch.schema.equals(SOURCE_SCHEMA, check_metadata=True)
    path = write_parquet(tmp_path / "synth.parquet", 3)
    written = pq.read_schema(path)
    assert written.equals(SOURCE_SCHEMA)
    if REAL_SAMPLE.exists():  # the published file reads back with the very same schema
        assert written.equals(pq.read_schema(REAL_SAMPLE))


def test_write_parquet_streams_row_groups_with_the_same_content(tmp_path: pathlib.Path):
    small = write_parquet(tmp_path / "small.parquet", 23, seed=5, videos_per_row_group=10)
    large = write_parquet(tmp_path / "large.parquet", 23, seed=5, videos_per_row_group=100)
    assert isinstance(small, pathlib.Path)
    assert pq.ParquetFile(small).metadata.num_row_groups == 3
    assert [pq.ParquetFile(small).metadata.row_group(i).num_rows for i in range(3)] == [10, 10, 3]
    assert pq.ParquetFile(large).metadata.num_row_groups == 1
    expected = pa.Table.from_batches([generate_batch(23, seed=5)])
    assert pq.read_table(small).equals(expected)
    assert pq.read_table(large).equals(expected)


def test_empty_outputs_keep_the_schema(tmp_path: pathlib.Path):
    empty = generate_batch(0)
    assert empty.num_rows == 0 and empty.schema.equals(SOURCE_SCHEMA)
    table = pq.read_table(write_parquet(tmp_path / "empty.parquet", 0))
    assert table.num_rows == 0 and table.schema.equals(SOURCE_SCHEMA)


def test_write_parquet_rejects_bad_arguments_before_writing(tmp_path: pathlib.Path):
    with pytest.raises(ValueError, match="videos_per_row_group=0 must be >= 1"):
        write_parquet(tmp_path / "a.parquet", 5, videos_per_row_group=0)
    with pytest.raises(TypeError, match="config must be a SynthConfig"):
        write_parquet(tmp_path / "b.parquet", 5, config="default")
    assert not list(tmp_path.iterdir())


def test_write_parquet_creates_the_missing_folders(tmp_path):
    import pyarrow.parquet as pq

    from graphkit.loaders.synth import write_parquet

    path = write_parquet(tmp_path / "data" / "deeper" / "v.parquet", 3)
    assert pq.read_table(path).num_rows == 3
