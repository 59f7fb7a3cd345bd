"""The command line, run as users run it: a subprocess, its exit code and output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from graphkit.loaders.synth import write_parquet
from graphkit.schema import SOURCE_SCHEMA
from tests import factories as f
from tests.graphkit.cli.runner import graphkit
from tests.paths import ROOT


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "synthetic.parquet"
    write_parquet(path, 12, seed=3)
    return path


def test_help_does_not_import_torch():
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom graphkit.cli import app\n"
            "result = CliRunner().invoke(app, ['--help'])\nassert result.exit_code == 0, result.output\n"
            "assert 'stats' in result.output\nprint(sorted(m for m in ('torch', 'torch_geometric') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_convert_on_disk_does_not_import_torch(synthetic, tmp_path):
    # torch alone costs ~680 MB of RSS; the on-disk conversion needs none of it (issue 10's memory figures).
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom graphkit.cli import app\n"
            f"result = CliRunner().invoke(app, ['convert', {str(synthetic)!r}, '--out', {str(tmp_path / 'd')!r},"
            " '--on-disk', '--json'])\nassert result.exit_code == 0, result.output\n"
            "print(sorted(m for m in ('torch', 'torch_geometric') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "d").is_dir()


def test_stats_json_contract_matches_the_data(synthetic):
    result = graphkit("stats", str(synthetic), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == {"videos", "totals"}
    rows = pq.read_table(synthetic).to_pylist()
    assert [v["video_uid"] for v in report["videos"]] == [r["video_uid"] for r in rows]
    for video, row in zip(report["videos"], rows):
        assert set(video) == {"video_uid", "nodes", "leaves", "max_level", "gpt_nodes", "edges"}
        parents = {n["parent_id"] for n in row["nodes"]}
        assert video["nodes"] == len(row["nodes"])
        assert video["leaves"] == sum(n["node_id"] not in parents for n in row["nodes"])
        assert video["max_level"] == max(n["level"] for n in row["nodes"])
        assert video["gpt_nodes"] == sum(n["gpt"] is not None for n in row["nodes"])
        assert video["edges"]["PARENT_OF"] == video["nodes"] - 1
        assert video["edges"]["NEXT_LEAF"] == video["leaves"] - 1
        assert video["edges"]["HAS_ROOT"] == 1
    totals = report["totals"]
    assert totals["nodes"] == sum(v["nodes"] for v in report["videos"])
    assert totals["max_level"] == max(v["max_level"] for v in report["videos"])
    assert totals["edges"]["NEXT"] == sum(v["edges"]["NEXT"] for v in report["videos"])


def test_stats_text_report(synthetic):
    result = graphkit("stats", str(synthetic))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("videos: 12   segments:")
    assert "nodes per level: 0: 12, 1: 24" in result.stdout
    assert "verb labels (" in result.stdout


def _write(path: Path, rows: list[dict]) -> Path:
    pq.write_table(pa.Table.from_pylist(rows, schema=SOURCE_SCHEMA), path)
    return path


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.write_bytes(b"not parquet at all") and p, "not a readable parquet file"),
        (lambda p: pq.write_table(f.table(f.rows(1)).drop_columns(["nodes"]), p) or p, "missing required column 'nodes'"),
        (lambda p: p, "no such file or directory"),
    ],
    ids=["not-parquet", "missing-column", "missing-file"],
)
def test_file_level_defects_exit_nonzero_naming_the_file(tmp_path, make, message):
    path = tmp_path / "bad.parquet"
    make(path)
    result = graphkit("stats", str(path))
    assert result.returncode == 2
    assert message in result.stderr and str(path) in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_bad_video_exits_nonzero_naming_video_and_node(tmp_path):
    rows = f.rows(3)
    f.node(rows[1], "01")["parent_id"] = "nope"
    path = _write(tmp_path / "tree.parquet", rows)
    result = graphkit("stats", str(path))
    assert result.returncode == 2
    assert "video 'video000001', node 'video000001-n01': missing_parent" in result.stderr
    assert "Traceback" not in result.stderr
    skipped = graphkit("stats", str(path), "--skip-invalid", "--json")
    assert skipped.returncode == 0
    assert [v["video_uid"] for v in json.loads(skipped.stdout)["videos"]] == ["video000000", "video000002"]
    assert "skipped 1 invalid videos" in skipped.stderr and "missing_parent" in skipped.stderr


def test_synth_show_and_convert(tmp_path):
    data = tmp_path / "s.parquet"
    assert graphkit("synth", "--videos", "6", "--seed", "1", "--out", str(data)).returncode == 0
    assert pq.read_metadata(data).num_rows == 6
    png = tmp_path / "timeline.png"
    shown = graphkit("show", str(data), "--max-level", "2", "--png", str(png))
    assert shown.returncode == 0, shown.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(shown.stdout.splitlines()) == 1 + 7  # header + levels 0..2 of a full top
    missing = graphkit("show", str(data), "--video", "nope")
    assert missing.returncode == 2 and "no video 'nope'" in missing.stderr
    converted = graphkit("convert", str(data), "--out", str(tmp_path / "ds"))
    assert converted.returncode == 0, converted.stderr
    assert "wrote 6 video graphs" in converted.stderr


def test_synth_mean_duration_matches_the_python_config(tmp_path):
    from graphkit.synth import SynthConfig

    cli_file, api_file = tmp_path / "cli.parquet", tmp_path / "api.parquet"
    assert graphkit("synth", "--videos", "5", "--seed", "3", "--mean-duration", "90", "--out", str(cli_file)).returncode == 0
    write_parquet(api_file, 5, seed=3, config=SynthConfig(mean_video_duration=90))
    assert pq.read_table(cli_file).equals(pq.read_table(api_file))
    short = pq.read_table(cli_file).column("nodes").to_pylist()
    default = graphkit("synth", "--videos", "5", "--seed", "3", "--out", str(tmp_path / "default.parquet"))
    assert default.returncode == 0
    assert sum(map(len, short)) < sum(map(len, pq.read_table(tmp_path / "default.parquet").column("nodes").to_pylist()))
    bad = graphkit("synth", "--videos", "5", "--mean-duration", "-1", "--out", str(tmp_path / "bad.parquet"))
    assert bad.returncode == 2 and "mean_video_duration" in bad.stderr and "Traceback" not in bad.stderr


def test_neo4j_export_csv_command(tmp_path, synthetic):
    result = graphkit("neo4j", "export-csv", str(synthetic), "--out", str(tmp_path / "csv"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("neo4j-admin database import full neo4j --nodes=")
    header = (tmp_path / "csv" / "segments.csv").read_text().splitlines()[0]
    assert header.startswith(":ID(Segment),node_id:string,video_uid:string")  # a segment is (video_uid, node_id)
    rows = pq.read_table(synthetic).to_pylist()
    segments = sum(len(r["nodes"]) for r in rows)
    assert f"wrote {len(rows) + segments:,} nodes" in result.stderr


@pytest.mark.parametrize("user_pool, already_imported, expected", [
    (None, False, "jemalloc"),   # chosen before Arrow makes its default pool
    (None, True, "jemalloc"),    # switched at run time
    ("system", False, "system"),  # the user's choice is kept
])
def test_a_command_chooses_arrows_pool_unless_the_user_did(user_pool, already_imported, expected):
    code = ("import pyarrow\n" if already_imported else "") + (
        "from graphkit.cli.app import use_arrow_pool\n"
        "use_arrow_pool('jemalloc')\n"
        "import pyarrow as pa\n"
        "print(pa.default_memory_pool().backend_name)\n")
    env = {key: value for key, value in os.environ.items() if key != "ARROW_DEFAULT_MEMORY_POOL"}
    if user_pool:
        env["ARROW_DEFAULT_MEMORY_POOL"] = user_pool
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == expected
