"""Connecting to Neo4j, and one clear line for every driver error.

Credentials come from the arguments of :func:`connect` or from
``NEO4J_URI`` / ``NEO4J_USERNAME`` / ``NEO4J_PASSWORD``; they are never logged
or put in a message (every message passes through :func:`graphkit.redact.redact`,
and :func:`connect` registers the password with it). :func:`check_uri` refuses,
in one line, a URI the driver would choke on (no host, a port that is not a
number, credentials inside it, a scheme that is not Bolt). :class:`neo4j_errors` turns the driver's exceptions (wrong
credentials, a server that cannot be reached, a database that does not exist,
a failed statement) into one-line :class:`~graphkit.errors.Neo4jLoadError` s.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from graphkit.errors import Neo4jLoadError
from graphkit.redact import redact, register_secret

if TYPE_CHECKING:
    import neo4j

__all__ = ["DEFAULT_URI", "SCHEMES", "check_uri", "connect", "neo4j_errors"]

DEFAULT_URI = "bolt://127.0.0.1:7687"
"""Where :func:`connect` looks when neither an argument nor ``NEO4J_URI`` names a server."""

#: The URI schemes of Bolt, which every graphkit reader and writer speaks.
SCHEMES: tuple[str, ...] = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")

_DATABASE_NOT_FOUND = "Neo.ClientError.Database.DatabaseNotFound"


def _first_line(text: str, limit: int = 300) -> str:
    """The message on one line: a driver message that spans lines (and would end
    in a dangling colon if cut at the first) is joined, then shortened to ``limit``."""
    joined = " ".join(line.strip() for line in str(text).splitlines() if line.strip())
    return joined if len(joined) <= limit else joined[: limit - 3] + "..."


_COULD_NOT_CONNECT = re.compile(r"Couldn't connect to (?P<address>\S+?)(?: \(resolved to .*?\))?:(?:\s|$)")
_REASON = re.compile(r"\(reason (?:\[Errno -?\d+\] )?(?P<reason>[^()]*)\)")


def _unreachable(text: str) -> str:
    """The driver's "cannot connect" message without its Python reprs: the address and the reason.

    Examples:
        >>> _unreachable("Couldn't connect to 127.0.0.1:7999 (resolved to ('127.0.0.1:7999',)):\\n"
        ...              "Failed to establish connection to ResolvedIPv4Address(('127.0.0.1', 7999)) "
        ...              "(reason [Errno 111] Connection refused)")
        "Couldn't connect to 127.0.0.1:7999: Connection refused"
    """
    address, reason = _COULD_NOT_CONNECT.search(text), _REASON.search(text)
    if address and reason:
        return f"Couldn't connect to {address['address']}: {reason['reason'].strip()}"
    return re.sub(r"\[Errno -?\d+\] ", "", _first_line(text))


def _translate(err: Exception, database: str) -> Neo4jLoadError:
    """One clear line for a driver error (the raw message can span lines)."""
    from neo4j import exceptions as ne

    if isinstance(err, ne.AuthError):
        return Neo4jLoadError("Neo4j refused the credentials: wrong user name or password")
    if isinstance(err, (ne.ServiceUnavailable, ne.SessionExpired)):
        return Neo4jLoadError(f"cannot reach the Neo4j server: {_unreachable(str(err))}")
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


def check_uri(uri: str, origin: str = "--uri") -> None:
    """Refuse a Neo4j URI that cannot name a Bolt server, in one line that never shows a password.

    Args:
        uri (str): The URI.
        origin (str, optional): Where it came from, named in the message
            (``"--uri"`` or ``"NEO4J_URI"``). (default: :obj:`"--uri"`)

    Raises:
        Neo4jLoadError: If the scheme is not one of :data:`SCHEMES`, the host
            is missing, the port is not a number from 1 to 65535, or the URI
            holds a user name or password.

    Examples:
        >>> check_uri("bolt://127.0.0.1:7687")
        >>> check_uri("bolt://127.0.0.1:seven")
        Traceback (most recent call last):
        ...
        graphkit.errors.Neo4jLoadError: bad Neo4j URI 'bolt://127.0.0.1:seven' (--uri): the port 'seven' is not a number from 1 to 65535
        >>> check_uri("bolt://neo4j:s3cret@db:7687", "NEO4J_URI")
        Traceback (most recent call last):
        ...
        graphkit.errors.Neo4jLoadError: bad Neo4j URI 'bolt://neo4j:***@db:7687' (NEO4J_URI): it holds credentials; give the user and password with --user/--password or NEO4J_USERNAME/NEO4J_PASSWORD
    """
    def bad(why: str) -> Neo4jLoadError:
        return Neo4jLoadError(f"bad Neo4j URI {redact(uri)!r} ({origin}): {why}")

    try:
        parts = urlsplit(uri)
    except ValueError as err:
        raise bad(str(err)) from None
    if "://" not in uri or parts.scheme.lower() not in SCHEMES:
        shown = f"the scheme {parts.scheme!r} is not Bolt" if "://" in uri else "it has no scheme"
        raise bad(f"{shown}; expected one of {', '.join(s + '://' for s in SCHEMES)}")
    host, _, port = parts.netloc.rpartition("@")[2].rpartition("]")[2].partition(":")
    if "@" in parts.netloc:
        raise bad("it holds credentials; give the user and password with --user/--password "
                  "or NEO4J_USERNAME/NEO4J_PASSWORD")
    if not parts.hostname:
        raise bad("it names no host, as in bolt://HOST:7687")
    if port and not (port.isdigit() and 1 <= int(port) <= 65535):
        raise bad(f"the port {port!r} is not a number from 1 to 65535")


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
        Neo4jLoadError: If no password is given or the URI is malformed
            (:func:`check_uri`).

    Examples:
        >>> driver = connect("bolt://127.0.0.1:7999", "neo4j", "not-used-here")
        >>> type(driver).__name__
        'BoltDriver'
        >>> driver.close()
        >>> connect("ftp://127.0.0.1:7687", "neo4j", "x")
        Traceback (most recent call last):
        ...
        graphkit.errors.Neo4jLoadError: bad Neo4j URI 'ftp://127.0.0.1:7687' (--uri): the scheme 'ftp' is not Bolt; ...
    """
    import neo4j

    origin = "--uri" if uri else "NEO4J_URI" if os.environ.get("NEO4J_URI") else "the default"
    uri = uri or os.environ.get("NEO4J_URI") or DEFAULT_URI
    user = user or os.environ.get("NEO4J_USERNAME") or "neo4j"
    password = password if password is not None else os.environ.get("NEO4J_PASSWORD")
    register_secret(password)
    check_uri(uri, origin)
    if not password:
        raise Neo4jLoadError("no Neo4j password: pass --password or set NEO4J_PASSWORD")
    config.setdefault("max_transaction_retry_time", 5.0)
    try:
        return neo4j.GraphDatabase.driver(uri, auth=(user, password), **config)
    except (ValueError, neo4j.exceptions.ConfigurationError) as err:
        raise Neo4jLoadError(f"bad Neo4j URI {redact(uri)!r} ({origin}): {_first_line(redact(str(err)))}") from None
