from __future__ import annotations

import pytest
import torch

from graphkit.models.mlp import MLP
from tests.models.helpers import output_change
from tests.models.model_checks import *  # noqa: F401,F403  (shapes, overfitting, determinism)


def make(in_dim: int, classes: int, **kwargs) -> MLP:
    return MLP(in_dim, classes, hidden=32, **kwargs)


@pytest.fixture
def build():
    return make


def test_a_segment_sees_only_its_own_features(tiny_batch):
    torch.manual_seed(0)
    model = make(tiny_batch["segment"].x.size(1), tiny_batch.num_classes)
    change = output_change(model, tiny_batch, node=0)
    assert change[0] > 0
    assert torch.all(change[1:] == 0)


@pytest.mark.parametrize("layers", [1, 3])
def test_layers_sets_the_hidden_depth(layers):
    model = MLP(5, 2, hidden=4, layers=layers)
    assert sum(isinstance(m, torch.nn.Linear) for m in model.modules()) == layers + 1
