from __future__ import annotations

import copy

import pyarrow as pa
import pytest

from graphkit.errors import SchemaError, SourceError
from graphkit.loaders.config import ReaderConfig
from graphkit.loaders.hf import describe_hf_dataset, is_hf_dataset, iter_hf_batches
from graphkit.loaders.sources import iter_record_batches
from graphkit.schema import SOURCE_SCHEMA, STRUCTURE_FIELDS
from tests import factories as f

datasets = pytest.importorskip("datasets")

STRUCTURE = ReaderConfig(node_fields=STRUCTURE_FIELDS, metadata=False)
ROWS = f.rows(5)


def read(dataset, config: ReaderConfig = ReaderConfig()) -> pa.Table:
    return pa.Table.from_batches(list(iter_hf_batches(dataset, config)), schema=config.schema)


@pytest.fixture(scope="module")
def arrow_dataset():
    """A Dataset over an Arrow table in the published schema (no Python rows involved)."""
    return datasets.Dataset(f.table(ROWS))


def test_dataset_arrow_table_reads_back_exactly(arrow_dataset):
    table = read(arrow_dataset, ReaderConfig(batch_size=2))
    assert str(table.schema) == str(SOURCE_SCHEMA)
    assert table.equals(f.table(ROWS))


def test_dataset_from_python_rows_is_cast_to_canonical_types():
    dataset = datasets.Dataset.from_list(copy.deepcopy(ROWS))  # infers int64 levels, double times
    assert dataset.features.arrow_schema.field("nodes").type.value_type.field("level").type == pa.int64()
    assert read(dataset).equals(f.table(ROWS))


def test_projection_and_batches(arrow_dataset):
    batches = list(iter_hf_batches(arrow_dataset, ReaderConfig(batch_size=2, node_fields=("level",), metadata=False)))
    assert [b.num_rows for b in batches] == [2, 2, 1]
    assert str(batches[0].schema.field("nodes").type) == "list<item: struct<level: int16>>"


def test_index_mappings_are_honoured(arrow_dataset):
    picked = arrow_dataset.select([4, 1]).filter(lambda row: row["video_uid"] != "video000001")
    assert read(picked, STRUCTURE)["video_uid"].to_pylist() == ["video000004"]


def test_iterable_dataset_with_features(arrow_dataset):
    table = read(arrow_dataset.to_iterable_dataset(num_shards=2), ReaderConfig(batch_size=2))
    assert table.equals(f.table(ROWS))


def test_iterable_dataset_from_a_generator_with_null_columns():
    first, second = copy.deepcopy(ROWS[0]), copy.deepcopy(ROWS[1])
    for node in first["nodes"]:
        node["parent_id"] = None  # a batch where the whole column is null: inferred as the null type
        node["gpt"] = None

    def generate():
        yield first
        yield second

    dataset = datasets.IterableDataset.from_generator(generate)
    batches = list(iter_hf_batches(dataset, ReaderConfig(batch_size=1)))
    assert [b.schema.equals(SOURCE_SCHEMA) for b in batches] == [True, True]
    assert batches[1].column("nodes").equals(f.table([second]).column("nodes").chunk(0))


def test_missing_required_column_is_a_schema_error():
    dataset = datasets.Dataset.from_dict({"video_uid": ["a"], "title": ["x"]})
    with pytest.raises(SchemaError, match=r"datasets\.Dataset\(num_rows=1\): missing required column 'nodes'"):
        read(dataset)


def test_wrong_type_is_a_schema_error():
    dataset = datasets.Dataset.from_dict({"video_uid": ["a"], "nodes": [[{**ROWS[0]["nodes"][0], "start": "0"}]]})
    with pytest.raises(SchemaError, match="column 'nodes.start' has type string"):
        read(dataset)


def test_failing_generator_is_a_source_error():
    def generate():
        yield ROWS[0]
        raise ValueError("upstream broke")

    dataset = datasets.IterableDataset.from_generator(generate)
    with pytest.raises(SourceError, match="the dataset failed to produce rows: upstream broke"):
        read(dataset, ReaderConfig(batch_size=1))


def test_dataset_dict_asks_for_a_split_at_once(arrow_dataset):
    with pytest.raises(TypeError, match=r"pass one split, e\.g\. dataset\['train'\]"):
        iter_hf_batches(datasets.DatasetDict({"train": arrow_dataset}), ReaderConfig())
    with pytest.raises(TypeError, match="expected a datasets.Dataset"):
        iter_hf_batches([ROWS[0]], ReaderConfig())
    with pytest.raises(TypeError, match=r"of a datasets\.DatasetDict pass one split"):
        iter_record_batches(datasets.DatasetDict({"train": arrow_dataset}))


def test_detection_and_description(arrow_dataset):
    assert is_hf_dataset(arrow_dataset) and is_hf_dataset(arrow_dataset.to_iterable_dataset())
    assert not is_hf_dataset(f.table(ROWS)) and not is_hf_dataset(datasets.DatasetDict())
    assert describe_hf_dataset(arrow_dataset) == "datasets.Dataset(num_rows=5)"
    assert describe_hf_dataset(arrow_dataset.to_iterable_dataset()) == "datasets.IterableDataset()"
