"""Load video trees into Neo4j over Bolt: batched, idempotent, resumable.

:func:`load_trees` writes :class:`~graphkit.tree.TreeBatch` es as ``:Video``
and ``:Segment`` nodes with ``PARENT_OF``, ``NEXT``, ``NEXT_LEAF`` and
``HAS_ROOT`` relationships (:mod:`graphkit.schema`):

1. the uniqueness constraints and the index of :mod:`graphkit.loaders.neo4j.cypher` first
   (``IF NOT EXISTS``, so every load may run them);
2. then, with the default ``method="create"`` (the fast path), batch by
   batch: one query finds which of the batch's videos the database already
   holds; the videos go out in chunks of whole videos, each chunk *one*
   ``session.execute_write`` transaction function running *one* statement
   that ``CREATE`` s its nodes from column-wise parameters and joins its
   relationships to them by position on the server (no index lookups),
   ``workers`` chunks at a time. A video already present is detach-deleted
   in the same transaction before it is created again;
3. or, with ``method="merge"``, the nodes (videos, then segments) and after
   them the relationships, each in ``UNWIND $rows`` statements of
   ``batch_size`` rows that ``MERGE`` on the unique keys.

Both are idempotent: running a load twice leaves the graph as running it
once (no duplicates: ``create`` replaces, ``merge`` matches), and a retried
transaction is safe (a ``create`` whose commit went through before the error
meets the uniqueness constraints on its retry and replaces instead). An
interrupted load is *resumable*: run the same command again and it ends
with exactly the graph an uninterrupted load gives. With ``create`` each
chunk commits whole videos, so the database never holds half a video, and a
reload leaves exactly the new source: no segments, properties or
relationships of the old version survive.

Connection problems become one clear :class:`~graphkit.errors.Neo4jLoadError`
line (:mod:`graphkit.loaders.neo4j.connection`): wrong credentials, a server
that cannot be reached, a database that does not exist.

A typical load (not run here: it needs a server)::

    from graphkit.loaders.neo4j.connection import connect
    from graphkit.loaders.neo4j.writer import load_trees
    from graphkit.loaders.trees import iter_tree_batches

    with connect() as driver:  # NEO4J_URI, NEO4J_USERNAME, NEO4J_PASSWORD
        batches = iter_tree_batches("action100m/*.parquet", node_fields=None, metadata=True)
        print(load_trees(driver, batches).summary())

Examples:
    >>> report = LoadReport(videos=7, nodes=2722, relationships=6785, seconds=0.5)
    >>> report.entities
    9507
    >>> print(report.summary())
    loaded 7 videos: 2,722 nodes, 6,785 relationships in 0.50 s (19,014 entities/s)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

import numpy as np

from graphkit import schema
from graphkit.loaders.neo4j import cypher
from graphkit.loaders.neo4j.connection import neo4j_errors
from graphkit.loaders.neo4j.rows import create_parameters, relationship_rows, segment_rows, video_chunks, video_rows
from graphkit.tree import TreeBatch

if TYPE_CHECKING:
    import neo4j

__all__ = ["LOAD_METHODS", "LoadReport", "create_constraints", "load_trees"]

LOAD_METHODS: tuple[str, ...] = ("create", "merge")
"""The ways :func:`load_trees` writes: whole videos created (and replaced), or upserted."""

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class LoadReport:
    """What a load wrote and how fast.

    Args:
        videos (int): Videos written.
        nodes (int): Nodes written (``:Video`` and ``:Segment``), new or matched.
        relationships (int): Relationships written, new or matched.
        seconds (float): Wall time of the load.
        nodes_created (int, optional): Nodes that did not exist before (``0``
            on a rerun): with the ``"create"`` method, nodes created minus
            those its replacements deleted, so negative when a reload drops
            segments. (default: :obj:`0`)
        relationships_created (int, optional): Relationships that did not
            exist before, counted the same way. (default: :obj:`0`)
    """

    videos: int
    nodes: int
    relationships: int
    seconds: float
    nodes_created: int = 0
    relationships_created: int = 0

    @property
    def entities(self) -> int:
        """Nodes plus relationships written."""
        return self.nodes + self.relationships

    @property
    def entities_per_s(self) -> float:
        """Nodes plus relationships written per second."""
        return self.entities / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        """The report as one line."""
        return (
            f"loaded {self.videos:,} videos: {self.nodes:,} nodes, {self.relationships:,} relationships "
            f"in {self.seconds:.2f} s ({self.entities_per_s:,.0f} entities/s)"
        )


def create_constraints(driver: neo4j.Driver, *, database: str = "neo4j") -> None:
    """Create the uniqueness constraints and indexes of :mod:`graphkit.loaders.neo4j.cypher` (idempotent).

    Args:
        driver (neo4j.Driver): The driver.
        database (str, optional): The database. (default: :obj:`"neo4j"`)

    Raises:
        Neo4jLoadError: If the server cannot be reached, refuses the
            credentials or has no such database.
    """
    with neo4j_errors(database):
        for query in cypher.create_constraint_queries():
            driver.execute_query(query, database_=database)
        # Wait until the constraint indexes are online, so the first MERGE uses them.
        driver.execute_query("CALL db.awaitIndexes(300)", database_=database)


def _write_rows(tx: neo4j.ManagedTransaction, query: str, rows: list[dict]) -> tuple[int, int]:
    # A transaction function: the driver may call it again on a transient
    # error, which is safe because the statement MERGEs.
    counters = tx.run(query, rows=rows).consume().counters
    return counters.nodes_created, counters.relationships_created


def _chunks(total: int, size: int) -> Iterator[slice]:
    for start in range(0, total, size):
        yield slice(start, min(start + size, total))


def _statements(trees: TreeBatch, batch_size: int) -> Iterator[tuple[str, Callable[[], list[dict]], bool]]:
    """The writes of one batch in a safe order: videos, segments, then relationships.

    Yields ``(query, rows, is_node)``; ``rows`` builds its rows when called,
    so only one transaction's rows are in memory at a time.
    """
    video_query = cypher.upsert_nodes_query(schema.VIDEO)
    for part in _chunks(trees.num_videos, batch_size):
        yield video_query, lambda part=part: video_rows(trees, part), True
    segment_query = cypher.upsert_nodes_query(schema.SEGMENT)
    for part in _chunks(trees.num_nodes, batch_size):
        yield segment_query, lambda part=part: segment_rows(trees, part), True
    for spec in schema.EDGE_TYPES:
        edge_query = cypher.upsert_relationships_query(spec)
        for part in _chunks(len(trees.edges(spec)), batch_size):
            yield edge_query, lambda spec=spec, part=part: relationship_rows(trees, spec, part), False


class _Tally:
    """Running totals shared by the writer threads; reports progress."""

    def __init__(self, started: float, progress: Callable[[LoadReport], None] | None) -> None:
        self.report = LoadReport(videos=0, nodes=0, relationships=0, seconds=0.0)
        self._started = started
        self._progress = progress
        self._lock = threading.Lock()

    def add(self, *, videos: int = 0, nodes: int = 0, relationships: int = 0, created: tuple[int, int] = (0, 0)) -> None:
        with self._lock:
            report = self.report
            self.report = replace(
                report,
                videos=report.videos + videos,
                nodes=report.nodes + nodes,
                relationships=report.relationships + relationships,
                nodes_created=report.nodes_created + created[0],
                relationships_created=report.relationships_created + created[1],
                seconds=time.perf_counter() - self._started,
            )
            if self._progress is not None:
                self._progress(self.report)


def _write_trees(driver: neo4j.Driver, database: str, trees: TreeBatch, batch_size: int, tally: _Tally) -> None:
    with driver.session(database=database) as session:
        for query, make_rows, is_node in _statements(trees, batch_size):
            rows = make_rows()
            # A transaction function per batch of rows: the driver retries it
            # on transient errors, which is safe because the statement MERGEs.
            created = session.execute_write(_write_rows, query, rows)
            tally.add(nodes=len(rows) if is_node else 0, relationships=0 if is_node else len(rows), created=created)
    tally.add(videos=trees.num_videos)


def _create_chunk(tx: neo4j.ManagedTransaction, parameters: dict, replace: list[str]) -> tuple[int, int]:
    # One transaction per chunk of whole videos: deleting the old copies (if
    # any) and creating the new ones commit together, so a reader, a crash or
    # a retry never sees half a video.
    nodes = relationships = 0
    if replace:
        deleted = tx.run(cypher.delete_videos_query(), rows=replace).consume().counters
        nodes, relationships = -deleted.nodes_deleted, -deleted.relationships_deleted
    counters = tx.run(cypher.create_videos_query(), parameters).consume().counters
    # Net: a replaced video counts only what it adds, so a rerun reports 0.
    return nodes + counters.nodes_created, relationships + counters.relationships_created


def _write_chunk(
    driver: neo4j.Driver, database: str, parameters: dict, replace: list[str], tally: _Tally,
) -> None:
    import neo4j.exceptions

    keys = parameters[cypher.parameter_name(schema.VIDEO)][schema.VIDEO.key]
    with driver.session(database=database) as session:
        try:
            created = session.execute_write(_create_chunk, parameters, replace)
        except neo4j.exceptions.ConstraintError:
            # A video appeared since it was looked up (another loader, or a
            # retried transaction whose commit had gone through): replace it.
            logger.info("videos %s..%s exist after all; replacing them", keys[0], keys[-1])
            created = session.execute_write(_create_chunk, parameters, keys)
    segments = len(parameters[cypher.parameter_name(schema.SEGMENT)][schema.SEGMENT.key])
    relationships = sum(len(parameters[cypher.parameter_name(spec)]["source"]) for spec in schema.EDGE_TYPES)
    tally.add(videos=len(keys), nodes=len(keys) + segments, relationships=relationships, created=created)


def _existing_videos(driver: neo4j.Driver, database: str, trees: TreeBatch) -> np.ndarray:
    """``[V]`` bool: which videos of the batch the database holds (as a video or through a segment)."""
    keys = trees.video_uid.to_pylist()
    records, _, _ = driver.execute_query(
        cypher.existing_videos_query(), {"rows": keys}, database_=database, routing_="w"
    )
    found = {record[schema.VIDEO.key] for record in records}
    return np.fromiter((key in found for key in keys), dtype=bool, count=len(keys))


def _create_trees(
    driver: neo4j.Driver, database: str, trees: TreeBatch, batch_size: int,
    pool: ThreadPoolExecutor, pending: list, workers: int, tally: _Tally,
) -> None:
    existing = _existing_videos(driver, database, trees)
    if existing.any():
        logger.info("%d of %d videos are already in the database: replacing them", existing.sum(), len(existing))
    keys = trees.video_uid
    for chunk in video_chunks(trees, batch_size):
        replace = keys.slice(chunk.start, chunk.stop - chunk.start).filter(existing[chunk]).to_pylist()
        parameters = create_parameters(trees, chunk)
        while len(pending) >= 2 * workers:  # bounded: a few chunks in flight
            pending.pop(0).result()
        pending.append(pool.submit(_write_chunk, driver, database, parameters, replace, tally))


def load_trees(
    driver: neo4j.Driver,
    batches: TreeBatch | Iterable[TreeBatch],
    *,
    database: str = "neo4j",
    batch_size: int = 10_000,
    workers: int = 2,
    method: Literal["create", "merge"] = "create",
    progress: Callable[[LoadReport], None] | None = None,
) -> LoadReport:
    """Write tree batches to Neo4j; safe to rerun and to resume.

    Two methods, both idempotent (a rerun creates no duplicates) and
    resumable (rerun an interrupted load to finish it):

    * ``"create"`` (the default, and the fast path): the batch's videos are
      looked up first (:func:`~graphkit.loaders.neo4j.cypher.existing_videos_query`,
      one indexed probe per video). Videos go to the server in chunks of
      whole videos of about ``batch_size`` entities; each chunk is *one*
      transaction running *one* statement
      (:func:`~graphkit.loaders.neo4j.cypher.create_videos_query`) that
      ``CREATE`` s its nodes and joins the relationships to them by position,
      on the server, with no index lookups. A video the database already
      holds is deleted with its segments in the same transaction first, so a
      reload leaves exactly the new source (no stale segments, properties or
      relationships) and is atomic per chunk. Chunks are written by
      ``workers`` sessions at once.
    * ``"merge"``: the upsert path: ``UNWIND`` batches of ``batch_size`` rows
      that ``MERGE`` on the unique keys and ``SET +=`` the properties. It
      updates in place and keeps what the source does not name (segments
      dropped from a video, relationships other tools added), at about half
      the speed of ``"create"`` on a fresh database.

    Args:
        driver (neo4j.Driver): The driver (see :func:`connect`); it is not closed.
        batches (TreeBatch or Iterable[TreeBatch]): The videos, e.g. from
            :func:`graphkit.loaders.trees.iter_tree_batches` with ``node_fields=None``
            and ``metadata=True`` (properties not read are not written).
        database (str, optional): The database. (default: :obj:`"neo4j"`)
        batch_size (int, optional): Entities per transaction: rows per
            ``UNWIND`` with ``"merge"``, nodes plus relationships of the whole
            videos of a chunk with ``"create"`` (a chunk holds at least one
            video). (default: :obj:`10_000`)
        workers (int, optional): Concurrent writer sessions, on disjoint
            videos, so concurrent transactions cannot deadlock one another.
            (default: :obj:`2`)
        method (str, optional): ``"create"`` or ``"merge"`` (see above).
            (default: :obj:`"create"`)
        progress (Callable[[LoadReport], None], optional): Called after each
            transaction with the totals so far (from the writer threads when
            ``workers > 1``, one call at a time). (default: :obj:`None`)

    Returns:
        LoadReport: Videos, nodes and relationships written, time and rate.

    Raises:
        ValueError: If ``batch_size`` or ``workers`` is not a positive integer,
            or ``method`` is not one of :data:`LOAD_METHODS`.
        TypeError: If ``batches`` holds something other than tree batches.
        Neo4jLoadError: If the server cannot be reached (also after the
            driver's retries, when it goes away mid-load), refuses the
            credentials, has no such database or fails a statement.
    """
    for name, value in (("batch_size", batch_size), ("workers", workers)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if method not in LOAD_METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, LOAD_METHODS))}, got {method!r}")
    if isinstance(batches, TreeBatch):
        batches = [batches]
    started = time.perf_counter()
    with neo4j_errors(database):
        driver.verify_connectivity()
    create_constraints(driver, database=database)
    tally = _Tally(started, progress)
    with neo4j_errors(database), ThreadPoolExecutor(workers, thread_name_prefix="neo4j-writer") as pool:
        pending: list = []
        try:
            for trees in batches:
                if not isinstance(trees, TreeBatch):
                    raise TypeError(f"batches must hold TreeBatch objects, got {type(trees).__name__}")
                if method == "create":
                    _create_trees(driver, database, trees, batch_size, pool, pending, workers, tally)
                    continue
                groups = [trees] if workers == 1 else [
                    trees.select(group) for group in np.array_split(np.arange(trees.num_videos), workers)
                    if group.size
                ]
                for future in [pool.submit(_write_trees, driver, database, g, batch_size, tally) for g in groups]:
                    future.result()
                logger.info("loaded %d videos so far", tally.report.videos)
            while pending:
                pending.pop(0).result()
        finally:
            for future in pending:  # an error: let the chunks in flight finish, not start new ones
                future.cancel()
    report = replace(tally.report, seconds=time.perf_counter() - started)
    if progress is not None:
        progress(report)
    logger.info("%s", report.summary())
    return report
