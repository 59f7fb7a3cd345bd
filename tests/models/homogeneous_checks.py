"""Behaviour every homogeneous baseline (GCN, GraphSAGE, GAT) must show,
on top of :mod:`tests.models.model_checks`.

Each model's test module defines a ``build(in_dim, classes, **kwargs)``
fixture and imports these tests, so pytest runs them once per model.
"""

from __future__ import annotations

import torch

from tests.models import model_checks
from tests.models.helpers import children_of, output_change, video_of
from tests.models.model_checks import *  # noqa: F401,F403  (shapes, overfitting, determinism)

__all__ = [
    *model_checks.__all__,
    "test_messages_reach_children_but_not_other_videos",
    "test_edge_direction_is_ignored",
]


def test_messages_reach_children_but_not_other_videos(build, tiny_batch):
    torch.manual_seed(0)
    model = build(tiny_batch["segment"].x.size(1), tiny_batch.num_classes)
    change = output_change(model, tiny_batch, node=0)  # the root of video 0
    assert all(change[child] > 0 for child in children_of(tiny_batch, 0))
    assert torch.all(change[~video_of(tiny_batch, 0)] == 0)


def test_edge_direction_is_ignored(build, tiny_batch):
    # One undirected graph: swapping every relation with its reverse changes nothing.
    import copy

    torch.manual_seed(0)
    model = build(tiny_batch["segment"].x.size(1), tiny_batch.num_classes).eval()
    swapped = copy.deepcopy(tiny_batch)
    for relation in ("parent_of", "next", "next_leaf"):
        forward, reverse = ("segment", relation, "segment"), ("segment", "rev_" + relation, "segment")
        swapped[forward].edge_index, swapped[reverse].edge_index = (
            tiny_batch[reverse].edge_index, tiny_batch[forward].edge_index)
    with torch.no_grad():
        assert torch.equal(model(swapped), model(tiny_batch))
