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

from collections import Counter
from typing import TYPE_CHECKING

import numpy as np

from graphkit.tree import TreeBatch

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["format_tree", "plot_timeline", "shown_nodes", "verb_labels", "video_position"]


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


def shown_nodes(trees: TreeBatch, max_level: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The segments shown down to ``max_level`` and the frontier that tiles the video there.

    Args:
        trees (TreeBatch): One video (or many).
        max_level (int, optional): Deepest level shown. (default: all)

    Returns:
        tuple[numpy.ndarray, numpy.ndarray]: Node positions in time order of
        level at most ``max_level``, and those of them that are leaves of the
        tree cut at ``max_level`` (real leaves, and the segments at
        ``max_level``), which tile the video in time.

    Examples:
        >>> from graphkit.testing import example_rows
        >>> one = TreeBatch.from_arrow(example_rows(1))
        >>> [a.tolist() for a in shown_nodes(one, max_level=0)]
        [[0], [0]]
    """
    shown = trees.time_order
    if max_level is not None:
        shown = shown[trees.level[shown] <= max_level]
    edge = trees.is_leaf[shown] if max_level is None else trees.is_leaf[shown] | (trees.level[shown] == max_level)
    return shown, shown[edge]


def plot_timeline(trees: TreeBatch, video: int | str = 0, *, max_level: int | None = None) -> Figure:
    """Draw one video's tree as a timeline, coloured by verb, with a legend of every verb.

    One row per level (down to ``max_level``), each segment a bar over its
    time span, and a bottom row of the segments that tile the video at that
    depth (the leaves, or the cut at ``max_level``). Every verb shown has its
    own colour (:func:`graphkit.palette.category_colours`, never repeated)
    and its legend entry (with its segment count), in as many columns as fit.

    Args:
        trees (TreeBatch): The videos.
        video (int or str, optional): Position or ``video_uid``. (default: :obj:`0`)
        max_level (int, optional): Deepest level drawn. (default: all)

    Returns:
        matplotlib.figure.Figure: The figure; ``figure.savefig("t.png")`` writes it.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from graphkit.palette import NO_CATEGORY_COLOUR, category_colours

    one = trees.select([video_position(trees, video)])
    shown, frontier = shown_nodes(one, max_level)
    verbs = verb_labels(one)
    shown_verbs = [verbs[i] for i in shown.tolist()]
    colour = category_colours(shown_verbs)
    counts = Counter(shown_verbs)
    levels = int(one.level[shown].max()) + 1
    columns = max(1, min(6, len(colour)))
    legend_rows = -(-len(colour) // columns)
    fig = plt.figure(figsize=(12, 0.3 * (levels + 1) + 1.6 + 0.24 * legend_rows), layout="constrained")
    ax = fig.add_subplot()
    # Each segment on its level's row; the frontier once more on a bottom row of its own.
    rows = np.r_[one.level[shown], np.full(frontier.size, levels)]
    nodes = np.r_[shown, frontier]
    faces = [colour.get(verbs[i], NO_CATEGORY_COLOUR) for i in nodes.tolist()]
    ax.barh(rows, one.duration[nodes], left=one.start[nodes], height=0.8, color=faces, edgecolor="white",
            linewidth=0.3)
    bottom = "leaves" if max_level is None or levels <= max_level else f"cut at L{levels - 1}"
    ax.set_yticks(range(levels + 1), [f"L{lvl}" for lvl in range(levels)] + [bottom])
    ax.set_ylim(levels + 0.6, -0.6)
    ax.set_xlim(float(one.start[one.root[0]]), float(one.end[one.root[0]]))
    ax.set_xlabel("seconds")
    depth = int(one.level.max())
    cut = "" if levels > depth else f" (levels 0-{levels - 1} of 0-{depth})"
    ax.set_title(f"{one.video_uid[0].as_py()}: {one.num_nodes} segments{cut}")
    if colour:
        handles = [Patch(color=c, label=f"{name} ({counts[name]})") for name, c in colour.items()]
        fig.legend(handles=handles, loc="outside lower center", ncols=columns, fontsize=8,
                   title=f"verb ({len(colour)})", frameon=False)
    return fig


def verb_labels(trees: TreeBatch) -> list[str | None]:
    """The verb label of every node (:func:`graphkit.labels.verb_lemmas` of its ``action_brief``), or ``None``.

    Examples:
        >>> from graphkit.testing import example_rows
        >>> verb_labels(TreeBatch.from_arrow(example_rows(1)))
        ['cut', None, None]
    """
    if "action_brief" not in trees.text:
        return [None] * trees.num_nodes
    from graphkit.labels import verb_lemmas

    return verb_lemmas(trees.text["action_brief"]).to_pylist()
