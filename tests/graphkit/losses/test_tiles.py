"""Tiles of :mod:`graphkit.losses.tiles`: how trees are packed does not change any loss."""

from __future__ import annotations

import pytest
import torch

from graphkit.losses import tiles
from tests.graphkit.losses.helpers import CASES, call, random_forest


@pytest.mark.parametrize(("loss", "reference", "kwargs"), CASES)
def test_packing_trees_into_tiles_does_not_change_the_loss(loss, reference, kwargs, monkeypatch):
    parent, video = random_forest([1, 9, 15, 5, 11, 3, 21], 16)
    z = torch.randn(len(parent), 8, generator=torch.Generator().manual_seed(16), dtype=torch.float64)
    results = []
    for tile_nodes in (1, 12, 10_000):  # a tile per tree, a few trees per tile, one tile
        monkeypatch.setattr(tiles, "TILE_NODES", tile_nodes)
        leaf = z.clone().requires_grad_()
        out = call(loss, leaf, parent, video, kwargs)
        out.loss.backward()
        results.append((out.loss, out.per_anchor, leaf.grad))
    for other in results[1:]:
        for got, expected in zip(other, results[0]):
            torch.testing.assert_close(got, expected)
