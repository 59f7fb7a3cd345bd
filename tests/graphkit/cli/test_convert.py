"""``graphkit convert --on-disk --json`` and ``graphkit train --on-disk`` on what convert wrote."""

from __future__ import annotations

import json
import os

from graphkit.loaders.synth import write_parquet
from tests.graphkit.cli.runner import graphkit


def test_on_disk_convert_prints_one_json_object_and_train_reuses_it(tmp_path):
    data = tmp_path / "videos.parquet"
    write_parquet(data, 40, seed=2, videos_per_row_group=10)
    converted = graphkit("convert", str(data), "--out", str(tmp_path / "ds"), "--on-disk", "--json",
                         "--videos-per-shard", "16")
    assert converted.returncode == 0, converted.stderr
    summary = json.loads(converted.stdout)
    assert {"videos", "segments", "bytes", "seconds", "checksum"} <= set(summary)
    assert summary["videos"] == 40 and summary["shards"] == 4  # two 20-video fragments, each cut at 16
    assert 0 < summary["bytes"] / summary["segments"] <= 250
    manifest = tmp_path / "ds" / "processed" / "manifest.json"
    assert json.loads(manifest.read_text())["checksum"] == summary["checksum"]
    stamp = os.stat(manifest).st_mtime_ns

    trained = graphkit("train", str(data), "--dataset-root", str(tmp_path / "ds"), "--on-disk", "--epochs", "1",
                       "--model", "mlp", "--threads", "1", "--out", str(tmp_path / "run"), "--json")
    assert trained.returncode == 0, trained.stderr
    result = json.loads(trained.stdout)
    assert result["epochs_run"] == 1 and result["threads"] == 1
    assert os.stat(manifest).st_mtime_ns == stamp  # no second processing pass

    again = graphkit("convert", str(data), "--out", str(tmp_path / "ds2"), "--on-disk", "--json",
                     "--videos-per-shard", "16", "--batch-size", "3")
    assert json.loads(again.stdout)["checksum"] == summary["checksum"]


def test_in_memory_convert_json_has_the_same_keys(tmp_path):
    data = tmp_path / "videos.parquet"
    write_parquet(data, 8, seed=2)
    converted = graphkit("convert", str(data), "--out", str(tmp_path / "ds"), "--json")
    assert converted.returncode == 0, converted.stderr
    summary = json.loads(converted.stdout)
    assert summary["videos"] == 8 and summary["segments"] > 8 and len(summary["checksum"]) == 64


def test_convert_on_ray_prints_what_local_prints(tmp_path):
    # A real local Ray cluster, started by the command itself (ray is a dev dependency: never skipped).
    data = tmp_path / "videos.parquet"
    write_parquet(data, 60, seed=3, videos_per_row_group=8)
    summaries = {}
    for engine in ("local", "ray"):
        converted = graphkit("convert", str(data), "--out", str(tmp_path / engine), "--on-disk", "--json",
                             "--videos-per-shard", "16", "--engine", engine)
        assert converted.returncode == 0, converted.stderr
        summaries[engine] = json.loads(converted.stdout)
    for key in ("videos", "segments", "checksum", "bytes", "shards"):
        assert summaries["ray"][key] == summaries["local"][key], key
    misused = graphkit("convert", str(data), "--out", str(tmp_path / "x"), "--engine", "ray")
    assert misused.returncode == 2 and "--on-disk" in misused.stderr


def test_sigterm_during_convert_keeps_the_old_dataset_and_leaves_nothing_behind(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    from tests.paths import ROOT

    small, large = tmp_path / "small.parquet", tmp_path / "large.parquet"
    write_parquet(small, 10, seed=1)
    write_parquet(large, 3000, seed=1, videos_per_row_group=100)
    first = graphkit("convert", str(small), "--out", str(tmp_path / "ds"), "--on-disk", "--json")
    checksum = json.loads(first.stdout)["checksum"]
    process = subprocess.Popen([sys.executable, "-m", "graphkit.cli", "convert", str(large), "--out",
                                str(tmp_path / "ds"), "--on-disk", "--videos-per-shard", "100"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    building = tmp_path / "ds"
    deadline = time.monotonic() + 120
    while not any(p.name.startswith("processed.building-") for p in building.iterdir()):
        assert process.poll() is None and time.monotonic() < deadline, "convert ended before it was interrupted"
        time.sleep(0.05)
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130 and "Traceback" not in stderr
    assert sorted(p.name for p in building.iterdir()) == ["processed"]
    assert json.loads((building / "processed" / "manifest.json").read_text())["checksum"] == checksum
