"""Helpers of the model tests: tiny synthetic batches, overfitting, seeded runs."""

from __future__ import annotations

from pathlib import Path

import torch

from graphkit.features import FeatureConfig
from graphkit.models.config import TrainConfig
from graphkit.pyg import to_hetero_batch
from graphkit.synth import SynthConfig, generate_batch
from graphkit.tasks import NodeTask
from graphkit.tree import TreeBatch


def make_batch(num_videos: int = 3, seed: int = 5, duration: float = 25.0, dim: int = 16):
    """A heterogeneous batch of small synthetic videos with features and labels over all nodes."""
    trees = TreeBatch.from_arrow(generate_batch(num_videos, seed=seed,
                                                config=SynthConfig(mean_video_duration=duration)))
    task = NodeTask(features=FeatureConfig(dim=dim), top_k=None, fractions=(1.0, 0.0, 0.0))
    vocabulary = task.fit_vocabulary([trees])
    arrays = task.arrays(trees, vocabulary)
    batch = to_hetero_batch(trees, {k: v for k, v in arrays.items() if k != "split"})
    batch.num_classes = vocabulary.num_classes
    return batch


def overfit_accuracy(model: torch.nn.Module, batch, steps: int = 300, lr: float = 0.01) -> float:
    """Train on the batch's labelled nodes until they are all right; the final accuracy."""
    y = batch["segment"].y
    mask = y >= 0
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    accuracy = 0.0
    for _ in range(steps):
        model.train()
        optimizer.zero_grad()
        logits = model(batch)
        loss = torch.nn.functional.cross_entropy(logits[mask], y[mask])
        loss.backward()
        optimizer.step()
        model.eval()
        with torch.no_grad():
            accuracy = (model(batch)[mask].argmax(1) == y[mask]).float().mean().item()
        if accuracy == 1.0:
            break
    return accuracy


def seeded_logits_and_loss(build, batch, seed: int = 0, steps: int = 3) -> tuple[torch.Tensor, float]:
    """Logits and loss after a few seeded training steps (dropout on)."""
    torch.manual_seed(seed)
    model = build()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    y = batch["segment"].y
    mask = y >= 0
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(batch)[mask], y[mask])
        loss.backward()
        optimizer.step()
    return model(batch).detach(), loss.item()


def output_change(model: torch.nn.Module, batch, node: int) -> torch.Tensor:
    """``[N]`` largest change of each node's logits when ``node``'s features change."""
    import copy

    model.eval()
    changed = copy.deepcopy(batch)
    changed["segment"].x = changed["segment"].x.clone()
    changed["segment"].x[node] += 1.0
    with torch.no_grad():
        return (model(changed) - model(batch)).abs().amax(dim=1)


def video_of(batch, video: int) -> torch.Tensor:
    """``[N]`` bool mask of one video's segments."""
    return batch["segment"].batch == video


def children_of(batch, node: int) -> list[int]:
    parent, child = batch["segment", "parent_of", "segment"].edge_index
    return child[parent == node].tolist()


def check_shapes(build, num_videos: int) -> None:
    """The model gives one row of ``num_classes`` logits per segment of a batch."""
    batch = make_batch(num_videos, seed=11 + num_videos)
    model = build(batch["segment"].x.size(1), batch.num_classes)
    logits = model(batch)
    assert logits.shape == (batch["segment"].num_nodes, batch.num_classes)
    assert logits.dtype == torch.float32
    assert torch.isfinite(logits).all()


def check_deterministic(build, batch) -> None:
    """Two seeded runs agree bit for bit; another seed differs."""
    in_dim, classes = batch["segment"].x.size(1), batch.num_classes
    first = seeded_logits_and_loss(lambda: build(in_dim, classes), batch, seed=3)
    second = seeded_logits_and_loss(lambda: build(in_dim, classes), batch, seed=3)
    other = seeded_logits_and_loss(lambda: build(in_dim, classes), batch, seed=4)
    assert torch.equal(first[0], second[0]) and first[1] == second[1]
    assert not torch.equal(first[0], other[0])


def train_config(source: Path, out: Path, **kwargs) -> TrainConfig:
    """A tiny CPU :class:`~graphkit.models.config.TrainConfig` on ``source``, its dataset next to ``out``."""
    base = {"model": "mlp", "sources": (str(source),), "out": str(out), "epochs": 2, "hidden": 16,
            "feature_dim": 32, "batch_size": 4, "dataset_root": str(out.parent / "dataset"), "device": "cpu"}
    return TrainConfig(**{**base, **kwargs})
