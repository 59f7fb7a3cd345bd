from __future__ import annotations

import json

import pytest
import torch

from graphkit.models.config import TrainConfig, resolve_device


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


def test_auto_device_is_cuda_only_when_present():
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_train_config_round_trips_through_json():
    config = TrainConfig(model="gat", sources=("a.parquet", "b.parquet"), label="actor", layers=3, top_k=7,
                         device="cpu")
    data = json.loads(json.dumps(config.to_dict()))
    assert data["sources"] == ["a.parquet", "b.parquet"]
    assert TrainConfig.from_dict(data) == config
    assert TrainConfig.from_dict({**data, "written_by": "an older version"}) == config
    task = config.task()
    assert (task.label, task.top_k, task.features.dim) == ("actor", 7, 256)


def test_the_task_is_checked_and_builds_the_named_task():
    from graphkit.tasks import ParentTask

    config = TrainConfig(task_name="parent", label="actor", top_k=3)
    task = config.task()
    assert isinstance(task, ParentTask) and task.label == "actor" and task.top_k == 3
    assert TrainConfig.from_dict(config.to_dict()).task_name == "parent"
    assert TrainConfig.from_dict({"model": "mlp"}).task_name == "segment"  # runs saved before tasks
    with pytest.raises(ValueError, match=r"task_name='captioning'; expected one of \['anticipation'"):
        TrainConfig(task_name="captioning")
    with pytest.raises(ValueError, match="trains in memory"):
        TrainConfig(task_name="anticipation", on_disk=True)


@pytest.mark.parametrize("task_name", ["anticipation", "parent", "retrieval"])
def test_tasks_other_than_segment_refuse_a_sentence_encoder(task_name):
    with pytest.raises(ValueError, match="hashed caption features"):
        TrainConfig(model="hier", sources=("a.parquet",), out="runs/x", task_name=task_name, text_encoder="minilm")
