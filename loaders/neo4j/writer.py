"""Load video trees into Neo4j over Bolt: batched, idempotent, resumable, whole videos per transaction.

:func:`load_trees` writes :class:`~graphkit.tree.TreeBatch` es as ``:Video``
and ``:Segment`` nodes with ``PARENT_OF``, ``NEXT``, ``NEXT_LEAF`` and
``HAS_ROOT`` relationships (:mod:`graphkit.schema`). A segment is identified
by ``(video_uid, node_id)`` (:mod:`graphkit.identity`), so two videos that use
the same node ids stay two trees; a stream that holds one ``video_uid``
twice is refused before anything of that batch is written.

1. the uniqueness constraints and the index of :mod:`graphkit.loaders.neo4j.cypher` first
   (``IF NOT EXISTS``, so every load may run them);
2. then, batch by batch, the videos go out in chunks of whole videos of
   about ``batch_size`` entities, each chunk *one* ``session.execute_write``
   transaction, ``workers`` chunks at a time:

   * ``method="create"`` (the default, and the fast path): one query finds
     which of the batch's videos the database already holds; a chunk's
     transaction detach-deletes those, then runs *one* statement that
     ``CREATE`` s the chunk's nodes from column-wise parameters and joins its
     relationships to them by position on the server (no index lookups);
   * ``method="merge"``: a chunk's transaction deletes the segments its
     videos' sources no longer have and the videos' relationships, then
     ``MERGE`` s the nodes on their identity (``SET n = row``: exactly the
     source's properties) and the relationships: the nodes that remain keep
     their identity in Neo4j, and relationships of other types that other
     tools attached to them stay.

Both are idempotent (running a load twice leaves the graph as running it
once) and *exact*: after any load, every loaded video equals its last source
-- nodes, relationships, properties -- whatever an earlier version of it
held (more segments, other ids, another root); a video is replaced as a unit,
in one transaction, so the database never holds half a video or half old,
half new. A retried transaction is safe (a ``create`` whose commit went
through before the error meets the uniqueness constraints on its retry and
replaces instead). An interrupted load is *resumable*: run the same command
again and it ends with exactly the graph an uninterrupted load gives.

**Interrupts.** Ctrl-C (or SIGTERM, which the CLI turns into one) stops the
load: no new transaction starts, a driver retry does not run again, and the
chunks in flight get about a second (:data:`INTERRUPT_GRACE_S`) to commit.
:func:`load_trees` then raises :class:`~graphkit.errors.LoadInterrupted`,
which says how many videos were committed. Writer threads are daemons: a
process that exits does not wait for them, and the server rolls back what
they had not committed.

Connection problems become one clear :class:`~graphkit.errors.Neo4jLoadError`
line (:mod:`graphkit.loaders.neo4j.connection`): wrong credentials, a server
that cannot be reached or goes away, a database that does not exist.

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
import queue
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from concurrent.futures import wait as wait_for
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from graphkit import schema
from graphkit.errors import LoadInterrupted, Neo4jLoadError
from graphkit.identity import UniqueVideos
from graphkit.loaders.neo4j import cypher, search_cypher, transcript_cypher
from graphkit.loaders.neo4j.connection import neo4j_errors
from graphkit.loaders.neo4j.embeddings import SegmentEmbedder, as_embedder
from graphkit.loaders.neo4j.rows import (
    create_parameters,
    edge_range,
    relationship_rows,
    segment_lists,
    segment_rows,
    video_chunks,
    video_rows,
)
from graphkit.loaders.neo4j.search import create_search_indexes
from graphkit.loaders.neo4j.transcript_rows import transcript_counts
from graphkit.loaders.neo4j.transcript_writer import transcript_chunk_rows, write_transcript
from graphkit.transcript import Transcript, TranscriptReport, align_transcript
from graphkit.tree import TreeBatch

if TYPE_CHECKING:
    import neo4j

__all__ = ["INTERRUPT_GRACE_S", "LOAD_METHODS", "LoadReport", "create_constraints", "load_trees"]

LOAD_METHODS: tuple[str, ...] = ("create", "merge")
"""The ways :func:`load_trees` writes: whole videos created (and replaced), or merged (and reconciled)."""

INTERRUPT_GRACE_S = 1.0
"""Seconds an interrupted load waits for the transactions in flight to commit before it gives up on them."""

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
            on a rerun): nodes created minus those the load deleted (old
            copies of replaced videos, segments a reload drops), so negative
            when a reload drops segments. (default: :obj:`0`)
        relationships_created (int, optional): Relationships that did not
            exist before, counted the same way. (default: :obj:`0`)
        transcript (TranscriptReport, optional): How the transcript lines
            were aligned, when the load wrote them. (default: :obj:`None`)
    """

    videos: int
    nodes: int
    relationships: int
    seconds: float
    nodes_created: int = 0
    relationships_created: int = 0
    transcript: TranscriptReport | None = None

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


def create_constraints(driver: neo4j.Driver, *, database: str = "neo4j",
                       embedding: tuple[str, int] | None = None) -> None:
    """Create the uniqueness constraints and indexes of :mod:`graphkit.loaders.neo4j.cypher` (idempotent).

    Also the search indexes (:func:`~graphkit.loaders.neo4j.search.create_search_indexes`):
    the full-text index, and with ``embedding`` the vector index of those embeddings.

    Args:
        driver (neo4j.Driver): The driver.
        database (str, optional): The database. (default: :obj:`"neo4j"`)
        embedding (tuple[str, int], optional): ``(encoder name, dimension)`` of
            the embeddings a load stores. (default: :obj:`None`)

    Raises:
        Neo4jLoadError: If the server cannot be reached, refuses the
            credentials or has no such database.
        Neo4jSearchError: If the graph holds another encoder's embeddings.
    """
    with neo4j_errors(database):
        for query in [*cypher.create_constraint_queries(), *transcript_cypher.transcript_constraint_queries()]:
            driver.execute_query(query, database_=database)
    create_search_indexes(driver, embedding=embedding, database=database)
    with neo4j_errors(database):
        # Wait until the constraint indexes are online, so the first MERGE uses them.
        driver.execute_query("CALL db.awaitIndexes(300)", database_=database)


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


class _Halted(Exception):
    """Raised inside a transaction function once the load stops: the driver does not retry it."""


def _check(halt: threading.Event) -> None:
    if halt.is_set():
        raise _Halted


# The key of a chunk's parameters that carries its transcript rows (not a query parameter).
_TRANSCRIPT_ROWS = "transcript_rows"


def _create_chunk(tx: neo4j.ManagedTransaction, parameters: dict, replace: list[str],
                  halt: threading.Event) -> tuple[int, int]:
    # One transaction per chunk of whole videos: deleting the old copies (if
    # any) and creating the new ones commit together, so a reader, a crash or
    # a retry never sees half a video.
    _check(halt)  # a retry after the load stopped does not run
    nodes = relationships = 0
    if replace:
        deleted = tx.run(cypher.delete_videos_query(), rows=replace).consume().counters
        nodes, relationships = -deleted.nodes_deleted, -deleted.relationships_deleted
    query_parameters = {key: value for key, value in parameters.items() if key != _TRANSCRIPT_ROWS}
    counters = tx.run(cypher.create_videos_query(), query_parameters).consume().counters
    lines = write_transcript(tx, parameters[_TRANSCRIPT_ROWS], replace)
    # Net: a replaced video counts only what it adds, so a rerun reports 0.
    return (nodes + counters.nodes_created + lines[0],
            relationships + counters.relationships_created + lines[1])


def _merge_chunk(tx: neo4j.ManagedTransaction, rows: dict, replace: list[str],
                 halt: threading.Event) -> tuple[int, int]:
    # One transaction per chunk of whole videos, as for create: what the new
    # sources no longer have goes, then everything they have is merged.
    _check(halt)
    nodes = relationships = 0
    for query, parameter in ((cypher.delete_stale_segments_query(), rows["stale"]),
                             (cypher.delete_relationships_query(), rows["keys"])):
        counters = tx.run(query, rows=parameter).consume().counters
        nodes -= counters.nodes_deleted
        relationships -= counters.relationships_deleted
    for spec in schema.NODE_TYPES:
        nodes += tx.run(cypher.upsert_nodes_query(spec), rows=rows[spec.label]).consume().counters.nodes_created
    for spec in schema.EDGE_TYPES:
        counters = tx.run(cypher.upsert_relationships_query(spec), rows=rows[spec.name]).consume().counters
        relationships += counters.relationships_created
    lines = write_transcript(tx, rows[_TRANSCRIPT_ROWS], None)
    return nodes + lines[0], relationships + lines[1]


def _merge_rows(trees: TreeBatch, chunk: slice) -> dict[str, list]:
    """The rows of one chunk's :func:`_merge_chunk`, by label, relationship type, ``stale`` and ``keys``."""
    nodes = slice(int(trees.node_offsets[chunk.start]), int(trees.node_offsets[chunk.stop]))
    rows: dict[str, list] = {
        "keys": trees.video_uid.slice(chunk.start, chunk.stop - chunk.start).to_pylist(),
        "stale": segment_lists(trees, chunk),
        schema.VIDEO.label: video_rows(trees, chunk),
        schema.SEGMENT.label: segment_rows(trees, nodes),
    }
    for spec in schema.EDGE_TYPES:
        rows[spec.name] = relationship_rows(trees, spec, edge_range(trees, spec, chunk))
    return rows


def _with_embeddings(work: Callable[..., tuple[int, int]], rows: list[dict]) -> Callable[..., tuple[int, int]]:
    """``work``, then the chunk's embeddings stored, in the same transaction."""
    def write(tx: neo4j.ManagedTransaction, *args: Any) -> tuple[int, int]:
        created = work(tx, *args)
        tx.run(search_cypher.set_embeddings_query(), rows=rows, property=schema.EMBEDDING.name).consume()
        return created
    return write


class _Chunk:
    """One chunk of whole videos, ready to write: its parameters and what it holds."""

    def __init__(self, trees: TreeBatch, chunk: slice, method: str, replace: list[str],
                 embedder: SegmentEmbedder | None = None, lines: Transcript | None = None) -> None:
        self.videos = chunk.stop - chunk.start
        self.keys = trees.video_uid.slice(chunk.start, self.videos)
        nodes = int(trees.node_offsets[chunk.stop] - trees.node_offsets[chunk.start])
        self.nodes = self.videos + nodes
        ranges = [edge_range(trees, spec, chunk) for spec in schema.EDGE_TYPES]
        self.relationships = sum(part.stop - part.start for part in ranges)
        self.replace = replace
        transcript = transcript_chunk_rows(trees, lines, chunk)
        if lines is not None:
            extra = transcript_counts(lines, chunk)
            self.nodes += extra[0]
            self.relationships += extra[1]
        if method == "create":
            self.work: Callable[..., tuple[int, int]] = _create_chunk
            self.parameters: Any = create_parameters(trees, chunk)
        else:
            self.work, self.parameters = _merge_chunk, _merge_rows(trees, chunk)
        self.parameters[_TRANSCRIPT_ROWS] = transcript
        if embedder is not None:
            nodes_range = slice(int(trees.node_offsets[chunk.start]), int(trees.node_offsets[chunk.stop]))
            self.work = _with_embeddings(self.work, embedder.bolt_rows(trees, nodes_range))


def _write_chunk(driver: neo4j.Driver, database: str, chunk: _Chunk, tally: _Tally, halt: threading.Event) -> None:
    import neo4j.exceptions

    _check(halt)
    with driver.session(database=database) as session:
        try:
            created = session.execute_write(chunk.work, chunk.parameters, chunk.replace, halt)
        except neo4j.exceptions.ConstraintError:
            # A video appeared since it was looked up (another loader, or a
            # retried transaction whose commit had gone through): replace it.
            keys = chunk.keys.to_pylist()
            logger.info("videos %s..%s exist after all; replacing them", keys[0], keys[-1])
            created = session.execute_write(chunk.work, chunk.parameters, keys, halt)
    tally.add(videos=chunk.videos, nodes=chunk.nodes, relationships=chunk.relationships, created=created)


def _existing_videos(driver: neo4j.Driver, database: str, trees: TreeBatch) -> np.ndarray:
    """``[V]`` bool: which videos of the batch the database holds (as a video or through a segment)."""
    keys = trees.video_uid.to_pylist()
    records, _, _ = driver.execute_query(
        cypher.existing_videos_query(), {"rows": keys}, database_=database, routing_="w"
    )
    found = {record[schema.VIDEO.key] for record in records}
    return np.fromiter((key in found for key in keys), dtype=bool, count=len(keys))


class _Writers:
    """``workers`` daemon threads that write chunks; a process that exits does not wait for them."""

    def __init__(self, workers: int) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._serve, name=f"neo4j-writer-{i}", daemon=True) for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, work: Callable[..., None], *args: Any) -> Future:
        future: Future = Future()
        self._jobs.put((future, work, args))
        return future

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            future, work, args = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(work(*args))
            except BaseException as err:  # handed to the caller through the future
                future.set_exception(err)

    def close(self) -> None:
        for _ in self._threads:
            self._jobs.put(None)


def _stop(pending: list[tuple[Future, int]], halt: threading.Event, grace: float) -> int:
    """Stop a load: nothing new starts; the chunks in flight get ``grace`` seconds.

    Returns:
        int: Videos of the chunks still running after that (committed or not).
    """
    halt.set()
    for future, _ in pending:
        future.cancel()
    running = [future for future, _ in pending if not future.cancelled()]
    wait_for(running, timeout=grace)
    return sum(videos for future, videos in pending if not future.done())


def _drain(pending: list[tuple[Future, int]]) -> None:
    """Wait for every chunk submitted, oldest first (raising the first one's error)."""
    while pending:
        pending[0][0].result()
        pending.pop(0)


def _committed(videos: int) -> str:
    return f"{videos:,} videos were committed, whole: run the same load again to finish it"


def load_trees(
    driver: neo4j.Driver,
    batches: TreeBatch | Iterable[TreeBatch],
    *,
    database: str = "neo4j",
    batch_size: int = 10_000,
    workers: int = 2,
    method: Literal["create", "merge"] = "create",
    progress: Callable[[LoadReport], None] | None = None,
    embed: SegmentEmbedder | str | None = None,
    transcript: bool = False,
) -> LoadReport:
    """Write tree batches to Neo4j; safe to rerun and to resume; every loaded video ends as its source.

    Videos go to the server in chunks of whole videos of about
    ``batch_size`` entities; each chunk is *one* transaction, written by one
    of ``workers`` sessions. Two methods, both idempotent (a rerun creates no
    duplicates), resumable (rerun an interrupted load to finish it) and exact
    (a reload leaves exactly the new source: no stale segments, properties or
    relationships, replaced as a unit in one transaction):

    * ``"create"`` (the default, and the fast path): the batch's videos are
      looked up first (:func:`~graphkit.loaders.neo4j.cypher.existing_videos_query`,
      one indexed probe per video); a chunk's transaction detach-deletes
      those the database holds and runs *one* statement
      (:func:`~graphkit.loaders.neo4j.cypher.create_videos_query`) that
      ``CREATE`` s its nodes and joins the relationships to them by position,
      on the server, with no index lookups.
    * ``"merge"``: a chunk's transaction removes the segments its videos'
      sources no longer have and the videos' relationships, then ``MERGE`` s
      nodes on their identity (``SET n = row``) and relationships in
      ``UNWIND`` statements. The nodes that remain keep their Neo4j identity,
      and relationships of other types to them stay; slower than
      ``"create"``.

    Args:
        driver (neo4j.Driver): The driver (see :func:`connect`); it is not closed.
        batches (TreeBatch or Iterable[TreeBatch]): The videos, e.g. from
            :func:`graphkit.loaders.trees.iter_tree_batches` with ``node_fields=None``
            and ``metadata=True`` (properties not read are not written, and a
            reload removes them).
        database (str, optional): The database. (default: :obj:`"neo4j"`)
        batch_size (int, optional): Nodes plus relationships of the whole
            videos of a chunk, i.e. of one transaction (a chunk holds at
            least one video). (default: :obj:`10_000`)
        workers (int, optional): Concurrent writer sessions, on disjoint
            videos, so concurrent transactions cannot deadlock one another.
            (default: :obj:`2`)
        method (str, optional): ``"create"`` or ``"merge"`` (see above).
            (default: :obj:`"create"`)
        progress (Callable[[LoadReport], None], optional): Called after each
            transaction with the totals so far (from the writer threads when
            ``workers > 1``, one call at a time). (default: :obj:`None`)
        embed (SegmentEmbedder or str, optional): Also store each segment's
            action-brief embedding by this encoder (or encoder name, such as
            ``"minilm"``; :mod:`graphkit.loaders.neo4j.embeddings`), in the
            transaction of its video, and create its vector index.
            (default: :obj:`None`: no embeddings)
        transcript (bool, optional): Also write each video's transcript lines
            as ``:Transcript`` nodes (:mod:`graphkit.transcript`) with
            ``IN_VIDEO`` and ``DURING`` relationships, in the video's
            transaction; the batches need their metadata. Either way a
            reloaded video keeps no line its new load did not write.
            (default: :obj:`False`)

    Returns:
        LoadReport: Videos, nodes and relationships written, time and rate.

    Raises:
        ValueError: If ``batch_size`` or ``workers`` is not a positive integer,
            or ``method`` is not one of :data:`LOAD_METHODS`.
        TypeError: If ``batches`` holds something other than tree batches.
        InvariantError: If a ``video_uid`` occurs twice in ``batches`` (rule
            ``duplicate_video_uid``, naming the video and both positions):
            every batch before that one is written, nothing of it. (Any
            other error that the batches raise, such as a bad source, ends
            the load the same way.)
        Neo4jLoadError: If the server cannot be reached (also after the
            driver's retries, when it goes away mid-load: the message then
            says how many videos were committed), refuses the credentials,
            has no such database or fails a statement.
        LoadInterrupted: On Ctrl-C (a :class:`KeyboardInterrupt`), with the
            number of videos committed.
        Neo4jSearchError: With ``embed``, if the graph holds another
            encoder's embeddings (before anything is written).
    """
    for name, value in (("batch_size", batch_size), ("workers", workers)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if method not in LOAD_METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, LOAD_METHODS))}, got {method!r}")
    if isinstance(batches, TreeBatch):
        batches = [batches]
    embedder = as_embedder(embed)
    started = time.perf_counter()
    tally = _Tally(started, progress)
    unique = UniqueVideos("the load")
    halt = threading.Event()
    reports: list[TranscriptReport] = []
    writers = _Writers(workers)
    pending: list[tuple[Future, int]] = []  # the chunks submitted, oldest first, and their videos
    try:
        with neo4j_errors(database):
            driver.verify_connectivity()
        create_constraints(driver, database=database,
                           embedding=None if embedder is None else (embedder.name, embedder.dim))
        with neo4j_errors(database):
            for trees in batches:
                if not isinstance(trees, TreeBatch):
                    raise TypeError(f"batches must hold TreeBatch objects, got {type(trees).__name__}")
                unique.add(trees)
                if not trees.num_videos:
                    continue
                lines = align_transcript(trees) if transcript else None
                if lines is not None:
                    reports.append(lines.report.compact())
                existing = np.zeros(trees.num_videos, dtype=bool)
                if method == "create":
                    existing = _existing_videos(driver, database, trees)
                    if existing.any():
                        logger.info("%d of %d videos are already in the database: replacing them",
                                    existing.sum(), len(existing))
                for part in video_chunks(trees, batch_size):
                    replace_keys = trees.video_uid.slice(part.start, part.stop - part.start)
                    chunk = _Chunk(trees, part, method, replace_keys.filter(existing[part]).to_pylist(),
                                   embedder, lines)
                    while len(pending) >= 2 * workers:  # bounded: a few chunks in flight
                        pending[0][0].result()
                        pending.pop(0)
                    future = writers.submit(_write_chunk, driver, database, chunk, tally, halt)
                    pending.append((future, chunk.videos))
                logger.info("%d videos committed so far", tally.report.videos)
            _drain(pending)
    except KeyboardInterrupt:
        in_flight = _stop(pending, halt, INTERRUPT_GRACE_S)
        raise LoadInterrupted(tally.report.videos, in_flight=in_flight) from None
    except Neo4jLoadError as err:
        # The server went away or a statement failed: the other chunks do not
        # start, and a retry in flight does not run again.
        _stop(pending, halt, INTERRUPT_GRACE_S)
        if not tally.report.videos:
            raise
        raise Neo4jLoadError(f"{err}; {_committed(tally.report.videos)}") from err.__cause__
    except BaseException as err:
        # A bad batch or source (a repeated video, an invalid tree, an unreadable
        # file): every batch before it is written, then the error is raised.
        try:
            _drain(pending)
        except BaseException as late:  # noqa: BLE001 - the first error is the one to report
            _stop(pending, halt, INTERRUPT_GRACE_S)
            logger.warning("after %s, writing the batches before it failed too: %s", type(err).__name__, late)
        raise
    finally:
        writers.close()
    report = replace(tally.report, seconds=time.perf_counter() - started,
                     transcript=TranscriptReport.concat(reports) if transcript else None)
    if progress is not None:
        progress(report)
    logger.info("%s", report.summary())
    return report
