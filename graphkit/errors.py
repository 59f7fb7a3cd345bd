"""The exceptions graphkit raises.

Every error graphkit raises on purpose derives from :class:`GraphkitError`, so
callers can catch the whole family with one ``except`` clause. Problems with a
whole file or column (it is not parquet, a column is missing or has the wrong
type) raise :class:`SourceError`; a video whose tree breaks an invariant raises
:class:`InvariantError`, which names the video, the node and the broken rule.
Everything that talks to Neo4j raises a :class:`Neo4jError`.

The whole tree::

    GraphkitError
    ├── SourceError
    │   └── SchemaError
    ├── InvariantError (also a ValueError)
    ├── CsvExportError
    ├── DatasetError
    ├── EngineError
    └── Neo4jError
        ├── Neo4jLoadError
        ├── Neo4jImportError
        └── Neo4jServerError
            └── JavaNotFoundError

One class is not an error: :class:`LoadInterrupted`, a
:class:`KeyboardInterrupt` that says what an interrupted Neo4j load had
committed, so ``except KeyboardInterrupt`` still catches it.

Examples:
    >>> issubclass(JavaNotFoundError, Neo4jError), issubclass(SchemaError, SourceError)
    (True, True)
    >>> str(LoadInterrupted(videos=12))
    'interrupted: 12 videos were committed, whole; run the same load again to finish it ...'
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "CsvExportError",
    "DatasetError",
    "EngineError",
    "GraphkitError",
    "InvariantError",
    "JavaNotFoundError",
    "LoadInterrupted",
    "Neo4jError",
    "Neo4jImportError",
    "Neo4jLoadError",
    "Neo4jServerError",
    "SchemaError",
    "SourceError",
]


class GraphkitError(Exception):
    """Base class of every error raised by graphkit."""


class SourceError(GraphkitError):
    """A source (file, directory, glob, dataset) cannot be read at all.

    Args:
        source (str): The path or description of the source.
        message (str): What is wrong with it.
    """

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        self.message = message
        super().__init__(f"{source}: {message}")


class SchemaError(SourceError):
    """A source lacks a required column or a column has the wrong type."""


class InvariantError(GraphkitError, ValueError):
    """A video's tree breaks one of the Action100M invariants.

    Args:
        video_uid (str or None): The video that breaks the rule.
        node_id (str or None): The first offending node, when the rule is about
            a node (``None`` for video-level rules such as an empty tree).
        rule (str): The broken rule, one of
            :data:`graphkit.validation.RULES`.
        message (str): A human-readable explanation.
    """

    def __init__(
        self, video_uid: str | None, node_id: str | None, rule: str, message: str
    ) -> None:
        self.video_uid = video_uid
        self.node_id = node_id
        self.rule = rule
        self.message = message
        where = f"video {video_uid!r}"
        if node_id is not None:
            where += f", node {node_id!r}"
        super().__init__(f"{where}: {rule}: {message}")


class CsvExportError(GraphkitError):
    """A value cannot be written so that the importer reads it back exactly."""


class DatasetError(GraphkitError):
    """A processed dataset on disk is unreadable, incomplete or damaged (the file is named)."""


class EngineError(GraphkitError):
    """A distributed engine (Ray) is not installed, cannot be reached, or lost a task."""


class Neo4jError(GraphkitError):
    """Base class of every error about Neo4j: loading, importing, the dev server."""


class Neo4jLoadError(Neo4jError):
    """Neo4j cannot be reached, refuses the credentials, lacks the database, or fails a statement."""


class Neo4jImportError(Neo4jError):
    """``neo4j-admin database import`` failed or cannot run.

    Args:
        message (str): What failed.
        lines (Sequence[str]): The importer's own error lines (possibly empty).
        log (pathlib.Path, optional): The importer's full output.
    """

    def __init__(self, message: str, lines: Sequence[str] = (), log: Path | None = None) -> None:
        self.lines = tuple(lines)
        self.log = log
        text = message
        if self.lines:
            text += ": " + " | ".join(self.lines)
        if log is not None:
            text += f" (full output: {log})"
        super().__init__(text)


class Neo4jServerError(Neo4jError):
    """The Neo4j dev server cannot be built, started or stopped."""


class JavaNotFoundError(Neo4jServerError):
    """No Java runtime to start the Neo4j dev server or ``neo4j-admin`` with."""


class LoadInterrupted(KeyboardInterrupt):
    """A Neo4j load stopped by Ctrl-C or SIGTERM; it says what was committed.

    Not a :class:`GraphkitError`: an interrupt, so ``except KeyboardInterrupt``
    catches it too.

    Args:
        videos (int): Videos committed, each whole (its own transaction's
            part of the graph), before the load stopped.
        in_flight (int, optional): Videos whose transaction was still running
            when the load gave up waiting: committed or not, never half.
            (default: :obj:`0`)
    """

    def __init__(self, videos: int, in_flight: int = 0) -> None:
        self.videos = videos
        self.in_flight = in_flight
        text = f"interrupted: {videos:,} videos were committed, whole"
        if in_flight:
            text += f" ({in_flight:,} more were being written: each is committed whole or not at all)"
        text += ("; run the same load again to finish it (videos already in Neo4j are replaced, "
                 "never duplicated)")
        super().__init__(text)
