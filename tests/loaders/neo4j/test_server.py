from __future__ import annotations

import os
import socket
import uuid

import neo4j
import pytest

from graphkit.errors import Neo4jServerError
from graphkit.loaders.neo4j.server import DevServer, machine_memory, memory_defaults
from tests.neo4j_fixtures import FAST_START


def _count(uri: str, auth: tuple[str, str], label: str) -> int:
    with neo4j.GraphDatabase.driver(uri, auth=auth) as driver:
        records, _, _ = driver.execute_query(f"MATCH (n:{label}) RETURN count(n) AS n")
    return records[0]["n"]


# --- without a server --------------------------------------------------------


def test_repr_and_auth_never_leak_into_repr():
    server = DevServer("some/home", password="very-secret-pw", bolt_port=7688)
    assert repr(server) == "DevServer(bolt_port=7688, data_dir='some/home', running=False)"
    assert server.auth == ("neo4j", "very-secret-pw")
    assert "very-secret-pw" not in " ".join(server.command("x.jar"))
    assert server.uri is None and server.log_path is None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"bolt_port": -1}, "bolt_port must be an integer from 0 to 65535, got -1"),
        ({"bolt_port": 65536}, "got 65536"),
        ({"bolt_port": "7687"}, "got '7687'"),
        ({"bolt_port": True}, "got True"),
        ({"page_cache": "lots"}, "page_cache must be a size such as '512m'.*got 'lots'"),
        ({"page_cache": "0m"}, "got '0m'"),
        ({"heap": "1.5g"}, "heap must be a size.*got '1.5g'"),
        ({"password": ""}, "password must be a non-empty string"),
        ({"jvm_options": "-Xss1m"}, "jvm_options must be a sequence of strings, got '-Xss1m'"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DevServer(**kwargs)


@pytest.mark.parametrize(
    ("gib", "heap", "page_cache"),
    [
        (2, "512m", "256m"),  # a small VM: the floors
        (8, "1024m", "1024m"),  # a laptop
        (24, "3072m", "3072m"),  # the 2-core CI machine
        (64, "8192m", "8192m"),
        (512, "8192m", "16384m"),  # a big server: the ceilings
    ],
)
def test_memory_defaults_are_an_eighth_of_the_machine_within_bounds(gib, heap, page_cache):
    assert memory_defaults(gib << 30) == (heap, page_cache)


def test_the_server_is_sized_from_the_machine_unless_told_otherwise():
    assert machine_memory() > 0
    sized = DevServer()
    assert (sized.heap, sized.page_cache) == memory_defaults()
    command = sized.command("x.jar")
    assert f"-Xmx{sized.heap}" in command and command[command.index("--page-cache") + 1] == sized.page_cache
    told = DevServer(heap="700m", page_cache="96m").command("x.jar")
    assert "-Xmx700m" in told and told[told.index("--page-cache") + 1] == "96m"
    assert not any(option.startswith("-Xmx") and option != "-Xmx700m" for option in told)


def _mib(size: str) -> float:
    """MiB in '3072m' (ours) or '512.00MiB' / '3.00GiB' (Neo4j's SHOW SETTINGS)."""
    for suffix, factor in (("GiB", 1024), ("MiB", 1), ("g", 1024), ("m", 1)):
        if size.endswith(suffix):
            return float(size.removesuffix(suffix)) * factor
    raise AssertionError(f"unexpected size {size!r}")


def _memory(uri: str, auth: tuple[str, str]) -> tuple[int, str]:
    """The running server's maximum heap (bytes) and page cache setting."""
    with neo4j.GraphDatabase.driver(uri, auth=auth) as driver:
        heap = driver.execute_query(
            "CALL dbms.queryJmx('java.lang:type=Memory') YIELD attributes "
            "RETURN attributes.HeapMemoryUsage.value.properties.max AS max", database_="neo4j").records[0]["max"]
        page_cache = driver.execute_query(
            "SHOW SETTINGS YIELD name, value WHERE name = 'server.memory.pagecache.size' RETURN value",
            database_="system").records[0]["value"]
    return heap, page_cache


def test_stop_before_start_is_a_no_op():
    server = DevServer()
    server.stop()
    assert not server.running


def test_missing_java_raises(tmp_path):
    server = DevServer(tmp_path, java=str(tmp_path / "no-such-java"))
    with pytest.raises(Neo4jServerError, match=r"cannot run .*no-such-java"):
        server.start()
    assert not server.running


# --- against the session's server (NEO4J_URI or a dev server) ------------------


@pytest.mark.neo4j
def test_return_one(neo4j_server):
    with neo4j.GraphDatabase.driver(neo4j_server.uri, auth=neo4j_server.auth) as driver:
        records, _, _ = driver.execute_query("RETURN 1 AS one", database_="neo4j")
        info = driver.get_server_info()
    assert records[0]["one"] == 1
    assert info.agent.startswith("Neo4j/")
    if neo4j_server.server is not None:  # our dev server, not NEO4J_URI
        assert info.agent.startswith("Neo4j/5.26.")


@pytest.mark.neo4j
def test_the_session_server_runs_with_the_sized_heap_and_page_cache(neo4j_server):
    heap, page_cache = memory_defaults()
    assert (neo4j_server.server is None or
            (neo4j_server.server.heap, neo4j_server.server.page_cache) == (heap, page_cache))
    if neo4j_server.server is not None:  # our dev server, not NEO4J_URI
        got_heap, got_page_cache = _memory(neo4j_server.uri, neo4j_server.auth)
        assert abs(got_heap - _mib(heap) * 2**20) <= 0.05 * _mib(heap) * 2**20
        assert abs(_mib(got_page_cache) - _mib(page_cache)) <= 0.01 * _mib(page_cache)  # shown as 2.94GiB


@pytest.mark.neo4j
@pytest.mark.parametrize(
    "value",
    ["plain", "quotes ' \" and \\ backslash", "ünïcødé ✂", 42, -1.5, [1, 2, 3], ["a", "b"], True],
)
def test_create_and_read_back_a_node_with_parameters(neo4j_server, value):
    key = str(uuid.uuid4())
    with neo4j.GraphDatabase.driver(neo4j_server.uri, auth=neo4j_server.auth) as driver:
        driver.execute_query(
            "CREATE (:DevServerSmoke {key: $key, value: $value})", key=key, value=value, database_="neo4j"
        )
        records, _, _ = driver.execute_query(
            "MATCH (n:DevServerSmoke {key: $key}) RETURN n.value AS value", key=key, database_="neo4j"
        )
        driver.execute_query("MATCH (n:DevServerSmoke {key: $key}) DELETE n", key=key, database_="neo4j")
    assert [record["value"] for record in records] == [value]


@pytest.mark.neo4j
def test_wrong_password_raises_auth_error(neo4j_server):
    wrong = (neo4j_server.user, "wrong-password")
    with (
        neo4j.GraphDatabase.driver(neo4j_server.uri, auth=wrong) as driver,
        pytest.raises(neo4j.exceptions.AuthError, match="authentication failure"),
    ):
        driver.verify_connectivity()
    # Failed logins do not lock the user out for the tests that follow.
    with neo4j.GraphDatabase.driver(neo4j_server.uri, auth=neo4j_server.auth) as driver:
        driver.verify_connectivity()


# --- dedicated dev servers -----------------------------------------------------


@pytest.mark.neo4j
@pytest.mark.slow
def test_restart_on_the_same_data_dir_keeps_data_and_applies_the_new_password(tmp_path):
    home = tmp_path / "home"
    with (
        DevServer(home, password="first-password", jvm_options=FAST_START) as server,
        neo4j.GraphDatabase.driver(server.uri, auth=server.auth) as driver,
    ):
        driver.execute_query("UNWIND range(1, 3) AS i CREATE (:Kept {i: i})", database_="neo4j")
    assert not server.running and server.uri is None
    assert (home / "data" / "databases" / "neo4j").is_dir()
    assert "ready" in (home / "logs" / "neo4j-dev.log").read_text()

    with DevServer(home, password="second-password", heap="640m", page_cache="96m", jvm_options=FAST_START) as server:
        assert _count(server.uri, server.auth, "Kept") == 3
        heap, page_cache = _memory(server.uri, server.auth)
        assert abs(heap - 640 * 2**20) <= 0.05 * 640 * 2**20 and _mib(page_cache) == 96
        with pytest.raises(neo4j.exceptions.AuthError):
            _count(server.uri, ("neo4j", "first-password"), "Kept")


@pytest.mark.neo4j
@pytest.mark.slow
def test_port_in_use_fails_with_a_clear_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = DevServer(tmp_path / "home", bolt_port=port, jvm_options=FAST_START)
        in_use = rf"exited with status 1: .*127\.0\.0\.1:{port}.*already in use"
        with pytest.raises(Neo4jServerError, match=in_use):
            server.start()
    assert not server.running
    assert server.log_path is not None and os.fspath(tmp_path) in os.fspath(server.log_path)


@pytest.mark.neo4j
@pytest.mark.slow
def test_temporary_home_is_deleted_on_stop():
    server = DevServer(jvm_options=FAST_START)
    uri = server.start()
    home = server.log_path.parent.parent
    assert uri == server.uri and uri.startswith("bolt://127.0.0.1:") and home.is_dir()
    server.stop()
    assert not home.exists() and not server.running
