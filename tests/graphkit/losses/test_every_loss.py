"""What every loss of :mod:`graphkit.losses` shares, checked on every case: the reference's numbers and
gradients, invariances, exclusion of nodes without positive, reductions, argument checks, devices.
"""

from __future__ import annotations

import pytest
import torch

from graphkit import losses as L
from graphkit.losses import reference as naive
from tests.graphkit.losses.helpers import CASES, call, path_sum_embeddings, random_forest

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
