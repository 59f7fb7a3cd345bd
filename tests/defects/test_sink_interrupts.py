"""Interrupts and server loss: a load stops at once, says what is committed, and a rerun gives exactly the source.

Each case id is one way a ``graphkit neo4j load`` (a real subprocess, against
a dev server of this module's own, so it can be stopped and killed) is cut
short mid-load:

* SIGINT or SIGTERM: exit status 130 within a few seconds (the load waits at
  most a second for the transactions in flight), one line on stderr saying how
  many videos were committed, and nothing written after the process is gone;
* SIGKILL: nothing to say, but the database holds only whole videos;
* the server stopped or killed: exactly one ``error:`` line naming the cause,
  a non-zero status, no traceback, none of the driver's retry warnings.

In every case each video in the database equals its source (transactions hold
whole videos), and running the same command again ends with exactly the
source graph. ``graphkit neo4j serve`` without ``--data-dir`` removes its
temporary home whenever it is interrupted.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import neo4j
import pytest

from graphkit.errors import LoadInterrupted
from graphkit.loaders.neo4j.server import DevServer
from graphkit.loaders.neo4j.writer import load_trees
from graphkit.loaders.synth import write_parquet
from graphkit.loaders.trees import iter_tree_batches
from tests.neo4j_fixtures import FAST_START, clear_database
from tests.paths import ROOT
from tests.sink_truth import expected_graph, neo4j_graph, subgraph

RUN_CLI = "import sys; from graphkit.cli import main; sys.argv = ['graphkit', *sys.argv[1:]]; main()"
PASSWORD = "interrupt-test-pw"
#: How long a stopped load may take to exit: the one-second grace for transactions in
#: flight, plus the interpreter's exit, on a busy two-core machine.
STOP_WITHIN_S = 8.0
INTERRUPTED = re.compile(r"^interrupted: (\d[\d,]*) videos were committed, whole"
                         r"(?: \((\d[\d,]*) more were being written: each is committed whole or not at all\))?"
                         r"; run the same load again to finish it \(videos already in Neo4j are replaced, "
                         r"never duplicated\)$")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> tuple[str, tuple]:
    path = tmp_path_factory.mktemp("interrupts") / "source.parquet"
    write_parquet(path, 120, seed=17)
    import pyarrow.parquet as pq

    return str(path), expected_graph(pq.read_table(path).to_pylist())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A dev server of this module's own (a fixed port, so a restart keeps the URI)."""
    server = DevServer(tmp_path_factory.mktemp("interrupts-home") / "home", password=PASSWORD,
                       bolt_port=_free_port(), page_cache="128m", heap="768m", jvm_options=FAST_START)
    server.start(timeout=300.0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def driver(server):
    if not server.running:
        server.start(timeout=300.0)
    with neo4j.GraphDatabase.driver(server.uri, auth=server.auth) as driver:
        clear_database(driver)
        yield driver


def _load(server: DevServer, path: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "NEO4J_URI": server.uri, "NEO4J_PASSWORD": PASSWORD}
    return subprocess.Popen([sys.executable, "-c", RUN_CLI, "neo4j", "load", path, "--batch-size", "2000", *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _videos(driver) -> int:
    return driver.execute_query("MATCH (v:Video) RETURN count(v) AS n", database_="neo4j").records[0]["n"]


def _wait_for_commits(driver, process: subprocess.Popen, at_least: int = 3, timeout: float = 240.0) -> None:
    """Until the load has committed a few videos (it is then mid-load), or fail if it ended first."""
    deadline = time.monotonic() + timeout
    while _videos(driver) < at_least:
        assert process.poll() is None, f"the load ended before it was cut short: {process.communicate()}"
        assert time.monotonic() < deadline, "the load committed nothing in time"
        time.sleep(0.1)
    assert process.poll() is None, "the load ended before it was cut short"


def _only_whole_videos(driver, truth) -> set[str]:
    """Assert each video in the database equals its source; return their ids."""
    held = neo4j_graph(driver)
    uids = {identity[1] for identity, _ in held[0]}
    assert held == subgraph(truth, uids)
    return uids


def _rerun_gives_the_source(server, driver, path, truth, *args) -> None:
    result = _load(server, path, *args)
    out, err = result.communicate(timeout=600)
    assert result.returncode == 0, err
    assert neo4j_graph(driver) == truth


@pytest.mark.neo4j
@pytest.mark.slow
@pytest.mark.parametrize(("sig", "method"), [(signal.SIGINT, "create"), (signal.SIGTERM, "create"),
                                             (signal.SIGINT, "merge")], ids=["sigint", "sigterm", "sigint-merge"])
def test_an_interrupted_load_stops_says_what_is_committed_and_a_rerun_finishes_it(server, driver, source, sig,
                                                                                   method):
    path, truth = source
    process = _load(server, path, "--method", method)
    _wait_for_commits(driver, process)
    sent = time.monotonic()
    process.send_signal(sig)
    out, err = process.communicate(timeout=120)
    took = time.monotonic() - sent
    assert process.returncode == 130, err
    assert took < STOP_WITHIN_S, f"stopped {took:.1f} s after the signal"
    lines = err.splitlines()
    assert len(lines) == 1, lines
    match = INTERRUPTED.match(lines[0])
    assert match, lines[0]
    committed, in_flight = (int((g or "0").replace(",", "")) for g in match.groups())
    held = _only_whole_videos(driver, truth)
    assert committed <= len(held) <= committed + in_flight
    time.sleep(1.0)
    assert _videos(driver) == len(held)  # nothing is written once the process is gone
    assert out == ""
    _rerun_gives_the_source(server, driver, path, truth, "--method", method)


@pytest.mark.neo4j
@pytest.mark.slow
def test_a_killed_load_leaves_whole_videos_and_a_rerun_finishes_it(server, driver, source):
    path, truth = source
    process = _load(server, path)
    _wait_for_commits(driver, process)
    process.kill()
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    time.sleep(1.0)  # the server rolls back what the dead client had not committed
    assert 0 < len(_only_whole_videos(driver, truth)) < len(truth[0])
    _rerun_gives_the_source(server, driver, path, truth)


@pytest.mark.neo4j
@pytest.mark.slow
@pytest.mark.parametrize("loss", ["server-stopped", "server-killed"])
def test_losing_the_server_mid_load_is_one_line_and_a_rerun_finishes_it(server, driver, source, loss):
    path, truth = source
    process = _load(server, path)
    _wait_for_commits(driver, process)
    if loss == "server-stopped":
        server.stop()
    else:
        server._kill()  # SIGKILL: no clean shutdown
        server.stop()
    out, err = process.communicate(timeout=180)
    assert process.returncode == 2
    lines = err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: cannot reach the Neo4j server: "), lines[0]
    assert "Traceback" not in err and "WARNING" not in err and "retried" not in err
    server.start(timeout=300.0)  # the same home and port
    with neo4j.GraphDatabase.driver(server.uri, auth=server.auth) as again:
        _only_whole_videos(again, truth)
        _rerun_gives_the_source(server, again, path, truth)


@pytest.mark.neo4j
def test_ctrl_c_inside_a_library_load_raises_load_interrupted_with_the_videos_committed(server, driver, source):
    path, truth = source

    def batches():
        for number, trees in enumerate(iter_tree_batches(path, node_fields=None, metadata=True, batch_size=8)):
            if number == 3:
                raise KeyboardInterrupt  # as Ctrl-C does, in the thread that runs the load
            yield trees

    with pytest.raises(LoadInterrupted) as info:
        load_trees(driver, batches(), batch_size=500, workers=2)
    held = _only_whole_videos(driver, truth)
    assert isinstance(info.value, KeyboardInterrupt)
    assert info.value.videos <= len(held) <= info.value.videos + info.value.in_flight <= 24
    assert load_trees(driver, iter_tree_batches(path, node_fields=None, metadata=True)).videos == 120
    assert neo4j_graph(driver) == truth


# --- graphkit neo4j serve without --data-dir ----------------------------------


def _homes(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("graphkit-neo4j-"))


@pytest.mark.neo4j
@pytest.mark.slow
@pytest.mark.parametrize(("sig", "when"), [(signal.SIGTERM, "ready"), (signal.SIGINT, "ready"),
                                           (signal.SIGINT, "starting"), (signal.SIGTERM, "starting")],
                         ids=["sigterm-when-ready", "sigint-when-ready", "sigint-while-starting",
                              "sigterm-while-starting"])
def test_serve_removes_its_temporary_home_when_interrupted(tmp_path, sig, when):
    env = {**os.environ, "TMPDIR": str(tmp_path), "NEO4J_PASSWORD": PASSWORD}
    process = subprocess.Popen(
        [sys.executable, "-c", RUN_CLI, "neo4j", "serve", "--port", str(_free_port()), "--heap", "512m",
         "--page-cache", "64m"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if when == "ready":
            assert process.stdout.readline().startswith("bolt://127.0.0.1:")
        else:
            deadline = time.monotonic() + 120
            while not _homes(tmp_path):
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.02)
        assert len(_homes(tmp_path)) == 1 and process.poll() is None
        process.send_signal(sig)
        process.communicate(timeout=120)
        assert process.returncode in (0, 130)
        assert _homes(tmp_path) == []
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.neo4j
@pytest.mark.slow
def test_a_second_signal_while_stopping_still_removes_the_temporary_home(tmp_path):
    server = DevServer(password=PASSWORD, page_cache="64m", heap="512m", jvm_options=FAST_START)
    old = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(tmp_path)
    try:
        import tempfile

        tempfile.tempdir = None
        server.start(timeout=300.0)
    finally:
        os.environ.pop("TMPDIR") if old is None else os.environ.__setitem__("TMPDIR", old)
        tempfile.tempdir = None
    assert len(_homes(tmp_path)) == 1

    def interrupt_soon() -> None:
        time.sleep(0.05)
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    threading.Thread(target=interrupt_soon).start()
    with pytest.raises(KeyboardInterrupt):
        server.stop(timeout=60.0)
        time.sleep(5)  # the interrupt lands in stop's wait, or here if the server was quicker
    assert not server.running and _homes(tmp_path) == []
