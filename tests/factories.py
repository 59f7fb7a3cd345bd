"""Small, valid Action100M rows built by hand, for tests that mutate them.

Each video is a binary tree whose children tile their parent exactly, built
from a list of split points so tests can say precisely what they hold.
"""

from __future__ import annotations

import copy

import pyarrow as pa

from graphkit.schema import SOURCE_SCHEMA


def video_row(uid: str, splits: dict[str, float] | None = None, duration: float = 16.0) -> dict:
    """One video row. ``splits`` maps a node path ("", "0", "01", ...) to its split time.

    The default splits give 7 nodes: a root, two children, and the first child
    split again, with the second grandchild split once more.
    """
    splits = splits if splits is not None else {"": 8.0, "0": 4.0, "01": 6.0}
    nodes: list[dict] = []

    def add(path: str, parent: str | None, level: int, start: float, end: float) -> None:
        node_id = f"{uid}-n{path or 'root'}"
        gpt = None
        if end - start >= 4.0:
            gpt = {
                "summary": {"brief": f"summary {path}", "detailed": f"details {path}"},
                "action": {"brief": "Cut paper", "detailed": "Cut the paper.", "actor": "a hand"},
            }
        nodes.append(
            {
                "node_id": node_id,
                "parent_id": parent,
                "level": level,
                "start": start,
                "end": end,
                "plm_action": f"action {path}",
                "plm_caption": f"caption {path}",
                "llama3_caption": None if path in splits else f"leaf {path}",
                "gpt": gpt,
            }
        )
        if path in splits:
            mid = splits[path]
            add(path + "0", node_id, level + 1, start, mid)
            add(path + "1", node_id, level + 1, mid, end)

    add("", None, 0, 0.0, duration)
    return {
        "video_uid": uid,
        "metadata": {
            "title": f"How to {uid}",
            "description": "A test video.",
            "view_count": 10,
            "like_count": 1,
            "duration": int(duration),
            "upload_date": "20200101",
            "transcript": [{"time": "0.5", "text": "hello"}],
        },
        "nodes": nodes,
    }


def rows(num_videos: int = 3) -> list[dict]:
    """Several valid video rows with distinct uids."""
    return [video_row(f"video{v:06d}") for v in range(num_videos)]


def table(rows_: list[dict]) -> pa.Table:
    """Rows as an Arrow table in the published schema."""
    return pa.Table.from_pylist(copy.deepcopy(rows_), schema=SOURCE_SCHEMA)


def node(row: dict, path: str) -> dict:
    """The node at ``path`` of a row built by :func:`video_row`."""
    node_id = f"{row['video_uid']}-n{path or 'root'}"
    return next(n for n in row["nodes"] if n["node_id"] == node_id)
