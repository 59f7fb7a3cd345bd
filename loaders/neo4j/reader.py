"""Read video trees back from Neo4j into graphkit's columnar form.

:func:`read_trees` is the inverse of :func:`graphkit.loaders.neo4j.writer.load_trees`:
it fetches ``:Video`` nodes, their ``:Segment`` s and the ``PARENT_OF``
relationships (:mod:`graphkit.loaders.neo4j.cypher`), rebuilds rows in the published Arrow
schema (:data:`graphkit.schema.SOURCE_SCHEMA`: the flattened ``gpt``
properties nested again, ``transcript_time``/``transcript_text`` zipped back
into the transcript) and decodes them with
:meth:`graphkit.tree.TreeBatch.from_arrow`, which checks every invariant
again.

**Order.** Neo4j keeps no order among nodes. Segments come back in canonical
order: by level, then start time, then ``node_id`` -- breadth-first, each
level in time order, which is exactly how the published files (and
:mod:`graphkit.synth`) list them. So a parquet -> Neo4j -> back round trip
equals the original array for array, with no extra ``position`` property
stored; a source listed in another order comes back in this canonical order.
Videos come back in the order of ``video_uids``, or sorted by ``video_uid``
when all are read.

**Nulls.** A property that is absent in Neo4j is null here. A node's ``gpt``
struct is null when all five flattened fields are absent; a video's
``metadata`` is a struct whose fields are null where absent (a video loaded
without metadata reads back with all-null metadata).

Each request fetches at most ``chunk_size`` videos in one read transaction
(``session.execute_read``), with the rows returned column-wise per video
(lists of values per property) so that no per-segment Python logic runs.

A typical read (not run here: it needs a server)::

    from graphkit.loaders.neo4j.reader import read_trees
    from graphkit.loaders.neo4j.connection import connect

    with connect() as driver:
        trees = read_trees(driver, ["dQw4w9WgXcQ"])
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from graphkit import schema
from graphkit.errors import Neo4jLoadError
from graphkit.loaders.neo4j import cypher, transcript_cypher
from graphkit.loaders.neo4j.connection import neo4j_errors
from graphkit.loaders.neo4j.rows import METADATA_PROPERTIES
from graphkit.tree import TreeBatch

if TYPE_CHECKING:
    import neo4j

__all__ = ["read_trees", "rows_to_source_table", "read_transcripts"]


def _fetch(tx: neo4j.ManagedTransaction, query: str, rows: list) -> list[dict]:
    return [record.data() for record in tx.run(query, rows=rows)]


def read_trees(
    driver: neo4j.Driver,
    video_uids: Sequence[str] | None = None,
    *,
    database: str = "neo4j",
    chunk_size: int = 1000,
) -> TreeBatch:
    """Load videos from Neo4j into one :class:`~graphkit.tree.TreeBatch`.

    Args:
        driver (neo4j.Driver): The driver (see :func:`graphkit.loaders.neo4j.writer.connect`).
        video_uids (Sequence[str], optional): The videos, in the order wanted;
            every video in the database by default (sorted by ``video_uid``).
            (default: :obj:`None`)
        database (str, optional): The database. (default: :obj:`"neo4j"`)
        chunk_size (int, optional): Videos fetched per read transaction.
            (default: :obj:`1000`)

    Returns:
        TreeBatch: The videos with every Segment text property and the
        metadata, validated as on reading a file.

    Raises:
        ValueError: If ``chunk_size`` is not a positive integer or
            ``video_uids`` repeats a video.
        Neo4jLoadError: If a requested video is not in the database, or the
            server cannot be reached, refuses the credentials or lacks the
            database.
        InvariantError: If the stored tree breaks an invariant.
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    with neo4j_errors(database), driver.session(database=database) as session:
        if video_uids is None:
            uids = [r[schema.VIDEO.key] for r in session.execute_read(_fetch, cypher.read_video_uids_query(), [])]
        else:
            uids = [str(uid) for uid in video_uids]
            if len(set(uids)) != len(uids):
                repeated = next(uid for uid in uids if uids.count(uid) > 1)
                raise ValueError(f"video_uids repeats {repeated!r}")
        videos: dict[str, dict] = {}
        segments: dict[str, dict] = {}
        for start in range(0, len(uids), chunk_size):
            chunk = uids[start : start + chunk_size]
            for record in session.execute_read(_fetch, cypher.read_videos_query(), chunk):
                videos[record[schema.VIDEO.key]] = record
            for record in session.execute_read(_fetch, cypher.read_segments_query(), chunk):
                segments[record[schema.VIDEO.key]] = record
    missing = [uid for uid in uids if uid not in videos]
    if missing:
        raise Neo4jLoadError(
            f"video {missing[0]!r} is not in Neo4j database {database!r}"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
        )
    table = rows_to_source_table([videos[uid] for uid in uids], [segments.get(uid) for uid in uids])
    return TreeBatch.from_arrow(table)


def _struct(fields: dict[str, pa.Array], mask: np.ndarray | None = None) -> pa.StructArray:
    return pa.StructArray.from_arrays(
        list(fields.values()), names=list(fields), mask=None if mask is None else pa.array(mask, type=pa.bool_())
    )


def rows_to_source_table(videos: list[dict], segments: list[dict | None]) -> pa.Table:
    """Rows in :data:`~graphkit.schema.SOURCE_SCHEMA` from read-back records.

    Args:
        videos (list[dict]): One map of :data:`~graphkit.schema.VIDEO`
            properties per video (as :func:`graphkit.loaders.neo4j.cypher.read_videos_query`
            returns them).
        segments (list[dict or None]): For each video, the column-wise record
            of :func:`graphkit.loaders.neo4j.cypher.read_segments_query` (a list per
            property), or :obj:`None` for a video without segments.

    Returns:
        pyarrow.Table: One row per video, in the published schema.

    Examples:
        >>> video = {"video_uid": "v1", "title": "t", "transcript_time": ["0.5"],
        ...          "transcript_text": ["hi"]}
        >>> nodes = {"node_id": ["r"], "parent_id": [None], "level": [0], "start": [0.0],
        ...          "end": [2.0], "action_brief": ["Cut paper"]}
        >>> table = rows_to_source_table([video], [nodes])
        >>> table.schema.equals(schema.SOURCE_SCHEMA)
        True
        >>> row = table.to_pylist()[0]
        >>> row["metadata"]["transcript"], row["nodes"][0]["gpt"]["action"]["brief"]
        ([{'time': '0.5', 'text': 'hi'}], 'Cut paper')
    """
    counts = np.array([0 if s is None else len(s["node_id"]) for s in segments], dtype=np.int64)
    node_type = schema.NODE_TYPE

    def column(name: str) -> list:
        # One list per video, joined: a loop per video and property, not per node.
        values: list = []
        for record, count in zip(segments, counts):
            if count:
                found = record.get(name)  # type: ignore[union-attr]
                values.extend(found if found is not None else [None] * int(count))
        return values

    node_columns: dict[str, pa.Array] = {}
    for name in ("node_id", "parent_id", "level", "start", "end", *schema.TEXT_PROPERTIES):
        node_columns[name] = pa.array(column(name), type=node_type.field(name).type)
    gpt = {prop: pa.array(column(prop), type=pa.string()) for prop in schema.GPT_FIELDS}
    groups: dict[str, dict[str, pa.Array]] = {}
    for prop, (group, leaf) in schema.GPT_FIELDS.items():
        groups.setdefault(group, {})[leaf] = gpt[prop]
    gpt_present = np.zeros(len(node_columns["node_id"]), dtype=bool)
    for array in gpt.values():
        gpt_present |= array.is_valid().to_numpy(zero_copy_only=False)
    gpt_type = node_type.field("gpt").type
    node_columns["gpt"] = _struct(
        {g.name: _struct(groups[g.name]) for g in gpt_type}, mask=~gpt_present
    ).cast(gpt_type)
    nodes = pa.StructArray.from_arrays(
        [node_columns[f.name] for f in node_type], fields=list(node_type)
    )
    offsets = pa.array(np.r_[0, np.cumsum(counts)].astype(np.int32))
    node_lists = pa.ListArray.from_arrays(offsets, nodes, type=pa.list_(node_type))

    metadata_type = schema.METADATA_TYPE
    meta_columns = {
        name: pa.array([v.get(name) for v in videos], type=metadata_type.field(name).type)
        for name in METADATA_PROPERTIES
    }
    times = [v.get("transcript_time") for v in videos]
    texts = [v.get("transcript_text") for v in videos]
    lengths = np.array([len(t) if t is not None else 0 for t in times], dtype=np.int64)
    item_type = schema.TRANSCRIPT_TYPE.value_type
    items = _struct(
        {
            "time": pa.array(list(chain.from_iterable(t for t in times if t)), type=pa.string()),
            "text": pa.array(list(chain.from_iterable(t for t in texts if t)), type=pa.string()),
        }
    ).cast(item_type)
    meta_columns["transcript"] = pa.ListArray.from_arrays(
        pa.array(np.r_[0, np.cumsum(lengths)].astype(np.int32)),
        items,
        type=schema.TRANSCRIPT_TYPE,
        mask=pa.array([t is None for t in times], type=pa.bool_()),
    )
    metadata = pa.StructArray.from_arrays(
        [meta_columns[f.name] for f in metadata_type], fields=list(metadata_type)
    )
    uids = pa.array([v[schema.VIDEO.key] for v in videos], type=pa.string())
    return pa.Table.from_arrays([uids, metadata, node_lists], schema=schema.SOURCE_SCHEMA)


#: The columns of :func:`read_transcripts`, as :meth:`graphkit.transcript.Transcript.to_table` gives them.
_TRANSCRIPT_TABLE = pa.schema([
    ("video_uid", pa.string()), ("index", pa.int64()), ("time", pa.float64()), ("text", pa.string()),
    ("segments", pa.list_(pa.string())),
])


def read_transcripts(
    driver: neo4j.Driver,
    video_uids: Sequence[str],
    *,
    database: str = "neo4j",
    chunk_size: int = 1000,
) -> pa.Table:
    """Read the ``:Transcript`` lines of some videos back, as :meth:`~graphkit.transcript.Transcript.to_table` does.

    Args:
        driver (neo4j.Driver): The driver.
        video_uids (Sequence[str]): The videos, in the order wanted (a video
            without lines gives no row).
        database (str, optional): The database. (default: :obj:`"neo4j"`)
        chunk_size (int, optional): Videos fetched per read transaction.
            (default: :obj:`1000`)

    Returns:
        pyarrow.Table: ``video_uid``, ``index``, ``time``, ``text`` and
        ``segments`` (the ``node_id`` s of the leaves each line falls in, in
        time order), video by video, each video's lines by ``index``.

    Raises:
        ValueError: If ``chunk_size`` is not a positive integer.
        Neo4jLoadError: If the server cannot be reached, refuses the
            credentials or lacks the database.
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    uids = [str(uid) for uid in video_uids]
    found: dict[str, dict] = {}
    with neo4j_errors(database), driver.session(database=database) as session:
        for start in range(0, len(uids), chunk_size):
            chunk = uids[start : start + chunk_size]
            for record in session.execute_read(_fetch, transcript_cypher.read_transcripts_query(), chunk):
                found[record[schema.VIDEO.key]] = record
    records = [found[uid] for uid in uids if uid in found]
    columns = {name: list(chain.from_iterable(r[name] for r in records)) for name in _TRANSCRIPT_TABLE.names[1:]}
    columns["video_uid"] = list(chain.from_iterable([r[schema.VIDEO.key]] * len(r["index"]) for r in records))
    return pa.table({name: pa.array(columns[name], type) for name, type in zip(_TRANSCRIPT_TABLE.names,
                                                                                _TRANSCRIPT_TABLE.types)})
