"""Small valid data for doctests, tests and examples.

Real Action100M files cannot ship with graphkit (they are under a research
licence); :mod:`graphkit.synth` makes realistic data at any scale, and this
module the smallest rows that pass every check, for examples that must read
at a glance.
"""

from __future__ import annotations

import pyarrow as pa

from graphkit import schema

__all__ = ["example_rows"]


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
