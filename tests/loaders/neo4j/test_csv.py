from __future__ import annotations

import csv
import dataclasses
import gzip

import pyarrow as pa
import pytest

from graphkit import schema
from graphkit.errors import CsvExportError, InvariantError
from graphkit.loaders.neo4j.csv import (
    ARRAY_DELIMITER,
    IMPORT_OPTIONS,
    csv_file_name,
    edge_header,
    export_csv,
    node_header,
)
from graphkit.loaders.neo4j.shards import default_shards
from graphkit.synth import generate_batch
from graphkit.tree import TreeBatch
from tests.factories import TRANSCRIPT, TRICKY, tricky_rows


def _read(path) -> list[list[str]]:
    """The file as the importer parses it: RFC 4180, quoted fields may span lines."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle, strict=True))


def _raw(path) -> str:
    return path.read_bytes().decode("utf-8")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            schema.VIDEO,
            ":ID(Video),video_uid:string,title:string,description:string,view_count:long,like_count:long,"
            "duration:long,upload_date:string,transcript_time:string[],transcript_text:string[],:LABEL",
        ),
        (
            schema.SEGMENT,
            ":ID(Segment),node_id:string,video_uid:string,level:int,start:double,end:double,duration:double,"
            "is_leaf:boolean,plm_action:string,plm_caption:string,llama3_caption:string,"
            "summary_brief:string,summary_detailed:string,action_brief:string,action_detailed:string,"
            "actor:string,verb:string,:LABEL",
        ),
    ],
)
def test_node_headers(spec, expected):
    assert ",".join(node_header(spec)) == expected


@pytest.mark.parametrize(
    ("spec", "expected", "file_name"),
    [
        (schema.PARENT_OF, ":START_ID(Segment),:END_ID(Segment),:TYPE,order:int", "parent_of.csv"),
        (schema.NEXT, ":START_ID(Segment),:END_ID(Segment),:TYPE,gap:double", "next.csv"),
        (schema.NEXT_LEAF, ":START_ID(Segment),:END_ID(Segment),:TYPE", "next_leaf.csv"),
        (schema.HAS_ROOT, ":START_ID(Video),:END_ID(Segment),:TYPE", "has_root.csv"),
    ],
)
def test_edge_headers_and_file_names(spec, expected, file_name):
    assert ",".join(edge_header(spec)) == expected
    assert csv_file_name(spec) == file_name


def test_files_start_with_their_header_exactly_once(tmp_path):
    trees = TreeBatch.from_arrow(generate_batch(6, seed=3))
    export = export_csv([trees.select([0, 1]), trees.select([2, 3, 4]), trees.select([5])], tmp_path)
    for spec in (*schema.NODE_TYPES, *schema.EDGE_TYPES):
        key = spec.label if isinstance(spec, schema.NodeTypeSpec) else spec.name
        rows = _read(export.files[key])
        header = node_header(spec) if isinstance(spec, schema.NodeTypeSpec) else edge_header(spec)
        assert rows[0] == header
        assert header not in rows[1:]
        assert len(rows) - 1 == export.row_counts[key]
    assert export.row_counts == {
        "Video": 6,
        "Segment": trees.num_nodes,
        **{spec.name: len(trees.edges(spec)) for spec in schema.EDGE_TYPES},
    }


@pytest.mark.parametrize("shards", [1, 3])
def test_import_ids_are_unique_over_batches_and_every_relationship_joins_the_right_nodes(tmp_path, shards):
    # Two videos share every node id: only the import ids tell their segments apart.
    rows = generate_batch(5, seed=8).to_pylist()
    rows[3]["nodes"] = rows[0]["nodes"]
    trees = TreeBatch.from_arrow(pa.Table.from_pylist(rows, schema=schema.SOURCE_SCHEMA))
    export = export_csv([trees.select([0, 1]), trees.select([2, 3]), trees.select([4])], tmp_path, shards=shards)
    group = {key: _read_group(paths) for key, paths in export.shard_files.items()}
    segments = [dict(zip(group["Segment"][0], row)) for row in group["Segment"][1:]]
    videos = [dict(zip(group["Video"][0], row)) for row in group["Video"][1:]]
    segment_key = {int(r[":ID(Segment)"]): (r["video_uid:string"], r["node_id:string"]) for r in segments}
    video_key = {int(r[":ID(Video)"]): r["video_uid:string"] for r in videos}
    assert sorted(segment_key) == list(range(trees.num_nodes)) and sorted(video_key) == list(range(5))
    uids, node_ids, video_index = trees.video_uid.to_pylist(), trees.node_id.to_pylist(), trees.video_index
    key = [(uids[video_index[i]], node_ids[i]) for i in range(trees.num_nodes)]
    for spec in schema.EDGE_TYPES:
        edges = trees.edges(spec)
        sources = [uids[s] for s in edges.source] if spec.source is schema.VIDEO else [key[s] for s in edges.source]
        expected = sorted(zip(sources, (key[t] for t in edges.target)))
        names = video_key if spec.source is schema.VIDEO else segment_key
        written = sorted((names[int(a)], segment_key[int(b)]) for a, b, *_ in group[spec.name][1:])
        assert written == expected, spec.name


def test_tricky_strings_round_trip_through_an_rfc4180_reader(tmp_path):
    trees = TreeBatch.from_arrow(tricky_rows())
    export = export_csv(trees, tmp_path)
    header, *rows = _read(export.files["Segment"])
    read = [dict(zip(header, row)) for row in rows]
    for i, row in enumerate(read):
        assert row["node_id:string"] == trees.node_id[i].as_py()
        assert row[":ID(Segment)"] == str(i)  # the export's integer import id, one per segment
        for name in (*schema.TEXT_PROPERTIES, *schema.GPT_PROPERTIES):
            value = trees.text[name][i].as_py()
            # The reader cannot tell "" from absent; the raw-text test below does.
            assert row[f"{name}:string"] == ("" if value is None else value)
    assert [r["level:int"] for r in read] == ["0", "1", "1"]
    assert [r["start:double"] for r in read] == ["0", "0", "1.1"]
    assert [r["is_leaf:boolean"] for r in read] == ["false", "true", "true"]
    video = dict(zip(*_read(export.files["Video"])))
    assert video["title:string"] == TRICKY[0]
    assert video["view_count:long"] == str(2**40) and video["like_count:long"] == ""
    assert video["transcript_text:string[]"].split(ARRAY_DELIMITER) == [t["text"] for t in TRANSCRIPT]
    assert video["transcript_time:string[]"] == ARRAY_DELIMITER.join(["0.5", "1.25", "2"])


def test_empty_string_is_quoted_and_null_is_an_empty_field(tmp_path):
    export = export_csv(TreeBatch.from_arrow(tricky_rows()), tmp_path)
    raw = _raw(export.files["Segment"])
    # Root: plm_caption "" then llama3_caption absent; leaf 1: plm_action absent.
    assert ',"",,"' in raw
    assert ',true,,"line\r\nbreak\rand\n",' in raw
    assert '"""}) DETACH DELETE n //"' in raw
    assert ',"\\""",' in raw  # a backslash stays a plain character


def test_import_args_name_every_file_and_the_reading_options(tmp_path):
    export = export_csv(TreeBatch.from_arrow(tricky_rows()), tmp_path)
    args = export.import_args("graph-1", report_file=tmp_path / "r.txt")
    assert args[:4] == ["database", "import", "full", "graph-1"]
    assert [a for a in args if a.startswith("--nodes=")] == [
        f"--nodes={tmp_path / 'videos.csv'}", f"--nodes={tmp_path / 'segments.csv'}"
    ]
    assert len([a for a in args if a.startswith("--relationships=")]) == len(schema.EDGE_TYPES)
    assert "--array-delimiter=U+001F" in args and "--quote=\"" in args
    assert "--multiline-fields=true" in args
    assert args[-1] == f"--report-file={tmp_path / 'r.txt'}"
    assert set(export.multiline_files) == {tmp_path / "videos.csv", tmp_path / "segments.csv"}
    assert set(IMPORT_OPTIONS) <= {a.split("=", 1)[0] for a in args}


def test_no_multiline_parser_without_newlines(tmp_path):
    from graphkit.testing import example_rows

    export = export_csv(TreeBatch.from_arrow(example_rows(2)), tmp_path)
    assert export.multiline_files == ()
    assert not any(a.startswith("--multiline") for a in export.import_args())


@pytest.mark.parametrize("database", ["", "neo4j; rm", "a b", 3])
def test_bad_database_name_raises(tmp_path, database):
    export = export_csv(TreeBatch.from_arrow(tricky_rows()), tmp_path)
    with pytest.raises(ValueError, match="database must be a Neo4j database name"):
        export.import_args(database)


def test_gzip_files_hold_the_same_rows(tmp_path):
    trees = TreeBatch.from_arrow(generate_batch(3, seed=5))
    plain = export_csv(trees, tmp_path / "plain")
    packed = export_csv(trees, tmp_path / "gz", compress=True, shards=1)
    assert packed.files["Segment"].name == "segments.csv.gz"
    for key, path in plain.files.items():
        assert _read(packed.files[key]) == _read(path)


def test_text_not_read_is_written_as_absent(tmp_path):
    batch = generate_batch(2, seed=1)
    projected = pa.table({"video_uid": batch.column("video_uid"), "nodes": batch.column("nodes")})
    trees = TreeBatch.from_arrow(projected)
    bare = TreeBatch(**{**{n: getattr(trees, n) for n in TreeBatch.__dataclass_fields__}, "text": {}})
    export = export_csv(bare, tmp_path)
    header, *rows = _read(export.files["Segment"])
    assert {row[header.index("plm_caption:string")] for row in rows} == {""}
    assert {row[header.index(":LABEL")] for row in rows} == {"Segment"}
    video_header, *videos = _read(export.files["Video"])
    assert [video[video_header.index("title:string")] for video in videos] == ["", ""]


@pytest.mark.parametrize(
    ("text", "match"),
    [("bad\x1fsep", "element 1 of transcript_text holds the array delimiter"), (None, "element 1 of transcript_text is null")],
)
def test_unwritable_array_elements_raise(tmp_path, text, match):
    table = tricky_rows().to_pylist()
    table[0]["metadata"]["transcript"][1]["text"] = text
    bad = pa.Table.from_pylist(table, schema=schema.SOURCE_SCHEMA)
    if text is None:
        # Validation refuses a null transcript text first (null_in_list); the sink still
        # refuses it in a batch that skipped validation.
        with pytest.raises(InvariantError, match="null_in_list"):
            TreeBatch.from_arrow(bad)
        valid = TreeBatch.from_arrow(tricky_rows())
        trees = dataclasses.replace(valid, metadata=bad.column("metadata").combine_chunks())
    else:
        trees = TreeBatch.from_arrow(bad)
    with pytest.raises(CsvExportError, match=f"video 'trickyVID01': {match}"):
        export_csv(trees, tmp_path)


def test_empty_transcript_is_written_as_absent(tmp_path):
    table = tricky_rows().to_pylist()
    table[0]["metadata"]["transcript"] = []
    trees = TreeBatch.from_arrow(pa.Table.from_pylist(table, schema=schema.SOURCE_SCHEMA))
    export = export_csv(trees, tmp_path)
    header, video = _read(export.files["Video"])
    assert video[header.index("transcript_text:string[]")] == ""


def test_rejects_other_inputs(tmp_path):
    with pytest.raises(TypeError, match="expects TreeBatch objects, got Table"):
        export_csv([tricky_rows()], tmp_path)


def test_repr_rate_and_exact_bytes(tmp_path):
    export = export_csv(TreeBatch.from_arrow(tricky_rows()), tmp_path)
    assert repr(export).startswith(f"CsvExport(out_dir={str(tmp_path)!r}, nodes=4, relationships=5, rows_per_s=")
    assert export.rows == 9 and export.rows_per_s > 0 and export.bytes_written > 0
    assert _raw(export.files["HAS_ROOT"]) == ':START_ID(Video),:END_ID(Segment),:TYPE\n0,0,"HAS_ROOT"\n'


def _read_group(paths) -> list[list[str]]:
    """A file group as the importer reads it: the first file's rows (header first), then the others'."""
    return [row for path in paths for row in _read(path)]


@pytest.mark.parametrize("compress", [False, True])
def test_shards_hold_the_rows_of_one_file_header_once(tmp_path, compress):
    trees = TreeBatch.from_arrow(generate_batch(9, seed=7))
    batches = [trees.select(slice(i, i + 2)) for i in range(0, 9, 2)]  # 5 batches over 3 shards
    single = export_csv(batches, tmp_path / "one")
    sharded = export_csv(batches, tmp_path / "three", compress=compress, shards=3)
    suffix = ".csv.gz" if compress else ".csv"
    assert [p.name for p in sharded.shard_files["Segment"]] == [f"segments-0000{k}{suffix}" for k in range(3)]
    assert sharded.files["Segment"] == sharded.shard_files["Segment"][0]
    assert sharded.row_counts == single.row_counts
    for key, path in single.files.items():
        header, *rows = _read(path)
        got_header, *got_rows = _read_group(sharded.shard_files[key])
        assert got_header == header and sorted(got_rows) == sorted(rows)
        assert all(_read(p)[0] != header for p in sharded.shard_files[key][1:])  # header once
    assert sharded.bytes_written == sum(p.stat().st_size for ps in sharded.shard_files.values() for p in ps)
    args = sharded.import_args()
    segment_arg = next(a for a in args if a.startswith("--nodes=") and "segments" in a)
    assert segment_arg == "--nodes=" + ",".join(str(p) for p in sharded.shard_files["Segment"])
    assert set(sharded.multiline_files) == {p for key in single.multiline_files
                                            for p in sharded.shard_files[_key_of(single, key)]}


def _key_of(export, path):
    return next(key for key, p in export.files.items() if p == path)


def test_compressed_export_defaults_to_parallel_shards(tmp_path):
    export = export_csv(TreeBatch.from_arrow(generate_batch(2, seed=1)), tmp_path, compress=True)
    assert len(export.shard_files["Segment"]) == default_shards(True)
    assert all(p.read_bytes()[:2] == b"\x1f\x8b" for ps in export.shard_files.values() for p in ps)  # gzip


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"shards": 0}, "shards must be a positive integer"),
    ({"compression_level": 10}, "compression_level must be an integer from 1 to 9"),
])
def test_bad_shard_options_raise(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        export_csv(TreeBatch.from_arrow(tricky_rows()), tmp_path, **kwargs)


def test_a_writer_thread_error_is_raised(tmp_path, monkeypatch):
    from graphkit.loaders.neo4j import shards

    def fail(self, tables):
        raise OSError("No space left on device")

    monkeypatch.setattr(shards._Shard, "write", fail)
    with pytest.raises(OSError, match="No space left"):
        export_csv(TreeBatch.from_arrow(generate_batch(2, seed=1)), tmp_path, shards=2)


def test_the_verb_column_is_the_training_label_of_every_segment_of_the_real_sample(tmp_path):
    from graphkit.labels import extract_labels
    from graphkit.loaders.trees import read_trees
    from tests.paths import SAMPLE

    trees = read_trees(SAMPLE, node_fields=None, metadata=True) if SAMPLE.is_file() else \
        TreeBatch.from_arrow(generate_batch(6, seed=3))
    export = export_csv([trees], tmp_path)
    rows = _read(export.files[schema.SEGMENT.label])
    header = rows[0]
    verbs = [row[header.index("verb:string")] or None for row in rows[1:]]
    node_ids = [row[header.index("node_id:string")] for row in rows[1:]]
    assert node_ids == trees.node_id.to_pylist()
    expected = extract_labels(trees.text["action_brief"], "verb").to_pylist()
    assert verbs == expected and None in expected and any(expected)
