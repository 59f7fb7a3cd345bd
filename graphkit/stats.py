"""Per-video and total statistics of video trees: the ``graphkit stats`` contract.

:func:`video_stats` summarises each video of a :class:`~graphkit.tree.TreeBatch`
as one JSON-ready dict, and :class:`StatsAccumulator` folds batches into the
stable JSON object that ``graphkit stats --json`` prints::

    {"videos": [{"video_uid": str, "nodes": int, "leaves": int, "max_level": int,
                 "gpt_nodes": int,
                 "edges": {"PARENT_OF": int, "NEXT": int, "NEXT_LEAF": int, "HAS_ROOT": int}},
                ...],
     "totals": {"nodes": int, "leaves": int, "max_level": int, "gpt_nodes": int,
                "edges": {...}}}

In ``totals`` every count is the sum over videos, except ``max_level``, which
is the maximum (a sum of levels means nothing). ``gpt_nodes`` counts segments
whose ``gpt`` annotation is present (those of 4 s or longer on real data).
The accumulator also keeps the per-level counts, annotation coverage and the
verb-label distribution shown by the human-readable report.

Examples:
    >>> from graphkit.testing import example_rows
    >>> from graphkit.tree import TreeBatch
    >>> acc = StatsAccumulator()
    >>> acc.add(TreeBatch.from_arrow(example_rows(2)))
    >>> acc.to_json()["totals"]
    {'nodes': 6, 'leaves': 4, 'max_level': 1, 'gpt_nodes': 2, 'edges': {'PARENT_OF': 4, 'NEXT': 2, 'NEXT_LEAF': 2, 'HAS_ROOT': 2}}
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

import numpy as np

from graphkit import schema
from graphkit.tree import TreeBatch

__all__ = ["video_stats", "StatsAccumulator", "COVERAGE_FIELDS"]

#: Text properties whose coverage (share of nodes with a value) is reported.
COVERAGE_FIELDS: tuple[str, ...] = ("plm_caption", "plm_action", "llama3_caption", "action_brief")


def _present(trees: TreeBatch, name: str) -> np.ndarray | None:
    column = trees.text.get(name)
    if column is None:
        return None
    return column.is_valid().to_numpy(zero_copy_only=False)


def video_stats(trees: TreeBatch) -> list[dict]:
    """One JSON-ready summary per video, in batch order.

    Args:
        trees (TreeBatch): The videos; ``gpt_nodes`` needs ``gpt`` to have been
            read (it is 0 otherwise).

    Returns:
        list[dict]: The ``videos`` entries of the stats contract.
    """
    v = trees.num_videos
    leaves = np.bincount(trees.video_index[trees.is_leaf], minlength=v)
    max_level = np.full(v, -1, dtype=np.int64)
    np.maximum.at(max_level, trees.video_index, trees.level.astype(np.int64))
    gpt = _present(trees, "action_brief")
    gpt_nodes = np.zeros(v, dtype=np.int64) if gpt is None else np.bincount(trees.video_index[gpt], minlength=v)
    edges = {spec.name: trees.edges_per_video(spec).tolist() for spec in schema.EDGE_TYPES}
    return [
        {
            "video_uid": uid,
            "nodes": int(n),
            "leaves": int(lf),
            "max_level": int(ml),
            "gpt_nodes": int(g),
            "edges": {name: int(counts[i]) for name, counts in edges.items()},
        }
        for i, (uid, n, lf, ml, g) in enumerate(
            zip(trees.video_uid.to_pylist(), trees.nodes_per_video, leaves, max_level, gpt_nodes)
        )
    ]


@dataclass
class StatsAccumulator:
    """Folds tree batches into the stats contract and a human-readable report."""

    videos: list[dict] = field(default_factory=list)
    nodes_per_level: collections.Counter[int] = field(default_factory=collections.Counter)
    covered: collections.Counter[str] = field(default_factory=collections.Counter)
    verbs: collections.Counter[str] = field(default_factory=collections.Counter)
    short_segments: int = 0

    def add(self, trees: TreeBatch) -> None:
        """Add one batch."""
        self.videos.extend(video_stats(trees))
        levels, counts = np.unique(trees.level, return_counts=True)
        self.nodes_per_level.update(dict(zip(levels.tolist(), counts.tolist())))
        self.short_segments += int(np.count_nonzero(trees.duration < 4.0))
        for name in COVERAGE_FIELDS:
            present = _present(trees, name)
            if present is not None:
                self.covered[name] += int(present.sum())
        if "action_brief" in trees.text:
            from graphkit.labels import verb_lemmas

            verbs = verb_lemmas(trees.text["action_brief"])
            self.verbs.update(v for v in verbs.to_pylist() if v is not None)

    def totals(self) -> dict:
        """The ``totals`` entry of the stats contract."""
        totals = {
            "nodes": sum(v["nodes"] for v in self.videos),
            "leaves": sum(v["leaves"] for v in self.videos),
            "max_level": max((v["max_level"] for v in self.videos), default=-1),
            "gpt_nodes": sum(v["gpt_nodes"] for v in self.videos),
            "edges": {spec.name: sum(v["edges"][spec.name] for v in self.videos) for spec in schema.EDGE_TYPES},
        }
        return totals

    def to_json(self) -> dict:
        """The whole stats contract as a JSON-ready dict."""
        return {"videos": self.videos, "totals": self.totals()}

    def report(self, top_verbs: int = 15) -> str:
        """A plain-text report: totals, nodes per level, coverage, top verbs."""
        t = self.totals()
        nodes = max(t["nodes"], 1)
        lines = [
            f"videos: {len(self.videos)}   segments: {t['nodes']}   leaves: {t['leaves']}   "
            f"max level: {t['max_level']}",
            "edges: " + "   ".join(f"{k}: {n}" for k, n in t["edges"].items()),
            f"segments shorter than 4 s: {self.short_segments / nodes:.1%}",
            "nodes per level: " + ", ".join(f"{lvl}: {n}" for lvl, n in sorted(self.nodes_per_level.items())),
            "annotation coverage: "
            + ", ".join(f"{name} {self.covered[name] / nodes:.1%}" for name in COVERAGE_FIELDS if name in self.covered),
        ]
        if self.verbs:
            labelled = sum(self.verbs.values())
            lines.append(f"verb labels ({labelled} labelled segments, {len(self.verbs)} verbs): " + ", ".join(
                f"{verb} {n}" for verb, n in self.verbs.most_common(top_verbs)))
        return "\n".join(lines)
