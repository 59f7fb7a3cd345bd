from __future__ import annotations

import numpy as np
import pytest

from graphkit.show import format_tree, plot_timeline, video_position
from graphkit.tree import TreeBatch
from tests import factories as f


@pytest.fixture
def trees() -> TreeBatch:
    return TreeBatch.from_arrow(f.table(f.rows(2)))


def test_format_tree_in_time_order_with_indent(trees):
    lines = format_tree(trees, "video000001", max_level=2).splitlines()
    assert lines[0] == "video000001  7 segments, 4 leaves, max level 3"
    assert lines[1:] == [
        "[   0.00 –   16.00] L0  Cut paper",
        "  [   0.00 –    8.00] L1  Cut paper",
        "    [   0.00 –    4.00] L2  Cut paper",
        "    [   4.00 –    8.00] L2  Cut paper",
        "  [   8.00 –   16.00] L1  Cut paper",
    ]


def test_plot_timeline_writes_png(trees, tmp_path):
    fig = plot_timeline(trees, 0)
    fig.savefig(tmp_path / "t.png")
    assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"
    assert fig.axes[0].get_title() == "video000000: 7 segments"


def test_video_position_errors(trees):
    with pytest.raises(KeyError, match="no video 'x'"):
        video_position(trees, "x")
    with pytest.raises(IndexError, match="video 9 out of range"):
        video_position(trees, 9)


@pytest.fixture
def many_verbs() -> TreeBatch:
    from tests.graphkit.viewer_videos import many_verbs_row

    return TreeBatch.from_arrow(f.table([many_verbs_row("manyverbs01")]))


def _bars(ax) -> list[tuple[float, tuple]]:
    """Each bar of the timeline: (its row, its face colour)."""
    return [(round(bar.get_y() + bar.get_height() / 2, 3), bar.get_facecolor()) for bar in ax.patches]


def test_timeline_legend_lists_every_verb_each_in_its_own_colour(many_verbs):
    from matplotlib.colors import to_hex

    from tests.graphkit.viewer_videos import VERBS

    fig = plot_timeline(many_verbs)
    (legend,) = fig.legends
    labels = [text.get_text() for text in legend.get_texts()]
    assert len(VERBS) == 30 and len(labels) == 30  # tab20 would repeat, and only 12 were listed
    assert {label.split(" (")[0] for label in labels} == set(VERBS)
    assert sum(int(label.split("(")[1].rstrip(")")) for label in labels) == many_verbs.num_nodes
    colours = [to_hex(handle.get_facecolor()) for handle in legend.legend_handles]
    assert len(set(colours)) == 30
    # The bars wear exactly the legend's colours.
    bar_colours = {to_hex(colour) for _, colour in _bars(fig.axes[0])}
    assert bar_colours == set(colours)
    assert legend._ncols > 1  # laid out in columns, so it fits


def test_timeline_honours_max_level(many_verbs, tmp_path):
    full = plot_timeline(many_verbs)
    assert [t.get_text() for t in full.axes[0].get_yticklabels()] == [f"L{k}" for k in range(6)] + ["leaves"]
    assert len(_bars(full.axes[0])) == 63 + 32
    cut = plot_timeline(many_verbs, max_level=2)
    ax = cut.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["L0", "L1", "L2", "cut at L2"]
    rows = [row for row, _ in _bars(ax)]
    assert sorted(set(rows)) == [0, 1, 2, 3] and len(rows) == 7 + 4  # levels 0-2, then the 4 segments at L2 again
    assert ax.get_title() == "manyverbs01: 63 segments (levels 0-2 of 0-5)"
    # Only the verbs drawn are in the legend.
    from graphkit.show import verb_labels

    drawn = {verb for verb, level in zip(verb_labels(many_verbs), many_verbs.level.tolist()) if level <= 2}
    assert len(drawn) == 6  # pre-order positions 0, 1, 2, 17, 32, 33, 48: verbs 0, 1, 2, 17, 2, 3, 18
    assert {t.get_text().split(" (")[0] for t in cut.legends[0].get_texts()} == drawn
    cut.savefig(tmp_path / "cut.png")
    assert (tmp_path / "cut.png").read_bytes()[:4] == b"\x89PNG"


def test_shown_nodes_frontier_tiles_the_video(many_verbs):
    from graphkit.show import shown_nodes

    for max_level in (None, 0, 3, 9):
        shown, frontier = shown_nodes(many_verbs, max_level)
        starts, ends = many_verbs.start[frontier], many_verbs.end[frontier]
        assert starts[0] == 0 and ends[-1] == 256 and np.array_equal(starts[1:], ends[:-1])
        assert max_level is None or many_verbs.level[shown].max() <= max_level
