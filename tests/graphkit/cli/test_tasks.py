"""``graphkit train --task NAME`` then ``graphkit evaluate DIR --json`` on the real sample, for every task."""

from __future__ import annotations

import json
import math

import pytest

from graphkit.tasks import TASKS
from tests.graphkit.cli.runner import graphkit
from tests.paths import SAMPLE

pytestmark = pytest.mark.skipif(not SAMPLE.exists(), reason="the real sample is not in ../shared/data/")


@pytest.mark.parametrize("name", sorted(TASKS))
def test_train_one_epoch_then_evaluate_on_the_real_sample(name, tmp_path):
    out = tmp_path / name
    trained = graphkit("train", str(SAMPLE), "--task", name, "--epochs", "1", "--out", str(out), "--hidden", "16",
                       "--feature-dim", "32", "--device", "cpu", "--threads", "1", "--json")
    assert trained.returncode == 0, trained.stderr
    result = json.loads(trained.stdout)
    assert result["task"] == name
    assert json.loads((out / "config.json").read_text())["task_name"] == name
    assert json.loads((out / "result.json").read_text())["task"] == name

    scored = graphkit("evaluate", str(out), "--json", "--device", "cpu")
    assert scored.returncode == 0, scored.stderr
    metrics = json.loads(scored.stdout)
    if name == "retrieval":
        keys, count, first = ("recall@1", "recall@5", "recall@10", "mean_rank"), "num_queries", "recall@1"
    else:
        keys, count, first = ("top1", "top5", "macro_f1"), "num_nodes", "top1"
    assert metrics[count] == result["test"][count] > 0
    for key in keys:
        assert math.isfinite(metrics[key]), key
        assert metrics[key] == pytest.approx(result["test"][key])
    assert metrics["per_level"] and all(math.isfinite(m[first]) for m in metrics["per_level"].values())


def test_an_unknown_task_is_one_error_line(tmp_path):
    failed = graphkit("train", str(SAMPLE), "--task", "captioning", "--out", str(tmp_path / "run"))
    assert failed.returncode == 2
    assert failed.stderr.strip().splitlines() == [
        "error: task_name='captioning'; expected one of ['anticipation', 'parent', 'retrieval', 'segment']"]


@pytest.mark.parametrize("name,extra", [("segment", ()), ("segment", ("--on-disk",)), ("anticipation", ()),
                                        ("parent", ())])
def test_transcript_features_train_and_evaluate_on_the_real_sample(name, extra, tmp_path):
    out = tmp_path / "run"
    trained = graphkit("train", str(SAMPLE), "--task", name, *extra, "--transcript-dim", "16", "--epochs", "1",
                       "--out", str(out), "--hidden", "16", "--feature-dim", "32", "--device", "cpu",
                       "--threads", "1", "--json")
    assert trained.returncode == 0, trained.stderr
    assert json.loads((out / "config.json").read_text())["transcript_dim"] == 16
    if extra:  # the shards keep the leaves' transcript counts
        assert sorted(path.name for path in (out / "dataset").rglob("transcript.arrow"))
    scored = graphkit("evaluate", str(out), "--json", "--device", "cpu")
    assert scored.returncode == 0, scored.stderr
    metrics = json.loads(scored.stdout)
    assert math.isfinite(metrics["macro_f1"]) and metrics["num_nodes"] > 0
    assert metrics["macro_f1"] == pytest.approx(json.loads(trained.stdout)["test"]["macro_f1"])
