"""Shared checks of the task tests: junk in place of what a model must not read, and batch equality."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import torch

from graphkit.tree import TreeBatch

__all__ = ["junk", "junk_transcript", "assert_same_inputs"]


def junk(trees: TreeBatch, replace: np.ndarray, *, text: bool = True, timing: bool = False,
         children: bool = False, seed: int = 0) -> TreeBatch:
    """``trees`` with the nodes in ``replace`` given random text, times (ending at least where they
    did) and, with ``children``, other parents (their video's root) and levels."""
    rng = np.random.default_rng(seed)
    nodes = np.flatnonzero(replace)
    out = {}
    if text:
        columns = {}
        for name, column in trees.text.items():
            values = column.to_pylist()
            for node in nodes:
                values[node] = f"junk {rng.integers(1 << 30)} words {rng.integers(1 << 30)}"
            columns[name] = pa.array(values, type=column.type)
        out["text"] = columns
    if timing:
        end = trees.end.copy()
        start = trees.start.copy()
        end[nodes] = end[nodes] + rng.uniform(0.5, 50.0, nodes.size).astype(np.float32)
        start[nodes] = (end[nodes] * rng.uniform(0.0, 1.0, nodes.size)).astype(np.float32)
        out["start"], out["end"] = start, end
    if children:
        parent, level = trees.parent.copy(), trees.level.copy()
        roots = trees.root[trees.video_index[nodes]]
        moved = nodes[nodes != roots]
        parent[moved] = trees.root[trees.video_index[moved]]
        level[moved] = rng.integers(1, 30, moved.size).astype(level.dtype)
        out["parent"], out["level"] = parent, level
    return dataclasses.replace(trees, tiling=False, **out)


def junk_transcript(trees: TreeBatch, video: int, low: float, high: float, *, seed: int = 0) -> TreeBatch:
    """``trees`` with every transcript line of ``video`` timed outside ``[low, high)`` given random
    text, and one more such line added (at ``high``, or before ``low`` where ``high`` is infinite)."""
    rng = np.random.default_rng(seed)
    rows = trees.metadata.to_pylist()
    lines = list(rows[video]["transcript"] or [])
    changed = 0
    for line in lines:
        time = float(line["time"])
        if not low <= time < high:
            line["text"] = f"junk {rng.integers(1 << 30)} words {rng.integers(1 << 30)}"
            changed += 1
    extra = high if np.isfinite(high) else max(low - 1.0, 0.0)
    lines.append({"time": repr(float(extra)), "text": f"more junk {rng.integers(1 << 30)}"})
    rows[video]["transcript"] = lines
    metadata = pa.array(rows, type=trees.metadata.type)
    return dataclasses.replace(trees, metadata=metadata)


def assert_same_inputs(a, b) -> None:
    """Two PyG batches hold the same stores, attributes and bit-identical tensors."""
    assert a.node_types == b.node_types and sorted(a.edge_types) == sorted(b.edge_types)
    for key in [*a.node_types, *a.edge_types]:
        left, right = a[key], b[key]
        assert sorted(left.keys()) == sorted(right.keys()), key
        for name in left.keys():
            x, y = left[name], right[name]
            if isinstance(x, torch.Tensor):
                assert x.dtype == y.dtype and x.shape == y.shape and torch.equal(x, y), (key, name)
            else:
                assert x == y, (key, name)
