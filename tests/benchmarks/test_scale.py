"""benchmarks/scale.py runs its stages in subprocesses and reports them, failures included."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

from tests.paths import ROOT

SCRIPT = ROOT / "benchmarks" / "scale.py"


def load_script():
    spec = importlib.util.spec_from_file_location("scale_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_tiny_scale_reports_every_selected_stage_as_json(tmp_path):
    work = tmp_path / "work"
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--videos-at-100", "200", "--scale", "0.05", "0.1", "--json",
         "--stages", "synth", "stats", "--work", str(work)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["videos_at_100"] == 200 and report["scales"] == [0.05, 0.1]
    assert report["stages"] == ["synth", "stats"]
    assert [(r["stage"], r["scale"], r["videos"]) for r in report["results"]] == [
        ("synth", 0.05, 10), ("stats", 0.05, 10), ("synth", 0.1, 20), ("stats", 0.1, 20)]
    for result in report["results"]:
        assert result["status"] == "ok" and result["error"] is None, result
        assert result["segments"] > result["videos"]
        for key in ("seconds", "segments_per_s", "peak_rss_mb", "rss_vs_smallest_scale"):
            assert result[key] > 0, (key, result)
        assert result["peak_rss_mb"] > 20  # a real child's RSS (a Python with numpy and pyarrow), in MB
        assert result["segments_per_s"] == result["segments"] / result["seconds"]
    synth = [r for r in report["results"] if r["stage"] == "synth"]
    assert all(r["bytes"] > 0 and r["bytes_per_segment"] == r["bytes"] / r["segments"] for r in synth)
    assert synth[1]["segments"] > synth[0]["segments"]
    stats = [r for r in report["results"] if r["stage"] == "stats"]
    assert all(r["bytes"] is None for r in stats)  # stats writes nothing to disk
    assert list(work.iterdir()) == []  # each scale's files are deleted once it is done


def test_a_failing_stage_is_reported_with_its_error_line_and_the_rest_continue(tmp_path, capsys, monkeypatch):
    scale = load_script()
    monkeypatch.setattr(scale, "STAGES", (
        scale.STAGES[0],
        scale.Stage("broken", ("{graphkit}", "stats", "{work}/missing.parquet"), needs=("synth",)),
        scale.Stage("after-broken", ("{graphkit}", "stats", "{data}"), needs=("broken",)),
        scale.Stage("stats", ("{graphkit}", "stats", "{data}", "--json"), needs=("synth",)),
    ))
    assert scale.main(["--videos-at-100", "100", "--scale", "0.1", "--json", "--work", str(tmp_path),
                       "--stages", "broken", "after-broken", "stats"]) == 0
    results = {r["stage"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert list(results) == ["broken", "after-broken", "stats"]  # synth ran as a prerequisite, unreported
    assert results["broken"]["status"] == "failed"
    assert results["broken"]["error"].startswith("error:") and "missing.parquet" in results["broken"]["error"]
    assert "Traceback" not in results["broken"]["error"]
    assert results["after-broken"]["status"] == "failed" and "needs broken" in results["after-broken"]["error"]
    assert results["stats"]["status"] == "ok" and results["stats"]["segments_per_s"] > 0
    assert results["stats"]["output"] is not None and results["stats"]["output"]["totals"]["nodes"] == (
        results["stats"]["segments"])  # the stage's own JSON report rides along
