from __future__ import annotations

import copy

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from graphkit.errors import RowError, SchemaError, SourceError
from graphkit.loaders.config import ReaderConfig
from graphkit.loaders.conform import Conformer
from graphkit.loaders.parquet import iter_parquet_batches, physical_column_paths
from graphkit.schema import NODE_TYPE, SOURCE_SCHEMA, STRUCTURE_FIELDS
from tests import factories as f

STRUCTURE = ReaderConfig(node_fields=STRUCTURE_FIELDS, metadata=False)


def write(path, table: pa.Table, row_group_size: int | None = None, **kwargs) -> str:
    with pq.ParquetWriter(path, table.schema, **kwargs) as writer:
        writer.write_table(table, row_group_size=row_group_size)
    return str(path)


@pytest.fixture(scope="session")
def files(tmp_path_factory):
    """Small parquet files: valid ones in a few layouts, and broken ones."""
    root = tmp_path_factory.mktemp("parquet")
    rows = f.rows(5)
    valid = f.table(rows)

    def retyped(path: str, node_field: str, dtype: pa.DataType, values=None) -> pa.Table:
        bad = copy.deepcopy(rows)
        for row in bad:
            for node in row["nodes"]:
                node[node_field] = values(node[node_field]) if values else node[node_field]
        node_type = pa.struct([(n.name, dtype if n.name == node_field else n.type) for n in NODE_TYPE])
        schema = pa.schema([*list(SOURCE_SCHEMA)[:2], ("nodes", pa.list_(node_type))])
        return write(root / path, pa.Table.from_pylist(bad, schema=schema))

    garbage = root / "garbage.parquet"
    garbage.write_bytes(bytes(range(256)) * 4)
    whole = write(root / "whole.parquet", valid, row_group_size=2)
    truncated = root / "truncated.parquet"
    truncated.write_bytes((root / "whole.parquet").read_bytes()[:-100])
    return {
        "rows": rows,
        "valid": valid,
        "whole": whole,
        # pyarrow's legacy nested naming: nodes.list.item.* instead of nodes.list.element.*
        "legacy": write(root / "legacy.parquet", valid, use_compliant_nested_type=False),
        "garbage": str(garbage),
        "truncated": str(truncated),
        "start_as_string": retyped("start_str.parquet", "start", pa.string(), str),
        "level_as_float": retyped("level_float.parquet", "level", pa.float64(), float),
        "level_as_int32": retyped("level_int32.parquet", "level", pa.int32()),
        "level_too_big": retyped("level_big.parquet", "level", pa.int32(), lambda level: level + 40000),
        "no_nodes": write(root / "no_nodes.parquet", valid.drop_columns(["nodes"])),
        "no_start": write(
            root / "no_start.parquet",
            pa.Table.from_pylist([{"video_uid": "v", "nodes": [{"node_id": "a", "parent_id": None, "level": 0}]}]),
        ),
    }


def read(path, config: ReaderConfig = ReaderConfig(), **kwargs) -> pa.Table:
    return pa.Table.from_batches(list(iter_parquet_batches(path, config, **kwargs)), schema=config.schema)


def test_full_read_is_the_published_schema_and_data(files):
    table = read(files["whole"])
    assert str(table.schema) == str(SOURCE_SCHEMA)  # value field named ``item`` like SOURCE_SCHEMA
    assert table.equals(files["valid"])


def test_structural_projection_returns_exactly_the_requested_fields(files):
    table = read(files["whole"], STRUCTURE)
    assert table.schema.equals(STRUCTURE.schema)
    assert table.schema.field("nodes").type.value_type.names == list(STRUCTURE_FIELDS)
    full = files["valid"]["nodes"].combine_chunks().values
    got = table["nodes"].combine_chunks().values
    for name in STRUCTURE_FIELDS:  # values really decoded, not nulls from a path that matched nothing
        assert got.field(name).equals(full.field(name)), name
    assert got.field("level").null_count == 0


def test_structural_work_decodes_only_six_leaf_columns(files):
    parquet = pq.ParquetFile(files["whole"])
    paths = physical_column_paths(parquet)
    read_paths = [paths[leaf] for leaf in Conformer(parquet.schema_arrow, STRUCTURE.schema, source="x").leaves]
    assert read_paths == STRUCTURE.columns == [
        "video_uid", *(f"nodes.list.element.{name}" for name in STRUCTURE_FIELDS)
    ]
    assert len(paths) == 22  # of the published layout's leaf columns


@pytest.mark.parametrize("fields", [("plm_caption",), ("gpt", "level"), ("llama3_caption", "end", "node_id")])
def test_any_projection_matches_the_full_read(files, fields):
    config = ReaderConfig(node_fields=fields, metadata=True)
    table = read(files["whole"], config)
    full = files["valid"]["nodes"].combine_chunks().values
    got = table["nodes"].combine_chunks().values
    assert table.schema.equals(config.schema)
    for name in fields:
        assert got.field(name).equals(full.field(name)), name
    assert table["metadata"].equals(files["valid"]["metadata"])


def test_reading_the_paths_leaves_no_reference_cycle(files):
    # A cycle would keep the file's whole footer alive until a full garbage collection:
    # ~2.8 MB per fragment of a preview-sized file, growing through a whole convert.
    import gc
    import weakref

    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for name in ("whole", "legacy"):
            parquet = pq.ParquetFile(files[name])
            footer = weakref.ref(parquet.metadata)
            assert physical_column_paths(parquet)[("nodes", "level")].startswith("nodes.list.")
            parquet.close()
            del parquet
            assert footer() is None, name
    finally:
        if enabled:
            gc.enable()


def test_legacy_list_naming_is_read_through_the_files_own_paths(files):
    paths = physical_column_paths(pq.ParquetFile(files["legacy"]))
    assert paths[("nodes", "level")] == "nodes.list.item.level"
    assert paths[("metadata", "transcript", "text")] == "metadata.transcript.list.item.text"
    table = read(files["legacy"], STRUCTURE)
    assert table["nodes"].combine_chunks().values.field("level").null_count == 0
    assert table.equals(read(files["whole"], STRUCTURE))


@pytest.mark.parametrize("batch_size, sizes", [(2, [2, 2, 1]), (3, [3, 2]), (1, [1, 1, 1, 1, 1]), (9, [5])])
def test_batches_hold_at_most_batch_size_videos(files, batch_size, sizes):
    # the file has row groups of 2 videos; batches are cut by batch_size alone
    batches = list(iter_parquet_batches(files["whole"], ReaderConfig(batch_size=batch_size)))
    assert [b.num_rows for b in batches] == sizes


def test_reads_from_a_file_object(files):
    with open(files["whole"], "rb") as handle:
        table = read(handle, STRUCTURE)
        assert not handle.closed  # a file passed in is left to its owner
    assert table.num_rows == 5


def test_lossless_integer_widening_is_cast(files):
    table = read(files["level_as_int32"], STRUCTURE)
    assert table.schema.equals(STRUCTURE.schema)
    assert table.equals(read(files["whole"], STRUCTURE))


@pytest.mark.parametrize(
    "name, error, match",
    [
        ("garbage", SourceError, r"garbage\.parquet: not a readable parquet file"),
        ("truncated", SourceError, r"truncated\.parquet: not a readable parquet file"),
        ("start_as_string", SchemaError,
         r"start_str\.parquet: column 'nodes.start' has type string; expected float"),
        ("level_as_float", SchemaError, r"level_float\.parquet: column 'nodes.level' has type double; expected int16"),
        ("no_nodes", SchemaError, r"no_nodes\.parquet: missing required column 'nodes'"),
        ("no_start", SchemaError, r"no_start\.parquet: missing required column 'nodes.start'"),
        ("level_too_big", RowError,  # one row's value, not the file's schema: a RowError (a SchemaError too)
         r"level_big\.parquet, row 0: video 'video000000': value_out_of_range: column 'nodes.level' holds 40000, "
         r"which does not fit"),
    ],
)
def test_bad_files_raise_naming_the_file(files, name, error, match):
    with pytest.raises(error, match=match) as info:
        read(files[name], STRUCTURE)
    assert info.type is error


def test_custom_source_name_is_used_in_errors(files):
    with open(files["garbage"], "rb") as handle, pytest.raises(SourceError, match="^hf://x/y.parquet: "):
        read(handle, source="hf://x/y.parquet")


def test_batches_have_exactly_batch_size_rows_across_row_groups(tmp_path):
    from graphkit.loaders.synth import write_parquet

    path = write_parquet(tmp_path / "groups.parquet", 23, seed=1, videos_per_row_group=5)
    batches = list(iter_parquet_batches(path, ReaderConfig(batch_size=7, node_fields=STRUCTURE_FIELDS)))
    assert [b.num_rows for b in batches] == [7, 7, 7, 2]
    expected = pq.read_table(path).column("video_uid").to_pylist()
    assert [uid for b in batches for uid in b.column("video_uid").to_pylist()] == expected


def test_arrow_memory_stays_bounded_by_a_row_group_whatever_the_file_size(tmp_path):
    """Streaming must not grow with the file: the peak is the same for 8 and 64 equal row groups.

    (8 groups of 60 videos already hold every way a 32-video batch can straddle two groups.)
    """
    from graphkit.synth import generate_batch

    group = pa.Table.from_batches([generate_batch(60, seed=2)])

    def peak(groups: int) -> int:
        path = tmp_path / f"g{groups}.parquet"
        with pq.ParquetWriter(path, group.schema) as writer:
            for _ in range(groups):
                writer.write_table(group)
        config = ReaderConfig(batch_size=32, node_fields=None, metadata=True)
        base, highest, videos = pa.total_allocated_bytes(), 0, 0
        for batch in iter_parquet_batches(path, config):
            videos += batch.num_rows
            highest = max(highest, pa.total_allocated_bytes() - base)
            del batch
        assert videos == 60 * groups
        return highest

    small, large = peak(8), peak(64)
    assert large <= 1.25 * small, (small, large)


def test_arrow_memory_is_bounded_by_batches_not_by_the_row_group(tmp_path):
    """A big row group is decoded a batch at a time: the peak does not hold the whole group."""
    from graphkit.synth import generate_batch

    path = tmp_path / "one-group.parquet"
    pq.write_table(pa.Table.from_batches([generate_batch(400, seed=4)]), path, row_group_size=400)

    def peak(batch_size: int) -> int:
        default = pa.default_memory_pool()
        tracked = pa.proxy_memory_pool(default)  # max_memory() of this read alone
        pa.set_memory_pool(tracked)
        try:
            config = ReaderConfig(batch_size=batch_size, node_fields=None, metadata=True)
            assert sum(b.num_rows for b in iter_parquet_batches(path, config)) == 400
            return tracked.max_memory()
        finally:
            pa.set_memory_pool(default)

    whole, batched = peak(400), peak(16)
    assert batched < 0.5 * whole, (batched, whole)
