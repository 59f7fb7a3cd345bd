from __future__ import annotations

from graphkit.stats import StatsAccumulator, video_stats
from graphkit.tree import TreeBatch
from tests import factories as f


def test_video_stats_of_a_known_tree():
    trees = TreeBatch.from_arrow(f.table(f.rows(2)))
    stats = video_stats(trees)
    assert stats[0] == {
        "video_uid": "video000000", "nodes": 7, "leaves": 4, "max_level": 3, "gpt_nodes": 5,
        "edges": {"PARENT_OF": 6, "NEXT": 3, "NEXT_LEAF": 3, "HAS_ROOT": 1},
    }


def test_accumulator_over_batches_and_report():
    acc = StatsAccumulator()
    for rows in (f.rows(2), [f.video_row("other", splits={"": 8.0})]):
        acc.add(TreeBatch.from_arrow(f.table(rows)))
    totals = acc.totals()
    assert totals["nodes"] == 17 and totals["max_level"] == 3 and totals["edges"]["HAS_ROOT"] == 3
    report = acc.report()
    assert "videos: 3   segments: 17   leaves: 10   max level: 3" in report
    assert "nodes per level: 0: 3, 1: 6, 2: 4, 3: 4" in report
    assert "verb labels (13 labelled segments, 1 verbs): cut 13" in report
