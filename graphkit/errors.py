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
    ├── OutputExistsError (also a FileExistsError)
    ├── EngineError
    └── Neo4jError
        ├── Neo4jLoadError
        ├── Neo4jImportError
        └── Neo4jServerError
            └── JavaNotFoundError

Examples:
    >>> issubclass(JavaNotFoundError, Neo4jError), issubclass(SchemaError, SourceError)
    (True, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from graphkit.redact import redact

__all__ = [
    "CsvExportError",
    "DatasetError",
    "EngineError",
    "GraphkitError",
    "InvariantError",
    "JavaNotFoundError",
    "Neo4jError",
    "Neo4jImportError",
    "Neo4jLoadError",
    "Neo4jServerError",
    "OutputExistsError",
    "SchemaError",
    "SourceError",
]


class GraphkitError(Exception):
    """Base class of every error raised by graphkit.

    Its ``str`` never shows a credential (:func:`graphkit.redact.redact`):
    a message that quotes ``bolt://user:pw@host`` shows ``bolt://user:***@host``.

    Examples:
        >>> str(Neo4jLoadError("cannot reach bolt://neo4j:pw@db:7687"))
        'cannot reach bolt://neo4j:***@db:7687'
    """

    def __str__(self) -> str:
        return redact(super().__str__())


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


class OutputExistsError(GraphkitError, FileExistsError):
    """An output directory holds what another run wrote (the message says how to go on).

    Raised instead of reusing, or silently mixing with, a training directory
    written by another configuration.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)

    def __str__(self) -> str:
        return redact(str(self.args[0]))


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
