from __future__ import annotations

import copy

import pytest
import torch

from graphkit.models.tree_lstm import BinaryTreeLSTMLayer, TreeLSTM, tree_layout
from tests.models.helpers import children_of, make_batch, output_change, video_of
from tests.models.model_checks import *  # noqa: F401,F403  (shapes, overfitting, determinism)


def make(in_dim: int, classes: int, **kwargs) -> TreeLSTM:
    return TreeLSTM(in_dim, classes, hidden=16, **kwargs)


@pytest.fixture
def build():
    return make


def test_messages_flow_down_and_up_but_not_across_videos(tiny_batch):
    torch.manual_seed(0)
    model = make(tiny_batch["segment"].x.size(1), tiny_batch.num_classes)
    change = output_change(model, tiny_batch, node=0)  # a root reaches every node top-down
    assert torch.all(change[video_of(tiny_batch, 0)] > 0)
    assert torch.all(change[~video_of(tiny_batch, 0)] == 0)
    leaf = int(torch.nonzero(tiny_batch["segment"].is_leaf & video_of(tiny_batch, 0))[0])
    assert output_change(model, tiny_batch, node=leaf)[0] > 0  # and a leaf reaches the root bottom-up


# --------------------------------------------------------------------------- #
# The vectorized passes against a plain recursive Tree-LSTM
# --------------------------------------------------------------------------- #


def recursive_reference(layer: BinaryTreeLSTMLayer, x: torch.Tensor, batch) -> torch.Tensor:
    """The layer's equations evaluated node by node, recursing over each tree."""
    hidden = layer.hidden
    parent, child = batch["segment", "parent_of", "segment"].edge_index.tolist()
    order = batch["segment"].child_order.tolist()
    kids: dict[int, list] = {}
    for p, c in zip(parent, child):
        kids.setdefault(p, [None, None])[order[c]] = c
    roots = [n for n in range(x.size(0)) if order[n] == -1]
    zero = x.new_zeros(hidden)
    up_h: dict[int, torch.Tensor] = {}
    out = x.new_zeros(x.size(0), 2 * hidden)

    def up(node):
        if node is None:
            return zero, zero
        left, right = kids.get(node, [None, None])
        (h_l, c_l), (h_r, c_r) = up(left), up(right)
        wi, wo, wu, wf = (layer.up_input.weight @ x[node] + layer.up_input.bias).split(hidden)
        ui, uo, uu, uf_l, uf_r = (layer.up_children.weight @ torch.cat([h_l, h_r])).split(hidden)
        c = (torch.sigmoid(wi + ui) * torch.tanh(wu + uu) + torch.sigmoid(wf + uf_l) * c_l
             + torch.sigmoid(wf + uf_r) * c_r)
        h = torch.sigmoid(wo + uo) * torch.tanh(c)
        up_h[node] = h
        return h, c

    def down(node, h_p, c_p, side):
        if node is None:
            return
        gates = layer.down_input.weight @ torch.cat([x[node], up_h[node]]) + layer.down_input.bias
        if side is not None:
            gates = gates + layer.down_parent.weight[side * 4 * hidden:(side + 1) * 4 * hidden] @ h_p
        gi, go, gu, gf = gates.split(hidden)
        c = torch.sigmoid(gi) * torch.tanh(gu) + torch.sigmoid(gf) * c_p
        h = torch.sigmoid(go) * torch.tanh(c)
        out[node] = torch.cat([up_h[node], h])
        left, right = kids.get(node, [None, None])
        down(left, h, c, 0)
        down(right, h, c, 1)

    for root in roots:
        up(root)
        down(root, zero, zero, None)
    return out


@pytest.mark.parametrize("num_videos,seed", [(1, 2), (3, 7)])
def test_matches_a_recursive_reference(num_videos, seed):
    batch = make_batch(num_videos, seed=seed, duration=20.0)
    torch.manual_seed(seed)
    layer = BinaryTreeLSTMLayer(6, 5)
    x = torch.randn(batch["segment"].num_nodes, 6)
    with torch.no_grad():
        fast = layer(x, tree_layout(batch))
        slow = recursive_reference(layer, x, batch)
    torch.testing.assert_close(fast, slow, atol=1e-5, rtol=1e-5)


def test_the_whole_model_matches_the_reference(tiny_batch):
    torch.manual_seed(1)
    model = TreeLSTM(tiny_batch["segment"].x.size(1), tiny_batch.num_classes, hidden=8, dropout=0.0).eval()
    with torch.no_grad():
        encoded = model.encoder(tiny_batch["segment"].x).relu()
        expected = model.head(recursive_reference(model.layers[0], encoded, tiny_batch))
        torch.testing.assert_close(model(tiny_batch), expected, atol=1e-5, rtol=1e-5)


def test_left_and_right_children_are_distinct(tiny_batch):
    torch.manual_seed(0)
    model = make(tiny_batch["segment"].x.size(1), tiny_batch.num_classes).eval()
    swapped = copy.deepcopy(tiny_batch)
    order = swapped["segment"].child_order
    swapped["segment"].child_order = torch.where(order >= 0, 1 - order, order)
    with torch.no_grad():
        assert not torch.allclose(model(swapped), model(tiny_batch))


def test_layout_groups_levels_and_links_neighbouring_levels(tiny_batch):
    layout = tree_layout(tiny_batch)
    level = tiny_batch["segment"].level
    assert layout.num_levels == int(level.max()) + 1
    for depth in range(layout.num_levels):
        assert torch.all(level[layout.level(depth)] == depth)
    children = children_of(tiny_batch, 0)
    below = layout.level(1)
    assert below[torch.stack([layout.left[0], layout.right[0]])].tolist() == children  # earlier first
    assert torch.all(layout.parent[children] == 0) and layout.parent[0] == -1


def test_more_than_two_children_is_refused(tiny_batch):
    broken = copy.deepcopy(tiny_batch)
    broken["segment"].child_order = torch.where(broken["segment"].child_order == 1, 2,
                                                broken["segment"].child_order)
    with pytest.raises(ValueError, match="at most two children"):
        tree_layout(broken)


def test_a_child_must_sit_one_level_below_its_parent(tiny_batch):
    broken = copy.deepcopy(tiny_batch)
    broken["segment"].level = broken["segment"].level * 2
    with pytest.raises(ValueError, match="one level below"):
        tree_layout(broken)


@pytest.mark.parametrize("layers", [1, 2])
def test_layers_stack(tiny_batch, layers):
    model = make(tiny_batch["segment"].x.size(1), tiny_batch.num_classes, layers=layers)
    assert len(model.layers) == layers
    assert model(tiny_batch).shape == (tiny_batch["segment"].num_nodes, tiny_batch.num_classes)
