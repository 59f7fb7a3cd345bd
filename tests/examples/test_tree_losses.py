"""examples/tree_losses.py: every tree loss on one batch of an on-disk dataset, as the main job runs it."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest
import torch

from graphkit.loaders.pyg_dataset import Action100MOnDiskDataset
from graphkit.loaders.synth import write_parquet
from graphkit.losses import parent_index, tree_supcon_loss
from graphkit.models.checkpoint import load_model
from graphkit.models.config import TrainConfig
from graphkit.models.train import train
from graphkit.synth import SynthConfig
from tests.paths import ROOT

EXAMPLE = ROOT / "examples" / "tree_losses.py"
LOSSES = {"tree_supcon", "level_hierarchical", "tree_distance_infonce", "parent_child_aggregation"}


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("tree_losses", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("tree_losses")
    source = root / "tiny.parquet"
    write_parquet(source, 24, seed=3, config=SynthConfig(mean_video_duration=30))
    Action100MOnDiskDataset(str(root / "pyg"), [str(source)], log=False)
    train(TrainConfig(model="hier", sources=(str(source),), out=str(root / "run"), epochs=1, hidden=16,
                      dataset_root=str(root / "pyg"), on_disk=True, device="cpu"))
    return source, root / "pyg", root / "run"


def test_every_loss_is_finite_with_anchors(example, built):
    _, dataset_root, _ = built
    report = example.batch_losses(str(dataset_root), videos=4)
    assert set(report["losses"]) == LOSSES
    assert report["videos"] == 4 and report["segments"] > 4
    for name, entry in report["losses"].items():
        assert math.isfinite(entry["loss"]) and entry["loss"] > 0, name
        anchors = entry["anchors"] if isinstance(entry["anchors"], list) else [entry["anchors"]]
        assert max(anchors) > 0, name


def test_a_run_encoder_gives_its_own_loss(example, built):
    """With --run the trained encoder embeds the batch: the loss equals one computed here from that model."""
    _, dataset_root, run = built
    report = example.batch_losses(str(dataset_root), run=str(run), videos=4)
    dataset = Action100MOnDiskDataset(str(dataset_root), log=False)
    batch = next(iter(dataset.loader(dataset.get_idx_split()["train"][:4], batch_size=4)))
    model, _, _ = load_model(run, device="cpu")
    model.eval()
    with torch.no_grad():
        z = model.encode(batch)
    parent = parent_index(batch["segment", "parent_of", "segment"].edge_index, batch["segment"].num_nodes)
    expected = tree_supcon_loss(z, parent, batch["segment"].batch, max_distance=2, temperature=0.1)
    assert report["encoder"] == str(run)
    assert report["losses"]["tree_supcon"]["loss"] == pytest.approx(float(expected.loss), rel=1e-6)


def test_cli_writes_the_report_and_refuses_a_missing_dataset(example, built, tmp_path, capsys):
    _, dataset_root, _ = built
    out = tmp_path / "losses.json"
    assert example.main([str(dataset_root), "--videos", "2", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["videos"] == 2
    capsys.readouterr()
    assert example.main([str(tmp_path / "absent")]) == 2
    assert capsys.readouterr().err.startswith("error: ")
