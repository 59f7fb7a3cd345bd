"""The wheel, installed as a user installs it: outside the checkout, in a fresh environment.

One test builds the wheel, checks what it holds, installs it (with its
dependencies, pinned by ``constraints.txt``) into a new virtual environment in
a temporary directory, and from there runs the toolkit end to end: synth ->
convert -> train one epoch -> ``neo4j serve`` (the launcher built from the
wheel's own package data into a fresh cache) -> ``neo4j load`` -> a cookbook
query -> stop. Nothing of the checkout is on that environment's path.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.paths import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.neo4j]


def _run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 900) -> str:
    result = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout, check=False)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", out, ROOT, cwd=out)
    (found,) = out.glob("graphkit-*.whl")
    return found


def test_the_wheel_holds_only_the_graphkit_package_and_its_data(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"graphkit", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}
    for required in ("graphkit/loaders/__init__.py", "graphkit/models/__init__.py", "graphkit/models/hier.py",
                     "graphkit/loaders/neo4j/queries/step_sequence.cypher",
                     "graphkit/loaders/neo4j/devserver/pom.xml", "graphkit/viewer_assets/viewer.html",
                     "graphkit/viewer_assets/viewer.css", "graphkit/viewer_assets/viewer.js"):
        assert required in names
    assert any(name.endswith("/DevServer.java") for name in names)
    assert not any("/target/" in name or name.endswith(".pyc") for name in names)


def test_the_installed_wheel_runs_end_to_end_outside_the_checkout(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    _run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", "-c", ROOT / "constraints.txt",
         f"{wheel}[neo4j]", cwd=tmp_path)
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(GRAPHKIT_CACHE_DIR=str(tmp_path / "cache"), NEO4J_PASSWORD="wheel-smoke-pw", COLUMNS="200")
    python = venv / "bin" / "python"

    # Only graphkit is installed at the top: no `loaders` or `models` to collide with a user's own.
    probe = ("import importlib.util, graphkit.loaders, graphkit.models\n"
             "print(importlib.util.find_spec('loaders'), importlib.util.find_spec('models'))\n"
             "print(graphkit.loaders.__file__)\n")
    lines = _run(python, "-c", probe, cwd=tmp_path, env=env).splitlines()
    assert lines[0] == "None None"
    assert Path(lines[1]).is_relative_to(venv) and not Path(lines[1]).is_relative_to(ROOT)

    graphkit = venv / "bin" / "graphkit"
    data = tmp_path / "videos.parquet"
    _run(graphkit, "synth", "--videos", "30", "--seed", "2", "--mean-duration", "60", "--out", data,
         cwd=tmp_path, env=env)
    _run(graphkit, "convert", data, "--out", tmp_path / "dataset", cwd=tmp_path, env=env)
    # The viewer's page, style and script come from the wheel's package data.
    _run(graphkit, "show", data, "--html", tmp_path / "viewer.html", cwd=tmp_path, env=env)
    assert 'id="graphkit-data"' in (tmp_path / "viewer.html").read_text(encoding="utf-8")
    trained = json.loads(_run(graphkit, "train", data, "--model", "hier", "--epochs", "1", "--hidden", "16",
                              "--device", "cpu", "--out", tmp_path / "run", "--json", cwd=tmp_path, env=env))
    assert trained["epochs_run"] == 1 and (tmp_path / "run" / "model.pt").is_file()

    server = subprocess.Popen([str(graphkit), "neo4j", "serve", "--port", "0", "--data-dir", str(tmp_path / "home")],
                              cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        uri = server.stdout.readline().strip()
        assert uri.startswith("bolt://127.0.0.1:"), server.stderr.read()
        loaded = _run(graphkit, "neo4j", "load", data, "--uri", uri, cwd=tmp_path, env=env)
        assert loaded.startswith("loaded 30 videos")
        answer = json.loads(_run(graphkit, "neo4j", "query", "level_histogram", "--uri", uri, "--json",
                                 cwd=tmp_path, env=env))
        rows = answer["rows"]
        assert answer["query"] == "level_histogram" and answer["parameters"] == {"video_uid": None}
        assert rows[0]["level"] == 0 and rows[0]["segments"] == 30
        counted = sum(len(nodes) for nodes in pq.read_table(data).column("nodes").to_pylist())
        assert sum(row["segments"] for row in rows) == counted
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=120)
    assert server.returncode == 0
