"""Behaviour of each loss of :mod:`graphkit.losses.contrastive` beyond what every loss shares."""

from __future__ import annotations

import torch

from graphkit import losses as L
from tests.graphkit.losses.helpers import random_forest

# -- loss-specific behaviour --------------------------------------------------


def test_supcon_positives_grow_with_max_distance():
    parent, video = random_forest([15, 9], 11)
    z = torch.randn(len(parent), 8, generator=torch.Generator().manual_seed(11))
    near = L.tree_supcon_loss(z, parent, video, max_distance=1)
    far = L.tree_supcon_loss(z, parent, video, max_distance=30)
    assert near.num_excluded == 0 and far.num_excluded == 0
    # With k beyond the height, every other node of the video is a positive.
    by_video = L.level_hierarchical_loss(z, parent, video, levels=[0])
    torch.testing.assert_close(far.loss, by_video.loss)


def test_hierarchy_constraint_makes_level_losses_non_decreasing_with_depth():
    parent, video = random_forest([31, 21], 12)
    z = torch.randn(len(parent), 8, generator=torch.Generator().manual_seed(12))
    plain = L.level_hierarchical_loss(z, parent, video, levels=[4, 2, 0, 1, 3])
    constrained = L.level_hierarchical_loss(z, parent, video, levels=[4, 2, 0, 1, 3], hierarchy_constraint=True)
    by_depth = constrained.level_losses[[2, 3, 1, 4, 0]]
    assert (by_depth[1:] >= by_depth[:-1]).all()
    assert (constrained.level_losses >= plain.level_losses).all()
    assert constrained.level_losses[2] == plain.level_losses[2]  # the shallowest level is unchanged
    weighted = L.level_hierarchical_loss(z, parent, video, levels=[0, 1], weights=[2.0, 0.0])
    torch.testing.assert_close(weighted.loss, 2 * plain.level_losses[2])


def test_exclusive_levels_count_each_pair_at_its_lowest_common_ancestor():
    parent, video = random_forest([21, 15], 13)
    z = torch.randn(len(parent), 8, generator=torch.Generator().manual_seed(13))
    out = L.level_hierarchical_loss(z, parent, video, exclusive_levels=True)
    paths = L.ancestor_paths(parent)
    lca = L.lca_depth(paths, paths)
    other = ~torch.eye(len(parent), dtype=torch.bool)
    for level, terms in enumerate(out.per_anchor):
        assert torch.equal(terms != 0, ((lca == level) & other).any(1))


def test_infonce_targets_follow_tree_distance():
    parent, video = torch.tensor([-1, 0, 0, 1]), torch.tensor([0, 0, 0, 0])
    # Embeddings whose similarity softmax equals the beta=1 target distribution are optimal.
    out = L.tree_distance_infonce(torch.eye(4), parent, video, beta=1.0)
    assert int(out.num_anchors) == 4
    distance = L.tree_distance(parent)
    target = torch.exp(-distance).fill_diagonal_(0)
    target = target / target.sum(1, keepdim=True)
    entropy = -(target * torch.log(target.clamp(min=1e-30))).sum(1)
    assert (out.per_anchor >= entropy - 1e-6).all()


def test_attention_with_a_zero_query_is_the_mean():
    parent, _ = random_forest([9, 7], 14)
    z = torch.randn(len(parent), 5, generator=torch.Generator().manual_seed(14))
    mean = L.parent_child_aggregation_loss(z, parent, aggregate="mean")
    attention = L.parent_child_aggregation_loss(z, parent, aggregate="attention", query=torch.zeros(5))
    torch.testing.assert_close(attention.loss, mean.loss)
