"""The exceptions graphkit raises.

Every error graphkit raises on purpose derives from :class:`GraphkitError`, so
callers can catch the whole family with one ``except`` clause. Problems with a
whole file or column (it is not parquet, a column is missing or has the wrong
type) raise :class:`SourceError`; a video whose tree breaks an invariant raises
:class:`InvariantError`, which names the video, the node and the broken rule.
One row of a source that cannot be read, or holds a value its column cannot
hold (a JSON line that does not parse, ``level`` 40000 in an ``int16``), raises
:class:`RowError`: it is both, since it names the source *and* the row, and
concerns that one video only (under ``errors="skip"`` only it is skipped).
Everything that talks to Neo4j raises a :class:`Neo4jError`.

Messages quote values with :func:`quote`, which truncates long values and
never raises, so building the message of one defect cannot fail on another
(an undecodable byte, a 10 KB id).

The whole tree::

    GraphkitError
    ├── SourceError
    │   └── SchemaError
    │       └── RowError (also an InvariantError)
    ├── InvariantError (also a ValueError)
    ├── CsvExportError
    ├── DatasetError
    ├── OutputExistsError (also a FileExistsError)
    ├── EngineError
    ├── LeakageError (also a ValueError)
    └── Neo4jError
        ├── Neo4jLoadError
        ├── Neo4jImportError
        ├── Neo4jSearchError
        └── Neo4jServerError
            └── JavaNotFoundError

One class is not an error: :class:`LoadInterrupted`, a
:class:`KeyboardInterrupt` that says what an interrupted Neo4j load had
committed, so ``except KeyboardInterrupt`` still catches it.

Examples:
    >>> issubclass(JavaNotFoundError, Neo4jError), issubclass(SchemaError, SourceError)
    (True, True)
    >>> issubclass(RowError, SchemaError), issubclass(RowError, InvariantError)
    (True, True)
    >>> quote("x" * 100, limit=8)
    "'xxxxxxxx'... (100 characters)"
    >>> str(LoadInterrupted(videos=12))
    'interrupted: 12 videos were committed, whole; run the same load again to finish it ...'
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
    "LeakageError",
    "LoadInterrupted",
    "Neo4jError",
    "Neo4jImportError",
    "Neo4jLoadError",
    "Neo4jSearchError",
    "Neo4jServerError",
    "OutputExistsError",
    "RowError",
    "SchemaError",
    "SourceError",
    "quote",
]

#: How many characters of a value a message quotes (:func:`quote`).
QUOTE_LIMIT = 80


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """A value as an error message quotes it: its ``repr``, cut to ``limit`` characters.

    Strings and bytes longer than ``limit`` are cut and followed by their full
    length; other values are cut after their ``repr``. Never raises, whatever
    the value (bytes that are not UTF-8, an object whose ``repr`` fails).

    Args:
        value (object): What to quote.
        limit (int, optional): The most characters of the value to show.
            (default: :obj:`80`)

    Returns:
        str: The quoted value.

    Examples:
        >>> quote("abc"), quote(None), quote(b"ab\\xff")
        ("'abc'", 'None', "b'ab\\\\xff'")
        >>> quote(list(range(100)), limit=10)
        '[0, 1, 2, ... (390 characters)'
    """
    try:
        if isinstance(value, (str, bytes)):
            if len(value) <= limit:
                return repr(value)
            unit = "characters" if isinstance(value, str) else "bytes"
            return f"{value[:limit]!r}... ({len(value)} {unit})"
        text = repr(value)
    except Exception:  # a repr that fails must not hide the defect being reported
        return f"<{type(value).__name__}>"
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


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
        source (str, optional): Where the row was read, when known
            (``"rows.jsonl:3"``, ``"videos.parquet, row 17"``).

    Examples:
        >>> str(InvariantError("v1", "n" * 200, "oversized_id", "too long"))  # doctest: +ELLIPSIS
        "video 'v1', node 'nnnn...nnn'... (200 characters): oversized_id: too long"
        >>> str(InvariantError(None, None, "malformed_row", "invalid JSON", source="a.jsonl:3"))
        'a.jsonl:3: malformed_row: invalid JSON'
    """

    def __init__(
        self, video_uid: str | None, node_id: str | None, rule: str, message: str, source: str | None = None
    ) -> None:
        self.video_uid = video_uid
        self.node_id = node_id
        self.rule = rule
        self.message = message
        self.source = source
        Exception.__init__(self, _located(video_uid, node_id, rule, message, source))


def _located(video_uid: str | None, node_id: str | None, rule: str, message: str, source: str | None) -> str:
    parts = [] if source is None else [source]
    if video_uid is not None or source is None:
        where = f"video {quote(video_uid)}"
        if node_id is not None:
            where += f", node {quote(node_id)}"
        parts.append(where)
    return ": ".join([*parts, rule, message])


class RowError(SchemaError, InvariantError):
    """One row of a source cannot be read, or holds a value its column cannot hold.

    A JSON line that does not parse, a duplicated key, ``false`` where a
    number is expected, ``level`` 40000 in an ``int16``: the row is named by
    its place in the source (``rows.jsonl:3``) and its video when it has one.
    It is a :class:`SchemaError` (about the source's content) and an
    :class:`InvariantError` (about one video: under ``errors="skip"`` only
    that row is skipped, reported with the same words).

    Args:
        source (str): The source and the row (``"rows.jsonl:3"``).
        video_uid (str or None): The row's video, when it can be read.
        rule (str): ``malformed_row``, ``wrong_type``, ``value_out_of_range``
            or ``null_video_uid`` (see :data:`graphkit.validation.RULES`).
        message (str): What exactly is wrong.

    Examples:
        >>> str(RowError("a.jsonl:3", "v1", "wrong_type", "column 'nodes.start' holds False"))
        "a.jsonl:3: video 'v1': wrong_type: column 'nodes.start' holds False"
    """

    def __init__(self, source: str, video_uid: str | None, rule: str, message: str) -> None:
        InvariantError.__init__(self, video_uid, None, rule, message, source)


class CsvExportError(GraphkitError):
    """A value cannot be written so that the importer reads it back exactly."""


class DatasetError(GraphkitError):
    """A processed dataset on disk is unreadable, incomplete or damaged (the file is named)."""


class LeakageError(GraphkitError, ValueError):
    """A task's example would let the model read what the task declares it must never read.

    Raised when a batch is built (:mod:`graphkit.tasks`), naming the video and the node.
    """


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


class Neo4jSearchError(Neo4jError):
    """A search the graph cannot answer: no embeddings, or embeddings of another encoder."""


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
