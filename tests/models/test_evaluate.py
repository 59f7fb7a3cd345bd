from __future__ import annotations

import pytest

from graphkit.models.evaluate import EVALUATE_KEYS, evaluate


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
    labelled = sum(int((video["segment"].y >= 0).sum()) for video in dataset)
    assert evaluate(out, split="all", device="cpu")["num_nodes"] == labelled


def test_evaluate_rejects_unknown_split_and_missing_directory(trained, tmp_path):
    _, out = trained
    with pytest.raises(ValueError, match="split='dev'"):
        evaluate(out, split="dev")
    with pytest.raises(FileNotFoundError, match="training output directory"):
        evaluate(tmp_path)
