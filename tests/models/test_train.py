from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from graphkit.loaders.synth import write_parquet
from graphkit.models.train import (
    EVALUATE_KEYS,
    TrainConfig,
    benchmark_models,
    evaluate,
    labelled_videos,
    load_model,
    resolve_device,
    train,
)
from graphkit.synth import SynthConfig


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("train") / "tiny.parquet"
    write_parquet(path, 20, seed=2, config=SynthConfig(mean_video_duration=30))
    return path


def config(source: Path, out: Path, **kwargs) -> TrainConfig:
    base = {"model": "mlp", "sources": (str(source),), "out": str(out), "epochs": 2, "hidden": 16,
            "feature_dim": 32, "batch_size": 4, "dataset_root": str(out.parent / "dataset"), "device": "cpu"}
    return TrainConfig(**{**base, **kwargs})


@pytest.fixture(scope="module")
def trained(source, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "mlp"
    return train(config(source, out)), out


def test_train_writes_checkpoint_config_vocabulary_and_result(trained):
    result, out = trained
    assert {p.name for p in out.iterdir()} >= {"model.pt", "config.json", "vocabulary.json", "result.json"}
    saved = TrainConfig.from_dict(json.loads((out / "config.json").read_text()))
    assert saved.model == "mlp" and saved.epochs == 2 and saved.sources == result_sources(out)
    assert json.loads((out / "result.json").read_text())["best_epoch"] == result.best_epoch
    assert result.epochs_run == len(result.history) == 2
    assert 1 <= result.best_epoch <= 2
    assert all(row["segments_per_s"] > 0 and row["loss"] > 0 for row in result.history)
    assert result.device == "cpu"
    assert set(result.test) == {"top1", "top5", "macro_f1", "num_nodes", "per_level"}


def result_sources(out: Path) -> tuple[str, ...]:
    return tuple(json.loads((out / "config.json").read_text())["sources"])


def test_evaluate_reproduces_the_test_metrics(trained):
    result, out = trained
    scored = evaluate(out, split="test", device="cpu")
    assert tuple(scored) == EVALUATE_KEYS
    assert scored["model"] == "mlp" and scored["label"] == "verb"
    assert scored["num_nodes"] == result.test["num_nodes"] > 0
    assert scored["top1"] == pytest.approx(result.test["top1"])
    assert scored["macro_f1"] == pytest.approx(result.test["macro_f1"])
    assert sum(level["num_nodes"] for level in scored["per_level"].values()) == scored["num_nodes"]
    assert all(isinstance(key, str) for key in scored["per_level"])


def test_evaluate_all_scores_every_labelled_segment(trained):
    _, out = trained
    from graphkit.loaders.pyg_dataset import Action100MDataset

    dataset = Action100MDataset(str(out.parent / "dataset"), log=False)
    labelled = int((dataset._data["segment"].y >= 0).sum())
    assert evaluate(out, split="all", device="cpu")["num_nodes"] == labelled


def test_load_model_restores_the_best_checkpoint(trained):
    _, out = trained
    model, saved, vocabulary = load_model(out, device="cpu")
    state = torch.load(out / "model.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(model.state_dict()[k], v) for k, v in state.items())
    assert vocabulary.num_classes == model.head.out_features and saved.model == "mlp"


def test_training_is_deterministic_with_a_fixed_seed(source, tmp_path):
    first = train(config(source, tmp_path / "a", model="hier", seed=7))
    second = train(config(source, tmp_path / "b", model="hier", seed=7))
    assert [r["loss"] for r in first.history] == [r["loss"] for r in second.history]
    a = torch.load(tmp_path / "a" / "model.pt", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "b" / "model.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    other = train(config(source, tmp_path / "c", model="hier", seed=8))
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


def test_benchmark_models_prints_a_markdown_table(source, tmp_path):
    table = benchmark_models([str(source)], ["mlp", "tree_lstm"], seeds=[0, 1], out=tmp_path, epochs=1,
                             hidden=8, feature_dim=32, batch_size=8, device="cpu")
    lines = table.splitlines()
    assert lines[0].startswith("| model | test top-1 (%)") and len(lines) == 4
    assert lines[2].startswith("| mlp | ") and lines[3].startswith("| tree_lstm | ")
    assert " ± " in lines[2]
    assert (tmp_path / "benchmark.md").read_text().strip() == table
    assert set(json.loads((tmp_path / "benchmark.json").read_text())) == {"mlp", "tree_lstm"}


@pytest.mark.parametrize("kwargs,match", [
    ({"model": "cnn"}, "model='cnn'"),
    ({"label": "noun"}, "label='noun'"),
    ({"epochs": 0}, "epochs=0 must be a positive int"),
    ({"lr": 0.0}, "lr=0.0 must be > 0"),
    ({"dropout": 1.5}, r"dropout=1.5 must lie in \[0, 1\)"),
    ({"device": "tpu"}, "device='tpu'"),
    ({"label_fraction": 0.0}, r"label_fraction=0.0 must lie in \(0, 1\]"),
    ({"label_fraction": 1.5}, r"label_fraction=1.5 must lie in \(0, 1\]"),
])
def test_train_config_rejects_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_evaluate_rejects_unknown_split_and_missing_directory(trained, tmp_path):
    _, out = trained
    with pytest.raises(ValueError, match="split='dev'"):
        evaluate(out, split="dev")
    with pytest.raises(FileNotFoundError, match="training output directory"):
        evaluate(tmp_path)


def test_auto_device_is_cuda_only_when_present():
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
