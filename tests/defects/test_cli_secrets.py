"""Defect corpus: no credential is ever printed, logged or written.

One helper, :func:`graphkit.redact.redact`, masks credentials by their shape
(a URL's user information, token query parameters) and by value (the Neo4j
password once given). Each case passes a credential where a user would —
``--uri``, ``NEO4J_URI``, ``--password``, ``NEO4J_PASSWORD``, a source URL —
makes something fail or succeed for real (a connection refused by a port
with no server, a local HTTP server serving the videos), and checks that the
secret appears nowhere: not on stderr or stdout, not in ``--json``, logs,
exceptions, ``config.json``, ``result.json`` or the dataset's files.
"""

from __future__ import annotations

import functools
import http.server
import json
import logging
import socket
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graphkit.cli import app
from graphkit.loaders.synth import write_parquet
from graphkit.redact import MASK, RedactingFilter, is_redacted, redact, register_secret
from graphkit.synth import SynthConfig
from tests.defects.test_cli_misuse import one_error_line
from tests.graphkit.cli.runner import graphkit

runner = CliRunner()
SECRET = "Sup3r-Secret-Pw"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def no_neo4j_environment(monkeypatch):
    for name in ("NEO4J_URI", "NEO4J_USERNAME", "NEO4J_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("secrets") / "videos.parquet"
    write_parquet(path, 12, seed=5, config=SynthConfig(mean_video_duration=30))
    return path


@pytest.fixture(scope="module")
def http_root(tmp_path_factory, source):
    """A real HTTP server (no auth) serving a JSONL copy of the videos: ``(base URL with credentials, root)``."""
    import pyarrow.parquet as pq

    root = tmp_path_factory.mktemp("served")
    rows = pq.read_table(source).to_pylist()
    (root / "videos.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:  # the server's own log would land in the command's stderr
            pass

    handler = functools.partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://reader:{SECRET}@127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


def _no_secret(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text, text


# The shapes redact() masks, and what it leaves alone.
@pytest.mark.parametrize("text, expected", [
    (f"bolt://neo4j:{SECRET}@db:7687", "bolt://neo4j:***@db:7687"),
    (f"neo4j+s://neo4j:{SECRET}@db.example.org", "neo4j+s://neo4j:***@db.example.org"),
    (f"'https://user:{SECRET}@host/x.parquet' twice: https://user:{SECRET}@host/x.parquet",
     "'https://user:***@host/x.parquet' twice: https://user:***@host/x.parquet"),
    (f"https://{SECRET}@github.com/x.parquet", "https://***@github.com/x.parquet"),
    (f"s3://AKIAKEY:{SECRET}@bucket/videos", "s3://AKIAKEY:***@bucket/videos"),
    (f"memory:///user:{SECRET}@bucket/x.parquet", "memory:///user:***@bucket/x.parquet"),
    (f"https://hf.co/x.parquet?revision=main&token={SECRET}", "https://hf.co/x.parquet?revision=main&token=***"),
    (f"https://b.s3.amazonaws.com/x?X-Amz-Credential=AK&X-Amz-Signature={SECRET}",
     "https://b.s3.amazonaws.com/x?X-Amz-Credential=***&X-Amz-Signature=***"),
    (f"https://acct.blob.core.windows.net/c/x?sv=2022&sig={SECRET}", "https://acct.blob.core.windows.net/c/x?sv=2022&sig=***"),
    ("bolt://127.0.0.1:7687, a@b.org, videos/a@b.parquet, ?design=x&author=y",
     "bolt://127.0.0.1:7687, a@b.org, videos/a@b.parquet, ?design=x&author=y"),
], ids=["bolt-userinfo", "neo4j-s-userinfo", "quoted-twice", "token-as-user", "s3-key-secret", "memory-triple-slash",
        "token-parameter", "aws-presigned", "azure-sas", "nothing-to-mask"])
def test_redact_masks_credentials_by_shape(text, expected):
    assert redact(text) == expected
    assert is_redacted(redact(text)) == (expected != text)


def test_redact_masks_a_registered_password_but_not_a_trivial_one():
    register_secret(SECRET)
    register_secret("x")  # too short to mask by value: it would mask every x
    assert redact(f"refused {SECRET!r} for max") == f"refused {MASK!r} for max"


def test_log_records_are_redacted_with_their_arguments():
    record = logging.LogRecord("graphkit", logging.WARNING, __file__, 1, "reading %s failed: %r",
                               (f"https://u:{SECRET}@h/x", ValueError(f"https://u:{SECRET}@h/x")), None)
    assert RedactingFilter().filter(record)
    _no_secret(record.getMessage())
    assert "https://u:***@h/x" in record.getMessage()


def test_graphkit_errors_never_show_a_credential():
    from graphkit.errors import InvariantError, Neo4jLoadError, SourceError

    for err in (SourceError(f"https://u:{SECRET}@h/x.parquet", "cannot be read"),
                Neo4jLoadError(f"cannot reach bolt://neo4j:{SECRET}@db:7687"),
                InvariantError("v", None, "rule", f"from s3://k:{SECRET}@b/x")):
        _no_secret(str(err))
        assert ":***@" in str(err)


# Neo4j credentials, passed as users pass them.
@pytest.mark.parametrize("command", [
    lambda src, uri: ["neo4j", "load", str(src), "--uri", uri, "--password", "x"],
    lambda src, uri: ["neo4j", "query", "level_histogram", "--uri", uri, "--password", "x"],
], ids=["load", "query"])
@pytest.mark.parametrize("scheme", ["bolt", "neo4j"])
def test_a_password_inside_the_uri_option_is_masked_and_refused(source, command, scheme):
    uri = f"{scheme}://neo4j:{SECRET}@127.0.0.1:{_free_port()}"
    result = runner.invoke(app, command(source, uri))
    line = one_error_line(result)
    _no_secret(result.output, result.stderr)
    assert f"bad Neo4j URI '{scheme}://neo4j:***@127.0.0.1:" in line
    assert "(--uri): it holds credentials; give the user and password with --user/--password" in line


def test_a_password_inside_neo4j_uri_is_masked_and_refused(source, monkeypatch):
    monkeypatch.setenv("NEO4J_URI", f"bolt://neo4j:{SECRET}@127.0.0.1:{_free_port()}")
    monkeypatch.setenv("NEO4J_PASSWORD", "x")
    result = runner.invoke(app, ["neo4j", "load", str(source)])
    line = one_error_line(result)
    _no_secret(result.output, result.stderr)
    assert "'bolt://neo4j:***@127.0.0.1:" in line and "(NEO4J_URI): it holds credentials" in line


@pytest.mark.parametrize("given", ["option", "environment"])
def test_a_real_failed_connection_never_shows_the_password(source, monkeypatch, given):
    uri = f"bolt://127.0.0.1:{_free_port()}"  # no server listens there
    args = ["neo4j", "load", str(source), "--uri", uri]
    if given == "option":
        args += ["--password", SECRET, "--user", "neo4j"]
    else:
        monkeypatch.setenv("NEO4J_PASSWORD", SECRET)
        monkeypatch.setenv("NEO4J_USERNAME", "neo4j")
    result = runner.invoke(app, args)
    line = one_error_line(result)
    _no_secret(result.output, result.stderr)
    assert line.startswith("error: cannot reach the Neo4j server: ") and "Connection refused" in line


def test_the_console_script_masks_neo4j_uri_and_the_password(source, monkeypatch):
    port = _free_port()
    monkeypatch.setenv("NEO4J_URI", f"neo4j://neo4j:{SECRET}@127.0.0.1:{port}")
    monkeypatch.setenv("NEO4J_PASSWORD", SECRET)
    done = graphkit("neo4j", "query", "level_histogram", "--json")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    _no_secret(done.stdout, done.stderr)
    assert done.stderr.strip() == (f"error: bad Neo4j URI 'neo4j://neo4j:***@127.0.0.1:{port}' (NEO4J_URI): it "
                                   "holds credentials; give the user and password with --user/--password or "
                                   "NEO4J_USERNAME/NEO4J_PASSWORD")


def test_the_python_api_raises_with_the_uri_masked():
    from graphkit.errors import Neo4jLoadError
    from graphkit.loaders.neo4j.connection import connect

    with pytest.raises(Neo4jLoadError) as caught:
        connect(f"bolt://neo4j:{SECRET}@127.0.0.1:7687", "neo4j", "pw-elsewhere")
    _no_secret(str(caught.value))


# A source URL with credentials: errors, logs, results and every written file.
def test_a_source_url_error_masks_its_credentials(http_root):
    base, _ = http_root
    result = runner.invoke(app, ["stats", f"{base}/missing.jsonl"])
    line = one_error_line(result)
    _no_secret(result.output, result.stderr)
    assert f"{base.replace(SECRET, MASK)}/missing.jsonl: no such file or directory" in line


def test_the_console_script_masks_credentials_in_log_lines(http_root):
    base, _ = http_root
    done = graphkit("stats", f"{base}/videos.jsonl", f"{base}/videos.jsonl", "--json")
    assert done.returncode == 0, done.stderr
    _no_secret(done.stdout, done.stderr)
    assert "WARNING graphkit.loaders.sources: " in done.stderr and "reader:***@127.0.0.1" in done.stderr


def test_training_from_a_url_with_credentials_writes_and_prints_none_of_them(http_root, tmp_path):
    base, _ = http_root
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", f"{base}/videos.jsonl", "--out", str(out), "--epochs", "1", "--hidden",
                                 "8", "--feature-dim", "16", "--device", "cpu", "--threads", "1", "--model", "mlp",
                                 "--json"])
    assert result.exit_code == 0, result.output
    _no_secret(result.stdout, result.stderr)
    written = [p for p in out.rglob("*") if p.is_file()]
    assert {"config.json", "result.json", "task.json"} <= {p.name for p in written}
    for path in written:
        assert SECRET.encode() not in path.read_bytes(), path
    assert json.loads((out / "config.json").read_text())["sources"] == [f"{base.replace(SECRET, MASK)}/videos.jsonl"]
    # Scoring the run on its saved (masked) sources says so, in one line; given the sources it scores.
    line = one_error_line(runner.invoke(app, ["evaluate", str(out), "--device", "cpu"]))
    assert "the sources of" in line and "were saved without their credentials; give the sources to score" in line
    scored = runner.invoke(app, ["evaluate", str(out), f"{base}/videos.jsonl", "--device", "cpu", "--json",
                                 "--split", "all"])
    assert scored.exit_code == 0, scored.output
    _no_secret(scored.stdout, scored.stderr)


def test_convert_from_a_url_with_credentials_keeps_them_out_of_the_manifest(http_root, tmp_path):
    base, _ = http_root
    out = tmp_path / "ds"
    result = runner.invoke(app, ["convert", f"{base}/videos.jsonl", "--out", str(out), "--on-disk", "--json"])
    assert result.exit_code == 0, result.output
    _no_secret(result.stdout, result.stderr)
    manifest = (out / "processed" / "manifest.json").read_text()
    _no_secret(manifest)
    assert "reader:***@127.0.0.1" in manifest
