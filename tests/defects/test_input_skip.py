"""Skip-and-report at exactly the right granularity: one bad row costs only itself.

Every reader (parquet, JSON document, JSON Lines, a Hugging Face dataset, an
Arrow table) and every stage of decoding (parsing, conversion to Arrow, the
cast to the canonical types, tree validation) is given six valid videos of
which exactly one is corrupted. With skipping, exactly the other five are
kept and the bad one is reported once, by ``video_uid`` or, where none can
be read, by ``file:line`` (``file, row N`` for a row of a document, a parquet
file or a dataset). Without skipping, the first bad row is one error naming
it. The command line says the same in one line per skipped video, never a
traceback.
"""

from __future__ import annotations

import copy
import gzip
import json
import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from graphkit.errors import InvariantError, RowError
from graphkit.loaders.fragments import plan_fragments
from graphkit.loaders.synth import write_parquet
from graphkit.loaders.trees import iter_tree_batches
from graphkit.schema import NODE_TYPE, SOURCE_SCHEMA
from graphkit.validation import ValidationConfig, ValidationReport
from tests import factories as f
from tests.graphkit.cli.runner import graphkit

UIDS = [f"video{v:06d}" for v in range(6)]
BAD = "video000002"
GOOD = [uid for uid in UIDS if uid != BAD]


def _lines(rows: list[dict]) -> list[str]:
    return [json.dumps(row) for row in rows]


def _jsonl(tmp_path, lines: list[str | bytes], name: str = "videos.jsonl") -> str:
    data = b"\n".join(line if isinstance(line, bytes) else line.encode() for line in lines) + b"\n"
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return str(path)


def _wide_levels(rows: list[dict]) -> pa.Table:
    """Rows with ``level`` stored as int64 (as a generic writer stores it): 40000 fits there."""
    nodes = pa.struct([pa.field(x.name, pa.int64() if x.name == "level" else x.type) for x in NODE_TYPE])
    schema = pa.schema([SOURCE_SCHEMA.field("video_uid"), SOURCE_SCHEMA.field("metadata"), ("nodes", pa.list_(nodes))])
    return pa.Table.from_pylist(rows, schema=schema)


def _rows_with_level(level: int) -> list[dict]:
    rows = copy.deepcopy(f.rows(6))
    f.node(rows[2], "1")["level"] = level
    return rows


def jsonl_line(replacement: str | bytes, name: str = "videos.jsonl"):
    def make(tmp_path):
        lines: list[str | bytes] = _lines(f.rows(6))
        lines[2] = replacement
        return _jsonl(tmp_path, lines, name)

    return make


def jsonl_row(change):
    def make(tmp_path):
        rows = copy.deepcopy(f.rows(6))
        change(rows[2])
        return _jsonl(tmp_path, _lines(rows))

    return make


def json_document(column_form: bool):
    def make(tmp_path):
        rows = copy.deepcopy(f.rows(6))
        f.node(rows[2], "1")["start"] = "8.0"
        document = {key: [row[key] for row in rows] for key in rows[0]} if column_form else rows
        path = tmp_path / "videos.json"
        path.write_text(json.dumps(document))
        return str(path)

    return make


def parquet_level(tmp_path):
    path = tmp_path / "videos.parquet"
    pq.write_table(_wide_levels(_rows_with_level(40000)), path)
    return str(path)


def arrow_table(tmp_path):
    return _wide_levels(_rows_with_level(40000))


def hf_dataset(tmp_path):
    datasets = pytest.importorskip("datasets")
    return datasets.Dataset(_wide_levels(_rows_with_level(40000)))


def tree_invariant(tmp_path):
    rows = copy.deepcopy(f.rows(6))
    f.node(rows[2], "01")["parent_id"] = "no-such-node"
    path = tmp_path / "videos.parquet"
    pq.write_table(f.table(rows), path)
    return str(path)


def invalid_utf8_uid(tmp_path):
    path = tmp_path / "videos.parquet"
    pq.write_table(f.with_raw_string(f.table(f.rows(6)), ("video_uid",), 2, b"video00000\xff"), path)
    return str(path)


# id -> (make the source, error class, rule, reported video_uid, reported source (a pattern; None: no source))
CASES = {
    "jsonl-invalid-json-line": (jsonl_line("{broken"), RowError, "malformed_row", None, r".*videos\.jsonl:3"),
    "jsonl-line-not-utf8": (jsonl_line(b'{"video_uid": "caf\xe9"}'), RowError, "malformed_row", None,
                            r".*videos\.jsonl:3"),
    "jsonl-line-is-an-array": (jsonl_line("[1, 2]"), RowError, "malformed_row", None, r".*videos\.jsonl:3"),
    "jsonl-gz-invalid-json-line": (jsonl_line("{broken", "videos.jsonl.gz"), RowError, "malformed_row", None,
                                   r".*videos\.jsonl\.gz:3"),
    "jsonl-row-without-nodes": (jsonl_row(lambda row: row.pop("nodes")), RowError, "malformed_row", BAD,
                                r".*videos\.jsonl:3"),
    "jsonl-arrow-conversion": (jsonl_row(lambda row: f.node(row, "1").__setitem__("start", [1])), RowError,
                               "wrong_type", BAD, r".*videos\.jsonl:3"),
    "jsonl-boolean-for-number": (jsonl_row(lambda row: f.node(row, "1").__setitem__("end", False)), RowError,
                                 "wrong_type", BAD, r".*videos\.jsonl:3"),
    "jsonl-cast-out-of-range": (jsonl_row(lambda row: f.node(row, "1").__setitem__("level", 40000)), RowError,
                                "value_out_of_range", BAD, r".*videos\.jsonl:3"),
    "jsonl-null-video_uid": (jsonl_row(lambda row: row.__setitem__("video_uid", None)), RowError, "null_video_uid",
                             None, r".*videos\.jsonl:3"),
    "json-list-row-conversion": (json_document(False), RowError, "wrong_type", BAD, r".*videos\.json, row 2"),
    "json-column-form-row-conversion": (json_document(True), RowError, "wrong_type", BAD, r".*videos\.json, row 2"),
    "parquet-cast-out-of-range": (parquet_level, RowError, "value_out_of_range", BAD, r".*videos\.parquet, row 2"),
    "arrow-table-cast-out-of-range": (arrow_table, RowError, "value_out_of_range", BAD,
                                      r"<pyarrow\.Table with 6 rows>, row 2"),
    "hf-dataset-cast-out-of-range": (hf_dataset, RowError, "value_out_of_range", BAD,
                                     r"datasets\.Dataset\(num_rows=6\), row 2"),
    "tree-invariant": (tree_invariant, InvariantError, "missing_parent", BAD, None),
    "invalid-utf8-video_uid": (invalid_utf8_uid, InvariantError, "invalid_utf8", "video00000\\xff", None),
}


def _read(source, errors: str, **kwargs) -> tuple[list[str], ValidationReport]:
    report = ValidationReport()
    batches = iter_tree_batches(source, node_fields=None, metadata=True, batch_size=256,
                                validation=ValidationConfig(errors=errors), report=report, **kwargs)
    return [uid for trees in batches for uid in trees.video_uid.to_pylist()], report


@pytest.mark.parametrize("case", list(CASES))
def test_one_bad_row_costs_only_itself(tmp_path, case):
    make, error, rule, uid, where = CASES[case]
    source = make(tmp_path)
    kept, report = _read(source, "skip")
    assert kept == GOOD  # the five others, whatever the reader and the stage
    assert report.videos_kept == 5 and report.videos_skipped == 1
    skipped = report.skipped[0]
    assert (skipped.rule, skipped.video_uid) == (rule, uid)
    if where is None:
        assert skipped.source is None
    else:
        assert re.fullmatch(where, skipped.source), skipped.source
    with pytest.raises(error) as info:
        _read(source, "raise")
    assert type(info.value) is error and info.value.rule == rule
    assert str(info.value) == str(skipped)  # the same words either way


def test_bad_rows_of_every_stage_in_one_batch_and_a_bad_file(tmp_path):
    rows = copy.deepcopy(f.rows(8))
    lines: list[str | bytes] = _lines(rows)
    lines[1] = "{broken"  # parsing
    f.node(rows[3], "1")["start"] = True  # conversion
    lines[3] = json.dumps(rows[3])
    f.node(rows[5], "01")["parent_id"] = "nope"  # tree validation
    lines[5] = json.dumps(rows[5])
    lines.insert(6, "")  # a blank line is no row (and keeps line numbers honest)
    source = _jsonl(tmp_path, lines)
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"not parquet")
    kept, report = _read([source, str(garbage)], "skip")
    assert kept == [f"video{v:06d}" for v in (0, 2, 4, 6, 7)]
    assert sorted((v.rule, v.video_uid, v.source) for v in report.skipped) == [
        ("malformed_row", None, f"{source}:2"),
        ("missing_parent", "video000005", None),
        ("unreadable_source", None, None),
        ("wrong_type", "video000003", f"{source}:4"),
    ]
    assert report.summary() == ("5 videos (35 nodes) kept; 4 skipped (malformed_row: 1, missing_parent: 1, "
                                "unreadable_source: 1, wrong_type: 1)")


def test_parquet_rows_are_named_by_their_row_in_the_file_across_groups_and_fragments(tmp_path):
    rows = [f.video_row(f"video{v:06d}") for v in range(20)]
    f.node(rows[13], "1")["level"] = 40000
    path = tmp_path / "videos.parquet"
    pq.write_table(_wide_levels(rows), path, row_group_size=4)
    for source in (str(path), plan_fragments([str(path)], videos_per_fragment=8)):
        kept, report = _read(source, "skip", prefetch=0)
        assert kept == [row["video_uid"] for i, row in enumerate(rows) if i != 13]
        assert [(v.video_uid, v.source.rsplit(", ", 1)[1]) for v in report.skipped] == [("video000013", "row 13")]


# -- the command line ---------------------------------------------------------------
@pytest.fixture(scope="module")
def broken_jsonl(tmp_path_factory):
    """Six videos: line 3 does not parse, video000004 has a parent that is not in the video."""
    rows = copy.deepcopy(f.rows(6))
    f.node(rows[4], "01")["parent_id"] = "nope"
    lines = _lines(rows)
    lines[2] = "{broken"
    return _jsonl(tmp_path_factory.mktemp("cli"), lines)


def _skip_lines(stderr: str) -> list[str]:
    lines = stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("skipped "))
    return lines[start:]


def test_cli_stats_skip_invalid_names_each_skipped_video(broken_jsonl):
    result = graphkit("stats", broken_jsonl, "--skip-invalid", "--json")
    assert result.returncode == 0, result.stderr
    assert [v["video_uid"] for v in json.loads(result.stdout)["videos"]] == [f"video{v:06d}" for v in (0, 1, 3, 5)]
    assert _skip_lines(result.stderr) == [
        "skipped 2 invalid videos:",
        f"  {broken_jsonl}:3: malformed_row: invalid JSON at column 2: Expecting property name enclosed in double "
        "quotes",
        "  video 'video000004', node 'video000004-n01': missing_parent: parent_id 'nope' is not a node of this video",
    ]
    assert "Traceback" not in result.stderr + result.stdout


def test_cli_stats_without_skipping_is_one_error_line(broken_jsonl):
    result = graphkit("stats", broken_jsonl)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"error: {broken_jsonl}:3: malformed_row: invalid JSON at column 2: "
                                                  "Expecting property name enclosed in double quotes"]


@pytest.mark.parametrize("layout", ["on-disk", "in-memory"])
def test_cli_convert_skip_invalid_says_what_it_skipped(broken_jsonl, tmp_path, layout):
    extra = ["--on-disk"] if layout == "on-disk" else []
    result = graphkit("convert", broken_jsonl, "--out", str(tmp_path / "ds"), "--skip-invalid", "--json", *extra)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["videos"] == 4 and summary["skipped"] == 2
    lines = _skip_lines(result.stderr)
    assert lines[0] == "skipped 2 invalid videos:" and len(lines) == 3
    assert lines[1].startswith(f"  {broken_jsonl}:3: malformed_row: invalid JSON")
    assert lines[2].startswith("  video 'video000004', node 'video000004-n01': missing_parent")
    assert "Traceback" not in result.stderr


def test_cli_stats_skips_an_undecodable_video_uid_without_a_traceback(tmp_path):
    path = tmp_path / "videos.parquet"
    write_parquet(path, 4, seed=1)
    table = pq.read_table(path)
    pq.write_table(f.with_raw_string(table, ("video_uid",), 1, b"\xff\xfe"), path)
    result = graphkit("stats", str(path), "--skip-invalid")
    assert result.returncode == 0, result.stderr
    assert _skip_lines(result.stderr) == [
        "skipped 1 invalid videos:",
        "  video '\\\\xff\\\\xfe': invalid_utf8: video_uid is not valid UTF-8: '\\\\xff\\\\xfe'",
    ]
    failed = graphkit("stats", str(path))
    assert failed.returncode == 2 and "invalid_utf8" in failed.stderr and "Traceback" not in failed.stderr


def test_without_skipping_the_first_bad_row_in_file_order_raises(tmp_path):
    rows = copy.deepcopy(f.rows(6))
    f.node(rows[1], "1")["start"] = "later"  # line 2: found when its batch is converted
    lines: list[str | bytes] = _lines(rows)
    lines[3] = "{broken"  # line 4: found while parsing, after line 2 in the same batch
    source = _jsonl(tmp_path, lines)
    with pytest.raises(RowError, match=rf"^{re.escape(source)}:2: video 'video000001': wrong_type"):
        _read(source, "raise")
