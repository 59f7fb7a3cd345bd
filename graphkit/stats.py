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
Memory is bounded whatever the number of videos: the accumulator keeps no
per-video state, only running totals and three counters for the
human-readable report: nodes per level (one entry per tree depth), annotation
coverage (one per :data:`COVERAGE_FIELDS`) and the verb-label distribution
(one entry per distinct verb lemma, so bounded by the verb vocabulary, a few
thousand on real data, not by the number of segments). :meth:`StatsAccumulator.add`
hands each batch's per-video records back to the caller, and
:func:`iter_stats_json` turns a stream of batches into the text of the JSON
object chunk by chunk, so ``graphkit stats --json`` writes the ``videos``
array as it goes and its peak memory does not grow with the dataset.

Examples:
    >>> import json
    >>> from graphkit.testing import example_rows
    >>> from graphkit.tree import TreeBatch
    >>> acc = StatsAccumulator()
    >>> [v["video_uid"] for v in acc.add(TreeBatch.from_arrow(example_rows(2)))]
    ['vid00000000', 'vid00000001']
    >>> acc.totals()
    {'nodes': 6, 'leaves': 4, 'max_level': 1, 'gpt_nodes': 2, 'edges': {'PARENT_OF': 4, 'NEXT': 2, 'NEXT_LEAF': 2, 'HAS_ROOT': 2}}
    >>> text = "".join(iter_stats_json([TreeBatch.from_arrow(example_rows(2))]))
    >>> json.loads(text)["totals"] == acc.totals()
    True
"""

from __future__ import annotations

import collections
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow.compute as pc

from graphkit import schema
from graphkit.tree import TreeBatch

__all__ = ["video_stats", "StatsAccumulator", "iter_stats_json", "COVERAGE_FIELDS"]

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
    """Folds tree batches into the stats totals and a human-readable report.

    Holds no per-video state: :meth:`add` returns each batch's ``videos``
    entries instead of keeping them, so memory stays the same for ten videos
    or ten million (see the module docstring for the counters it keeps).

    Attributes:
        videos (int): Videos added so far.
        nodes (int): Segments added so far.
        leaves (int): Leaf segments added so far.
        max_level (int): Deepest level seen (``-1`` before any node).
        gpt_nodes (int): Segments with a ``gpt`` annotation.
        edges (Counter[str]): Edges per edge type name.
        nodes_per_level (Counter[int]): Segments per tree level.
        covered (Counter[str]): Segments with a value, per coverage field.
        verbs (Counter[str]): Labelled segments per verb lemma.
        short_segments (int): Segments shorter than 4 s.
    """

    videos: int = 0
    nodes: int = 0
    leaves: int = 0
    max_level: int = -1
    gpt_nodes: int = 0
    edges: collections.Counter[str] = field(default_factory=collections.Counter)
    nodes_per_level: collections.Counter[int] = field(default_factory=collections.Counter)
    covered: collections.Counter[str] = field(default_factory=collections.Counter)
    verbs: collections.Counter[str] = field(default_factory=collections.Counter)
    short_segments: int = 0

    def add(self, trees: TreeBatch) -> list[dict]:
        """Add one batch and return its ``videos`` entries (not kept).

        Args:
            trees (TreeBatch): The videos of one batch.

        Returns:
            list[dict]: :func:`video_stats` of the batch, for the caller to
            write out or drop.
        """
        records = video_stats(trees)
        self.videos += len(records)
        for record in records:
            self.leaves += record["leaves"]
            self.gpt_nodes += record["gpt_nodes"]
            self.max_level = max(self.max_level, record["max_level"])
            self.edges.update(record["edges"])
        self.nodes += int(trees.num_nodes)
        levels, counts = np.unique(trees.level, return_counts=True)
        self.nodes_per_level.update(dict(zip(levels.tolist(), counts.tolist())))
        self.short_segments += int(np.count_nonzero(trees.duration < 4.0))
        for name in COVERAGE_FIELDS:
            present = _present(trees, name)
            if present is not None:
                self.covered[name] += int(present.sum())
        if "action_brief" in trees.text:
            from graphkit.labels import verb_lemmas

            counts = pc.value_counts(verb_lemmas(trees.text["action_brief"]).drop_null())
            self.verbs.update(dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist())))
        return records

    def totals(self) -> dict:
        """The ``totals`` entry of the stats contract."""
        return {
            "nodes": self.nodes,
            "leaves": self.leaves,
            "max_level": self.max_level,
            "gpt_nodes": self.gpt_nodes,
            "edges": {spec.name: self.edges[spec.name] for spec in schema.EDGE_TYPES},
        }

    def report(self, top_verbs: int = 15) -> str:
        """A plain-text report: totals, nodes per level, coverage, top verbs.

        Args:
            top_verbs (int, optional): Most frequent verbs listed. (default: :obj:`15`)

        Returns:
            str: The report, one fact per line.
        """
        t = self.totals()
        nodes = max(t["nodes"], 1)
        lines = [
            f"videos: {self.videos}   segments: {t['nodes']}   leaves: {t['leaves']}   "
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


def iter_stats_json(batches: Iterable[TreeBatch], accumulator: StatsAccumulator | None = None) -> Iterator[str]:
    """The stats contract's JSON text, chunk by chunk, without holding its ``videos`` list.

    The chunks joined are exactly ``json.dumps({"videos": [...], "totals": {...}})``:
    the opening, then the ``videos`` entries of each batch as it is added,
    then ``totals`` once the batches are done.

    Args:
        batches (Iterable[TreeBatch]): The videos, batch by batch (consumed lazily).
        accumulator (StatsAccumulator, optional): Folds the batches; pass one to
            read its counters afterwards (a fresh one by default).

    Yields:
        str: Pieces of one JSON object; write them in order.
    """
    accumulator = accumulator if accumulator is not None else StatsAccumulator()
    yield '{"videos": ['
    first = True
    for trees in batches:
        records = accumulator.add(trees)
        if records:
            yield ("" if first else ", ") + ", ".join(json.dumps(record) for record in records)
            first = False
    yield '], "totals": ' + json.dumps(accumulator.totals()) + "}"
