"""Behaviour every baseline model must show: shapes, embeddings, overfitting, determinism.

Each model's test module defines a ``build(in_dim, classes, **kwargs)``
fixture and imports these tests, so pytest runs them once per model.
"""

from __future__ import annotations

import pytest
import torch

from tests.models.helpers import check_deterministic, check_shapes, overfit_accuracy

__all__ = [
    "test_output_shape_on_batched_graphs",
    "test_overfits_a_tiny_batch",
    "test_deterministic_with_a_fixed_seed",
    "test_encode_is_the_input_of_the_head",
]


@pytest.mark.parametrize("num_videos", [1, 4])
def test_output_shape_on_batched_graphs(build, num_videos):
    check_shapes(build, num_videos)


def test_overfits_a_tiny_batch(build, tiny_batch):
    torch.manual_seed(0)
    model = build(tiny_batch["segment"].x.size(1), tiny_batch.num_classes, dropout=0.0)
    assert overfit_accuracy(model, tiny_batch) == 1.0


def test_deterministic_with_a_fixed_seed(build, tiny_batch):
    check_deterministic(build, tiny_batch)


def test_encode_is_the_input_of_the_head(build, tiny_batch):
    torch.manual_seed(0)
    model = build(tiny_batch["segment"].x.size(1), tiny_batch.num_classes).eval()
    with torch.no_grad():
        embedding = model.encode(tiny_batch)
        logits = model(tiny_batch)
    assert embedding.shape == (tiny_batch["segment"].num_nodes, model.head.in_features)
    assert torch.equal(model.head(embedding), logits)
