"""The viewer page in a real headless Chromium (Debian's ``chromium``), driven by Playwright.

Playwright talks to the system browser (``executable_path``); no browser is
downloaded (``playwright install`` is never run). ``tools/test.sh`` installs
Debian's ``chromium`` when it is missing, so in CI these tests run, and fail
rather than skip if the browser cannot be had.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from graphkit.tree import TreeBatch
from graphkit.viewer import render_html, viewer_data
from tests import factories as f
from tests.graphkit.viewer_videos import VERBS, many_verbs_row
from tests.paths import SAMPLE

pytestmark = pytest.mark.xdist_group("chromium")

ATTACK = "</script><script>alert(1)</script>"


@dataclass
class Page:
    """An open viewer page, and what happened on it."""

    page: object
    url: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def node_ids(self, selector: str) -> list[str]:
        return self.page.eval_on_selector_all(selector, "els => els.map(e => e.dataset.nodeId)")

    def visible_rows(self) -> set[str]:
        return set(self.page.eval_on_selector_all(
            "#tree .row", "els => els.filter(e => e.offsetParent !== null).map(e => e.dataset.nodeId)"))

    def details(self) -> dict[str, str]:
        names = self.page.eval_on_selector_all("#details-list dt", "els => els.map(e => e.textContent)")
        values = self.page.eval_on_selector_all("#details-list dd", "els => els.map(e => e.textContent)")
        return dict(zip(names, values))


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed: `bash tools/test.sh` installs it "
                    "(apt-get install --no-install-recommends chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        args = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium's sandbox refuses to run as root
        launched = playwright.chromium.launch(executable_path=executable, args=args, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def open_page(browser, tmp_path) -> Iterator:
    opened = []

    def open_(trees: TreeBatch, video: int | str = 0, **kwargs) -> Page:
        path = tmp_path / f"viewer-{len(opened)}.html"
        path.write_text(render_html(trees, video, **kwargs), encoding="utf-8")
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        seen = Page(page, path.as_uri())
        page.on("console", lambda m: seen.errors.append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda err: seen.errors.append(str(err)))
        page.on("request", lambda request: seen.requests.append(request.url))
        page.on("dialog", lambda dialog: (seen.dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(seen.url)
        page.wait_for_selector("body[data-ready=true]", state="attached")
        opened.append(context)
        return seen

    yield open_
    for context in opened:
        context.close()


@pytest.fixture
def trees() -> TreeBatch:
    return TreeBatch.from_arrow(f.table([many_verbs_row("manyverbs01")]))


def _screenshot(seen: Page, path: Path) -> None:
    from PIL import Image

    seen.page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        assert image.width >= 1400 and image.height >= 600
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 40  # a drawn page, not a blank one


def test_page_loads_without_errors_fetches_nothing_and_draws_everything(open_page, trees, tmp_path):
    seen = open_page(trees)
    assert seen.errors == []
    assert seen.requests == [seen.url]  # the file itself, nothing else
    assert len(seen.node_ids("#icicle rect.seg")) == 63 and len(seen.node_ids("#tree .row")) == 63
    legend = seen.page.eval_on_selector_all("#legend .entry", "els => els.map(e => e.textContent)")
    assert len(legend) == 31 and legend[-1] == "no verb"  # every verb, then "no verb"
    assert {entry.split(" (")[0] for entry in legend[:-1]} == set(VERBS)
    fills = seen.page.eval_on_selector_all("#icicle rect.seg", "els => els.map(e => e.getAttribute('fill'))")
    assert len(set(fills)) == 30
    _screenshot(seen, tmp_path / "viewer.png")


def test_search_highlights_exactly_the_matching_segments(open_page, trees):
    seen = open_page(trees)
    data = viewer_data(trees)
    term = "chop THE thing"  # case-insensitive; action_brief "Chop the thing k" of nodes 9 and 39
    expected = {node_id for k, node_id in enumerate(data["nodes"]["node_id"])
                if any(term.lower() in (values[k] or "").lower() for values in data["nodes"]["text"].values())}
    assert len(expected) == 2
    seen.page.click("#search")
    seen.page.keyboard.type(term)
    assert set(seen.node_ids("#icicle rect.seg.match")) == expected
    assert set(seen.node_ids("#tree .row.match")) == expected
    assert expected <= seen.visible_rows()  # revealed in the tree, even below collapsed nodes
    assert seen.page.inner_text("#match-count") == "2 matching segments"
    one = data["nodes"]["node_id"][17]
    seen.page.fill("#search", "segment number 17 of")
    assert seen.node_ids("#icicle rect.seg.match") == [one] and seen.node_ids("#tree .row.match") == [one]
    assert seen.page.inner_text("#match-count") == "1 matching segment"
    seen.page.fill("#search", "")
    assert seen.node_ids(".match") == [] and seen.page.inner_text("#match-count") == ""
    assert seen.errors == []


def test_collapsing_a_node_hides_its_subtree_and_expanding_shows_it_again(open_page, trees):
    seen = open_page(trees)
    data = viewer_data(trees)
    ids, size = data["nodes"]["node_id"], data["nodes"]["size"]
    seen.page.click("#expand-all")
    assert seen.visible_rows() == set(ids)
    first = 1  # the root's first child: nodes 1 .. 31 are its subtree
    below = set(ids[first + 1:first + size[first]])
    assert len(below) == 30
    toggle = seen.page.locator(f'#tree li[data-i="{first}"] > .row > .toggle')
    assert toggle.get_attribute("aria-expanded") == "true"
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "false"
    assert seen.visible_rows() == set(ids) - below  # its subtree hidden, the rest shown, itself too
    assert seen.page.locator(f'#tree .row[data-node-id="{ids[first + 1]}"]').is_hidden()
    toggle.click()
    assert seen.visible_rows() == set(ids)
    seen.page.click("#collapse-all")
    assert seen.visible_rows() == {ids[0]}
    assert seen.errors == []


def test_hover_shows_every_field_and_a_click_pins_it(open_page, trees):
    seen = open_page(trees)
    data = viewer_data(trees)
    k = 40
    rect = seen.page.locator(f'#icicle rect[data-i="{k}"]')
    rect.hover()
    shown = seen.details()
    assert shown["node_id"] == data["nodes"]["node_id"][k]
    for name in data["fields"]:
        value = data["nodes"]["text"][name][k]
        assert shown[name] == (value if value else "(none)"), name
    assert shown["verb"].strip() == data["verbs"][data["nodes"]["verb"][k]]["name"]
    rect.click()
    seen.page.mouse.move(5, 5)  # leave the icicle: the clicked segment stays
    seen.page.hover("#heading")
    assert seen.details()["node_id"] == data["nodes"]["node_id"][k]
    assert seen.node_ids("#tree .row.selected") == [data["nodes"]["node_id"][k]]
    assert seen.errors == []


def test_a_caption_holding_a_script_is_shown_as_text_and_runs_nothing(open_page):
    row = f.video_row("attack00001")
    row["nodes"][0]["plm_caption"] = ATTACK
    row["nodes"][0]["gpt"]["action"]["brief"] = "<img src=x onerror=alert(2)>"
    seen = open_page(TreeBatch.from_arrow(f.table([row])))
    assert seen.page.evaluate("document.scripts.length") == 2
    assert seen.page.evaluate("document.querySelectorAll('img').length") == 0
    seen.page.locator('#icicle rect[data-i="0"]').click()
    shown = seen.details()
    assert shown["plm_caption"] == ATTACK and shown["action_brief"] == "<img src=x onerror=alert(2)>"
    seen.page.fill("#search", "alert(1)")
    assert seen.node_ids("#icicle rect.seg.match") == ["attack00001-nroot"]
    assert seen.dialogs == [] and seen.errors == [] and seen.requests == [seen.url]


@pytest.mark.skipif(not SAMPLE.exists() and not os.environ.get("CI"),
                    reason="the real sample lives in ../shared/data (always present in CI)")
def test_the_deepest_real_video_depth_19(open_page, tmp_path):
    from graphkit.loaders.trees import read_trees
    from graphkit.schema import STRUCTURE_FIELDS

    trees = read_trees(SAMPLE, node_fields=(*STRUCTURE_FIELDS, "plm_action", "plm_caption", "llama3_caption", "gpt"),
                       metadata=True)
    data = viewer_data(trees, "8JOpXDtraZI")
    assert data["depth"] == 19 and data["num_segments"] == 355
    seen = open_page(trees, "8JOpXDtraZI")
    assert seen.errors == [] and seen.requests == [seen.url]
    assert len(seen.node_ids("#icicle rect.seg")) == 355
    assert seen.page.eval_on_selector_all("#levels div", "els => els.length") == 20
    assert seen.page.eval_on_selector_all("#legend .entry", "els => els.length") == len(data["verbs"]) + 1
    word = "dog"
    expected = {node_id for k, node_id in enumerate(data["nodes"]["node_id"])
                if any(word in (values[k] or "").lower() for values in data["nodes"]["text"].values())}
    seen.page.fill("#search", word)
    assert set(seen.node_ids("#icicle rect.seg.match")) == expected and expected
    _screenshot(seen, tmp_path / "real.png")


def test_double_click_zooms_to_a_segment_and_the_button_shows_the_whole_video(open_page, trees):
    seen = open_page(trees)
    data = viewer_data(trees)
    k = 17
    assert seen.page.get_attribute("#icicle", "viewBox").split()[:3] == ["0", "0", "256"]
    seen.page.locator(f'#icicle rect[data-i="{k}"]').dblclick()
    x, _, width, _ = (float(v) for v in seen.page.get_attribute("#icicle", "viewBox").split())
    assert (x, x + width) == (data["nodes"]["start"][k], data["nodes"]["end"][k])
    labels = seen.page.eval_on_selector_all("#axis span", "els => els.map(e => e.textContent)")
    assert labels and all(x <= float(label.split()[0]) <= x + width for label in labels)
    seen.page.click("#reset-zoom")
    assert seen.page.get_attribute("#icicle", "viewBox").split()[:3] == ["0", "0", "256"]
    assert seen.errors == []


def test_a_click_on_a_legend_entry_picks_its_verb(open_page, trees):
    seen = open_page(trees)
    data = viewer_data(trees)
    chop = [v["name"] for v in data["verbs"]].index("chop")
    expected = {node_id for node_id, verb in zip(data["nodes"]["node_id"], data["nodes"]["verb"]) if verb == chop}
    assert len(expected) == 2
    seen.page.locator("#legend .entry", has_text="chop (").click()
    assert set(seen.node_ids("#icicle rect.seg:not(.dim)")) == expected
    assert set(seen.node_ids("#tree .row.verb")) == expected
    assert seen.page.locator("#legend .entry.picked").inner_text() == "chop (2)"
    seen.page.locator("#legend .entry", has_text="chop (").click()  # again: every verb
    assert seen.node_ids("#icicle rect.seg.dim") == [] and seen.node_ids("#tree .row.verb") == []
    assert seen.errors == []
