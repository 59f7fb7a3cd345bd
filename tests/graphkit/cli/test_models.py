"""The model commands, run as users run them: a subprocess, its exit code and output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from graphkit.loaders.synth import write_parquet
from graphkit.synth import SynthConfig
from tests.graphkit.cli.runner import graphkit
from tests.paths import ROOT


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli_models") / "tiny.parquet"
    write_parquet(path, 20, seed=4, config=SynthConfig(mean_video_duration=30))
    return path


def test_train_then_evaluate_round_trip(synthetic, tmp_path):
    out = tmp_path / "run"
    trained = graphkit("train", str(synthetic), "--out", str(out), "--model", "hier",
                              "--epochs", "2", "--hidden", "16", "--feature-dim", "32", "--device", "cpu",
                              "--json")
    assert trained.returncode == 0, trained.stderr
    result = json.loads(trained.stdout)
    assert result["model"] == "hier" and result["epochs_run"] == 2 and (out / "model.pt").is_file()

    scored = graphkit("evaluate", str(out), "--json", "--device", "cpu")
    assert scored.returncode == 0, scored.stderr
    metrics = json.loads(scored.stdout)
    assert set(metrics) == {"model", "label", "top1", "top5", "macro_f1", "per_level", "num_nodes"}
    assert metrics["model"] == "hier" and metrics["label"] == "verb"
    assert metrics["num_nodes"] == result["test"]["num_nodes"] > 0
    assert metrics["macro_f1"] == pytest.approx(result["test"]["macro_f1"])

    text = graphkit("evaluate", str(out), str(synthetic), "--split", "all", "--device", "cpu")
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("hier (verb), all split: top-1 ")
    assert "level  0:" in text.stdout


@pytest.mark.parametrize("args,match", [
    (["evaluate", "no/such/run"], "does not exist"),
    (["train", "x.parquet", "--model", "cnn"], "model='cnn'"),
    (["train", "--out", "nowhere-at-all"], "no sources given"),
    (["benchmark-models", "x.parquet", "--seeds", "0"], "seeds=0 must be >= 1"),
])
def test_errors_are_one_line_and_exit_2(args, match, tmp_path):
    args = [str(tmp_path / a) if a.startswith(("no/", "nowhere")) else a for a in args]
    result = graphkit(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and match in lines[0]
    assert "Traceback" not in result.stderr


def test_the_model_commands_load_without_torch():
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom graphkit.cli import app\n"
            "result = CliRunner().invoke(app, ['train', '--help'])\nassert result.exit_code == 0, result.output\n"
            "assert 'SOURCE' in result.output\n"
            "print(sorted(m for m in ('torch', 'torch_geometric', 'graphkit.models') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
