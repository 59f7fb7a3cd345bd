"""``graphkit show``: the printed tree, the PNG timeline and the HTML viewer, as a user runs them."""

from __future__ import annotations

import json
import re

import pyarrow.parquet as pq

from tests import factories as f
from tests.graphkit.cli.runner import graphkit
from tests.graphkit.viewer_videos import many_verbs_row


def test_show_writes_png_and_html_and_refuses_to_overwrite_them(tmp_path):
    data = tmp_path / "videos.parquet"
    pq.write_table(f.table([f.video_row("video000000"), many_verbs_row("manyverbs01")]), data)
    png, page = tmp_path / "out" / "t.png", tmp_path / "out" / "v.html"
    shown = graphkit("show", str(data), "--video", "manyverbs01", "--png", str(png), "--html", str(page),
                     "--max-level", "3")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[0] == "manyverbs01  63 segments, 32 leaves, max level 5"
    assert len(shown.stdout.splitlines()) == 1 + 15
    assert f"timeline written to {png}" in shown.stderr and f"viewer written to {page}" in shown.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = page.read_text(encoding="utf-8")
    (embedded,) = re.findall(r'<script type="application/json" id="graphkit-data">(.*?)</script>', html, re.S)
    data_ = json.loads(embedded)
    assert data_["video_uid"] == "manyverbs01" and data_["title"] == "How to manyverbs01"
    assert data_["max_level"] == 3 and len(data_["nodes"]["node_id"]) == 15
    assert "llama3_caption" in data_["fields"] and "plm_caption" in data_["fields"]

    before = (png.read_bytes(), html)
    again = graphkit("show", str(data), "--video", "manyverbs01", "--html", str(page))
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert again.stderr.strip() == f"error: --html {page} exists; give a new path, or --overwrite to replace it"
    assert again.stdout == ""  # refused before any work
    assert page.read_text(encoding="utf-8") == before[1]
    replaced = graphkit("show", str(data), "--video", "manyverbs01", "--html", str(page), "--png", str(png),
                        "--overwrite")
    assert replaced.returncode == 0, replaced.stderr
    assert len(json.loads(re.findall(r'id="graphkit-data">(.*?)</script>', page.read_text(encoding="utf-8"),
                                     re.S)[0])["nodes"]["node_id"]) == 63  # the whole tree this time
    assert png.read_bytes() != before[0]
