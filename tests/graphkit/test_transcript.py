"""Aligning transcript lines to leaves: boundaries, overlaps, bad times, empty transcripts, the report."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pyarrow as pa
import pytest

from graphkit.schema import SOURCE_SCHEMA
from graphkit.synth import generate_batch
from graphkit.testing import example_rows
from graphkit.transcript import REPORT_FIELDS, align_transcript, parse_times
from graphkit.tree import TreeBatch


def _node(node_id, parent, level, start, end):
    return {"node_id": node_id, "parent_id": parent, "level": level, "start": start, "end": end}


TILING = [_node("r", None, 0, 0.0, 4.0), _node("a", "r", 1, 0.0, 1.5), _node("b", "r", 1, 1.5, 4.0)]
# Non-strict: three children of the root, two of them overlapping on [1, 2).
OVERLAPPING = [_node("r", None, 0, 0.0, 4.0), _node("a", "r", 1, 0.0, 2.0), _node("b", "r", 1, 1.0, 3.0),
               _node("c", "r", 1, 3.0, 4.0)]


def _trees(videos: list[tuple[str, list, list | None]], strict: bool = True) -> TreeBatch:
    rows = [{"video_uid": uid, "nodes": nodes,
             "metadata": {"title": "t", "transcript": None if lines is None else
                          [{"time": time, "text": f"line {i}"} for i, time in enumerate(lines)]}}
            for uid, nodes, lines in videos]
    return TreeBatch.from_arrow(pa.Table.from_pylist(rows, schema=SOURCE_SCHEMA), strict=strict)


def _pairs(trees: TreeBatch, transcript) -> list[tuple[int, str]]:
    ids = trees.node_id.take(pa.array(transcript.during_segment)).to_pylist()
    return list(zip(transcript.index[transcript.during_line].tolist(), ids))


def test_boundaries_belong_to_the_leaf_that_starts_there():
    trees = _trees([("v", TILING, ["0", "1.4999", "1.5", "3.99", "4", "4.5"])])
    transcript = align_transcript(trees)
    assert _pairs(trees, transcript) == [(0, "a"), (1, "a"), (2, "b"), (3, "b")]
    # At the video's end (the last leaf's end) and after it: in no leaf, kept, reported.
    assert transcript.index.tolist() == [0, 1, 2, 3, 4, 5]
    (problem,) = transcript.report.problems()
    assert problem["outside"] == 2 and problem["during"] == 4 and problem["stored"] == 6


def test_overlapping_leaves_each_get_the_line():
    trees = _trees([("v", OVERLAPPING, ["0.5", "1", "1.5", "2", "3", "3.5"])], strict=False)
    transcript = align_transcript(trees)
    assert _pairs(trees, transcript) == [(0, "a"), (1, "a"), (1, "b"), (2, "a"), (2, "b"), (3, "b"),
                                         (4, "c"), (5, "c")]
    assert transcript.report.total("during") == 6 and transcript.report.total("outside") == 0


def test_a_leaf_nested_in_a_longer_one_does_not_hide_it():
    # a spans [0, 4); b, which starts later, ends first: a line after b's end is still in a.
    nodes = [_node("r", None, 0, 0.0, 4.0), _node("a", "r", 1, 0.0, 4.0), _node("b", "r", 1, 1.0, 2.0)]
    trees = _trees([("v", nodes, ["1.5", "3"])], strict=False)
    assert _pairs(trees, align_transcript(trees)) == [(0, "a"), (0, "b"), (1, "a")]


@pytest.mark.parametrize(
    ("time", "reason"),
    [("abc", "unparsable"), ("", "unparsable"), (" 1", "unparsable"), ("nan", "unparsable"),
     ("NaN", "unparsable"), ("inf", "unparsable"), ("0x10", "unparsable"), ("1,5", "unparsable"),
     ("-0.5", "negative"), ("-1e3", "negative"), ("1e39", "non_finite"), ("1e400", "non_finite")],
)
def test_bad_times_are_reported_not_stored(time, reason, caplog):
    trees = _trees([("v", TILING, ["1", time, "2"])])
    with caplog.at_level(logging.INFO, logger="graphkit.transcript"):
        transcript = align_transcript(trees)
    assert transcript.index.tolist() == [0, 2]  # the identity of the lines after it is kept
    assert transcript.text.to_pylist() == ["line 0", "line 2"]
    (problem,) = transcript.report.problems()
    assert problem == {"video_uid": "v", "lines": 3, "stored": 2, "during": 2, "outside": 0,
                       "unparsable": 0, "negative": 0, "non_finite": 0, reason: 1}
    assert "video 'v'" in caplog.text and reason.replace("_", "-") in caplog.text
    assert [r.levelname for r in caplog.records] == ["INFO", "WARNING"]


def test_good_times_in_other_spellings():
    seconds, code = parse_times(pa.array(["3", "3.", ".5", "+2", "1e1", "2.5E-1", "-0"]))
    assert code.tolist() == [0] * 7
    assert seconds.tolist() == [3.0, 3.0, 0.5, 2.0, 10.0, 0.25, 0.0]


def test_empty_and_missing_transcripts():
    trees = _trees([("v0", TILING, []), ("v1", TILING, None), ("v2", TILING, ["2"])])
    transcript = align_transcript(trees)
    assert transcript.line_offsets.tolist() == [0, 0, 0, 1]
    assert _pairs(trees, transcript) == [(0, "b")]
    assert transcript.report.problems() == []
    assert transcript.report.counts[:, REPORT_FIELDS.index("lines")].tolist() == [0, 0, 1]


def test_without_metadata_is_refused():
    with pytest.raises(ValueError, match="metadata=True"):
        align_transcript(dataclasses.replace(TreeBatch.from_arrow(example_rows(1)), metadata=None))


def test_null_metadata_has_no_lines():
    transcript = align_transcript(TreeBatch.from_arrow(example_rows(2)))
    assert transcript.num_lines == 0 and transcript.line_offsets.tolist() == [0, 0, 0]


def test_many_videos_with_the_same_times_stay_apart():
    trees = _trees([("v0", TILING, ["1", "2"]), ("v1", TILING, ["2", "1"])])
    transcript = align_transcript(trees)
    segments = trees.node_id.take(pa.array(transcript.during_segment)).to_pylist()
    videos = trees.video_index[transcript.during_segment].tolist()
    assert list(zip(videos, segments)) == [(0, "a"), (0, "b"), (1, "b"), (1, "a")]


def test_matches_a_plain_python_alignment_on_synthetic_data():
    trees = TreeBatch.from_arrow(generate_batch(40, seed=5))
    transcript = align_transcript(trees)
    expected = []
    for v, row in enumerate(trees.metadata.to_pylist()):
        lo, hi = trees.node_offsets[v], trees.node_offsets[v + 1]
        leaves = [i for i in range(lo, hi) if trees.is_leaf[i]]
        for index, line in enumerate((row or {}).get("transcript") or []):
            t = np.float32(float(line["time"]))
            expected += [(v, index, int(i)) for i in sorted(leaves, key=lambda i: trees.start[i])
                         if trees.start[i] <= t < trees.end[i]]
    line = transcript.during_line
    got = list(zip(transcript.video_index[line].tolist(), transcript.index[line].tolist(),
                   transcript.during_segment.tolist()))
    assert got == expected and len(got) > 100


def test_table_and_repr():
    trees = _trees([("v", TILING, ["0.1", "x", "3.3"])])
    transcript = align_transcript(trees)
    assert repr(transcript) == "Transcript(videos=1, lines=2, during=2, outside=0, not_stored=1)"
    assert transcript.to_table(trees).to_pylist() == [
        {"video_uid": "v", "index": 0, "time": 0.1, "text": "line 0", "segments": ["a"]},
        {"video_uid": "v", "index": 2, "time": 3.3, "text": "line 2", "segments": ["b"]},
    ]
