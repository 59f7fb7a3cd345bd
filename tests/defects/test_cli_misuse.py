"""Defect corpus: a misused command line ends in one ``error: ...`` line, never a traceback.

Each case is one kind of misuse, built from valid data (``graphkit synth``,
:mod:`tests.factories`), run in-process with Typer's ``CliRunner`` (the error
policy lives in the app's Click group, so it is the one the console script
has), and pinned to its exact outcome: the exit status, one line on stderr
naming the file, option or video, and no traceback. A few kinds also run
through a real subprocess, and a few are pinned at the Python API (the error
class).
"""

from __future__ import annotations

import copy
import json
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from graphkit.cli import app
from graphkit.loaders.synth import write_parquet
from graphkit.splits import split_of
from graphkit.synth import SynthConfig
from tests import factories as f
from tests.graphkit.cli.runner import graphkit

runner = CliRunner()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Workspace:
    """Valid inputs, and a few files and directories to misuse them with."""

    root: Path
    data: Path  # 16 synthetic videos
    train_only: Path  # videos of the training split only: empty valid and test splits
    unlabelled: Path  # videos with no gpt annotation: no label at all
    long_quote: Path  # a JSONL video whose parent_id is 400,000 characters long
    text_file: Path  # a file that is not a source
    no_parquet: Path  # a directory holding no parquet file
    run: Path  # a trained run (tiny MLP)
    broken_run: Path  # a run directory whose model.pt is garbage


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    from graphkit.models.config import TrainConfig
    from graphkit.models.train import train

    root = tmp_path_factory.mktemp("misuse")
    data = root / "videos.parquet"
    write_parquet(data, 16, seed=3, config=SynthConfig(mean_video_duration=30))
    table = pq.read_table(data)
    train_only = root / "train_only.parquet"
    pq.write_table(table.filter(pa.array(split_of(table.column("video_uid").combine_chunks()) == 0)), train_only)
    unlabelled = root / "unlabelled.parquet"
    pq.write_table(f.table([f.video_row(f"nolabel{v:04d}", splits={"": 2.0}, duration=3.0) for v in range(6)]),
                   unlabelled)
    row = f.video_row("longquote01")
    row = copy.deepcopy(row)
    row["nodes"][2]["parent_id"] = "p" * 400_000
    long_quote = root / "long_quote.jsonl"
    long_quote.write_text(json.dumps(row) + "\n", encoding="utf-8")
    text_file = root / "notes.txt"
    text_file.write_text("not a source\n", encoding="utf-8")
    no_parquet = root / "no_parquet"
    no_parquet.mkdir()
    (no_parquet / "readme.md").write_text("nothing here\n", encoding="utf-8")
    run = root / "run"
    train(TrainConfig(model="mlp", sources=(str(data),), out=str(run), epochs=1, hidden=8, feature_dim=16,
                      batch_size=4, device="cpu", threads=1))
    broken_run = root / "broken_run"
    broken_run.mkdir()
    for name in ("config.json", "vocabulary.json"):
        (broken_run / name).write_bytes((run / name).read_bytes())
    (broken_run / "model.pt").write_bytes(b"this is not a checkpoint")
    return Workspace(root, data, train_only, unlabelled, long_quote, text_file, no_parquet, run, broken_run)


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


# Each case: id, arguments (from the workspace and a scratch directory), substrings of the error line.
Args = Callable[[Workspace, Path], list[str]]
TINY = ["--epochs", "1", "--hidden", "8", "--feature-dim", "16", "--device", "cpu", "--threads", "1",
        "--model", "mlp"]
CASES: list[tuple[str, Args, list[str]]] = [
    # synth
    ("synth-out-is-a-directory", lambda w, t: ["synth", "--out", str(t), "--videos", "2"],
     ["--out", "is a directory; give the path of a file"]),
    ("synth-out-under-a-file", lambda w, t: ["synth", "--out", str(w.text_file / "x.parquet"), "--videos", "2"],
     ["--out", "notes.txt is a file, not a directory"]),
    ("synth-zero-videos", lambda w, t: ["synth", "--out", str(t / "s.parquet"), "--videos", "0"],
     ["Invalid value for '--videos'", "greater than or equal to 1", "(see 'graphkit synth --help')"]),
    ("synth-negative-mean-duration", lambda w, t: ["synth", "--out", str(t / "s.parquet"), "--mean-duration", "-5"],
     ["mean_video_duration=-5.0 must be > 0"]),
    ("synth-negative-seed", lambda w, t: ["synth", "--out", str(t / "s.parquet"), "--seed", "-1"],
     ["seed=-1 must be >= 0"]),
    ("synth-missing-out", lambda w, t: ["synth", "--videos", "2"], ["Missing option '--out'"]),
    ("unknown-option", lambda w, t: ["stats", str(w.data), "--bogus"],
     ["No such option: --bogus", "(see 'graphkit stats --help')"]),
    ("missing-argument", lambda w, t: ["stats"], ["Missing argument 'SOURCE'"]),
    # stats: sources
    ("source-missing-file", lambda w, t: ["stats", str(t / "nope.parquet")], ["nope.parquet: no such file"]),
    ("source-empty-glob", lambda w, t: ["stats", str(t / "*.parquet")], ["*.parquet: no file matches this pattern"]),
    ("source-directory-without-parquet", lambda w, t: ["stats", str(w.no_parquet)], ["no_parquet: no .parquet file in this directory"]),
    ("source-not-a-source-file", lambda w, t: ["stats", str(w.text_file)], ["notes.txt: unknown file type"]),
    ("stats-zero-batch-size", lambda w, t: ["stats", str(w.data), "--batch-size", "0"],
     ["Invalid value for '--batch-size'"]),
    ("error-quoting-a-huge-value", lambda w, t: ["stats", str(w.long_quote)],
     ["video 'longquote01'", "oversized_id", "'... (400000 characters)"]),
    # convert
    ("convert-out-is-a-file", lambda w, t: ["convert", str(w.data), "--out", str(w.text_file)],
     ["--out", "notes.txt is a file, not a directory"]),
    ("convert-on-disk-out-is-a-file", lambda w, t: ["convert", str(w.data), "--out", str(w.text_file), "--on-disk"],
     ["--out", "notes.txt is a file, not a directory"]),
    ("convert-label-typo", lambda w, t: ["convert", str(w.data), "--out", str(t / "ds"), "--label", "verbb"],
     ["label='verbb'; expected one of ('verb', 'brief', 'actor')"]),
    ("convert-zero-top-k", lambda w, t: ["convert", str(w.data), "--out", str(t / "ds"), "--top-k", "0"],
     ["top_k must be a positive integer", "got 0"]),
    ("convert-unknown-engine", lambda w, t: ["convert", str(w.data), "--out", str(t / "ds"), "--engine", "spark"],
     ["--engine must be local or ray, not 'spark'"]),
    ("convert-ray-without-on-disk", lambda w, t: ["convert", str(w.data), "--out", str(t / "ds"), "--engine", "ray"],
     ["--engine ray writes the sharded dataset: add --on-disk"]),
    ("convert-zero-videos-per-shard",
     lambda w, t: ["convert", str(w.data), "--out", str(t / "ds"), "--on-disk", "--videos-per-shard", "0"],
     ["Invalid value for '--videos-per-shard'"]),
    ("convert-no-training-node-has-a-label", lambda w, t: ["convert", str(w.unlabelled), "--out", str(t / "ds")],
     ["no training node has a 'verb' label"]),
    ("convert-missing-source", lambda w, t: ["convert", str(t / "nope.parquet"), "--out", str(t / "ds")],
     ["nope.parquet: no such file"]),
    ("convert-address-without-ray",
     lambda w, t: ["convert", str(w.data), "--out", str(t / "ds"), "--address", "10.0.0.1:6379"],
     ["--address is the Ray cluster's: use it with --engine ray"]),
    # show
    ("show-unknown-video", lambda w, t: ["show", str(w.data), "--video", "nosuchvideo"],
     ["no video 'nosuchvideo' in", "videos.parquet"]),
    ("show-negative-max-level", lambda w, t: ["show", str(w.data), "--max-level", "-1"],
     ["Invalid value for '--max-level'"]),
    ("show-png-is-a-directory", lambda w, t: ["show", str(w.data), "--png", str(t)],
     ["--png", "is a directory"]),
    ("message-with-rich-markup-shown-verbatim", lambda w, t: ["show", str(w.data), "--video", "[bold]x:x:"],
     ["no video '[bold]x:x:' in"]),
    ("show-html-exists", lambda w, t: ["show", str(w.data), "--html", str(w.text_file)],
     ["--html", "notes.txt exists; give a new path, or --overwrite to replace it"]),
    ("show-png-exists", lambda w, t: ["show", str(w.data), "--png", str(w.text_file)],
     ["--png", "notes.txt exists; give a new path, or --overwrite to replace it"]),
    ("show-html-is-a-directory", lambda w, t: ["show", str(w.data), "--html", str(t)],
     ["--html", "is a directory"]),
    ("show-html-under-a-file", lambda w, t: ["show", str(w.data), "--html", str(w.text_file / "v.html")],
     ["--html", "notes.txt is a file, not a directory"]),
    ("show-png-and-html-one-file", lambda w, t: ["show", str(w.data), "--png", str(t / "v"), "--html", str(t / "v")],
     ["--png and --html are the same file", "give each its own"]),
    ("show-html-unknown-video", lambda w, t: ["show", str(w.data), "--video", "nosuchvideo", "--html", str(t / "v.html")],
     ["no video 'nosuchvideo' in"]),
    ("show-html-negative-max-level", lambda w, t: ["show", str(w.data), "--html", str(t / "v.html"), "--max-level", "-2"],
     ["Invalid value for '--max-level'"]),
    # train
    ("train-out-is-a-file", lambda w, t: ["train", str(w.data), "--out", str(w.text_file), *TINY],
     ["--out", "notes.txt is a file, not a directory"]),
    ("train-zero-epochs", lambda w, t: ["train", str(w.data), "--out", str(t / "r"), "--epochs", "0"],
     ["Invalid value for '--epochs'"]),
    ("train-zero-batch-size", lambda w, t: ["train", str(w.data), "--out", str(t / "r"), "--batch-size", "0"],
     ["Invalid value for '--batch-size'"]),
    ("train-zero-threads", lambda w, t: ["train", str(w.data), "--out", str(t / "r"), "--threads", "0"],
     ["Invalid value for '--threads'"]),
    ("train-negative-workers", lambda w, t: ["train", str(w.data), "--out", str(t / "r"), "--workers", "-1"],
     ["Invalid value for '--workers'"]),
    ("train-unknown-device", lambda w, t: ["train", str(w.data), "--out", str(t / "r"), "--device", "tpu"],
     ["device='tpu'; expected 'auto', 'cpu', 'cuda' or 'cuda:N'"]),
    ("train-unknown-model", lambda w, t: ["train", str(w.data), "--out", str(t / "r"), "--model", "cnn"],
     ["model='cnn'; expected one of"]),
    ("train-label-typo", lambda w, t: ["train", str(w.data), "--out", str(t / "r"), "--label", "verbb"],
     ["label='verbb'"]),
    ("train-zero-label-fraction", lambda w, t: ["train", str(w.data), "--out", str(t / "r"), "--label-fraction", "0"],
     ["label_fraction=0.0 must lie in (0, 1]"]),
    ("train-zero-patience", lambda w, t: ["train", str(w.data), "--out", str(t / "r"), "--patience", "0"],
     ["Invalid value for '--patience'"]),
    ("train-non-integer-epochs", lambda w, t: ["train", str(w.data), "--out", str(t / "r"), "--epochs", "two"],
     ["Invalid value for '--epochs'", "valid integer"]),
    ("train-nan-learning-rate", lambda w, t: ["train", str(w.data), "--out", str(t / "r"), "--lr", "nan"],
     ["lr=nan must be > 0"]),
    ("train-init-weights-missing",
     lambda w, t: ["train", str(w.data), "--out", str(t / "r"), "--init-weights", str(t / "nope.pt")],
     ["init_weights=", "nope.pt' is not a file"]),
    ("train-init-weights-not-a-torch-file",
     lambda w, t: ["train", str(w.data), "--out", str(t / "r"), "--init-weights", str(w.text_file), *TINY],
     ["init_weights=", "notes.txt' is not a state dict torch can load"]),
    ("train-init-weights-is-a-directory",
     lambda w, t: ["train", str(w.data), "--out", str(t / "r"), "--init-weights", str(t)],
     ["init_weights=", "is not a file"]),
    ("train-dataset-root-is-a-file",
     lambda w, t: ["train", str(w.data), "--out", str(t / "r"), "--dataset-root", str(w.text_file), *TINY],
     ["--dataset-root", "notes.txt is a file, not a directory"]),
    ("train-missing-source", lambda w, t: ["train", str(t / "nope.parquet"), "--out", str(t / "r"), *TINY],
     ["nope.parquet: no such file"]),
    ("train-no-source-and-no-dataset", lambda w, t: ["train", "--out", str(t / "r"), *TINY],
     ["no sources given and no processed dataset in"]),
    # evaluate
    ("evaluate-a-file", lambda w, t: ["evaluate", str(w.text_file)],
     ["notes.txt is a file; evaluate reads a training output directory"]),
    ("evaluate-a-directory-without-a-run", lambda w, t: ["evaluate", str(t)],
     ["model.pt does not exist; is", "a training output directory?"]),
    ("evaluate-unknown-split", lambda w, t: ["evaluate", str(w.run), "--split", "bogus", "--device", "cpu"],
     ["split='bogus'; expected one of"]),
    ("evaluate-empty-test-split", lambda w, t: ["evaluate", str(w.run), str(w.train_only), "--device", "cpu"],
     ["the test split of", "train_only.parquet holds no video", "0 test); pick another with --split train"]),
    ("evaluate-empty-test-split-json",
     lambda w, t: ["evaluate", str(w.run), str(w.train_only), "--device", "cpu", "--json"],
     ["the test split of", "holds no video"]),
    ("evaluate-no-labelled-segment",
     lambda w, t: ["evaluate", str(w.run), str(w.unlabelled), "--split", "all", "--device", "cpu"],
     ["the 6 videos of", "unlabelled.parquet hold no segment with a 'verb' label"]),
    ("evaluate-damaged-checkpoint", lambda w, t: ["evaluate", str(w.broken_run), "--device", "cpu"],
     ["model.pt is damaged or not a graphkit checkpoint"]),
    ("evaluate-missing-source", lambda w, t: ["evaluate", str(w.run), str(t / "nope.parquet"), "--device", "cpu"],
     ["nope.parquet: no such file"]),
    # benchmark-models
    ("benchmark-zero-seeds", lambda w, t: ["benchmark-models", str(w.data), "--seeds", "0"], ["seeds=0 must be >= 1"]),
    ("benchmark-unknown-model", lambda w, t: ["benchmark-models", str(w.data), "-m", "cnn", "--seeds", "1"],
     ["unknown models ['cnn']"]),
    ("benchmark-out-is-a-file", lambda w, t: ["benchmark-models", str(w.data), "--out", str(w.text_file)],
     ["--out", "notes.txt is a file, not a directory"]),
    ("benchmark-label-typo",
     lambda w, t: ["benchmark-models", str(w.data), "--label", "verbb", "--seeds", "1", "--out", str(t / "b")],
     ["label='verbb'"]),
    # neo4j
    ("neo4j-uri-non-numeric-port",
     lambda w, t: ["neo4j", "load", str(w.data), "--uri", "bolt://127.0.0.1:abc", "--password", "x"],
     ["bad Neo4j URI 'bolt://127.0.0.1:abc' (--uri): the port 'abc' is not a number from 1 to 65535"]),
    ("neo4j-uri-port-out-of-range",
     lambda w, t: ["neo4j", "query", "level_histogram", "--uri", "neo4j://db:99999", "--password", "x"],
     ["the port '99999' is not a number from 1 to 65535"]),
    ("neo4j-uri-without-scheme",
     lambda w, t: ["neo4j", "load", str(w.data), "--uri", "127.0.0.1:7687", "--password", "x"],
     ["bad Neo4j URI '127.0.0.1:7687' (--uri): it has no scheme; expected one of bolt://"]),
    ("neo4j-uri-not-bolt",
     lambda w, t: ["neo4j", "load", str(w.data), "--uri", "http://127.0.0.1:7474", "--password", "x"],
     ["the scheme 'http' is not Bolt"]),
    ("neo4j-uri-without-host", lambda w, t: ["neo4j", "load", str(w.data), "--uri", "bolt://:7687", "--password", "x"],
     ["it names no host"]),
    ("neo4j-load-missing-password",
     lambda w, t: ["neo4j", "load", str(w.data), "--uri", f"bolt://127.0.0.1:{_free_port()}"],
     ["no Neo4j password: pass --password or set NEO4J_PASSWORD"]),
    ("neo4j-load-missing-source-before-connecting",
     lambda w, t: ["neo4j", "load", str(t / "nope.parquet"), "--uri", f"bolt://127.0.0.1:{_free_port()}",
                   "--password", "x"],
     ["nope.parquet: no such file"]),
    ("neo4j-load-unreachable-server",
     lambda w, t: ["neo4j", "load", str(w.data), "--uri", f"bolt://127.0.0.1:{_free_port()}", "--password", "x"],
     ["cannot reach the Neo4j server", "Connection refused"]),
    ("neo4j-load-zero-workers", lambda w, t: ["neo4j", "load", str(w.data), "--workers", "0"],
     ["Invalid value for '--workers'"]),
    ("neo4j-load-zero-batch-size", lambda w, t: ["neo4j", "load", str(w.data), "--batch-size", "0"],
     ["Invalid value for '--batch-size'"]),
    ("neo4j-load-unknown-method",
     lambda w, t: ["neo4j", "load", str(w.data), "--method", "upsert", "--uri", f"bolt://127.0.0.1:{_free_port()}",
                   "--password", "x"],
     ["method must be one of 'create', 'merge', got 'upsert'"]),
    ("neo4j-serve-port-out-of-range", lambda w, t: ["neo4j", "serve", "--port", "99999"],
     ["Invalid value for '--port'", "(see 'graphkit neo4j serve --help')"]),
    ("neo4j-serve-bad-heap", lambda w, t: ["neo4j", "serve", "--heap", "lots"],
     ["heap must be a size such as '512m' or '2g'", "got 'lots'"]),
    ("neo4j-serve-bad-page-cache", lambda w, t: ["neo4j", "serve", "--page-cache", "huge"],
     ["page_cache must be a size such as '512m' or '2g'", "got 'huge'"]),
    ("neo4j-load-zero-read-batch-size", lambda w, t: ["neo4j", "load", str(w.data), "--read-batch-size", "0"],
     ["Invalid value for '--read-batch-size'"]),
    ("neo4j-export-csv-compression-level-too-high",
     lambda w, t: ["neo4j", "export-csv", str(w.data), "--out", str(t / "csv"), "--compression-level", "10"],
     ["Invalid value for '--compression-level'", "less than or equal to 9"]),
    ("neo4j-serve-data-dir-is-a-file", lambda w, t: ["neo4j", "serve", "--data-dir", str(w.text_file)],
     ["--data-dir", "notes.txt is a file, not a directory"]),
    ("neo4j-export-csv-out-is-a-file", lambda w, t: ["neo4j", "export-csv", str(w.data), "--out", str(w.text_file)],
     ["--out", "notes.txt is a file, not a directory"]),
    ("neo4j-export-csv-import-into-is-a-file",
     lambda w, t: ["neo4j", "export-csv", str(w.data), "--out", str(t / "csv"), "--import-into", str(w.text_file)],
     ["--import-into", "notes.txt is a file, not a directory"]),
    ("neo4j-export-csv-wait-for-indexes-without-import",
     lambda w, t: ["neo4j", "export-csv", str(w.data), "--out", str(t / "csv"), "--wait-for-indexes"],
     ["--wait-for-indexes needs --import-into"]),
    ("neo4j-export-csv-zero-shards",
     lambda w, t: ["neo4j", "export-csv", str(w.data), "--out", str(t / "csv"), "--shards", "0"],
     ["Invalid value for '--shards'"]),
    ("neo4j-export-csv-missing-source",
     lambda w, t: ["neo4j", "export-csv", str(t / "nope.parquet"), "--out", str(t / "csv")],
     ["nope.parquet: no such file"]),
    ("neo4j-query-unknown-name", lambda w, t: ["neo4j", "query", "no_such_query", "--password", "x"],
     ["unknown cookbook query 'no_such_query'"]),
    ("neo4j-query-param-not-key-value",
     lambda w, t: ["neo4j", "query", "level_histogram", "--param", "oops", "--password", "x"],
     ["level_histogram: --param 'oops' is not KEY=VALUE"]),
]


@pytest.mark.parametrize("args, expected", [(case[1], case[2]) for case in CASES], ids=[case[0] for case in CASES])
def test_misuse_is_one_line_and_exit_2(ws, tmp_path, monkeypatch, args, expected):
    for name in ("NEO4J_URI", "NEO4J_USERNAME", "NEO4J_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    line = one_error_line(runner.invoke(app, args(ws, tmp_path)))
    for part in expected:
        assert part in line, line
    assert len(line) < 1100
    assert "[Errno" not in line and "Address((" not in line, line  # no Python repr soup


@pytest.fixture()
def unwritable(tmp_path) -> Path:
    """A folder nobody may create things in: a read-only one, or (root may write anywhere) one in sysfs."""
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        yield locked
        locked.chmod(0o755)
    elif Path("/sys/kernel").is_dir():
        yield Path("/sys")
    else:
        pytest.skip("no folder that root cannot write into")


@pytest.mark.parametrize("args", [
    lambda w, out: ["synth", "--videos", "2", "--out", str(out / "x.parquet")],
    lambda w, out: ["convert", str(w.data), "--out", str(out)],
    lambda w, out: ["convert", str(w.data), "--out", str(out), "--on-disk"],
    lambda w, out: ["train", str(w.data), "--out", str(out), *TINY],
    lambda w, out: ["neo4j", "export-csv", str(w.data), "--out", str(out)],
    lambda w, out: ["show", str(w.data), "--html", str(out / "viewer.html")],
], ids=["synth", "convert", "convert-on-disk", "train", "export-csv", "show-html"])
def test_an_output_that_cannot_be_created_is_one_line(ws, unwritable, args):
    out = unwritable / "graphkit-unwritable"
    line = one_error_line(runner.invoke(app, args(ws, out)))
    assert "graphkit-unwritable" in line and ("permission denied" in line.lower() or "not permitted" in line
                                              or "cannot write into" in line), line
    assert not out.exists()


def test_misuse_leaves_nothing_written(ws, tmp_path):
    """What refuses a misuse refuses it before writing: no output directory or file appears."""
    cases = [
        ["train", str(tmp_path / "nope.parquet"), "--out", str(tmp_path / "run"), *TINY],
        ["neo4j", "export-csv", str(ws.data), "--out", str(tmp_path / "csv"), "--import-into", str(ws.text_file)],
        ["convert", str(tmp_path / "nope.parquet"), "--out", str(tmp_path / "ds")],
        ["show", str(ws.data), "--video", "nosuchvideo", "--html", str(tmp_path / "v.html"),
         "--png", str(tmp_path / "v.png")],
    ]
    for args in cases:
        one_error_line(runner.invoke(app, args))
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_stats_json_that_fails_midway_prints_no_half_object(ws):
    """The first source is fine, the second breaks an invariant: stdout stays empty, not a broken JSON."""
    result = runner.invoke(app, ["stats", str(ws.data), str(ws.long_quote), "--json"])
    assert "oversized_id" in one_error_line(result)
    assert result.stdout == ""


def test_evaluate_on_an_empty_split_raises_at_the_api(ws):
    from graphkit.models.evaluate import evaluate

    with pytest.raises(ValueError, match=r"the valid split of .*train_only\.parquet holds no video .*"
                                         r"pick another with --split train or --split all"):
        evaluate(ws.run, str(ws.train_only), split="valid", device="cpu")


def test_init_weights_that_torch_cannot_load_raise_value_error(ws):
    from graphkit.models.checkpoint import load_weights
    from graphkit.models.mlp import MLP

    with pytest.raises(ValueError, match=r"notes\.txt' is not a state dict torch can load"):
        load_weights(MLP(4, 2), str(ws.text_file))


@pytest.mark.parametrize("uri, origin, message", [
    ("bolt://127.0.0.1:abc", "--uri", "the port 'abc' is not a number"),
    ("bolt://127.0.0.1:0", "--uri", "the port '0' is not a number"),
    ("ftp://127.0.0.1:7687", "NEO4J_URI", "(NEO4J_URI): the scheme 'ftp' is not Bolt"),
    ("bolt://", "--uri", "it names no host"),
], ids=["non-numeric-port", "port-zero", "other-scheme", "no-host"])
def test_bad_uris_raise_neo4j_load_error_at_the_api(uri, origin, message):
    from graphkit.errors import Neo4jLoadError
    from graphkit.loaders.neo4j.connection import check_uri

    with pytest.raises(Neo4jLoadError) as caught:
        check_uri(uri, origin)
    assert message in str(caught.value)


def test_an_internal_error_is_one_line_exit_1_and_its_traceback_on_request(monkeypatch):
    from graphkit.cli.app import TYPER_SETTINGS

    buggy = typer.Typer(**TYPER_SETTINGS)

    @buggy.command()
    def boom() -> None:
        raise KeyError("lost")

    @buggy.command()
    def other() -> None:
        pass

    monkeypatch.delenv("GRAPHKIT_TRACEBACK", raising=False)
    line = one_error_line(runner.invoke(buggy, ["boom"]), code=1)
    assert line == "error: internal error (KeyError: 'lost'); rerun with GRAPHKIT_TRACEBACK=1 for the traceback"
    monkeypatch.setenv("GRAPHKIT_TRACEBACK", "1")
    assert isinstance(runner.invoke(buggy, ["boom"]).exception, KeyError)


def test_bare_command_prints_its_help():
    result = runner.invoke(app, ["neo4j"])
    assert result.exit_code == 2 and "Usage: graphkit neo4j" in result.output and "Traceback" not in result.output


# The same policy through the console script, as users run it.
@pytest.mark.parametrize("args, parts", [
    (lambda w: ["synth", "--out", str(w.root), "--videos", "2"], ["--out", "is a directory"]),
    (lambda w: ["train", str(w.data), "--out", str(w.run), "--epochs", "0"], ["Invalid value for '--epochs'"]),
    (lambda w: ["evaluate", str(w.run), str(w.train_only), "--device", "cpu"], ["holds no video"]),
    (lambda w: ["neo4j", "query", "level_histogram", "--uri", "bolt://127.0.0.1:x", "--password", "x"],
     ["the port 'x' is not a number"]),
    (lambda w: ["neo4j", "load", str(w.data), "--uri", f"bolt://127.0.0.1:{_free_port()}", "--password", "x"],
     ["cannot reach the Neo4j server: Couldn't connect to 127.0.0.1:", ": Connection refused"]),
    (lambda w: ["neo4j", "load", str(w.data), "--uri", f"neo4j://127.0.0.1:{_free_port()}", "--password", "x"],
     ["cannot reach the Neo4j server"]),
], ids=["subprocess-out-is-a-directory", "subprocess-usage-error", "subprocess-empty-split",
        "subprocess-bad-uri-port", "subprocess-unreachable-bolt", "subprocess-unreachable-routing"])
def test_misuse_through_the_console_script(ws, monkeypatch, args, parts):
    for name in ("NEO4J_URI", "NEO4J_USERNAME", "NEO4J_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    done = graphkit(*args(ws))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert all(part in lines[0] for part in parts), lines[0]
