from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import neo4j
import pytest
from typer.testing import CliRunner

from graphkit.cli import app
from graphkit.loaders.neo4j.rows import entity_counts
from graphkit.loaders.neo4j.search import search_segments
from graphkit.loaders.neo4j.search_cypher import await_indexes_query
from graphkit.loaders.neo4j.server import DevServer
from graphkit.loaders.synth import write_parquet
from graphkit.loaders.trees import iter_tree_batches
from graphkit.tree import TreeBatch
from tests.graphkit.cli.runner import graphkit
from tests.neo4j_fixtures import FAST_START
from tests.paths import ROOT

runner = CliRunner()

# The command line as the console script runs it, for the subprocess tests.
RUN_CLI = "import sys; from graphkit.cli import main; sys.argv = ['graphkit', *sys.argv[1:]]; main()"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "synth.parquet"
    write_parquet(path, 3, seed=17)
    return path


@pytest.fixture
def clean(neo4j_driver):
    return neo4j_driver


def test_help_lists_the_commands():
    result = runner.invoke(app, ["neo4j", "--help"])
    assert result.exit_code == 0
    assert "serve" in result.stdout and "load" in result.stdout


@pytest.mark.neo4j
def test_load_writes_the_source_and_prints_the_report(neo4j_server, clean, source):  # noqa: F811
    args = ["neo4j", "load", str(source), "--uri", neo4j_server.uri, "--user", neo4j_server.user,
            "--password", neo4j_server.password, "--batch-size", "700"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    trees = TreeBatch.concat(list(iter_tree_batches(source, node_fields=None, metadata=True)))
    expected = entity_counts(trees)
    nodes, rels = expected["Video"] + expected["Segment"], sum(expected.values()) - expected["Video"] - expected["Segment"]
    assert result.stdout.strip().startswith(f"loaded 3 videos: {nodes:,} nodes, {rels:,} relationships in ")
    assert neo4j_server.password not in result.output
    records, _, _ = clean.execute_query("MATCH (s:Segment) RETURN count(s) AS n", database_="neo4j")
    assert records[0]["n"] == trees.num_nodes


@pytest.mark.neo4j
@pytest.mark.parametrize(("change", "message"), [
    ({"--password": "wrong-password-456"}, "error: Neo4j refused the credentials: wrong user name or password"),
    ({"--database": "missing_db"}, "error: Neo4j has no database 'missing_db'"),
    ({"--uri": "bolt://127.0.0.1:{port}"}, "error: cannot reach the Neo4j server: "),
])
def test_connection_errors_are_one_line_and_exit_2(neo4j_server, source, change, message):  # noqa: F811
    options = {"--uri": neo4j_server.uri, "--user": neo4j_server.user, "--password": neo4j_server.password,
               "--database": "neo4j"}
    options.update({k: v.format(port=_free_port()) for k, v in change.items()})
    args = ["neo4j", "load", str(source), *[x for kv in options.items() for x in kv]]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output and options["--password"] not in result.output


def test_a_missing_source_is_one_line_and_exit_2(tmp_path):
    result = runner.invoke(app, ["neo4j", "load", str(tmp_path / "nope.parquet"), "--password", "x",
                                 "--uri", f"bolt://127.0.0.1:{_free_port()}"])
    assert result.exit_code == 2 and result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output


@pytest.mark.neo4j
def test_load_in_a_subprocess_reads_credentials_from_the_environment(neo4j_server, clean, source):  # noqa: F811
    env = {**os.environ, "NEO4J_URI": neo4j_server.uri, "NEO4J_USERNAME": neo4j_server.user,
           "NEO4J_PASSWORD": neo4j_server.password, "COLUMNS": "200"}
    result = subprocess.run([sys.executable, "-c", RUN_CLI, "neo4j", "load", str(source)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("loaded 3 videos: ")
    assert neo4j_server.password not in result.stdout + result.stderr
    wrong = {**env, "NEO4J_URI": f"bolt://127.0.0.1:{_free_port()}"}
    result = subprocess.run([sys.executable, "-c", RUN_CLI, "neo4j", "load", str(source)], cwd=ROOT, env=wrong,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot reach the Neo4j server: ") and "Traceback" not in result.stderr


@pytest.mark.neo4j
@pytest.mark.slow
def test_serve_prints_the_uri_once_ready_and_stops_on_interrupt(tmp_path):
    port = _free_port()
    env = {**os.environ, "NEO4J_PASSWORD": "serve-test-pw"}
    process = subprocess.Popen(
        [sys.executable, "-c", RUN_CLI, "neo4j", "serve", "--port", str(port), "--data-dir", str(tmp_path / "home"),
         "--page-cache", "64m", "--heap", "512m"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = process.stdout.readline()
        assert line == f"bolt://127.0.0.1:{port}\n"
        with neo4j.GraphDatabase.driver(line.strip(), auth=("neo4j", "serve-test-pw")) as driver:
            assert driver.execute_query("RETURN 1 AS one", database_="neo4j").records[0]["one"] == 1
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=120) == 0
        assert process.stdout.read() == ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_reports_a_bad_size_as_one_line():
    result = runner.invoke(app, ["neo4j", "serve", "--heap", "lots"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: heap must be a size") and "Traceback" not in result.output


@pytest.mark.neo4j
def test_query_runs_a_cookbook_query_by_name_with_typed_parameters(neo4j_server, clean, source):  # noqa: F811
    credentials = ["--uri", neo4j_server.uri, "--user", neo4j_server.user, "--password", neo4j_server.password]
    assert runner.invoke(app, ["neo4j", "load", str(source), *credentials]).exit_code == 0
    trees = TreeBatch.concat(list(iter_tree_batches(source, node_fields=None)))
    uid = trees.video_uid[0].as_py()
    result = runner.invoke(app, ["neo4j", "query", "step_sequence", "--param", f"video_uid={uid}",
                                 "--param", "level=2", "--json", *credentials])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["query"] == "step_sequence" and answer["parameters"] == {"video_uid": uid, "level": 2}
    first = int(trees.node_offsets[0])
    in_video = slice(first, int(trees.node_offsets[1]))
    expected = int((trees.level[in_video] == 2).sum())
    assert len(answer["rows"]) == expected > 0
    histogram = runner.invoke(app, ["neo4j", "query", "level_histogram", "--json", *credentials])
    assert histogram.exit_code == 0, histogram.output
    assert sum(row["segments"] for row in json.loads(histogram.stdout)["rows"]) == trees.num_nodes


def test_query_lists_the_cookbook_and_refuses_bad_parameters_in_one_line():
    listing = runner.invoke(app, ["neo4j", "query"])
    assert listing.exit_code == 0 and "step_sequence: " in listing.stdout and "--param level=" in listing.stdout
    for args, message in [
        (["step_sequence", "--param", "level=two", "--param", "video_uid=x"], "level='two' is not an integer"),
        (["step_sequence", "--param", "level=2"], "step_sequence needs --param video_uid="),
        (["step_sequence", "--param", "colour=red"], "step_sequence has no parameter 'colour'"),
        (["no_such_query"], "unknown cookbook query 'no_such_query'"),
    ]:
        result = runner.invoke(app, ["neo4j", "query", *args, "--password", "x"])
        assert result.exit_code == 2, result.output
        assert result.stderr.count("\n") == 1 and message in result.stderr


def test_query_on_an_unreachable_server_is_one_whole_line_at_once():
    started = time.perf_counter()
    result = runner.invoke(app, ["neo4j", "query", "level_histogram", "--uri", f"bolt://127.0.0.1:{_free_port()}",
                                 "--password", "x"])
    assert result.exit_code == 2
    assert time.perf_counter() - started < 10  # no rounds of driver retries
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot reach the Neo4j server: ")
    assert not lines[0].endswith(":") and "Connection refused" in lines[0]


def test_export_csv_gzip_writes_parallel_shards_and_prints_their_import_command(tmp_path, source):
    out = tmp_path / "csv"
    result = runner.invoke(app, ["neo4j", "export-csv", str(source), "--out", str(out), "--gzip", "--shards", "3",
                                 "--compression-level", "6"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("segments-*.csv.gz")) == [f"segments-0000{k}.csv.gz" for k in range(3)]
    command = result.stdout.strip().splitlines()[-1]
    group = ",".join(str(out / f"segments-0000{k}.csv.gz") for k in range(3))
    assert command.startswith("neo4j-admin database import full neo4j --nodes=") and f"--nodes={group}" in command


def test_export_csv_refuses_a_bad_compression_level(tmp_path, source):
    result = runner.invoke(app, ["neo4j", "export-csv", str(source), "--out", str(tmp_path), "--gzip",
                                 "--compression-level", "0"])
    assert result.exit_code == 2 and "compression-level" in result.output


@pytest.mark.neo4j
@pytest.mark.parametrize("method", ["merge", "create"])
def test_load_method_option(neo4j_server, clean, source, method):  # noqa: F811
    args = ["neo4j", "load", str(source), "--uri", neo4j_server.uri, "--user", neo4j_server.user,
            "--password", neo4j_server.password, "--method", method]
    first = runner.invoke(app, args)
    again = runner.invoke(app, args)  # idempotent either way
    assert first.exit_code == 0 and again.exit_code == 0, first.output + again.output
    trees = TreeBatch.concat(list(iter_tree_batches(source, node_fields=None, metadata=True)))
    records, _, _ = clean.execute_query("MATCH (s:Segment) RETURN count(s) AS n", database_="neo4j")
    assert records[0]["n"] == trees.num_nodes


def test_load_refuses_an_unknown_method(source):
    result = runner.invoke(app, ["neo4j", "load", str(source), "--password", "x", "--method", "upsert"])
    assert result.exit_code == 2 and "method must be one of 'create', 'merge'" in result.output


@pytest.mark.neo4j
def test_export_csv_imports_into_a_fresh_database_with_the_real_importer(tmp_path):
    data = write_parquet(tmp_path / "v.parquet", 12, seed=3)
    result = graphkit("neo4j", "export-csv", str(data), "--out", str(tmp_path / "csv"), "--gzip",
                      "--import-into", str(tmp_path / "home"))
    assert result.returncode == 0, result.stderr
    exported = re.search(r"wrote ([\d,]+) nodes and ([\d,]+) relationships", result.stderr).groups()
    imported = re.search(r"imported ([\d,]+) nodes and ([\d,]+) relationships", result.stderr).groups()
    assert exported == imported
    assert "the indexes are populated in the background while a server runs on the home" in result.stderr
    server = DevServer(tmp_path / "home", password=secrets.token_urlsafe(12), jvm_options=FAST_START)
    uri = server.start(timeout=300.0)
    try:
        with neo4j.GraphDatabase.driver(uri, auth=server.auth) as driver:
            records, _, _ = driver.execute_query("SHOW CONSTRAINTS YIELD name RETURN collect(name) AS names")
            assert {"video_video_uid_unique", "segment_video_uid_node_id_unique"} <= set(records[0]["names"])
            driver.execute_query(await_indexes_query(), {"seconds": 300})  # populated by this server, not the import
            records, _, _ = driver.execute_query("SHOW INDEXES YIELD name, state RETURN name, state")
            states = {r["name"]: r["state"] for r in records}
            assert states["segment_text"] == "ONLINE" and set(states.values()) == {"ONLINE"}
            records, _, _ = driver.execute_query("MATCH (s:Segment) WHERE s.action_brief IS NOT NULL "
                                                 "RETURN s.node_id AS node_id, s.action_brief AS brief LIMIT 1")
            hits = search_segments(driver, records[0]["brief"], k=50)
            assert records[0]["node_id"] in [hit.node_id for hit in hits]
    finally:
        server.stop()
    again = graphkit("neo4j", "export-csv", str(data), "--out", str(tmp_path / "csv2"),
                     "--import-into", str(tmp_path / "home"))
    assert again.returncode == 2 and again.stderr.startswith("error:") and "Traceback" not in again.stderr
