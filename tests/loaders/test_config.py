"""ReaderConfig: its validation, the schema and parquet columns it projects; the Reader protocol."""

from __future__ import annotations

import inspect

import pytest

from graphkit.loaders import sources
from graphkit.loaders.config import ON_BAD_FILES, Reader, ReaderConfig
from graphkit.loaders.hf import iter_hf_batches
from graphkit.loaders.json import iter_json_batches, iter_jsonl_batches
from graphkit.loaders.parquet import iter_fragment_batches, iter_parquet_batches
from graphkit.schema import SOURCE_SCHEMA, STRUCTURE_FIELDS

STRUCTURE = ReaderConfig(node_fields=STRUCTURE_FIELDS, metadata=False)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"batch_size": 0}, ValueError, "batch_size must be positive, got 0"),
        ({"batch_size": 2.5}, TypeError, "batch_size must be an int, got 2.5"),
        ({"batch_size": True}, TypeError, "batch_size must be an int, got True"),
        ({"node_fields": ("node_id", "size")}, ValueError, r"unknown node fields \['size'\]"),
        ({"node_fields": "level"}, TypeError, "got the string 'level'"),
        ({"on_bad_files": "ignore"}, ValueError, r"on_bad_files='ignore' is not one of \('error', 'warn', 'skip'\)"),
    ],
)
def test_reader_config_validates(kwargs, error, match):
    with pytest.raises(error, match=match):
        ReaderConfig(**kwargs)


def test_reader_config_columns_and_schema():
    config = ReaderConfig(node_fields=["end", "node_id", "end"], metadata=False)
    assert config.node_fields == ("end", "node_id")
    assert config.columns == ["video_uid", "nodes.list.element.node_id", "nodes.list.element.end"]
    assert config.schema.field("nodes").type.value_type.names == ["node_id", "end"]
    assert ReaderConfig().schema == SOURCE_SCHEMA
    assert ReaderConfig(storage_options={"token": "x"}) == ReaderConfig(storage_options={"token": "x"})
    assert repr(STRUCTURE) == (
        "ReaderConfig(batch_size=1024, node_fields=('node_id', 'parent_id', 'level', 'start', 'end'), "
        "metadata=False, on_bad_files='error', on_bad_rows='error', storage_options=None)"
    )


def test_on_bad_files_values():
    assert ON_BAD_FILES == ("error", "warn", "skip")
    for mode in ON_BAD_FILES:
        assert ReaderConfig(on_bad_files=mode).on_bad_files == mode


def test_reader_config_is_importable_from_sources_too():
    assert sources.ReaderConfig is ReaderConfig
    assert "ReaderConfig" in sources.__all__


@pytest.mark.parametrize("reader", [iter_parquet_batches, iter_fragment_batches, iter_json_batches, iter_jsonl_batches, iter_hf_batches])
def test_every_reader_has_the_reader_signature(reader):
    protocol = inspect.signature(Reader.__call__)
    signature = inspect.signature(reader)
    # one positional input, the config, and a keyword-only source defaulting to None
    positional = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    assert len(positional) == 2 and positional[1].name == "config"
    assert signature.parameters["source"].kind is inspect.Parameter.KEYWORD_ONLY
    assert signature.parameters["source"].default is None
    assert list(signature.parameters)[1:] == list(protocol.parameters)[2:]
    signature.bind("input", STRUCTURE, source="name")
