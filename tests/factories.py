"""Small, valid Action100M rows built by hand, for tests that mutate them.

Each video is a binary tree whose children tile their parent exactly, built
from a list of split points so tests can say precisely what they hold.
"""

from __future__ import annotations

import copy

import pyarrow as pa

from graphkit import schema
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


#: Captions that break naive CSV writers or string-built Cypher; None means absent.
TRICKY = [
    'say "hi", then\nleave',
    '"}) DETACH DELETE n //',
    "C:\\path\\to\\",
    '\\"',
    "ünïcødé 🎬 中文",
    "",
    None,
    "line\r\nbreak\rand\n",
    "  padded  ",
    "a;b|c\t,",
]
TRANSCRIPT = [
    {"time": "0.5", "text": 'He said "cut, then fold"'},
    {"time": "1.25", "text": "two\nlines; with ; semicolons"},
    {"time": "2", "text": ""},
]


def tricky_rows() -> pa.Table:
    """One video whose root and leaves carry every :data:`TRICKY` string."""
    uid = "trickyVID01"
    gpt = {
        "summary": {"brief": TRICKY[0], "detailed": TRICKY[1]},
        "action": {"brief": "Cut paper", "detailed": TRICKY[2], "actor": TRICKY[4]},
    }
    node_ids = [f"{uid}-{i}" for i in range(3)]
    nodes = [
        {"node_id": node_ids[0], "parent_id": None, "level": 0, "start": 0.0, "end": 4.5,
         "plm_action": TRICKY[3], "plm_caption": TRICKY[5], "llama3_caption": None, "gpt": gpt},
        {"node_id": node_ids[1], "parent_id": node_ids[0], "level": 1, "start": 0.0, "end": 1.1,
         "plm_action": TRICKY[6], "plm_caption": TRICKY[7], "llama3_caption": TRICKY[8]},
        {"node_id": node_ids[2], "parent_id": node_ids[0], "level": 1, "start": 1.1, "end": 4.5,
         "plm_action": "", "plm_caption": TRICKY[9], "llama3_caption": TRICKY[1]},
    ]
    metadata = {
        "title": TRICKY[0], "description": TRICKY[7], "view_count": 2**40, "like_count": None,
        "duration": 5, "upload_date": "20240229", "transcript": TRANSCRIPT,
    }
    return pa.Table.from_pylist(
        [{"video_uid": uid, "metadata": metadata, "nodes": nodes}], schema=schema.SOURCE_SCHEMA
    )


# -- corrupting valid data, one thing at a time (tests/defects) ---------------------------
def raw_strings(values: list[bytes | None]) -> pa.Array:
    """A ``string`` array over these exact bytes, unvalidated, as a corrupt file would hold them."""
    import numpy as np

    data = b"".join(v or b"" for v in values)
    offsets = np.cumsum([0] + [len(v or b"") for v in values]).astype(np.int32)
    validity = None
    if any(v is None for v in values):
        validity = pa.array([v is not None for v in values]).buffers()[1]
    return pa.Array.from_buffers(pa.string(), len(values), [validity, pa.py_buffer(offsets), pa.py_buffer(data)])


def with_leaf(array: pa.Array, path: tuple[str, ...], change) -> pa.Array:
    """``array`` with the leaf at ``path`` (field names; lists are walked through) replaced by ``change(leaf)``."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if not path:
        return change(array)
    mask = array.is_null() if array.null_count else None
    if pa.types.is_list(array.type):
        values = with_leaf(array.values, path, change)
        return pa.ListArray.from_arrays(array.offsets, values, type=pa.list_(values.type), mask=mask)
    children = [with_leaf(array.field(i), path[1:], change) if f.name == path[0] else array.field(i)
                for i, f in enumerate(array.type)]
    fields = [pa.field(f.name, child.type) for f, child in zip(array.type, children)]
    return pa.StructArray.from_arrays(children, fields=fields, mask=mask)


def with_raw_string(table_: pa.Table, path: tuple[str, ...], index: int, raw: bytes | None) -> pa.Table:
    """``table_`` with value ``index`` of the string leaf at ``path`` (e.g. ``("nodes", "node_id")``,
    counted over the flattened leaf) replaced by the bytes ``raw``, without any validation."""

    def change(leaf: pa.Array) -> pa.Array:
        values = leaf.cast(pa.binary()).to_pylist()
        values[index] = raw
        return raw_strings(values)

    column = with_leaf(table_.column(path[0]), path[1:], change)
    return table_.set_column(table_.schema.get_field_index(path[0]), path[0], column)


def node_index(rows_: list[dict], uid: str, path: str) -> int:
    """Position, over all rows' nodes in order, of the node at ``path`` of video ``uid``."""
    before = 0
    for row in rows_:
        if row["video_uid"] == uid:
            return before + row["nodes"].index(node(row, path))
        before += len(row["nodes"])
    raise KeyError(uid)
