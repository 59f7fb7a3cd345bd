from __future__ import annotations

import gzip
import json
import logging
import os
import pathlib
import uuid

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from graphkit.errors import SchemaError, SourceError
from graphkit.loaders.config import ReaderConfig
from graphkit.loaders.sources import (
    RecordBatchStream,
    file_format,
    iter_record_batches,
    read_table,
    resolve_files,
)
from graphkit.schema import SOURCE_SCHEMA, STRUCTURE_FIELDS
from tests import factories as f
from tests.paths import SAMPLE

STRUCTURE = ReaderConfig(node_fields=STRUCTURE_FIELDS, metadata=False)


def write_parquet(path: pathlib.Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(path, SOURCE_SCHEMA) as writer:
        writer.write_table(f.table(rows))


@pytest.fixture(scope="session")
def tree(tmp_path_factory):
    """A directory of parquet parts (plus files a directory read must ignore), JSON files and bad files."""
    root = tmp_path_factory.mktemp("sources")
    rows = [f.video_row(f"vid{v:02d}") for v in range(6)]
    write_parquet(root / "parts" / "part-1.parquet", rows[2:4])
    write_parquet(root / "parts" / "part-0.parquet", rows[0:2])
    write_parquet(root / "parts" / "nested" / "part-2.parquet", rows[4:6])
    write_parquet(root / "parts" / ".cache" / "stale.parquet", rows[:1])
    write_parquet(root / "parts" / "_tmp-part.parquet", rows[:1])
    (root / "parts" / "README.md").write_text("not data")
    (root / "json").mkdir()
    (root / "json" / "rows.json").write_text(json.dumps(rows[:2]))
    (root / "json" / "rows.jsonl.gz").write_bytes(gzip.compress("\n".join(map(json.dumps, rows[2:4])).encode()))
    (root / "bad").mkdir()
    (root / "bad" / "random.parquet").write_bytes(os.urandom(512))
    (root / "bad" / "notes.txt").write_text("hello")
    (root / "bad" / "invalid.jsonl").write_text(json.dumps(rows[0]) + "\n{oops\n")
    return root, rows


def uids(table: pa.Table) -> list[str]:
    return table["video_uid"].to_pylist()


def test_directory_reads_sorted_parquet_files_recursively_skipping_hidden(tree):
    root, rows = tree
    assert [pathlib.Path(p).relative_to(root).as_posix() for p in resolve_files(root / "parts")] == [
        "parts/nested/part-2.parquet",
        "parts/part-0.parquet",
        "parts/part-1.parquet",
    ]
    assert uids(read_table(root / "parts", STRUCTURE)) == ["vid04", "vid05", "vid00", "vid01", "vid02", "vid03"]


@pytest.mark.parametrize(
    "pattern, expected",
    [
        ("parts/part-*.parquet", ["vid00", "vid01", "vid02", "vid03"]),
        ("parts/**/part-2.parquet", ["vid04", "vid05"]),
        ("json/rows.*", ["vid00", "vid01", "vid02", "vid03"]),
    ],
)
def test_globs(tree, pattern, expected):
    root, _ = tree
    assert uids(read_table(str(root / pattern), STRUCTURE)) == expected


def test_a_list_is_read_in_order_and_a_file_reached_twice_is_read_once(tree, caplog):
    root, rows = tree
    sources = [root / "parts" / "part-1.parquet", str(root / "parts" / "part-*.parquet"), f.table(rows[5:])]
    with caplog.at_level(logging.WARNING, logger="graphkit.loaders.sources"):
        stream = iter_record_batches(sources, STRUCTURE)
        assert uids(pa.Table.from_batches(list(stream))) == ["vid02", "vid03", "vid00", "vid01", "vid05"]
    assert "read once" in caplog.text
    assert [pathlib.Path(p).name for p in stream.files] == ["part-1.parquet", "part-0.parquet"]


def test_file_urls_and_memory_filesystem(tree):
    root, _ = tree
    expected = read_table(root / "parts")
    assert read_table(f"file://{root / 'parts'}").equals(expected)
    fs = fsspec.filesystem("memory")
    base = f"/sources-{uuid.uuid4().hex}"
    for path in resolve_files(root / "parts"):
        fs.pipe(f"{base}/{pathlib.Path(path).relative_to(root / 'parts').as_posix()}", pathlib.Path(path).read_bytes())
    fs.pipe(f"{base}/rows.jsonl.gz", (root / "json" / "rows.jsonl.gz").read_bytes())
    assert resolve_files(f"memory://{base}")[0] == f"memory://{base}/nested/part-2.parquet"
    assert read_table(f"memory://{base}").equals(expected)
    assert uids(read_table(f"memory://{base}/*.jsonl.gz", STRUCTURE)) == ["vid02", "vid03"]


def test_unknown_suffix_is_sniffed_for_parquet(tree, tmp_path):
    root, _ = tree
    blob = tmp_path / "part.bin"
    blob.write_bytes((root / "parts" / "part-0.parquet").read_bytes())
    assert uids(read_table(blob, STRUCTURE)) == ["vid00", "vid01"]
    with pytest.raises(SourceError, match=r"notes\.txt: unknown file type"):
        read_table(root / "bad" / "notes.txt")


@pytest.mark.parametrize(
    "name, match",
    [
        ("missing.parquet", r"missing\.parquet: no such file or directory"),
        ("missing/*.parquet", r"no file matches this pattern"),
        ("json", r"json: no \.parquet file in this directory"),
        ("bad/random.parquet", r"random\.parquet: not a readable parquet file"),
        ("bad/invalid.jsonl", r"invalid\.jsonl:2: malformed_row: invalid JSON at column 2"),
    ],
)
def test_bad_sources_raise_naming_them(tree, name, match):
    root, _ = tree
    with pytest.raises(SourceError, match=match):
        read_table(str(root / name))


def test_unknown_protocol_and_unreachable_hub_are_source_errors():
    with pytest.raises(SourceError, match="nope://x: cannot open: ValueError: Protocol not known"):
        read_table("nope://x")
    # hf:// goes through huggingface_hub's fsspec file system; offline it cannot list, online the file is absent
    with pytest.raises(SourceError, match=r"^hf://datasets/facebook/Action100M-preview/no-such-file\.parquet: "):
        read_table("hf://datasets/facebook/Action100M-preview/no-such-file.parquet")


@pytest.mark.parametrize("mode, level", [("skip", logging.INFO), ("warn", logging.WARNING)])
def test_bad_files_are_skipped_logged_and_reported(tree, caplog, mode, level):
    root, _ = tree
    config = ReaderConfig(node_fields=STRUCTURE_FIELDS, metadata=False, on_bad_files=mode, batch_size=1)
    sources = [root / "missing.parquet", root / "parts" / "part-0.parquet", root / "bad" / "random.parquet",
               root / "bad" / "invalid.jsonl", root / "bad" / "notes.txt"]
    with caplog.at_level(logging.DEBUG, logger="graphkit.loaders.sources"):
        stream = iter_record_batches(sources, config)
        assert uids(pa.Table.from_batches(list(stream))) == ["vid00", "vid01", "vid00"]
    assert [(pathlib.Path(name).name, reason.split(":")[0]) for name, reason in stream.skipped] == [
        ("missing.parquet", "SourceError"),
        ("random.parquet", "SourceError"),
        ("invalid.jsonl", "RowError"),
        ("notes.txt", "SourceError"),
    ]
    # A bad row when rows are not skipped (on_bad_rows="error") makes the rest of its file unreadable.
    assert stream.skipped[2][1] == (
        f"RowError: {root / 'bad' / 'invalid.jsonl'}:2: malformed_row: invalid JSON at column 2: "
        "Expecting property name enclosed in double quotes (after 1 of its videos were read)"
    )
    skips = [r for r in caplog.records if r.getMessage().startswith("skipping")]
    assert len(skips) == 4 and {r.levelno for r in skips} == {level}
    assert repr(stream) == f"RecordBatchStream(sources=5, batch_size=1, on_bad_files='{mode}', skipped=4)"


def test_schema_errors_are_skippable_too(tmp_path):
    bad = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"video_uid": ["a"]}), bad)
    stream = iter_record_batches([bad], ReaderConfig(on_bad_files="skip"))
    assert list(stream) == []
    assert stream.skipped == [(str(bad), "SchemaError: missing required column 'nodes'")]
    with pytest.raises(SchemaError, match="bad.parquet: missing required column 'nodes'"):
        read_table(bad)


def test_arrow_sources_are_batched_and_conformed():
    rows = f.rows(3)
    batch = pa.RecordBatch.from_pylist(rows)  # inferred types: int64 levels, double times
    batches = list(iter_record_batches(batch, ReaderConfig(batch_size=2)))
    assert [b.num_rows for b in batches] == [2, 1]
    assert pa.Table.from_batches(batches).equals(f.table(rows))


@pytest.mark.parametrize(
    "source, error, match",
    [
        ([], ValueError, "no source given"),
        (42, TypeError, "unsupported source 42 of type int"),
        ({"video_uid": "a"}, TypeError, "unsupported source"),
        (["a.parquet", [b"b.parquet"]], TypeError, r"unsupported source \[b'b.parquet'\]"),
        (b"a.parquet", TypeError, "unsupported source"),
    ],
)
def test_bad_arguments_fail_at_once(source, error, match):
    with pytest.raises(error, match=match):
        iter_record_batches(source)


def test_stream_is_lazy_and_closable(tree):
    root, _ = tree
    stream = iter_record_batches([root / "parts", root / "missing.parquet"], ReaderConfig(batch_size=1))
    assert isinstance(stream, RecordBatchStream) and stream.schema == SOURCE_SCHEMA
    assert next(stream).num_rows == 1  # nothing fails before the missing file is reached
    stream.close()
    with pytest.raises(StopIteration):
        next(stream)


@pytest.mark.parametrize(
    "path, kind",
    [("a.parquet", "parquet"), ("x/b.PQ", "parquet"), ("c.json.gz", "json"), ("d.ndjson", "jsonl"),
     ("e.parquet.gz", None), ("f", None)],
)
def test_file_format(path, kind):
    assert file_format(path) == kind


# -- conformance on the real sample: every route reads the same table ---------------------------
@pytest.fixture(scope="session")
def sample_routes(tmp_path_factory):
    if not SAMPLE.exists():
        if os.environ.get("CI"):
            pytest.fail(f"the real sample is missing at {SAMPLE}")
        pytest.skip("the real sample lives in ../shared/data (always present in CI)")
    root = tmp_path_factory.mktemp("sample")
    rows = pq.read_table(SAMPLE).to_pylist()
    (root / "dir").mkdir()
    (root / "dir" / "sample.parquet").write_bytes(SAMPLE.read_bytes())
    (root / "rows.json").write_text(json.dumps(rows))
    (root / "columns.json").write_text(json.dumps({k: [r[k] for r in rows] for k in ("video_uid", "metadata",
                                                                                      "nodes")}))
    (root / "rows.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    memory = f"memory:///sample-{uuid.uuid4().hex}/sample.parquet"
    with fsspec.open(memory, "wb") as out:
        out.write(SAMPLE.read_bytes())
    import datasets

    routes = {
        "path": SAMPLE,
        "directory": root / "dir",
        "glob": str(SAMPLE.parent / "action100m-*.parquet"),
        "file-url": SAMPLE.as_uri(),
        "memory-url": memory,
        "json-rows": root / "rows.json",
        "json-columns": root / "columns.json",
        "jsonl": root / "rows.jsonl",
        "hf-from-parquet": datasets.Dataset.from_parquet(str(SAMPLE), cache_dir=str(root / "hf-cache")),
        "hf-from-list": datasets.Dataset.from_list(rows),
        "hf-iterable": datasets.Dataset.from_list(rows).to_iterable_dataset(),
    }
    return routes


ROUTES = ["path", "directory", "glob", "file-url", "memory-url", "json-rows", "json-columns", "jsonl",
          "hf-from-parquet", "hf-from-list", "hf-iterable"]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("config", [ReaderConfig(batch_size=3), STRUCTURE], ids=["all-fields", "structure"])
def test_every_route_reads_the_real_sample_identically(sample_routes, route, config):
    expected = pq.ParquetFile(SAMPLE).read(columns=config.columns).cast(config.schema)
    table = read_table(sample_routes[route], config)
    assert str(table.schema) == str(config.schema)
    assert table.num_rows == 7
    assert sum(len(nodes) for nodes in table["nodes"].to_pylist()) == 2715
    assert table.equals(expected)
