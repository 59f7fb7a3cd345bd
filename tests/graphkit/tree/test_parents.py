from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from graphkit import schema
from graphkit.errors import InvariantError
from graphkit.tree import TreeBatch
from tests import factories as f


def test_non_uuid_ids_take_the_dictionary_path_with_same_result():
    rows = f.rows(2)
    short = TreeBatch.from_arrow(f.table(rows))
    # Same node ids reused in two videos: legal across videos, resolved per video.
    for row in rows:
        for n in row["nodes"]:
            n["node_id"] = n["node_id"].split("-")[1]
            if n["parent_id"]:
                n["parent_id"] = n["parent_id"].split("-")[1]
    shared = TreeBatch.from_arrow(f.table(rows))
    assert np.array_equal(shared.parent, short.parent)


def _fixed_width_rows(width: int):
    """Rows whose ids all have ``width`` characters (the fast id-join path)."""
    rows = f.rows(2)
    for v, row in enumerate(rows):
        names = {n["node_id"]: f"{v}{i}".rjust(width, "x") for i, n in enumerate(row["nodes"])}
        for n in row["nodes"]:
            n["node_id"] = names[n["node_id"]]
            n["parent_id"] = names.get(n["parent_id"])
    return rows


@pytest.mark.parametrize("width", [8, 12, 36])
def test_fixed_width_ids_resolve_like_variable_ones(width):
    expected = TreeBatch.from_arrow(f.table(f.rows(2)))
    trees = TreeBatch.from_arrow(f.table(_fixed_width_rows(width)))
    assert np.array_equal(trees.parent, expected.parent)


def test_fixed_width_parent_differing_in_last_byte_is_missing():
    rows = _fixed_width_rows(12)
    node = rows[1]["nodes"][3]
    node["parent_id"] = node["parent_id"][:-1] + "#"
    with pytest.raises(InvariantError, match="missing_parent"):
        TreeBatch.from_arrow(f.table(rows))


def test_fixed_width_ids_repeated_across_videos():
    rows = _fixed_width_rows(12)
    second = rows[1]
    names = {n["node_id"]: rows[0]["nodes"][i]["node_id"] for i, n in enumerate(second["nodes"])}
    for n in second["nodes"]:
        n["node_id"] = names[n["node_id"]]
        n["parent_id"] = names.get(n["parent_id"])
    trees = TreeBatch.from_arrow(f.table(rows))
    assert np.array_equal(trees.parent, TreeBatch.from_arrow(f.table(f.rows(2))).parent)


def test_layout_guess_and_hash_join_agree_on_shuffled_rows():
    """Rows in (level, start) order take the guess-by-time path; shuffled rows the hash join."""
    from graphkit.synth import generate_batch

    table = pa.Table.from_batches([generate_batch(6, seed=11)])
    ordered = TreeBatch.from_arrow(table)
    rows = table.to_pylist()
    rng = np.random.default_rng(0)
    for row in rows:
        row["nodes"] = [row["nodes"][i] for i in rng.permutation(len(row["nodes"]))]
    shuffled = TreeBatch.from_arrow(pa.Table.from_pylist(rows, schema=table.schema))
    as_ids = lambda t: {  # noqa: E731
        t.node_id[i].as_py(): (t.node_id[t.parent[i]].as_py() if t.parent[i] >= 0 else None)
        for i in range(t.num_nodes)
    }
    assert as_ids(ordered) == as_ids(shuffled)


@pytest.mark.parametrize("defect", ["missing", "wrong_level"])
def test_layout_ordered_rows_with_a_bad_parent_id_are_still_caught(defect):
    from graphkit.synth import generate_batch

    rows = pa.Table.from_batches([generate_batch(3, seed=4)]).to_pylist()
    nodes = rows[1]["nodes"]
    child = next(n for n in nodes if n["level"] == 3)
    child["parent_id"] = "0" * 36 if defect == "missing" else nodes[0]["node_id"]
    rule = "missing_parent" if defect == "missing" else "level_mismatch"
    with pytest.raises(InvariantError, match=rule) as info:
        TreeBatch.from_arrow(pa.Table.from_pylist(rows, schema=schema.SOURCE_SCHEMA))
    assert info.value.video_uid == rows[1]["video_uid"]
