"""A loaded real sample with a trained run's predictions on it, for the label and cookbook-plan tests.

:func:`sample_source` is the real sample (``../shared/data/``) when present,
else synthetic videos in its schema; :func:`train_run` trains a tiny verb
model on it (CPU, seeded) into a directory.
"""

from __future__ import annotations

from pathlib import Path

from graphkit.loaders.synth import write_parquet
from graphkit.models.config import TrainConfig
from graphkit.models.train import train
from tests.paths import SAMPLE

__all__ = ["sample_source", "train_run"]


def sample_source(directory: Path) -> Path:
    """The real sample, or (where it is absent) 12 synthetic videos written into ``directory``."""
    if SAMPLE.is_file():
        return SAMPLE
    path = directory / "synthetic.parquet"
    write_parquet(path, 12, seed=9)
    return path


def train_run(source: Path, out: Path) -> Path:
    """A 2-epoch MLP verb run on ``source`` in ``out`` (its dataset beside it)."""
    train(TrainConfig(model="mlp", sources=(str(source),), out=str(out), epochs=2, hidden=16, feature_dim=32,
                      batch_size=4, dataset_root=str(out.parent / "dataset"), device="cpu", threads=1))
    return out
