from __future__ import annotations

import pytest
import torch

from models.mlp import MLP
from tests.models.helpers import check_deterministic, check_shapes, output_change, overfit_accuracy


def build(in_dim: int, classes: int, **kwargs) -> MLP:
    return MLP(in_dim, classes, hidden=32, **kwargs)


@pytest.mark.parametrize("num_videos", [1, 4])
def test_output_shape_on_batched_graphs(num_videos):
    check_shapes(build, num_videos)


def test_overfits_a_tiny_batch(tiny_batch):
    torch.manual_seed(0)
    model = build(tiny_batch["segment"].x.size(1), tiny_batch.num_classes, dropout=0.0)
    assert overfit_accuracy(model, tiny_batch) == 1.0


def test_deterministic_with_a_fixed_seed(tiny_batch):
    check_deterministic(build, tiny_batch)


def test_a_segment_sees_only_its_own_features(tiny_batch):
    torch.manual_seed(0)
    model = build(tiny_batch["segment"].x.size(1), tiny_batch.num_classes)
    change = output_change(model, tiny_batch, node=0)
    assert change[0] > 0
    assert torch.all(change[1:] == 0)


@pytest.mark.parametrize("layers", [1, 3])
def test_layers_sets_the_hidden_depth(layers):
    model = MLP(5, 2, hidden=4, layers=layers)
    assert sum(isinstance(m, torch.nn.Linear) for m in model.modules()) == layers + 1
