from __future__ import annotations

import copy

import pytest
import torch

from graphkit.models.hier import HierGNN, RelationalLayer
from graphkit.models.inputs import SEGMENT_RELATIONS
from tests.models.helpers import children_of, output_change, video_of
from tests.models.model_checks import *  # noqa: F401,F403  (shapes, overfitting, determinism)


def make(in_dim: int, classes: int, **kwargs) -> HierGNN:
    return HierGNN(in_dim, classes, hidden=32, **kwargs)


@pytest.fixture
def build():
    return make


def test_one_weight_per_relation_and_direction():
    layer = RelationalLayer(8)
    assert tuple(layer.relation_weights) == SEGMENT_RELATIONS
    weights = [w.weight for w in layer.relation_weights.values()]
    assert len({id(w) for w in weights}) == 6


def test_messages_reach_children_but_not_other_videos(tiny_batch):
    torch.manual_seed(0)
    model = make(tiny_batch["segment"].x.size(1), tiny_batch.num_classes)
    change = output_change(model, tiny_batch, node=0)
    assert all(change[child] > 0 for child in children_of(tiny_batch, 0))
    assert torch.all(change[~video_of(tiny_batch, 0)] == 0)


@pytest.mark.parametrize("relation", ["parent_of", "next", "next_leaf"])
def test_edge_direction_matters(tiny_batch, relation):
    # Unlike the homogeneous baselines, a parent's message is not a child's.
    torch.manual_seed(0)
    model = make(tiny_batch["segment"].x.size(1), tiny_batch.num_classes).eval()
    swapped = copy.deepcopy(tiny_batch)
    forward, reverse = ("segment", relation, "segment"), ("segment", "rev_" + relation, "segment")
    swapped[forward].edge_index, swapped[reverse].edge_index = (
        tiny_batch[reverse].edge_index, tiny_batch[forward].edge_index)
    with torch.no_grad():
        assert not torch.allclose(model(swapped), model(tiny_batch))


@pytest.mark.parametrize("column", ["level", "height", "child_order"])
def test_the_tree_position_is_encoded(tiny_batch, column):
    torch.manual_seed(0)
    model = make(tiny_batch["segment"].x.size(1), tiny_batch.num_classes).eval()
    moved = copy.deepcopy(tiny_batch)
    moved["segment"][column] = torch.where(moved["segment"][column] == 0, 1, 0)
    with torch.no_grad():
        assert not torch.allclose(model(moved), model(tiny_batch))


def test_a_node_without_edges_keeps_its_own_state():
    layer = RelationalLayer(4, dropout=0.0)
    h = torch.randn(3, 4)
    out = layer(h, {"parent_of": torch.tensor([[0], [1]])})
    expected = layer.norm(h[2] + layer.self_weight(h[2]).relu())
    torch.testing.assert_close(out[2], expected)


def test_the_depth_encoding_starts_small_next_to_the_projected_features():
    # Regression: at nn.Embedding's N(0, 1) the summed level/height/order rows
    # swamped the caption features and cost 4 points of macro-F1.
    from tests.models.helpers import make_batch

    torch.manual_seed(0)
    batch = make_batch(4, dim=256)
    model = make(batch["segment"].x.size(1), 5)
    with torch.no_grad():
        features = model.encoder(batch["segment"].x)
        depth = model.depth(batch)
    assert depth.std() < 0.25 * features.std()
    assert depth.abs().sum() > 0  # still a learned, non-zero encoding
