"""Test-session wiring shared by every test module."""

from __future__ import annotations

import pytest

# One definition for the whole suite, so the session-scoped server is started
# once per session (a fixture imported into each module is one per module).
from tests.neo4j_fixtures import neo4j_driver, neo4j_server  # noqa: F401


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Under pytest-xdist (--dist loadgroup) every Neo4j test runs on one worker,
    # so a session starts one Neo4j server, not one per worker.
    for item in items:
        if item.get_closest_marker("neo4j"):
            item.add_marker(pytest.mark.xdist_group("neo4j"))
