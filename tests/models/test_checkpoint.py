from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from graphkit.errors import OutputExistsError
from graphkit.models.checkpoint import json_ready, load_model, load_weights, prepare_run_directory
from graphkit.models.config import TrainConfig
from graphkit.models.mlp import MLP


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


def test_load_model_restores_the_best_checkpoint(trained):
    _, out = trained
    model, saved, vocabulary = load_model(out, device="cpu")
    state = torch.load(out / "model.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(model.state_dict()[k], v) for k, v in state.items())
    assert vocabulary.num_classes == model.head.out_features and saved.model == "mlp"


def test_load_weights_takes_a_state_dict_or_a_checkpoint(trained, tmp_path):
    _, out = trained
    state = torch.load(out / "model.pt", weights_only=True)["state_dict"]
    torch.save(state, tmp_path / "state.pt")
    in_dim, num_classes = state["body.0.weight"].size(1), state["head.weight"].size(0)
    for path in (tmp_path / "state.pt", out / "model.pt"):
        model = MLP(in_dim, num_classes, hidden=16)
        load_weights(model, str(path))
        assert all(torch.equal(model.state_dict()[k], v) for k, v in state.items())
    with pytest.raises(ValueError, match=r"state\.pt' does not fit MLP: wrong shape: body\.0\.weight"):
        load_weights(MLP(in_dim + 1, num_classes, hidden=16), str(tmp_path / "state.pt"))


def test_json_ready_turns_nan_into_null():
    assert json.dumps(json_ready({"f1": float("nan"), 2: [1.0, (float("nan"),)]})) == \
        '{"f1": null, "2": [1.0, [null]]}'


def test_a_run_written_before_a_setting_existed_counts_as_its_default(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    older = TrainConfig(epochs=3).to_dict()
    del older["transcript_dim"]  # what a graphkit without transcript features wrote
    (out / "config.json").write_text(json.dumps(older))
    (out / "model.pt").write_bytes(b"old weights")
    assert prepare_run_directory(out, TrainConfig(epochs=3)) == out
    (out / "config.json").write_text(json.dumps(older))
    (out / "model.pt").write_bytes(b"old weights")
    with pytest.raises(OutputExistsError, match=r"transcript_dim=0, not 64"):
        prepare_run_directory(out, TrainConfig(epochs=3, transcript_dim=64))
