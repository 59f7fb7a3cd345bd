"""examples/contrastive_pretrain.py runs end to end and reports what it did."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest
import torch

from graphkit.loaders.synth import write_parquet
from graphkit.synth import SynthConfig
from tests.paths import ROOT

EXAMPLE = ROOT / "examples" / "contrastive_pretrain.py"


def load_example():
    spec = importlib.util.spec_from_file_location("contrastive_pretrain", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example():
    return load_example()


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pretrain") / "tiny.parquet"
    write_parquet(path, 24, seed=4, config=SynthConfig(mean_video_duration=30))
    return path


TINY = ["--hidden", "16", "--projection", "8", "--pretrain-epochs", "4", "--epochs", "2", "--probe-steps", "30",
        "--batch-size", "6", "--device", "cpu"]


@pytest.mark.parametrize("loss", ["tree_supcon", "level_hierarchical", "tree_distance_infonce"])
def test_every_tree_loss_pretrains_and_is_probed(example, source, tmp_path, loss):
    out = tmp_path / loss
    result = example.main(["--source", str(source), "--out", str(out), "--loss", loss, "--seeds", "0", "1", *TINY])
    assert [run["seed"] for run in result["runs"]] == [0, 1]
    for run in result["runs"]:
        losses = [row["loss"] for row in run["pretrain_history"]]
        assert len(losses) == 4 and all(math.isfinite(v) for v in losses)
        assert losses[-1] < losses[0], losses
        for method in example.METHODS:
            metrics = run[method]
            assert metrics["num_nodes"] > 0
            assert 0.0 <= metrics["top1"] <= metrics["top5"] <= 1.0
    saved = json.loads((out / "results.json").read_text())
    assert saved["table"] == (out / "results.md").read_text().strip() == result["table"]
    assert [line.split(" | ")[0] for line in result["table"].splitlines()[2:]] == [
        f"| {method}" for method in example.METHODS]


def test_the_probes_and_the_supervised_runs_share_one_label_budget(example, source, tmp_path):
    from graphkit.loaders.pyg_dataset import Action100MDataset

    result = example.main(["--source", str(source), "--out", str(tmp_path), "--seeds", "3",
                           "--label-fraction", "0.25", *TINY])
    run = result["runs"][0]
    dataset = Action100MDataset(str(tmp_path / "dataset"), log=False)
    train_index = dataset.get_idx_split()["train"].tolist()
    assert run["labelled_train_videos"] == len(run["labelled_train_index"]) < len(train_index)
    assert set(run["labelled_train_index"]) <= set(train_index)
    segments = sum(dataset[i]["segment"].x.size(0) for i in run["labelled_train_index"])
    for name in ("scratch", "finetuned"):
        trained = json.loads((tmp_path / name / "seed3" / "result.json").read_text())
        assert trained["train_videos"] == run["labelled_train_videos"]
        assert all(row["segments"] == segments for row in trained["history"])


def test_an_out_directory_refuses_data_made_from_other_settings(example, tmp_path):
    tiny = ["--out", str(tmp_path), "--videos", "24", "--mean-duration", "30", "--seeds", "0", *TINY]
    example.main(tiny)
    with pytest.raises(SystemExit, match="holds data made from"):
        example.main([*tiny, "--videos", "25"])
    with pytest.raises(SystemExit, match="holds data made from"):
        example.main([*tiny, "--mean-duration", "40"])
    (tmp_path / "data.json").unlink()
    with pytest.raises(SystemExit, match="without a data.json"):
        example.main(tiny)


def test_too_few_videos_for_three_splits_is_one_clear_error(example, tmp_path):
    with pytest.raises(SystemExit, match="no .*video among the 2 videos"):
        example.main(["--out", str(tmp_path), "--videos", "2", "--mean-duration", "30", "--seeds", "0", *TINY])


def test_cross_video_positives_join_similar_captions_of_other_videos(example, source, tmp_path, monkeypatch):
    seen = []
    original = example.losses.cross_video_positives

    def spying_positives(embedding, video, **kwargs):
        pairs = original(embedding, video, **kwargs)
        seen.append((embedding, video, pairs))
        return pairs

    monkeypatch.setattr(example.losses, "cross_video_positives", spying_positives)
    cross = ["--cross-video-positives", "--positive-field", "plm_action", "--text-encoder", "minilm",
             "--threshold", "0.8", "--k", "3"]
    result = example.main(["--source", str(source), "--out", str(tmp_path / "cross"), "--seeds", "0", *cross, *TINY])
    plain = example.main(["--source", str(source), "--out", str(tmp_path / "plain"), "--seeds", "0", *TINY])
    assert seen and all(embedding.size(1) == 384 for embedding, _, _ in seen)  # MiniLM's width
    embedding, video, pairs = next(item for item in seen if item[2].size(1))
    assert bool((video[pairs[0]] != video[pairs[1]]).all())
    similarity = torch.nn.functional.cosine_similarity(embedding[pairs[0]], embedding[pairs[1]])
    assert bool((similarity >= 0.8 - 1e-6).all())
    history, plain_history = result["runs"][0]["pretrain_history"], plain["runs"][0]["pretrain_history"]
    assert all(row["cross_video_pairs_per_segment"] > 0 for row in history)
    assert all(0.0 <= row["cross_video_pairs_same_verb"] <= 1.0 for row in history)
    assert "cross_video_pairs_per_segment" not in plain_history[0]
    assert [row["loss"] for row in history] != [row["loss"] for row in plain_history]
    assert result["settings"]["cross_video_positives"] and not plain["settings"]["cross_video_positives"]


@pytest.mark.parametrize("bad", [["--label-fraction", "0"], ["--label-fraction", "1.5"],
                                 ["--mean-duration", "-3"], ["--videos", "0"],
                                 ["--cross-video-positives", "--loss", "level_hierarchical"],
                                 ["--cross-video-positives", "--positive-field", "gpt.action.brief"],
                                 ["--cross-video-positives", "--positive-field", "title"],
                                 ["--cross-video-positives", "--k", "0"],
                                 ["--cross-video-positives", "--threshold", "2"]])
def test_bad_arguments_stop_before_any_work(example, tmp_path, bad):
    with pytest.raises(SystemExit):
        example.parse_args(["--out", str(tmp_path), *bad])


def test_the_random_control_probes_the_weights_pretraining_starts_from(example, source, tmp_path, monkeypatch):
    seen = []
    original = example.embed

    def spying_embed(features, *args, **kwargs):
        encoder = getattr(features, "__self__", None)
        if encoder is not None:
            seen.append({name: value.clone() for name, value in encoder.state_dict().items()})
        return original(features, *args, **kwargs)

    monkeypatch.setattr(example, "embed", spying_embed)
    example.main(["--source", str(source), "--out", str(tmp_path), "--seeds", "0", *TINY])
    # embed runs 3 times (train/valid/test) per encoder probe: random first, then pretrained.
    assert len(seen) == 6
    from graphkit.models import build_model

    torch.manual_seed(0)
    fresh = build_model("hier", seen[0]["encoder.weight"].size(1), seen[0]["head.weight"].size(0), hidden=16)
    assert all(torch.equal(fresh.state_dict()[k], seen[0][k]) for k in seen[0])
    assert not torch.equal(seen[0]["encoder.weight"], seen[3]["encoder.weight"])
    assert torch.equal(seen[0]["head.weight"], seen[3]["head.weight"])  # pretraining leaves the head alone
    # Fine-tuning starts from exactly the pretrained weights.
    saved = torch.load(tmp_path / "pretrained" / "seed0.pt", weights_only=True)
    assert all(torch.equal(saved[k], seen[3][k]) for k in saved)
    config = json.loads((tmp_path / "finetuned" / "seed0" / "config.json").read_text())
    assert config["init_weights"] == str(tmp_path / "pretrained" / "seed0.pt")
    assert json.loads((tmp_path / "scratch" / "seed0" / "config.json").read_text())["init_weights"] is None


def test_an_unknown_loss_is_refused(example):
    with pytest.raises(SystemExit):
        example.parse_args(["--loss", "triplet"])
