"""Colours for categories that never repeat: one distinct colour per verb of a video.

A fixed qualitative palette (matplotlib's ``tab20``) runs out: past 20 verbs
it starts again, and two verbs share a colour. :func:`distinct_colours` makes
``n`` colours for any ``n`` (up to the ~20,000 of its grid) instead, chosen in
the perceptually uniform **OKLab** space (Björn Ottosson, 2020), where the
Euclidean distance between two colours tracks how different they look:

- the candidates are a 33-step sRGB grid, kept where the lightness lies in
  ``[0.5, 0.9]`` (neither black nor white; the page is white);
- the colours are picked *farthest first*: each is the candidate farthest
  from all those before it and from the grey of "no category"
  (:data:`NO_CATEGORY_COLOUR`), the greedy max-min design Glasbey et al.
  (2007) use for categorical palettes. The first colours differ the most,
  and asking for more never changes the first ones.

On this grid, 20 colours are at least 0.14 apart in OKLab and 200 colours
at least 0.05 (a just-noticeable difference is about 0.02).

:func:`category_colours` gives each category of a list its colour, the most
frequent category the first (most distinct) colour. The PNG timeline and the
HTML viewer share it, so a verb has the same colour in both.

Examples:
    >>> distinct_colours(3)
    ['#6008ff', '#207808', '#e70060']
    >>> category_colours(["stir", "add", "stir", None])
    {'stir': '#6008ff', 'add': '#207808'}
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable

import numpy as np

__all__ = ["NO_CATEGORY_COLOUR", "category_colours", "distinct_colours", "oklab_to_srgb", "srgb_to_oklab"]

#: The colour of a segment without a category (no verb): a light neutral grey, apart from every ring.
NO_CATEGORY_COLOUR = "#d9d9d9"

_LIGHTNESS = (0.5, 0.9)
_GRID = 33

# OKLab <-> linear sRGB (Ottosson's matrices).
_LMS_TO_LAB = np.array([[0.2104542553, 0.7936177850, -0.0040720468],
                        [1.9779984951, -2.4285922050, 0.4505937099],
                        [0.0259040371, 0.7827717662, -0.8086757660]])
_RGB_TO_LMS = np.array([[0.4122214708, 0.5363325363, 0.0514459929],
                        [0.2119034982, 0.6806995451, 0.1073969566],
                        [0.0883024619, 0.2817188376, 0.6299787005]])
_LAB_TO_LMS = np.linalg.inv(_LMS_TO_LAB)
_LMS_TO_RGB = np.linalg.inv(_RGB_TO_LMS)


def oklab_to_srgb(lab: np.ndarray) -> np.ndarray:
    """``[..., 3]`` OKLab colours as gamma-encoded sRGB in ``[0, 1]`` (unclipped: out of gamut leaves it).

    Examples:
        >>> oklab_to_srgb(np.array([1.0, 0.0, 0.0])).round(6).tolist()
        [1.0, 1.0, 1.0]
    """
    lms = (np.asarray(lab, dtype=np.float64) @ _LAB_TO_LMS.T) ** 3
    linear = lms @ _LMS_TO_RGB.T
    return np.where(linear <= 0.0031308, 12.92 * linear,
                    1.055 * np.abs(linear) ** (1 / 2.4) * np.sign(linear) - 0.055)


def srgb_to_oklab(rgb: np.ndarray) -> np.ndarray:
    """``[..., 3]`` gamma-encoded sRGB in ``[0, 1]`` as OKLab.

    Examples:
        >>> srgb_to_oklab(np.array([1.0, 1.0, 1.0])).round(6).tolist()
        [1.0, 0.0, 0.0]
    """
    rgb = np.asarray(rgb, dtype=np.float64)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return np.cbrt(linear @ _RGB_TO_LMS.T) @ _LMS_TO_LAB.T


@functools.cache
def _candidates() -> tuple[np.ndarray, np.ndarray]:
    """Every sRGB colour of a 33-step grid whose lightness lies in range: ``(hex codes, OKLab)``."""
    steps = np.linspace(0, 1, _GRID)
    rgb = np.stack(np.meshgrid(steps, steps, steps, indexing="ij"), axis=-1).reshape(-1, 3)
    lab = srgb_to_oklab(rgb)
    keep = (lab[:, 0] >= _LIGHTNESS[0]) & (lab[:, 0] <= _LIGHTNESS[1])
    codes = np.rint(rgb[keep] * 255).astype(np.int64)
    return codes, lab[keep]


def distinct_colours(n: int) -> list[str]:
    """``n`` colours, all different and spread through OKLab, as ``#rrggbb``.

    The colours are a fixed sequence's first ``n``: each is the grid colour
    farthest from all before it (and from :data:`NO_CATEGORY_COLOUR`), so the
    first few differ the most, and asking for more never changes the first.

    Args:
        n (int): How many colours (``0`` gives none).

    Returns:
        list[str]: Hex colours, most distinct first.

    Raises:
        ValueError: If ``n`` is negative or more than the grid holds (about 20,000).

    Examples:
        >>> len(set(distinct_colours(200)))
        200
    """
    codes, _ = _candidates()
    if not 0 <= n <= len(codes):
        raise ValueError(f"n={n} must lie in [0, {len(codes)}]")
    # The sequence is prefix-stable: compute (and cache) it to the next power of two.
    picked = _sequence(min(len(codes), max(64, 1 << max(n - 1, 0).bit_length())))[:n]
    return ["#%02x%02x%02x" % tuple(codes[i]) for i in picked.tolist()]


@functools.cache
def _sequence(n: int) -> np.ndarray:
    return _farthest_first(n)


def _farthest_first(n: int) -> np.ndarray:
    codes, lab = _candidates()
    grey = srgb_to_oklab(np.array([int(NO_CATEGORY_COLOUR[i:i + 2], 16) / 255 for i in (1, 3, 5)]))
    nearest = np.linalg.norm(lab - grey, axis=1)
    picked = np.empty(n, dtype=np.int64)
    for k in range(n):  # one step per colour, each vectorized over the whole grid
        picked[k] = int(np.argmax(nearest))
        nearest = np.minimum(nearest, np.linalg.norm(lab - lab[picked[k]], axis=1))
    return picked


def category_colours(values: Iterable[str | None]) -> dict[str, str]:
    """A distinct colour for every category among ``values`` (``None`` is no category).

    The most frequent category comes first (ties by name) and gets the
    first, most distinct, colour of :func:`distinct_colours`.

    Args:
        values (Iterable[str or None]): One category per item (e.g. a verb per segment).

    Returns:
        dict[str, str]: Category -> ``#rrggbb``, most frequent first; no two alike.

    Examples:
        >>> list(category_colours(["cut", "add", "add"]))
        ['add', 'cut']
    """
    counts = Counter(v for v in values if v is not None)
    names = sorted(counts, key=lambda name: (-counts[name], name))
    return dict(zip(names, distinct_colours(len(names))))
