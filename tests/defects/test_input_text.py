"""Every text field gets the same checks: encoding, size, nulls, one defect at a time.

Each case writes six valid videos to parquet (the published schema), then
corrupts exactly one value of one field of ``video000002``, as a damaged or
hostile file would hold it (raw bytes, never validated on the way in). The
outcome is asserted both ways: without skipping, the exact error (class,
rule, video, node); with skipping, exactly the five other videos kept and
the bad one reported once, by name. Limits are those of
:mod:`graphkit.validation` (``MAX_ID_BYTES``, ``MAX_TEXT_BYTES``).
"""

from __future__ import annotations

import copy
import io
import json
import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from graphkit.errors import InvariantError, RowError
from graphkit.loaders.config import ReaderConfig
from graphkit.loaders.json import iter_jsonl_batches
from graphkit.loaders.trees import iter_tree_batches
from graphkit.validation import MAX_ID_BYTES, MAX_TEXT_BYTES, ValidationConfig, ValidationReport
from tests import factories as f

UIDS = [f"video{v:06d}" for v in range(6)]
BAD = "video000002"
GOOD = [uid for uid in UIDS if uid != BAD]
LONG_ID = b"x" * (10 * 1024)  # a 10 KB id: passes a naive reader, then fails a Neo4j index
LONG_TEXT = b"y" * (MAX_TEXT_BYTES + 1)
INVALID = b"cut \xff\xfe paper"


def node_id(path: str) -> str:
    return f"{BAD}-n{path or 'root'}"


def raw(path: tuple[str, ...], value: bytes | None, node: str | None = None):
    """Corrupt the leaf ``path`` of video BAD (its node ``node``, for a node field)."""

    def make(rows: list[dict]) -> pa.Table:
        # A node field is counted over all nodes; a metadata field (and the one
        # transcript entry each video has) over videos.
        index = f.node_index(rows, BAD, node) if path[0] == "nodes" else UIDS.index(BAD)
        return f.with_raw_string(f.table(rows), path, index, value)

    return make


def edit(change):
    def make(rows: list[dict]) -> pa.Table:
        change(next(r for r in rows if r["video_uid"] == BAD))
        return f.table(rows)

    return make


def _transcript(entries):
    return edit(lambda row: row["metadata"].__setitem__("transcript", entries))


# id -> (make the table, rule, reported video_uid, reported node_id, message regex)
CASES = {
    # video_uid: encoding, emptiness, size
    "video_uid-invalid-utf8": (raw(("video_uid",), b"video00000\xff"), "invalid_utf8", "video00000\\xff", None,
                               r"video_uid is not valid UTF-8: 'video00000\\\\xff'"),
    "video_uid-empty": (raw(("video_uid",), b""), "empty_id", "", None, r"video_uid is empty"),
    "video_uid-10KB": (raw(("video_uid",), LONG_ID), "oversized_id", LONG_ID.decode(), None,
                       rf"video_uid is 10240 bytes, longer than {MAX_ID_BYTES}"),
    # node_id (a leaf, so no child refers to it)
    "node_id-invalid-utf8": (raw(("nodes", "node_id"), INVALID, "1"), "invalid_utf8", BAD,
                             INVALID.decode(errors="backslashreplace"), r"node_id is not valid UTF-8: 'cut \\\\xff\\\\xfe paper'"),
    "node_id-empty": (raw(("nodes", "node_id"), b"", "1"), "empty_id", BAD, "", r"node_id is empty"),
    "node_id-10KB": (raw(("nodes", "node_id"), LONG_ID, "1"), "oversized_id", BAD, LONG_ID.decode(),
                     rf"node_id is 10240 bytes, longer than {MAX_ID_BYTES}"),
    # parent_id
    "parent_id-invalid-utf8": (raw(("nodes", "parent_id"), INVALID, "1"), "invalid_utf8", BAD, node_id("1"),
                               r"parent_id is not valid UTF-8"),
    "parent_id-10KB": (raw(("nodes", "parent_id"), LONG_ID, "1"), "oversized_id", BAD, node_id("1"),
                       rf"parent_id is 10240 bytes, longer than {MAX_ID_BYTES}"),
    # captions and gpt fields
    "plm_caption-invalid-utf8": (raw(("nodes", "plm_caption"), INVALID, "01"), "invalid_utf8", BAD, node_id("01"),
                                 r"plm_caption is not valid UTF-8"),
    "llama3_caption-over-limit": (raw(("nodes", "llama3_caption"), LONG_TEXT, "1"), "oversized_string", BAD,
                                  node_id("1"), rf"llama3_caption is {MAX_TEXT_BYTES + 1} bytes, longer than "
                                                rf"{MAX_TEXT_BYTES}"),
    "gpt.action.brief-invalid-utf8": (raw(("nodes", "gpt", "action", "brief"), INVALID, "1"), "invalid_utf8", BAD,
                                      node_id("1"), r"action_brief is not valid UTF-8"),
    "gpt.summary.detailed-over-limit": (raw(("nodes", "gpt", "summary", "detailed"), LONG_TEXT, ""),
                                        "oversized_string", BAD, node_id(""), r"summary_detailed is \d+ bytes"),
    "gpt.action.actor-invalid-utf8": (raw(("nodes", "gpt", "action", "actor"), INVALID, "0"), "invalid_utf8", BAD,
                                      node_id("0"), r"actor is not valid UTF-8"),
    # metadata
    "metadata.title-invalid-utf8": (raw(("metadata", "title"), INVALID), "invalid_utf8", BAD, None,
                                    r"metadata\.title is not valid UTF-8"),
    "metadata.description-over-limit": (raw(("metadata", "description"), LONG_TEXT), "oversized_string", BAD, None,
                                        r"metadata\.description is \d+ bytes"),
    "metadata.upload_date-invalid-utf8": (raw(("metadata", "upload_date"), b"2020\xc0\xaf01"), "invalid_utf8", BAD,
                                          None, r"metadata\.upload_date is not valid UTF-8"),
    # transcript: every entry and its time and text set (a Neo4j list property holds no null)
    "transcript-null-entry": (_transcript([{"time": "0.5", "text": "hi"}, None]), "null_in_list", BAD, None,
                              r"entry 1 of metadata\.transcript is null"),
    "transcript-null-text": (_transcript([{"time": "0.5", "text": None}]), "null_in_list", BAD, None,
                             r"metadata\.transcript\.text of entry 0 is null"),
    "transcript-null-time": (_transcript([{"time": None, "text": "hi"}]), "null_in_list", BAD, None,
                             r"metadata\.transcript\.time of entry 0 is null"),
    "transcript-text-invalid-utf8": (raw(("metadata", "transcript", "text"), INVALID), "invalid_utf8", BAD, None,
                                     r"metadata\.transcript\.text of entry 0 is not valid UTF-8"),
    "transcript-text-over-limit": (raw(("metadata", "transcript", "text"), LONG_TEXT), "oversized_string", BAD, None,
                                   r"metadata\.transcript\.text of entry 0 is \d+ bytes"),
}


def _write(tmp_path, make) -> str:
    path = tmp_path / "videos.parquet"
    pq.write_table(make(copy.deepcopy(f.rows(6))), path)
    return str(path)


def _read(path: str, errors: str) -> tuple[list[str], ValidationReport]:
    report = ValidationReport()
    batches = iter_tree_batches(path, node_fields=None, metadata=True, validation=ValidationConfig(errors=errors),
                                report=report)
    return [uid for trees in batches for uid in trees.video_uid.to_pylist()], report


@pytest.mark.parametrize("case", list(CASES))
def test_text_defect_raises_naming_video_and_node(tmp_path, case):
    make, rule, uid, nid, message = CASES[case]
    path = _write(tmp_path, make)
    with pytest.raises(InvariantError) as info:
        _read(path, "raise")
    err = info.value
    assert (err.rule, err.video_uid, err.node_id) == (rule, uid, nid)
    assert type(err) is InvariantError
    text = str(err)
    assert len(text) < 400  # values quoted truncated, never whole
    assert re.search(message, text), text


@pytest.mark.parametrize("case", list(CASES))
def test_text_defect_skips_exactly_that_video(tmp_path, case):
    make, rule, uid, _, _ = CASES[case]
    kept, report = _read(_write(tmp_path, make), "skip")
    assert kept == GOOD
    assert [(v.rule, v.video_uid) for v in report.skipped] == [(rule, uid)]


def test_message_for_one_defect_does_not_fail_on_another(tmp_path):
    # An oversized caption is reported while a later text field of the same node is not UTF-8:
    # building the first message must not decode the second value.
    def make(rows):
        table = raw(("nodes", "plm_action"), LONG_TEXT, "1")(rows)
        return f.with_raw_string(table, ("nodes", "llama3_caption"), f.node_index(rows, BAD, "1"), INVALID)

    with pytest.raises(InvariantError) as info:
        _read(_write(tmp_path, make), "raise")
    assert info.value.rule == "oversized_string" and "plm_action is" in str(info.value)
    kept, report = _read(_write(tmp_path, make), "skip")
    assert kept == GOOD and [v.rule for v in report.skipped] == ["oversized_string"]


def test_lone_surrogate_in_json_text_is_invalid_utf8_for_that_line():
    rows = f.rows(6)
    lines = [json.dumps(row) for row in rows]
    lines[2] = lines[2].replace('"caption 01"', '"caption \\ud800"')  # valid JSON, impossible UTF-8
    config = ReaderConfig(on_bad_rows="skip")
    seen = []
    batches = iter_jsonl_batches(io.BytesIO("\n".join(lines).encode()), config, source="v.jsonl",
                                 on_bad_row=seen.append)
    assert [uid for b in batches for uid in b.column("video_uid").to_pylist()] == GOOD
    assert [(v.source, v.video_uid, v.rule) for v in seen] == [("v.jsonl:3", BAD, "invalid_utf8")]
    with pytest.raises(RowError, match=r"v\.jsonl:3: video 'video000002': invalid_utf8: column 'nodes\.plm_caption'"):
        list(iter_jsonl_batches(io.BytesIO("\n".join(lines).encode()), ReaderConfig(), source="v.jsonl"))


def test_a_496_kb_value_is_quoted_truncated():
    rows = f.rows(3)
    rows[2]["nodes"][1]["start"] = "9" * 496_000  # a string where a number is expected
    data = "\n".join(json.dumps(row) for row in rows).encode()
    with pytest.raises(RowError) as info:
        list(iter_jsonl_batches(io.BytesIO(data), ReaderConfig(), source="big.jsonl"))
    assert str(info.value).startswith("big.jsonl:3: video 'video000002': wrong_type: column 'nodes.start'")
    assert len(str(info.value)) < 400
