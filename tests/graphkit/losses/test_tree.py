"""Tree utilities of :mod:`graphkit.losses.tree` against walking up the parents."""

from __future__ import annotations

import pytest
import torch

from graphkit import losses as L
from graphkit.losses import reference as naive
from graphkit.pyg import to_hetero_batch
from graphkit.testing import example_rows
from graphkit.tree import TreeBatch
from tests.graphkit.losses.helpers import random_forest

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
