"""Looking at one video: its tree as indented text, its timeline as a picture.

:func:`format_tree` prints the Tree-of-Captions top-down, each segment with its
time span, level and best available description (the ``gpt`` action if
present, else the PLM action). :func:`plot_timeline` draws the tree as a
timeline with matplotlib: one row per level, each segment a bar over its time
span, coloured by its verb label, with the leaves (which tile the video) in
the bottom row.

Examples:
    >>> from graphkit.testing import example_rows
    >>> from graphkit.tree import TreeBatch
    >>> print(format_tree(TreeBatch.from_arrow(example_rows(1))))
    vid00000000  3 segments, 2 leaves, max level 1
    [   0.00 –    4.00] L0  Cut paper
      [   0.00 –    1.00] L1  cut paper
      [   1.00 –    4.00] L1  cut paper
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from graphkit.tree import TreeBatch

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["format_tree", "plot_timeline", "video_position"]


def video_position(trees: TreeBatch, video: int | str) -> int:
    """The position of a video given by position or ``video_uid``.

    Raises:
        KeyError: If no video has that uid.
        IndexError: If the position is out of range.
    """
    if isinstance(video, str):
        uids = trees.video_uid.to_pylist()
        if video not in uids:
            raise KeyError(f"no video {video!r} among {trees.num_videos} videos")
        return uids.index(video)
    if not 0 <= video < trees.num_videos:
        raise IndexError(f"video {video} out of range for {trees.num_videos} videos")
    return video


def _descriptions(trees: TreeBatch) -> list[str]:
    best = [None] * trees.num_nodes
    for name in ("plm_action", "action_brief"):  # later wins
        if name in trees.text:
            for i, value in enumerate(trees.text[name].to_pylist()):
                if value:
                    best[i] = value
    return [b or "" for b in best]


def format_tree(trees: TreeBatch, video: int | str = 0, *, max_level: int | None = None) -> str:
    """One video's tree as indented text, children in time order.

    Args:
        trees (TreeBatch): The videos.
        video (int or str, optional): Position or ``video_uid``. (default: :obj:`0`)
        max_level (int, optional): Deepest level shown. (default: all)

    Returns:
        str: A header line, then one line per segment.
    """
    one = trees.select([video_position(trees, video)])
    text = _descriptions(one)
    shown = one.time_order
    if max_level is not None:
        shown = shown[one.level[shown] <= max_level]
    header = (f"{one.video_uid[0].as_py()}  {one.num_nodes} segments, {int(one.is_leaf.sum())} leaves, "
              f"max level {int(one.level.max())}")
    lines = [header] + [
        f"{'  ' * int(one.level[i])}[{one.start[i]:7.2f} – {one.end[i]:7.2f}] L{one.level[i]}  {text[i]}"
        for i in shown.tolist()
    ]
    return "\n".join(lines)


def plot_timeline(trees: TreeBatch, video: int | str = 0) -> Figure:
    """Draw one video's tree as a timeline.

    Args:
        trees (TreeBatch): The videos.
        video (int or str, optional): Position or ``video_uid``. (default: :obj:`0`)

    Returns:
        matplotlib.figure.Figure: The figure; ``figure.savefig("t.png")`` writes it.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    one = trees.select([video_position(trees, video)])
    verbs = _verbs(one)
    names = sorted({v for v in verbs if v})
    palette = plt.get_cmap("tab20")
    colour = {name: palette(i % 20) for i, name in enumerate(names)}
    levels = int(one.level.max()) + 1
    fig, ax = plt.subplots(figsize=(12, 0.35 * (levels + 2) + 1.5))
    # Each segment on its level's row; the leaves once more on a bottom row of their own.
    rows = np.r_[one.level, np.full(int(one.is_leaf.sum()), levels)]
    nodes = np.r_[np.arange(one.num_nodes), np.flatnonzero(one.is_leaf)]
    for row, i in zip(rows.tolist(), nodes.tolist()):
        ax.broken_barh([(float(one.start[i]), float(one.duration[i]))], (row - 0.4, 0.8),
                       facecolors=colour.get(verbs[i], (0.85, 0.85, 0.85)), edgecolor="white", linewidth=0.3)
    ax.set_yticks(range(levels + 1), [f"L{lvl}" for lvl in range(levels)] + ["leaves"])
    ax.invert_yaxis()
    ax.set_xlabel("seconds")
    ax.set_title(f"{one.video_uid[0].as_py()}: {one.num_nodes} segments")
    top = sorted(names, key=lambda n: -verbs.count(n))[:12]
    if top:
        handles = [matplotlib.patches.Patch(color=colour[n], label=n) for n in top]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, title="verb")
    fig.tight_layout()
    return fig


def _verbs(trees: TreeBatch) -> list[str | None]:
    if "action_brief" not in trees.text:
        return [None] * trees.num_nodes
    from graphkit.labels import verb_lemmas

    return verb_lemmas(trees.text["action_brief"]).to_pylist()
