from __future__ import annotations

import json

import pytest
import torch

from graphkit.models.evaluate import evaluate
from graphkit.models.train import labelled_videos, train
from tests.models.helpers import train_config as config


def test_training_is_deterministic_with_a_fixed_seed(source, tmp_path):
    # Thread counts are timed unless given, and another count sums in another order.
    first = train(config(source, tmp_path / "a", model="hier", seed=7, threads=2))
    second = train(config(source, tmp_path / "b", model="hier", seed=7, threads=2))
    assert [r["loss"] for r in first.history] == [r["loss"] for r in second.history]
    a = torch.load(tmp_path / "a" / "model.pt", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "b" / "model.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    other = train(config(source, tmp_path / "c", model="hier", seed=8, threads=2))
    assert [r["loss"] for r in other.history] != [r["loss"] for r in first.history]


def test_early_stopping_after_patience_epochs_without_gain(source, tmp_path):
    # A vanishing learning rate leaves validation macro-F1 flat after epoch 1.
    result = train(config(source, tmp_path / "run", epochs=10, patience=2, lr=1e-12))
    assert result.best_epoch == 1 and result.epochs_run == 3


def test_labelled_videos_keeps_a_seeded_sorted_share():
    videos = torch.arange(100, 140)
    kept = labelled_videos(videos, 0.25, seed=3)
    assert kept.numel() == 10 and set(kept.tolist()) <= set(videos.tolist())
    assert torch.equal(kept, kept.sort().values)
    assert torch.equal(kept, labelled_videos(videos, 0.25, seed=3))
    assert not torch.equal(kept, labelled_videos(videos, 0.25, seed=4))
    assert labelled_videos(videos, 0.001, seed=0).numel() == 1
    # 0.07 * 100 is 7.000000000000001 in floating point; the budget is 7 videos, not 8.
    assert [labelled_videos(torch.arange(n), 0.07, seed=0).numel() for n in (100, 200, 300)] == [7, 14, 21]
    assert labelled_videos(videos, 1.0, seed=0) is videos
    with pytest.raises(ValueError, match="fraction=0"):
        labelled_videos(videos, 0, seed=0)


def test_a_label_budget_trains_on_the_kept_videos_only(trained, source, tmp_path):
    from graphkit.loaders.pyg_dataset import Action100MDataset

    full, out = trained
    budget = train(config(source, tmp_path / "budget", label_fraction=0.25, seed=1))
    dataset = Action100MDataset(str(out.parent / "dataset"), log=False)
    kept = labelled_videos(dataset.get_idx_split()["train"], 0.25, seed=1)
    assert budget.train_videos == kept.numel() < full.train_videos
    assert all(row["segments"] == sum(dataset[int(i)]["segment"].x.size(0) for i in kept) for row in budget.history)


def test_training_starts_from_init_weights(trained, source, tmp_path):
    _, out = trained
    start = torch.load(out / "model.pt", weights_only=True)["state_dict"]
    weights = tmp_path / "encoder.pt"
    torch.save(start, weights)
    # A vanishing learning rate keeps the weights where they started.
    resumed = train(config(source, tmp_path / "resumed", epochs=1, lr=1e-12, init_weights=str(weights)))
    kept = torch.load(tmp_path / "resumed" / "model.pt", weights_only=True)["state_dict"]
    assert all(torch.allclose(kept[k], start[k], atol=1e-9) for k in start)
    scored = evaluate(out)
    assert {k: resumed.test[k] for k in ("top1", "top5", "macro_f1", "num_nodes")} == {
        k: scored[k] for k in ("top1", "top5", "macro_f1", "num_nodes")}
    assert json.loads((tmp_path / "resumed" / "config.json").read_text())["init_weights"] == str(weights)


def test_init_weights_that_do_not_fit_name_the_file(trained, source, tmp_path):
    _, out = trained
    with pytest.raises(ValueError, match=r"init_weights='.*model\.pt' does not fit HierGNN: missing: .*unexpected: "
                                         r"body\.0\.weight, body\.0\.bias, body\.3\.weight \.\.\. \(4\)"):
        train(config(source, tmp_path / "bad", model="hier", init_weights=str(out / "model.pt")))
    wider = tmp_path / "wider"
    with pytest.raises(ValueError, match=r"does not fit MLP: wrong shape: body\.0\.weight"):
        train(config(source, wider, hidden=24, init_weights=str(out / "model.pt")))
    with pytest.raises(ValueError, match="is not a file"):
        config(source, tmp_path / "none", init_weights=str(tmp_path / "missing.pt"))


def test_a_cached_dataset_for_another_task_is_refused(trained, source):
    _, out = trained
    with pytest.raises(ValueError, match="was built for"):
        train(config(source, out.parent / "actor", label="actor"))
