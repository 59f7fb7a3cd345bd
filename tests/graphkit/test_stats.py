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


def test_accumulator_keeps_no_per_video_state():
    """Memory held after 4N videos is what it was after N: records are handed back, not kept."""
    import gc
    import json
    import tracemalloc

    from graphkit.synth import generate_batch

    trees = TreeBatch.from_arrow(generate_batch(50, seed=5))
    acc = StatsAccumulator()
    records = acc.add(trees)  # warm up: counters get their keys, lazy imports happen
    assert len(records) == 50
    del records
    gc.collect()
    tracemalloc.start()
    try:
        acc.add(trees)
        gc.collect()
        after_one = tracemalloc.get_traced_memory()[0]
        for _ in range(6):
            acc.add(trees)
        gc.collect()
        after_seven = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert acc.videos == 8 * 50 and acc.totals()["nodes"] == 8 * trees.num_nodes
    # Keeping six batches' records would cost more than six times their JSON text (dicts are bigger);
    # allow one batch's worth for lazy caches and counter resizing.
    per_batch = len(json.dumps(video_stats(trees)))
    assert after_seven - after_one < per_batch, (after_one, after_seven, per_batch)


def test_streamed_json_is_the_contract_in_one_object():
    import json

    from graphkit.stats import iter_stats_json

    batches = [TreeBatch.from_arrow(f.table(rows)) for rows in (f.rows(2), [], [f.video_row("other", splits={"": 8.0})])]
    text = "".join(iter_stats_json(batches))
    whole = json.loads(text)
    assert [v["video_uid"] for v in whole["videos"]] == ["video000000", "video000001", "other"]
    assert whole["totals"]["nodes"] == sum(v["nodes"] for v in whole["videos"]) == 17
    assert text == json.dumps(whole)  # exactly what json.dumps of the whole object prints
    assert json.loads("".join(iter_stats_json([]))) == {
        "videos": [], "totals": {"nodes": 0, "leaves": 0, "max_level": -1, "gpt_nodes": 0,
                                 "edges": {"PARENT_OF": 0, "NEXT": 0, "NEXT_LEAF": 0, "HAS_ROOT": 0}}}
