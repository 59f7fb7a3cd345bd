"""Defect corpus of ``graphkit neo4j search`` and ``--embed``: misuse is one ``error: ...`` line, exit 2.

In the style of :mod:`tests.defects.test_cli_misuse`: each case runs the
command in-process with Typer's ``CliRunner`` and pins its outcome -- the
exit status, one line on stderr naming the option or the cause, no
traceback. The cases without a server come first; then the ones about the
graph a real Neo4j holds (nothing loaded, no embeddings, another encoder,
nothing found).
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import neo4j
import pytest
from typer.testing import CliRunner

from graphkit.cli import app
from graphkit.loaders.synth import write_parquet
from tests.neo4j_fixtures import clear_database
from tests.search_fixtures import drop_search_indexes

runner = CliRunner()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def one_error_line(result, code: int = 2) -> str:
    """The single ``error: ...`` line of a finished command, after checking the policy around it."""
    output = result.output + (result.stderr or "")
    assert "Traceback" not in output, output
    assert result.exit_code == code, output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("search-cli") / "videos.parquet"
    write_parquet(path, 6, seed=11)
    return path


def _unreachable() -> list[str]:
    return ["--uri", f"bolt://127.0.0.1:{_free_port()}", "--password", "x"]


CASES = [
    ("k-zero", lambda d, t: ["neo4j", "search", "bread", "--k", "0"], ["Invalid value for '--k'",
                                                                         "(see 'graphkit neo4j search --help')"]),
    ("k-not-a-number", lambda d, t: ["neo4j", "search", "bread", "--k", "ten"], ["Invalid value for '--k'"]),
    ("missing-text", lambda d, t: ["neo4j", "search"], ["Missing argument 'TEXT'"]),
    ("unknown-option", lambda d, t: ["neo4j", "search", "bread", "--fuzzy"], ["No such option: --fuzzy"]),
    ("unknown-embed-model", lambda d, t: ["neo4j", "search", "bread", "--vector", "--embed-model", "bert"],
     ["--embed-model: unknown encoder 'bert'; expected one of hashing, minilm"]),
    ("embed-model-without-vector", lambda d, t: ["neo4j", "search", "bread", "--embed-model", "minilm"],
     ["--embed-model needs --vector"]),
    ("empty-text", lambda d, t: ["neo4j", "search", "  ", *_unreachable()], ["the search text is empty"]),
    ("empty-text-vector", lambda d, t: ["neo4j", "search", "", "--vector", *_unreachable()],
     ["the search text is empty"]),
    ("unreachable-server", lambda d, t: ["neo4j", "search", "bread", *_unreachable()],
     ["cannot reach the Neo4j server", "Connection refused"]),
    ("load-unknown-encoder", lambda d, t: ["neo4j", "load", str(d), "--embed", "word2vec", *_unreachable()],
     ["--embed: unknown encoder 'word2vec'; expected one of hashing, minilm"]),
    ("export-unknown-encoder", lambda d, t: ["neo4j", "export-csv", str(d), "--out", str(t / "csv"), "--embed", "x"],
     ["--embed: unknown encoder 'x'"]),
]


@pytest.mark.parametrize("args, expected", [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_misuse_is_one_line_and_exit_2(data, tmp_path, monkeypatch, args, expected):
    for name in ("NEO4J_URI", "NEO4J_USERNAME", "NEO4J_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    line = one_error_line(runner.invoke(app, args(data, tmp_path)))
    for part in expected:
        assert part in line, line
    assert not (tmp_path / "csv").exists()  # refused before writing


# --- against the real server --------------------------------------------------


@pytest.fixture
def server(neo4j_server):
    with neo4j.GraphDatabase.driver(neo4j_server.uri, auth=neo4j_server.auth) as driver:
        clear_database(driver)
        drop_search_indexes(driver)
        yield neo4j_server
        clear_database(driver)
        drop_search_indexes(driver)


def _connection(server) -> list[str]:
    return ["--uri", server.uri, "--user", server.user, "--password", server.password]


def _load(server, data, *extra: str) -> None:
    result = runner.invoke(app, ["neo4j", "load", str(data), *_connection(server), *extra])
    assert result.exit_code == 0, result.output


@pytest.mark.neo4j
def test_searching_before_anything_was_loaded_is_one_line(server):
    line = one_error_line(runner.invoke(app, ["neo4j", "search", "bread", *_connection(server)]))
    assert "the graph has no 'segment_text' index: load videos with graphkit neo4j load first" in line


@pytest.mark.neo4j
def test_vector_search_without_embeddings_is_one_line(server, data):
    _load(server, data)
    line = one_error_line(runner.invoke(app, ["neo4j", "search", "pour milk", "--vector", *_connection(server)]))
    assert "the graph has no segment embeddings: load it with --embed NAME" in line


@pytest.mark.neo4j
def test_another_encoder_is_refused_in_one_line_by_search_and_by_load(server, data):
    _load(server, data, "--embed", "hashing")
    line = one_error_line(runner.invoke(app, ["neo4j", "search", "pour milk", "--vector", "--embed-model", "minilm",
                                              *_connection(server)]))
    assert "the graph's segment embeddings come from the 'hashing' encoder, not 'minilm'" in line
    line = one_error_line(runner.invoke(app, ["neo4j", "load", str(data), "--embed", "minilm", *_connection(server)]))
    assert "come from the 'hashing' encoder (256 dimensions), not 'minilm' (384)" in line


@pytest.mark.neo4j
def test_nothing_found_is_not_an_error(server, data):
    _load(server, data, "--embed", "hashing")
    result = runner.invoke(app, ["neo4j", "search", "xylophonequux", *_connection(server)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and "no matching segments" in result.stderr
    result = runner.invoke(app, ["neo4j", "search", "xylophonequux", "--json", *_connection(server)])
    assert result.exit_code == 0 and json.loads(result.stdout) == {
        "text": "xylophonequux", "mode": "fulltext", "k": 10, "hits": []}


@pytest.mark.neo4j
def test_json_and_text_output(server, data):
    _load(server, data, "--embed", "hashing")
    result = runner.invoke(app, ["neo4j", "search", "the", "--k", "3", "--json", *_connection(server)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["mode"] == "fulltext" and len(out["hits"]) == 3
    assert set(out["hits"][0]) == {"score", "video_uid", "node_id", "start", "end", "level", "action_brief",
                                   "caption", "path"}
    assert out["hits"][0]["path"][-1]["level"] == 0
    brief = next(step["action_brief"] for hit in out["hits"] for step in hit["path"] if step["action_brief"])
    result = runner.invoke(app, ["neo4j", "search", brief, "--vector", "--k", "2", *_connection(server)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and "level" in lines[0] and brief in result.stdout
