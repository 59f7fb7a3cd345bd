"""One video as an interactive, self-contained HTML page: icicle, tree, details, search, verb colours.

:func:`render_html` turns one video of a :class:`~graphkit.tree.TreeBatch`
into a single HTML document that works offline, from a file, with nothing
fetched: its style, its script (vanilla JavaScript, in
``graphkit/viewer_assets/``) and the video's data are all inside it. The page
shows

- an **icicle timeline**: x is time, y the level, each segment a bar over its
  span, coloured by its verb (:func:`graphkit.palette.category_colours`: no
  two verbs of the video share a colour); the legend lists every verb shown,
  with its segment count, and a click on an entry fades every other verb;
- a **collapsible tree**, children in time order;
- the **details** of a segment (its id, span, level and every caption and
  ``gpt`` field) on hover, pinned by a click;
- a **search box** over the segments' text: every matching segment is
  highlighted in both views (case-insensitive substring match).

The data travels as JSON (:func:`viewer_data`) in a
``<script type="application/json">`` element, with ``<``, ``>``, ``&`` and the
JavaScript line separators escaped (``\\u003c`` ...), so caption text, which
is untrusted, can never close the element; the script shows all text through
``textContent``, never as markup. A Content-Security-Policy allows only the
page's own script (by its SHA-256) and inline style, and no network at all.

Examples:
    >>> from graphkit.testing import example_rows
    >>> from graphkit.tree import TreeBatch
    >>> page = render_html(TreeBatch.from_arrow(example_rows(1)))
    >>> page.startswith("<!DOCTYPE html>"), "<link" in page, " src=" in page, " href=" in page
    (True, False, False, False)
    >>> data = viewer_data(TreeBatch.from_arrow(example_rows(1)))
    >>> data["video_uid"], data["nodes"]["level"], data["verbs"]
    ('vid00000000', [0, 1, 1], [{'name': 'cut', 'colour': '#6008ff', 'count': 1}])
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections import Counter
from importlib import resources
from typing import Any

import numpy as np
import pyarrow as pa

from graphkit.schema import GPT_PROPERTIES, TEXT_PROPERTIES
from graphkit.show import shown_nodes, verb_labels, video_position
from graphkit.tree import TreeBatch

__all__ = ["TEXT_FIELDS", "embed_json", "render_html", "viewer_data"]

#: The text fields a segment's details show, in this order (those the batch holds).
TEXT_FIELDS: tuple[str, ...] = (*TEXT_PROPERTIES, *GPT_PROPERTIES)

_ASSETS = ("viewer.html", "viewer.css", "viewer.js")
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _asset(name: str) -> str:
    return resources.files("graphkit").joinpath("viewer_assets", name).read_text(encoding="utf-8")


def _seconds(values: np.ndarray) -> list[float]:
    """float32 times as the shortest decimals that read back as the same float32."""
    return [float(text) for text in pa.array(values, type=pa.float32()).cast(pa.string()).to_pylist()]


def viewer_data(trees: TreeBatch, video: int | str = 0, *, max_level: int | None = None) -> dict[str, Any]:
    """The data the viewer page draws, as plain JSON-ready values.

    Nodes are listed in time order, a parent before its children (on
    tiling trees the pre-order walk, so a subtree is the contiguous run
    ``i : i + size[i]``); columns are lists.

    Args:
        trees (TreeBatch): The videos.
        video (int or str, optional): Position or ``video_uid``. (default: :obj:`0`)
        max_level (int, optional): Deepest level shown. (default: all)

    Returns:
        dict: ``video_uid``, ``title``, ``start``, ``end``, ``num_segments``
        (all of the video's), ``depth`` (its deepest level), ``max_level``
        (the deepest shown), ``verbs`` (``name``, ``colour``, ``count``, most
        frequent first), ``no_verb_colour``, ``fields`` (text fields present) and
        ``nodes``: ``node_id``, ``parent`` (list position, ``-1`` for the
        root), ``size``, ``level``, ``start``, ``end``, ``verb`` (position in
        ``verbs``, ``-1`` for none) and ``text`` (field -> list of str or None).

    Raises:
        KeyError: If no video has that uid.
        IndexError: If the position is out of range.
    """
    from graphkit.palette import NO_CATEGORY_COLOUR, category_colours

    one = trees.select([video_position(trees, video)])
    shown, _ = shown_nodes(one, max_level)
    verbs = verb_labels(one)
    shown_verbs = [verbs[i] for i in shown.tolist()]
    colours = category_colours(shown_verbs)
    counts = Counter(shown_verbs)
    verb_position = {name: k for k, name in enumerate(colours)}
    position = np.full(one.num_nodes, -1, dtype=np.int64)
    position[shown] = np.arange(shown.size)
    parent = one.parent[shown]
    parent = np.where(parent >= 0, position[np.maximum(parent, 0)], -1)
    # Subtree sizes among the shown nodes: each node counted once on each ancestor, level by level.
    size = np.ones(shown.size, dtype=np.int64)
    levels = one.level[shown].astype(np.int64)
    for lvl in range(int(levels.max(initial=0)), 0, -1):
        at = np.flatnonzero(levels == lvl)
        np.add.at(size, parent[at], size[at])
    take = pa.array(shown)
    fields = [name for name in TEXT_FIELDS if name in one.text]
    title = None
    if one.metadata is not None and "title" in one.metadata.type.names:
        title = one.metadata.field("title")[0].as_py()
    root = int(one.root[0])
    return {
        "video_uid": one.video_uid[0].as_py(),
        "title": title,
        "start": _seconds(one.start[[root]])[0],
        "end": _seconds(one.end[[root]])[0],
        "num_segments": one.num_nodes,
        "depth": int(one.level.max()),
        "max_level": int(levels.max(initial=0)),
        "verbs": [{"name": name, "colour": colour, "count": counts[name]} for name, colour in colours.items()],
        "no_verb_colour": NO_CATEGORY_COLOUR,
        "fields": fields,
        "nodes": {
            "node_id": one.node_id.take(take).to_pylist(),
            "parent": parent.tolist(),
            "size": size.tolist(),
            "level": levels.tolist(),
            "start": _seconds(one.start[shown]),
            "end": _seconds(one.end[shown]),
            "verb": [verb_position.get(name, -1) if name is not None else -1 for name in shown_verbs],
            "text": {name: one.text[name].take(take).to_pylist() for name in fields},
        },
    }


def embed_json(value: Any) -> str:
    """``value`` as JSON that is safe inside an HTML ``<script>`` element.

    Every ``<``, ``>`` and ``&`` (and U+2028/U+2029) is written as a JSON
    ``\\uXXXX`` escape, so no text can end the element or open a comment;
    ``JSON.parse`` of the element's text gives ``value`` back.

    Examples:
        >>> embed_json({"caption": "</script><script>alert(1)</script>"})
        '{"caption": "\\\\u003c/script\\\\u003e\\\\u003cscript\\\\u003ealert(1)\\\\u003c/script\\\\u003e"}'
    """
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    return "".join(_JSON_ESCAPES.get(ch, ch) for ch in text) if any(ch in text for ch in _JSON_ESCAPES) else text


def render_html(trees: TreeBatch, video: int | str = 0, *, max_level: int | None = None) -> str:
    """One video as a self-contained interactive HTML page (see the module's description).

    Args:
        trees (TreeBatch): The videos.
        video (int or str, optional): Position or ``video_uid``. (default: :obj:`0`)
        max_level (int, optional): Deepest level shown. (default: all)

    Returns:
        str: The HTML document; write it to a file and open it in a browser.

    Raises:
        KeyError: If no video has that uid.
        IndexError: If the position is out of range.
    """
    data = viewer_data(trees, video, max_level=max_level)
    page, style, script = (_asset(name) for name in _ASSETS)
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    heading = data["video_uid"] if not data["title"] else f"{data['video_uid']}: {data['title']}"
    replacements = {
        "@CSP@": (f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'; "
                  "img-src data:; base-uri 'none'; form-action 'none'"),
        "@TITLE@": html.escape(heading),
        "@STYLE@": style,
        "@DATA@": embed_json(data),
        "@SCRIPT@": script,
    }
    # One pass over the template: text brought in by a replacement is never read as a marker.
    return re.sub(r"@(CSP|TITLE|STYLE|DATA|SCRIPT)@", lambda match: replacements[match.group(0)], page)
