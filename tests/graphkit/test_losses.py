from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from benchmarks import _naive_losses as naive
from graphkit import losses as L
from graphkit.pyg import to_hetero_batch
from graphkit.testing import example_rows
from graphkit.tree import TreeBatch


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


# -- tree utilities -----------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ancestor_paths_match_walking_up(seed):
    parent, _ = random_forest([1, 9, 21, 15], seed)
    paths = L.ancestor_paths(parent)
    expected = naive.naive_paths(parent)
    assert paths.shape == (len(parent), max(len(p) for p in expected))
    for row, path in zip(paths.tolist(), expected):
        assert row == path + [-1] * (paths.size(1) - len(path))


def test_ancestor_paths_with_max_depth():
    parent = torch.tensor([-1, 0, 1])
    assert L.ancestor_paths(parent, max_depth=4).tolist() == [
        [0, -1, -1, -1, -1], [0, 1, -1, -1, -1], [0, 1, 2, -1, -1]]
    with pytest.raises(ValueError, match="deeper than max_depth=1"):
        L.ancestor_paths(parent, max_depth=1)


@pytest.mark.parametrize(("parent", "match"), [
    (torch.tensor([1, 2, 0]), "cycle"),
    (torch.tensor([-1, 5]), r"positions in \[-1, 2\)"),
    (torch.tensor([-1.0, 0.0]), "1-D integer tensor"),
    (torch.tensor([[-1, 0]]), "1-D integer tensor"),
])
def test_ancestor_paths_reject_bad_parents(parent, match):
    with pytest.raises(ValueError, match=match):
        L.ancestor_paths(parent)


@pytest.mark.parametrize("seed", [0, 1])
def test_lca_depth_and_tree_distance_match_naive(seed):
    parent, video = random_forest([7, 1, 13, 11], seed)
    paths = L.ancestor_paths(parent)
    expected = naive.naive_paths(parent)
    lca = L.lca_depth(paths, paths)
    assert lca.dtype == torch.int16
    assert lca.tolist() == [[naive.naive_lca_depth(a, b) for b in expected] for a in expected]
    distance = L.tree_distance(parent, video)
    assert distance.tolist() == naive.naive_tree_distance(parent)
    assert torch.equal(distance, distance.T)
    # Rows of a different width (a sub-batch padded further) give the same answer.
    wide = L.ancestor_paths(parent, max_depth=paths.size(1) + 2)
    assert torch.equal(L.lca_depth(wide[:5], paths), lca[:5])


def test_tree_distance_checks_video_against_parent():
    with pytest.raises(ValueError, match="node 1 and its parent 0 belong to different videos"):
        L.tree_distance(torch.tensor([-1, 0]), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="video must have shape"):
        L.tree_distance(torch.tensor([-1, 0]), torch.tensor([0, 0, 0]))


def test_parent_index_from_a_pyg_batch():
    trees = TreeBatch.from_arrow(example_rows(3))
    batch = to_hetero_batch(trees)
    edge_index = batch["segment", "parent_of", "segment"].edge_index
    parent = L.parent_index(edge_index, batch["segment"].num_nodes)
    assert parent.tolist() == trees.parent.tolist()
    distance = L.tree_distance(parent, batch["segment"].batch)
    assert torch.isinf(distance[0, 3]) and distance[1, 2] == 2
    with pytest.raises(ValueError, match="more than one parent"):
        L.parent_index(torch.tensor([[0, 1], [2, 2]]), 3)


# -- losses against the naive references --------------------------------------


@pytest.mark.parametrize(("loss", "reference", "kwargs"), CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_loss_and_gradients_match_naive_reference(loss, reference, kwargs, seed):
    parent, video = random_forest([1, 9, 15, 5, 11], seed)
    z = torch.randn(len(parent), 12, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    extra = {}
    if kwargs.get("aggregate") == "attention" and seed == 1:
        extra["query"] = torch.randn(12, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    z_fast = z.clone().requires_grad_()
    z_slow = z.clone().requires_grad_()
    out = call(loss, z_fast, parent, video, {**kwargs, **extra})
    expected = call(reference, z_slow, parent, video, {**kwargs, **extra})
    assert out.loss.item() == pytest.approx(expected[0].item(), abs=1e-5, rel=1e-5)
    num_excluded = out.num_excluded.tolist()
    assert num_excluded == expected[1]
    assert (torch.as_tensor(num_excluded) + out.num_anchors == len(parent)).all()
    if len(expected) == 3:  # the level loss also reports each level
        assert out.level_losses.tolist() == pytest.approx([v.item() for v in expected[2]], abs=1e-5)
    out.loss.backward()
    expected[0].backward()
    torch.testing.assert_close(z_fast.grad, z_slow.grad, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(("loss", "reference", "kwargs"), CASES)
def test_packing_trees_into_tiles_does_not_change_the_loss(loss, reference, kwargs, monkeypatch):
    parent, video = random_forest([1, 9, 15, 5, 11, 3, 21], 16)
    z = torch.randn(len(parent), 8, generator=torch.Generator().manual_seed(16), dtype=torch.float64)
    results = []
    for tile_nodes in (1, 12, 10_000):  # a tile per tree, a few trees per tile, one tile
        monkeypatch.setattr(L, "_TILE_NODES", tile_nodes)
        leaf = z.clone().requires_grad_()
        out = call(loss, leaf, parent, video, kwargs)
        out.loss.backward()
        results.append((out.loss, out.per_anchor, leaf.grad))
    for other in results[1:]:
        for got, expected in zip(other, results[0]):
            torch.testing.assert_close(got, expected)


@pytest.mark.parametrize(("loss", "reference", "kwargs"), CASES)
def test_loss_is_invariant_to_permuting_the_batch(loss, reference, kwargs):
    parent, video = random_forest([9, 15, 7], 3, shuffle=False)
    z = torch.randn(len(parent), 8, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    order = torch.randperm(len(parent), generator=torch.Generator().manual_seed(4))
    position = torch.argsort(order)
    moved = parent[order]
    moved_parent = torch.where(moved >= 0, position[moved.clamp(min=0)], -1)
    before = call(loss, z, parent, video, kwargs)
    after = call(loss, z[order], moved_parent, video[order], kwargs)
    torch.testing.assert_close(after.loss, before.loss)
    torch.testing.assert_close(after.per_anchor, before.per_anchor[..., order])


@pytest.mark.parametrize(("loss", "reference", "kwargs"), CASES)
def test_loss_is_lower_for_embeddings_that_follow_the_tree(loss, reference, kwargs):
    parent, video = random_forest([31, 41, 25, 33], 5)
    if loss is L.entailment_cone_loss:
        # A child lies further out than its parent, in nearly the same direction.
        steps = torch.randn(len(parent), 16, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
        paths = naive.naive_paths(parent)
        tree_like = torch.stack([0.3 * steps[path[0]] * len(path) + 0.02 * steps[path].sum(0) for path in paths])
    else:
        tree_like = path_sum_embeddings(parent, 16, seed=5)
    shuffled = tree_like[torch.randperm(len(parent), generator=torch.Generator().manual_seed(6))]
    random = torch.randn(len(parent), 16, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    good = call(loss, tree_like, parent, video, kwargs).loss
    assert good < call(loss, shuffled, parent, video, kwargs).loss
    assert good < call(loss, random, parent, video, kwargs).loss


@pytest.mark.parametrize(("loss", "reference", "kwargs"), CASES)
def test_loss_is_finite_with_duplicate_and_zero_vectors(loss, reference, kwargs):
    parent, video = random_forest([9, 7], 8)
    z = torch.randn(len(parent), 6, generator=torch.Generator().manual_seed(8))
    z[1] = z[0]
    z[2] = z[0]
    z[3] = 0.0
    z[-1] = 0.0
    z.requires_grad_()
    out = call(loss, z, parent, video, kwargs)
    out.loss.backward()
    assert torch.isfinite(out.loss) and torch.isfinite(out.per_anchor).all()
    assert torch.isfinite(z.grad).all()
    zeros = torch.zeros(len(parent), 6, requires_grad=True)
    out = call(loss, zeros, parent, video, kwargs)
    out.loss.backward()
    assert torch.isfinite(out.loss) and torch.isfinite(zeros.grad).all()


@pytest.mark.parametrize(("loss", "reference", "kwargs"), CASES)
def test_nodes_without_positive_are_excluded_and_counted(loss, reference, kwargs):
    # Three single-node videos: nobody has a neighbour, a child or a parent.
    parent, video = torch.tensor([-1, -1, -1]), torch.tensor([0, 1, 2])
    z = torch.randn(3, 4, requires_grad=True)
    out = call(loss, z, parent, video, kwargs)
    out.loss.backward()
    assert out.loss.item() == 0.0 and torch.equal(z.grad, torch.zeros_like(z))
    assert (out.num_anchors == 0).all() and (out.num_excluded == 3).all()
    assert not out.per_anchor.any()
    # One video with a root and its two children next to a lone root: only the lone root lacks a partner.
    out = call(loss, torch.randn(4, 4), torch.tensor([-1, 0, 0, -1]), torch.tensor([0, 0, 0, 1]), kwargs)
    assert torch.isfinite(out.loss)
    expected = {L.parent_child_aggregation_loss: 3, L.entailment_cone_loss: 2}.get(loss, 1)
    root_level = kwargs.get("levels", [0]).index(0)  # the level loss counts per level; look at level 0
    assert int(out.num_excluded.view(-1)[root_level if loss is L.level_hierarchical_loss else 0]) == expected


@pytest.mark.parametrize(("loss", "reference", "kwargs"), CASES)
def test_sum_reduction_is_mean_times_anchors(loss, reference, kwargs):
    parent, video = random_forest([9, 13], 10)
    z = torch.randn(len(parent), 6, generator=torch.Generator().manual_seed(10), dtype=torch.float64)
    mean = call(loss, z, parent, video, kwargs)
    total = call(loss, z, parent, video, {**kwargs, "reduction": "sum"})
    torch.testing.assert_close(total.per_anchor, mean.per_anchor)
    if loss is L.level_hierarchical_loss:
        if not kwargs.get("hierarchy_constraint"):
            torch.testing.assert_close(total.level_losses, mean.level_losses * mean.num_anchors)
    else:
        assert total.loss.item() == pytest.approx(mean.loss.item() * int(mean.num_anchors))


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


def test_lorentz_helpers():
    v = torch.tensor([[0.6, -0.8, 0.0], [0.0, 0.0, 0.0], [30.0, 0.0, 0.0]], dtype=torch.float64)
    for curvature in (1.0, 0.25):
        x = L.exp_map0(v, curvature)
        origin = torch.zeros(3, dtype=torch.float64)
        # The exponential map at the origin preserves the distance to the origin.
        torch.testing.assert_close(L.lorentz_distance(origin, x[0], curvature), torch.tensor(1.0, dtype=x.dtype))
        torch.testing.assert_close(L.lorentz_inner(x, x, curvature), torch.full((3,), -1 / curvature, dtype=x.dtype))
        assert torch.isfinite(x).all() and x[1].abs().sum() == 0
    assert L.half_aperture(torch.zeros(3)).item() == pytest.approx(math.pi / 2, abs=2e-3)
    for curvature in (1.0, 0.3):
        # The exterior angle is pi minus the triangle's angle at x from the hyperbolic law of cosines.
        origin = torch.zeros(2, dtype=torch.float64)
        x, y = L.exp_map0(torch.tensor([[1.0, 0.0], [1.0, 1.0]], dtype=torch.float64), curvature)
        a, b, c = (math.sqrt(curvature) * L.lorentz_distance(p, q, curvature) for p, q in ((origin, x), (x, y), (origin, y)))
        interior = torch.acos((a.cosh() * b.cosh() - c.cosh()) / (a.sinh() * b.sinh()))
        assert L.exterior_angle(x, y, curvature).item() == pytest.approx(math.pi - interior.item(), abs=1e-5)
    v = torch.zeros(2, requires_grad=True)
    L.exp_map0(v).sum().backward()
    torch.testing.assert_close(v.grad, torch.ones(2))  # sinh(r) / r -> 1: no NaN at the origin


def test_entailment_is_zero_inside_the_cone():
    parent = torch.tensor([-1, 0, 0])
    z = torch.tensor([[1.0, 0.0], [2.0, 0.05], [3.0, -0.05]])
    assert L.entailment_cone_loss(z, parent).loss.item() == 0.0
    assert L.entailment_cone_loss(z[[0, 2, 1]] * torch.tensor([[1.0], [-1.0], [1.0]]), parent).loss > 0


# -- arguments ----------------------------------------------------------------


@pytest.mark.parametrize(("call_loss", "match"), [
    (lambda z, p: L.tree_supcon_loss(z, p, temperature=0.0), "temperature must be > 0, got 0.0"),
    (lambda z, p: L.tree_supcon_loss(z, p, max_distance=0), "max_distance must be a positive int"),
    (lambda z, p: L.tree_supcon_loss(z, p, reduction="none"), r"reduction must be one of \('mean', 'sum'\)"),
    (lambda z, p: L.tree_supcon_loss(z[:2], p), "parent has 3 entries but z has 2 rows"),
    (lambda z, p: L.tree_supcon_loss(z[0], p), r"z must be a 2-D floating tensor"),
    (lambda z, p: L.level_hierarchical_loss(z, p, levels=[0, 1], weights=[1.0]), "one entry per level"),
    (lambda z, p: L.level_hierarchical_loss(z, p, levels=[-1]), "levels must be"),
    (lambda z, p: L.tree_distance_infonce(z, p, beta=-1.0), "beta must be >= 0"),
    (lambda z, p: L.parent_child_aggregation_loss(z, p, aggregate="max"),
     r"aggregate must be one of \('mean', 'attention'\), got 'max'"),
    (lambda z, p: L.parent_child_aggregation_loss(z, p, aggregate="attention", query=torch.zeros(3)),
     r"query must have shape \[4\]"),
    (lambda z, p: L.entailment_cone_loss(z, p, curvature=0.0), "curvature must be > 0"),
])
def test_bad_arguments_raise(call_loss, match):
    with pytest.raises(ValueError, match=match):
        call_loss(torch.randn(3, 4), torch.tensor([-1, 0, 0]))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize(("loss", "reference", "kwargs"), CASES)
def test_runs_on_the_device_of_z(loss, reference, kwargs):
    parent, video = random_forest([9, 13], 15)
    z = torch.randn(len(parent), 6, generator=torch.Generator().manual_seed(15))
    cpu = call(loss, z, parent, video, kwargs)
    cuda = call(loss, z.cuda(), parent.cuda(), video.cuda(), kwargs)
    assert cuda.loss.device.type == "cuda"
    torch.testing.assert_close(cuda.loss.cpu(), cpu.loss, atol=1e-4, rtol=1e-4)
