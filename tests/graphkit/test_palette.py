from __future__ import annotations

import numpy as np
import pytest

from graphkit.palette import NO_CATEGORY_COLOUR, category_colours, distinct_colours, oklab_to_srgb, srgb_to_oklab


def _lab(colours: list[str]) -> np.ndarray:
    return srgb_to_oklab(np.array([[int(c[i:i + 2], 16) / 255 for i in (1, 3, 5)] for c in colours]))


def _closest(colours: list[str]) -> float:
    lab = _lab(colours)
    distance = np.linalg.norm(lab[:, None] - lab[None], axis=-1)
    np.fill_diagonal(distance, np.inf)
    return float(distance.min())


def test_one_to_two_hundred_colours_are_all_distinct_and_separated():
    for n in range(1, 201):
        colours = distinct_colours(n)
        assert len(colours) == n and len(set(colours)) == n, n
        assert all(len(c) == 7 and c.startswith("#") for c in colours)
        if n > 1:
            # OKLab distance: about 0.02 is just noticeable; tab20 repeats exactly (0) past 20.
            floor = 0.14 if n <= 20 else 0.09 if n <= 50 else 0.05
            assert _closest(colours) >= floor, (n, _closest(colours))
        assert _closest([*colours, NO_CATEGORY_COLOUR]) >= 0.05, n


def test_colours_are_neither_too_dark_nor_too_light():
    lightness = _lab(distinct_colours(200))[:, 0]
    assert lightness.min() >= 0.49 and lightness.max() <= 0.91


def test_more_colours_never_change_the_first_ones():
    assert distinct_colours(200)[:30] == distinct_colours(30)
    assert distinct_colours(0) == []


def test_bad_counts_are_refused():
    with pytest.raises(ValueError, match="n=-1 must lie in"):
        distinct_colours(-1)
    with pytest.raises(ValueError, match="must lie in"):
        distinct_colours(10**6)


def test_category_colours_most_frequent_first_none_left_out():
    colours = category_colours(["stir", "add", None, "stir", "cut", "add", "stir"])
    assert list(colours) == ["stir", "add", "cut"]
    assert list(colours.values()) == distinct_colours(3)
    many = category_colours([f"verb{k}" for k in range(150)])
    assert len(set(many.values())) == 150


def test_oklab_round_trip():
    rgb = np.random.default_rng(0).random((100, 3))
    assert np.allclose(oklab_to_srgb(srgb_to_oklab(rgb)), rgb, atol=1e-9)
