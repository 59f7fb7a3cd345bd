"""Fixtures of the model tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.models.helpers import make_batch, train_config


@pytest.fixture(scope="session")
def tiny_batch():
    """3 synthetic videos (about 60 segments, some labelled)."""
    return make_batch()


@pytest.fixture(scope="session")
def source(tmp_path_factory) -> Path:
    """A parquet file of 20 short synthetic videos."""
    from graphkit.loaders.synth import write_parquet
    from graphkit.synth import SynthConfig

    path = tmp_path_factory.mktemp("train") / "tiny.parquet"
    write_parquet(path, 20, seed=2, config=SynthConfig(mean_video_duration=30))
    return path


@pytest.fixture(scope="session")
def trained(source, tmp_path_factory):
    """``(TrainResult, out)`` of a 2-epoch MLP run on :func:`source` (read it, do not write to it)."""
    from graphkit.models.train import train

    out = tmp_path_factory.mktemp("runs") / "mlp"
    return train(train_config(source, out)), out
