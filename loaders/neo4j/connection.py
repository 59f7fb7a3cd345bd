"""Connecting to Neo4j, and one clear line for every driver error.

Credentials come from the arguments of :func:`connect` or from
``NEO4J_URI`` / ``NEO4J_USERNAME`` / ``NEO4J_PASSWORD``; they are never logged
or put in a message. :class:`neo4j_errors` turns the driver's exceptions (wrong
credentials, a server that cannot be reached, a database that does not exist,
a failed statement) into one-line :class:`~graphkit.errors.Neo4jLoadError` s.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from graphkit.errors import Neo4jLoadError

if TYPE_CHECKING:
    import neo4j

__all__ = ["DEFAULT_URI", "connect", "neo4j_errors"]

DEFAULT_URI = "bolt://127.0.0.1:7687"
"""Where :func:`connect` looks when neither an argument nor ``NEO4J_URI`` names a server."""

_DATABASE_NOT_FOUND = "Neo.ClientError.Database.DatabaseNotFound"


def _first_line(text: str, limit: int = 300) -> str:
    """The message on one line: a driver message that spans lines (and would end
    in a dangling colon if cut at the first) is joined, then shortened to ``limit``."""
    joined = " ".join(line.strip() for line in str(text).splitlines() if line.strip())
    return joined if len(joined) <= limit else joined[: limit - 3] + "..."


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
        graphkit.errors.Neo4jLoadError: Neo4j refused the credentials: wrong user name or password
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
        **config: Driver settings; ``max_transaction_retry_time`` is 5 s
            unless given (the driver's own default, 30 s, kept a lost server's
            load retrying, and warning, for half a minute; 5 s still rides out
            a deadlock or a busy database).

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
        graphkit.errors.Neo4jLoadError: bad Neo4j URI 'ftp://127.0.0.1:7687': ...
    """
    import neo4j

    uri = uri or os.environ.get("NEO4J_URI") or DEFAULT_URI
    user = user or os.environ.get("NEO4J_USERNAME") or "neo4j"
    password = password if password is not None else os.environ.get("NEO4J_PASSWORD")
    if not password:
        raise Neo4jLoadError("no Neo4j password: pass --password or set NEO4J_PASSWORD")
    config.setdefault("max_transaction_retry_time", 5.0)
    try:
        return neo4j.GraphDatabase.driver(uri, auth=(user, password), **config)
    except (ValueError, neo4j.exceptions.ConfigurationError) as err:
        raise Neo4jLoadError(f"bad Neo4j URI {uri!r}: {_first_line(str(err))}") from err
