"""The viewer page without a browser: its data, its escaping, and that it needs nothing from outside."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest

from graphkit.palette import distinct_colours
from graphkit.tree import TreeBatch
from graphkit.viewer import embed_json, render_html, viewer_data
from tests import factories as f
from tests.graphkit.viewer_videos import VERBS, many_verbs_row

ATTACK = "</script><script>alert(1)</script>"


@pytest.fixture
def trees() -> TreeBatch:
    return TreeBatch.from_arrow(f.table([many_verbs_row("manyverbs01"), f.video_row("video000001")]))


def _data(page: str) -> dict:
    (text,) = re.findall(r'<script type="application/json" id="graphkit-data">(.*?)</script>', page, re.S)
    return json.loads(text)


def test_data_lists_nodes_in_time_order_with_parents_sizes_and_verbs(trees):
    data = viewer_data(trees, "manyverbs01")
    nodes = data["nodes"]
    assert data["video_uid"] == "manyverbs01" and data["num_segments"] == 63 and data["depth"] == 5
    assert (data["start"], data["end"]) == (0.0, 256.0)
    assert nodes["parent"][0] == -1 and nodes["size"][0] == 63
    assert all(nodes["parent"][i] < i for i in range(1, 63))
    # A subtree is the run i : i + size[i], a parent before its children, children in time.
    for i in range(63):
        inside = range(i + 1, i + nodes["size"][i])
        assert all(nodes["level"][j] > nodes["level"][i] for j in inside)
        assert all(nodes["start"][i] <= nodes["start"][j] < nodes["end"][i] for j in inside)
    assert nodes["start"] == sorted(nodes["start"])
    assert [v["name"] for v in data["verbs"]] == sorted(VERBS, key=lambda v: (-(3 if VERBS.index(v) < 3 else 2), v))
    assert [v["colour"] for v in data["verbs"]] == distinct_colours(30)
    assert sum(v["count"] for v in data["verbs"]) == 63
    assert {data["verbs"][v]["name"] for v in nodes["verb"]} == set(VERBS)
    assert data["fields"] == ["plm_action", "plm_caption", "llama3_caption", "summary_brief", "summary_detailed",
                              "action_brief", "action_detailed", "actor"]
    assert nodes["text"]["plm_caption"][5] == "segment number 5 of manyverbs01"


def test_max_level_leaves_out_deeper_segments(trees):
    data = viewer_data(trees, 0, max_level=1)
    assert data["max_level"] == 1 and data["num_segments"] == 63 and data["depth"] == 5
    assert data["nodes"]["level"] == [0, 1, 1] and data["nodes"]["size"] == [3, 1, 1]
    assert data["nodes"]["parent"] == [-1, 0, 0]
    assert len(data["verbs"]) == 3


def test_a_caption_cannot_leave_its_json_and_comes_back_intact(trees):
    row = f.video_row("attack00001")
    row["nodes"][0]["plm_caption"] = ATTACK
    row["nodes"][1]["plm_action"] = "<!-- & \u2028 \u2029 ]]> <b>bold</b>"
    page = render_html(TreeBatch.from_arrow(f.table([row])))
    # The only script elements are the page's two; the caption is inside the JSON, escaped.
    assert page.count("<script") == 2 and page.count("</script>") == 2
    assert "alert(1)" in page and "<script>alert" not in page and "<b>" not in page and "<!--" not in page
    data = _data(page)
    assert data["nodes"]["text"]["plm_caption"][0] == ATTACK
    assert data["nodes"]["text"]["plm_action"][1] == "<!-- & \u2028 \u2029 ]]> <b>bold</b>"


def test_embed_json_escapes_every_html_significant_character():
    text = embed_json({"a": "<>&\u2028\u2029'\""})
    assert not set("<>&\u2028\u2029") & set(text)
    assert json.loads(text) == {"a": "<>&\u2028\u2029'\""}


def test_page_loads_nothing_from_outside_and_allows_only_its_own_script(trees):
    page = render_html(trees, 0)
    assert not re.search(r"""(src|href|action|srcset|poster|data)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert not re.search(r"url\(|@import|<link|<iframe|<img|<object|<embed|fetch\(|XMLHttpRequest|cdn", page, re.I)
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg\b)", page)  # only the SVG namespace name
    (policy,) = re.findall(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    (script,) = re.findall(r"<script>(.*?)</script>", page, re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy


def test_title_is_escaped():
    row = f.video_row("title000001")
    row["metadata"]["title"] = "<i>Cut</i> & fold"
    page = render_html(TreeBatch.from_arrow(f.table([row])))
    assert "<i>" not in page
    assert "<title>title000001: &lt;i&gt;Cut&lt;/i&gt; &amp; fold</title>" in page


def test_unknown_video_is_refused(trees):
    with pytest.raises(KeyError, match="no video 'nope'"):
        render_html(trees, "nope")


def test_an_n_ary_tree_read_non_strict_keeps_its_parents_and_sizes():
    row = f.video_row("threeway001", splits={"": 8.0})
    first, second = row["nodes"][1], row["nodes"][2]
    third = dict(second, node_id="threeway001-n2", start=12.0, end=16.0, gpt=None)
    second["end"] = 12.0
    row["nodes"].append(third)
    data = viewer_data(TreeBatch.from_arrow(f.table([row]), strict=False))
    nodes = data["nodes"]
    assert nodes["node_id"] == ["threeway001-nroot", first["node_id"], second["node_id"], "threeway001-n2"]
    assert nodes["parent"] == [-1, 0, 0, 0] and nodes["size"] == [4, 1, 1, 1]
    assert nodes["verb"][3] == -1 and data["verbs"][0]["count"] == 3
