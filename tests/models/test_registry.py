from __future__ import annotations

import pytest
import torch

from graphkit import models
from graphkit.models.registry import MODELS, build_model
from tests.models.helpers import make_batch


def test_every_baseline_is_registered():
    assert models.MODELS is MODELS
    assert sorted(MODELS) == ["gat", "gcn", "hier", "mlp", "sage", "tree_lstm"]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_build_model_gives_the_common_interface(name):
    batch = make_batch(2, seed=4)
    model = build_model(name, batch["segment"].x.size(1), batch.num_classes, hidden=8, layers=1, dropout=0.0)
    assert isinstance(model, MODELS[name])
    assert model(batch).shape == (batch["segment"].num_nodes, batch.num_classes)
    assert model.head.out_features == batch.num_classes


@pytest.mark.parametrize("kwargs,match", [
    ({"name": "cnn"}, r"model='cnn'; expected one of \['gat'"),
    ({"hidden": 0}, "hidden=0 must be a positive int"),
    ({"num_classes": 0}, "num_classes=0 must be a positive int"),
    ({"layers": 0}, "layers=0 must be a positive int"),
    ({"dropout": 1.0}, r"dropout=1.0 must lie in \[0, 1\)"),
])
def test_build_model_rejects_bad_arguments(kwargs, match):
    args = {"name": "mlp", "in_dim": 4, "num_classes": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        build_model(**args)


def test_default_layers_are_the_models_own():
    assert len(build_model("tree_lstm", 4, 3).layers) == 1
    assert len(build_model("hier", 4, 3).layers) == 2
    assert torch.is_tensor(next(build_model("gcn", 4, 3).parameters()))
