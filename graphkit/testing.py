"""Small valid data for doctests, tests and examples.

Real Action100M files cannot ship with graphkit (they are under a research
licence); :mod:`graphkit.synth` makes realistic data at any scale, and this
module the smallest rows that pass every check, for examples that must read
at a glance, and the PyG batch the model examples run on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from graphkit import schema

if TYPE_CHECKING:
    from torch_geometric.data import Batch

__all__ = ["example_batch", "example_rows"]


def example_rows(num_videos: int) -> pa.Table:
    """Tiny valid Action100M rows: each video a 4 s root with two leaves.

    Args:
        num_videos (int): How many videos (``vid00000000``, ``vid00000001``, ...).

    Returns:
        pyarrow.Table: Rows in the published schema,
        :data:`graphkit.schema.SOURCE_SCHEMA`.

    Examples:
        >>> rows = example_rows(2)
        >>> rows.num_rows, rows.column("video_uid").to_pylist()
        (2, ['vid00000000', 'vid00000001'])
        >>> [node["node_id"] for node in rows.column("nodes")[0].as_py()]
        ['vid00000000-r', 'vid00000000-a', 'vid00000000-b']
    """
    gpt = {
        "summary": {"brief": "Paper is cut.", "detailed": "A hand cuts a sheet of paper."},
        "action": {"brief": "Cut paper", "detailed": "Cut the paper in two.", "actor": "a hand"},
    }
    rows = []
    for v in range(num_videos):
        uid = f"vid{v:08d}"
        node = {"plm_action": "cut paper", "plm_caption": "someone cuts paper"}
        rows.append(
            {
                "video_uid": uid,
                "nodes": [
                    {**node, "node_id": f"{uid}-r", "parent_id": None, "level": 0, "start": 0.0,
                     "end": 4.0, "gpt": gpt},
                    {**node, "node_id": f"{uid}-a", "parent_id": f"{uid}-r", "level": 1, "start": 0.0,
                     "end": 1.0, "llama3_caption": "scissors"},
                    {**node, "node_id": f"{uid}-b", "parent_id": f"{uid}-r", "level": 1, "start": 1.0,
                     "end": 4.0, "llama3_caption": "paper"},
                ],
            }
        )
    return pa.Table.from_pylist(rows, schema=schema.SOURCE_SCHEMA)


def example_batch(num_videos: int = 2, feature_dim: int = 4) -> Batch:
    """:func:`example_rows` as a PyG batch of per-video graphs, every segment feature 1.

    Args:
        num_videos (int, optional): How many videos (3 segments each). (default: :obj:`2`)
        feature_dim (int, optional): Width of ``batch["segment"].x``. (default: :obj:`4`)

    Returns:
        torch_geometric.data.Batch: The batch of :func:`graphkit.pyg.to_hetero_batch`.

    Examples:
        >>> batch = example_batch(2)
        >>> batch.num_graphs, tuple(batch["segment"].x.shape)
        (2, (6, 4))
    """
    import torch

    from graphkit.pyg import to_hetero_batch
    from graphkit.tree import TreeBatch

    trees = TreeBatch.from_arrow(example_rows(num_videos))
    return to_hetero_batch(trees, {"x": torch.ones(trees.num_nodes, feature_dim)})
