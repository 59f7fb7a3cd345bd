"""Load video trees into Neo4j over Bolt: batched, idempotent, resumable.

:func:`load_trees` writes :class:`~graphkit.tree.TreeBatch` es as ``:Video``
and ``:Segment`` nodes with ``PARENT_OF``, ``NEXT``, ``NEXT_LEAF`` and
``HAS_ROOT`` relationships (:mod:`graphkit.schema`):

1. the uniqueness constraints and the index of :mod:`loaders.cypher` first
   (``IF NOT EXISTS``, so every load may run them);
2. then, batch by batch, the nodes (videos, then segments) and after them the
   relationships, each in ``UNWIND $rows`` statements of ``batch_size`` rows
   (:mod:`loaders.neo4j_rows`), each in its own ``session.execute_write``
   transaction function, which the driver retries on transient failures.

Every statement ``MERGE`` s on the unique keys, so running one twice leaves
the graph as running it once. That makes a retried transaction safe, a rerun
of a whole load a no-op (it creates no duplicates), and an interrupted load
*resumable*: run the same command again and it ends with exactly the graph an
uninterrupted load gives (the part already written is matched, not created
again).

Connection problems become one clear :class:`Neo4jLoadError` line: wrong
credentials, a server that cannot be reached, a database that does not exist.
Credentials come from the arguments of :func:`connect` or from
``NEO4J_URI`` / ``NEO4J_USERNAME`` / ``NEO4J_PASSWORD``; they are never logged
or put in a message.

A typical load (not run here: it needs a server)::

    from loaders.neo4j_writer import connect, load_trees
    from loaders.trees import iter_tree_batches

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
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from graphkit import schema
from graphkit.errors import GraphkitError
from graphkit.tree import TreeBatch
from loaders import cypher
from loaders.neo4j_rows import relationship_rows, segment_rows, video_rows

if TYPE_CHECKING:
    import neo4j

__all__ = [
    "DEFAULT_URI",
    "LoadReport",
    "Neo4jLoadError",
    "connect",
    "create_constraints",
    "load_trees",
    "neo4j_errors",
]

logger = logging.getLogger(__name__)

DEFAULT_URI = "bolt://127.0.0.1:7687"
"""Where :func:`connect` looks when neither an argument nor ``NEO4J_URI`` names a server."""

_DATABASE_NOT_FOUND = "Neo.ClientError.Database.DatabaseNotFound"


class Neo4jLoadError(GraphkitError):
    """Neo4j cannot be reached, refuses the credentials, lacks the database, or fails a statement."""


@dataclass(frozen=True)
class LoadReport:
    """What a load wrote and how fast.

    Args:
        videos (int): Videos written.
        nodes (int): Nodes written (``:Video`` and ``:Segment``), new or matched.
        relationships (int): Relationships written, new or matched.
        seconds (float): Wall time of the load.
        nodes_created (int, optional): Nodes that did not exist before (``0``
            on a rerun). (default: :obj:`0`)
        relationships_created (int, optional): Relationships that did not
            exist before. (default: :obj:`0`)
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


def _first_line(text: str) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else ""


def _translate(err: Exception, database: str) -> Neo4jLoadError:
    """One clear line for a driver error (the raw message can span lines)."""
    from neo4j import exceptions as ne

    if isinstance(err, ne.AuthError):
        return Neo4jLoadError("Neo4j refused the credentials: wrong user name or password")
    if isinstance(err, (ne.ServiceUnavailable, ne.SessionExpired)):
        return Neo4jLoadError(f"cannot reach the Neo4j server: {_first_line(str(err))}")
    if isinstance(err, ne.Neo4jError) and err.code == _DATABASE_NOT_FOUND:
        return Neo4jLoadError(f"Neo4j has no database {database!r}")
    if isinstance(err, ne.ConfigurationError):
        return Neo4jLoadError(f"bad Neo4j connection settings: {_first_line(str(err))}")
    if isinstance(err, ne.Neo4jError):
        message = getattr(err, "message", None) or str(err)
        return Neo4jLoadError(f"Neo4j error {err.code}: {_first_line(message)}")
    return Neo4jLoadError(f"Neo4j driver error: {_first_line(str(err)) or type(err).__name__}")


class neo4j_errors:  # noqa: N801 - used like a function: ``with neo4j_errors(db):``
    """A context that turns the driver's errors into one-line :class:`Neo4jLoadError` s.

    Args:
        database (str): The database named in a "no such database" message.

    Examples:
        >>> from neo4j.exceptions import AuthError
        >>> with neo4j_errors("neo4j"):
        ...     raise AuthError("The client is unauthorized")
        Traceback (most recent call last):
        ...
        loaders.neo4j_writer.Neo4jLoadError: Neo4j refused the credentials: wrong user name or password
    """

    def __init__(self, database: str) -> None:
        self.database = database

    def __enter__(self) -> neo4j_errors:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        from neo4j.exceptions import DriverError, Neo4jError

        if isinstance(exc, (Neo4jError, DriverError)):
            raise _translate(exc, self.database) from exc


def connect(
    uri: str | None = None,
    user: str | None = None,
    password: str | None = None,
    **config: Any,
) -> neo4j.Driver:
    """A Neo4j driver from arguments or the ``NEO4J_*`` environment variables.

    The driver connects lazily: errors show on first use (:func:`load_trees`
    checks connectivity first and raises :class:`Neo4jLoadError`).

    Args:
        uri (str, optional): Bolt URI; else ``NEO4J_URI``, else
            :data:`DEFAULT_URI`. (default: :obj:`None`)
        user (str, optional): User name; else ``NEO4J_USERNAME``, else
            ``"neo4j"``. (default: :obj:`None`)
        password (str, optional): Password; else ``NEO4J_PASSWORD``.
            (default: :obj:`None`)
        **config: Driver settings such as ``max_transaction_retry_time``.

    Returns:
        neo4j.Driver: The driver; close it (or use it as a context manager).

    Raises:
        Neo4jLoadError: If no password is given or the URI is malformed.

    Examples:
        >>> driver = connect("bolt://127.0.0.1:7999", "neo4j", "not-used-here")
        >>> type(driver).__name__
        'BoltDriver'
        >>> driver.close()
        >>> connect("ftp://127.0.0.1:7687", "neo4j", "x")
        Traceback (most recent call last):
        ...
        loaders.neo4j_writer.Neo4jLoadError: bad Neo4j URI 'ftp://127.0.0.1:7687': ...
    """
    import neo4j

    uri = uri or os.environ.get("NEO4J_URI") or DEFAULT_URI
    user = user or os.environ.get("NEO4J_USERNAME") or "neo4j"
    password = password if password is not None else os.environ.get("NEO4J_PASSWORD")
    if not password:
        raise Neo4jLoadError("no Neo4j password: pass --password or set NEO4J_PASSWORD")
    try:
        return neo4j.GraphDatabase.driver(uri, auth=(user, password), **config)
    except (ValueError, neo4j.exceptions.ConfigurationError) as err:
        raise Neo4jLoadError(f"bad Neo4j URI {uri!r}: {_first_line(str(err))}") from err


def create_constraints(driver: neo4j.Driver, *, database: str = "neo4j") -> None:
    """Create the uniqueness constraints and indexes of :mod:`loaders.cypher` (idempotent).

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


def load_trees(
    driver: neo4j.Driver,
    batches: TreeBatch | Iterable[TreeBatch],
    *,
    database: str = "neo4j",
    batch_size: int = 10_000,
    workers: int = 2,
    progress: Callable[[LoadReport], None] | None = None,
) -> LoadReport:
    """Write tree batches to Neo4j; safe to rerun and to resume.

    Args:
        driver (neo4j.Driver): The driver (see :func:`connect`); it is not closed.
        batches (TreeBatch or Iterable[TreeBatch]): The videos, e.g. from
            :func:`loaders.trees.iter_tree_batches` with ``node_fields=None``
            and ``metadata=True`` (properties not read are not written).
        database (str, optional): The database. (default: :obj:`"neo4j"`)
        batch_size (int, optional): Rows per ``UNWIND`` transaction.
            (default: :obj:`10_000`)
        workers (int, optional): Concurrent writer sessions. Each batch's
            videos are split into ``workers`` disjoint groups, one per
            session, so concurrent transactions touch disjoint nodes and
            cannot deadlock one another; ``2`` keeps a 2-core server busier
            (about 1.4x over one session on 2 cores). (default: :obj:`2`)
        progress (Callable[[LoadReport], None], optional): Called after each
            transaction with the totals so far (from the writer threads when
            ``workers > 1``, one call at a time). (default: :obj:`None`)

    Returns:
        LoadReport: Videos, nodes and relationships written, time and rate.

    Raises:
        ValueError: If ``batch_size`` or ``workers`` is not a positive integer.
        TypeError: If ``batches`` holds something other than tree batches.
        Neo4jLoadError: If the server cannot be reached (also after the
            driver's retries, when it goes away mid-load), refuses the
            credentials, has no such database or fails a statement.
    """
    for name, value in (("batch_size", batch_size), ("workers", workers)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if isinstance(batches, TreeBatch):
        batches = [batches]
    started = time.perf_counter()
    with neo4j_errors(database):
        driver.verify_connectivity()
    create_constraints(driver, database=database)
    tally = _Tally(started, progress)
    with neo4j_errors(database), ThreadPoolExecutor(workers, thread_name_prefix="neo4j-writer") as pool:
        for trees in batches:
            if not isinstance(trees, TreeBatch):
                raise TypeError(f"batches must hold TreeBatch objects, got {type(trees).__name__}")
            groups = [trees] if workers == 1 else [
                trees.select(group) for group in np.array_split(np.arange(trees.num_videos), workers) if group.size
            ]
            for future in [pool.submit(_write_trees, driver, database, g, batch_size, tally) for g in groups]:
                future.result()
            logger.info("loaded %d videos so far", tally.report.videos)
    report = replace(tally.report, seconds=time.perf_counter() - started)
    if progress is not None:
        progress(report)
    logger.info("%s", report.summary())
    return report
