"""Shared by the tests of :mod:`graphkit.losses`: random forests, tree-shaped embeddings, the loss cases.

Each case of :data:`CASES` pairs a vectorized loss with its plain-loop
reference (:mod:`graphkit.losses.reference`) and the keyword arguments both
take; :func:`call` passes ``video`` to the losses that take it.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from graphkit import losses as L
from graphkit.losses import reference as naive

__all__ = ["random_forest", "path_sum_embeddings", "CASES", "TAKES_VIDEO", "call"]


def random_forest(sizes: list[int], seed: int, shuffle: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Random binary trees (one per size) as (parent, video), nodes shuffled across videos."""
    rng = np.random.default_rng(seed)
    parent, video = [], []
    for v, size in enumerate(sizes):
        offset = len(parent)
        local, leaves = [-1], [0]
        while len(local) + 2 <= size:
            split = leaves.pop(int(rng.integers(len(leaves))))
            for _ in range(2):
                leaves.append(len(local))
                local.append(split)
        parent += [p + offset if p >= 0 else -1 for p in local]
        video += [v] * len(local)
    parent, video = np.array(parent), np.array(video)
    if shuffle:
        order = rng.permutation(len(parent))
        position = np.argsort(order)
        parent = np.where(parent[order] >= 0, position[np.maximum(parent[order], 0)], -1)
        video = video[order]
    return torch.from_numpy(parent), torch.from_numpy(video)


def path_sum_embeddings(parent: torch.Tensor, dim: int, seed: int) -> torch.Tensor:
    """z = sum of one random vector per node along the root-to-node path (respects the tree)."""
    steps = torch.randn(len(parent), dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return torch.stack([steps[path].sum(0) for path in naive.naive_paths(parent)])


# Each case: vectorized loss, naive loss, keyword arguments shared by both.
CASES = [
    pytest.param(L.tree_supcon_loss, naive.naive_tree_supcon_loss, {"max_distance": 2}, id="supcon-k2"),
    pytest.param(L.tree_supcon_loss, naive.naive_tree_supcon_loss,
                 {"max_distance": 1, "temperature": 0.5}, id="supcon-k1"),
    pytest.param(L.level_hierarchical_loss, naive.naive_level_hierarchical_loss, {}, id="level"),
    pytest.param(L.level_hierarchical_loss, naive.naive_level_hierarchical_loss,
                 {"levels": [3, 0, 1], "weights": [0.5, 1.0, 2.0], "hierarchy_constraint": True}, id="level-hce"),
    pytest.param(L.level_hierarchical_loss, naive.naive_level_hierarchical_loss,
                 {"exclusive_levels": True, "hierarchy_constraint": True, "temperature": 0.3}, id="level-exclusive"),
    pytest.param(L.tree_distance_infonce, naive.naive_tree_distance_infonce, {"beta": 1.0}, id="infonce"),
    pytest.param(L.tree_distance_infonce, naive.naive_tree_distance_infonce,
                 {"beta": 0.3, "temperature": 0.2}, id="infonce-b0.3"),
    pytest.param(L.parent_child_aggregation_loss, naive.naive_parent_child_aggregation_loss,
                 {"aggregate": "mean"}, id="aggregation-mean"),
    pytest.param(L.parent_child_aggregation_loss, naive.naive_parent_child_aggregation_loss,
                 {"aggregate": "attention"}, id="aggregation-attention"),
    pytest.param(L.entailment_cone_loss, naive.naive_entailment_cone_loss, {}, id="entailment"),
    pytest.param(L.entailment_cone_loss, naive.naive_entailment_cone_loss,
                 {"curvature": 0.5, "min_radius": 0.3}, id="entailment-c0.5"),
]
TAKES_VIDEO = {L.tree_supcon_loss, L.level_hierarchical_loss, L.tree_distance_infonce}


def call(loss, z, parent, video, kwargs):
    if loss in TAKES_VIDEO or loss in {naive.naive_tree_supcon_loss, naive.naive_level_hierarchical_loss,
                                       naive.naive_tree_distance_infonce}:
        return loss(z, parent, video, **kwargs)
    return loss(z, parent, **kwargs)
