from __future__ import annotations

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
