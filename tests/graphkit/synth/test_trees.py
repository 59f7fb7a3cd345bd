"""Tests of graphkit.synth.trees: tree shape and the float32-safe cuts."""

from __future__ import annotations

import collections

import numpy as np

from graphkit.synth import generate_batch
from graphkit.synth.trees import ambiguous


def test_structural_invariants_hold_on_every_video():
    batch = generate_batch(60, seed=9)
    for row in batch.column("nodes").to_pylist():
        by_id = {node["node_id"]: node for node in row}
        assert len(by_id) == len(row)
        roots = [node for node in row if node["parent_id"] is None]
        assert len(roots) == 1
        root = roots[0]
        assert row[0] is root
        assert (root["level"], root["start"]) == (0, 0.0)
        assert root["end"] == max(node["end"] for node in row)
        position = {node["node_id"]: i for i, node in enumerate(row)}
        children = collections.defaultdict(list)
        for node in row:
            assert node["start"] < node["end"]
            if node["parent_id"] is not None:
                assert position[node["parent_id"]] < position[node["node_id"]]
                children[node["parent_id"]].append(node)
        levels = [node["level"] for node in row]
        assert levels == sorted(levels)  # breadth first, as in the real files
        for parent_id, kids in children.items():
            parent = by_id[parent_id]
            assert len(kids) == 2
            first, second = sorted(kids, key=lambda node: node["start"])
            assert first["start"] == parent["start"]
            assert first["end"] == second["start"]
            assert second["end"] == parent["end"]
            assert first["level"] == second["level"] == parent["level"] + 1


def test_cuts_avoid_segments_on_the_gpt_threshold_ambiguous_in_float32():
    # Segments of exactly 4.00 s starting just after 0 s: float32 and float64
    # subtraction of the stored times disagree on a few of them.
    start = np.arange(1, 400)
    flagged = ambiguous(start, start + 400, 4.0)
    start32, end32 = (start / 100).astype(np.float32), ((start + 400) / 100).astype(np.float32)
    in_float32 = (end32 - start32) >= np.float32(4.0)
    in_float64 = (end32.astype(np.float64) - start32.astype(np.float64)) >= 4.0
    np.testing.assert_array_equal(flagged, in_float32 != in_float64)
    assert 0 < flagged.sum() < len(start)
    assert not ambiguous(start, start + 401, 4.0).any()
