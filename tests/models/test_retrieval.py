from __future__ import annotations

import math

import torch

from graphkit.features import FeatureConfig
from graphkit.models.retrieval import DualEncoder, predict_ranks, retrieval_metrics, retrieval_ranks
from graphkit.synth import generate_batch
from graphkit.tasks import RetrievalTask
from graphkit.tree import TreeBatch


def test_ranks_count_ties_against_the_query_and_stay_in_its_video():
    text = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    segments = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 2.0]])
    ranks = retrieval_ranks(text, segments, torch.tensor([0, 2]), torch.tensor([0, 0]), torch.tensor([0, 0, 0, 1]))
    assert ranks.tolist() == [2, 1]


def test_a_perfect_model_ranks_first_and_metrics_per_level():
    metrics = retrieval_metrics(torch.tensor([1, 1, 7]), torch.tensor([0, 2, 2]))
    assert metrics["recall@1"] == 2 / 3 and metrics["recall@10"] == 1.0 and metrics["mean_rank"] == 3.0
    assert metrics["per_level"][2] == {"recall@1": 0.5, "recall@5": 0.5, "recall@10": 1.0, "mean_rank": 4.0,
                                       "num_queries": 2}
    assert math.isnan(retrieval_metrics(torch.zeros(0, dtype=torch.long), torch.zeros(0))["recall@1"])


def test_the_dual_encoder_ranks_every_query_of_a_batch():
    trees = TreeBatch.from_arrow(generate_batch(2, seed=1))
    task = RetrievalTask(features=FeatureConfig(dim=16))
    batch = task.batch(trees, task.fit_vocabulary([trees]))
    torch.manual_seed(0)
    model = DualEncoder("hier", batch["segment"].x.size(1), 16, dim=8, hidden=8)
    text, segments = model(batch)
    assert text.shape == segments.shape == (trees.num_nodes, 8)
    scored = predict_ranks(model, [batch], torch.device("cpu"), None)
    nodes = torch.bincount(batch["segment"].batch)
    assert scored["rank"].numel() == int(batch["segment"].is_query.sum())
    assert (scored["rank"] >= 1).all() and (scored["rank"] <= nodes.max()).all()
