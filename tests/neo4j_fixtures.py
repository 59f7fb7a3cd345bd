"""The session's Neo4j server, for tests that talk to a real Neo4j 5.

``neo4j_server`` connects to the server named by ``NEO4J_URI`` (with
``NEO4J_USERNAME``, default ``neo4j``, and ``NEO4J_PASSWORD``) when that is
set; otherwise it starts the project's dev server (:mod:`graphkit.loaders.neo4j.server`)
on a free port in a temporary directory, with a random password, and stops it
at the end of the session. A server that cannot be started fails the tests
that need it: Neo4j tests never skip.

``tests/conftest.py`` imports it once for the whole suite, so test modules
just name ``neo4j_server`` as an argument. ``tests/conftest.py`` also sends
every ``neo4j``-marked test to one pytest-xdist worker, so a session starts
one server.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from graphkit.errors import Neo4jServerError
from graphkit.loaders.neo4j.server import NEO4J_USER, DevServer

__all__ = ["FAST_START", "Neo4jConnection", "neo4j_server", "neo4j_driver", "clear_database"]

FAST_START = ("-XX:TieredStopAtLevel=1",)
"""JVM options for test servers: no C2 compiler, so a 2-core machine starts
Neo4j in about 7 s rather than 8 to 14 s; tests run short queries anyway."""


@dataclass(frozen=True)
class Neo4jConnection:
    """Where the test Neo4j server listens and how to log in.

    Args:
        uri (str): The Bolt URI, such as ``bolt://127.0.0.1:7687``.
        user (str): The user name.
        password (str): The password (left out of ``repr``).
        server (DevServer, optional): The dev server this session started, or
            :obj:`None` for an external server from ``NEO4J_URI``.
            (default: :obj:`None`)
    """

    uri: str
    user: str
    password: str = field(repr=False)
    server: DevServer | None = field(default=None, repr=False)

    @property
    def auth(self) -> tuple[str, str]:
        """``(user, password)`` for ``neo4j.GraphDatabase.driver(uri, auth=...)``."""
        return (self.user, self.password)


@pytest.fixture(scope="session")
def neo4j_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Neo4jConnection]:
    """The session's Neo4j 5 server: ``NEO4J_URI`` if set, else a dev server."""
    uri = os.environ.get("NEO4J_URI")
    if uri:
        yield Neo4jConnection(
            uri=uri,
            user=os.environ.get("NEO4J_USERNAME", NEO4J_USER),
            password=os.environ.get("NEO4J_PASSWORD", ""),
        )
        return
    server = DevServer(
        tmp_path_factory.mktemp("neo4j-home"),
        password=secrets.token_urlsafe(16),
        jvm_options=FAST_START,
    )
    try:
        uri = server.start(timeout=300.0)
    except Neo4jServerError as err:
        failure = str(err)
    else:
        failure = None
    if failure is not None:  # outside the except block: no chained traceback
        pytest.fail(f"cannot start the Neo4j dev server for the tests: {failure}", pytrace=False)
    try:
        yield Neo4jConnection(uri=uri, user=server.user, password=server.password, server=server)
    finally:
        server.stop()


def clear_database(driver, database: str = "neo4j") -> None:
    """Delete every node and relationship, in batches (one big DETACH DELETE
    exceeds the dev server's transaction memory on large graphs)."""
    with driver.session(database=database) as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()


@pytest.fixture
def neo4j_driver(neo4j_server: Neo4jConnection):
    """A driver to the session's server, its ``neo4j`` database emptied first."""
    import neo4j

    with neo4j.GraphDatabase.driver(neo4j_server.uri, auth=neo4j_server.auth) as driver:
        clear_database(driver)
        yield driver
