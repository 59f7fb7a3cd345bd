from __future__ import annotations

import shutil

import numpy as np
import pyarrow as pa
import pytest
import torch

from graphkit.loaders.trees import read_trees
from graphkit.models.evaluate import predict
from graphkit.models.predictions import PredictionBatch, SegmentPredictor, run_id
from graphkit.pyg import to_hetero_batch
from graphkit.splits import SPLIT_NAMES


@pytest.fixture(scope="module")
def predictor(trained):
    return SegmentPredictor(trained[1], device="cpu")


def test_every_segment_is_predicted_in_node_order(predictor, source):
    trees = read_trees(source, node_fields=predictor.task.node_fields)
    batches = list(predictor.iter_batches(batch_size=7))
    assert len(batches) == 3 and all(isinstance(b, PredictionBatch) for b in batches)
    assert pa.concat_arrays([b.node_id for b in batches]).to_pylist() == trees.node_id.to_pylist()
    assert sum(len(b) for b in batches) == trees.num_nodes
    videos = pa.concat_arrays([b.videos for b in batches]).to_pylist()
    assert videos == trees.video_uid.to_pylist()
    splits = pa.concat_arrays([b.split for b in batches]).to_pylist()
    expected = np.asarray(SPLIT_NAMES)[predictor.task.split(trees)[trees.video_index]].tolist()
    assert splits == expected


def test_a_prediction_is_the_argmax_and_its_confidence_the_softmax_maximum(predictor, source):
    trees = read_trees(source, node_fields=predictor.task.node_fields)
    got = predictor.predict(trees)
    arrays = predictor.task.arrays(trees, predictor.vocabulary)
    batch = to_hetero_batch(trees, {k: v for k, v in arrays.items() if k != "split"})
    with torch.no_grad():
        logits = predictor.model(batch)
    probabilities = torch.softmax(logits, dim=1)
    classes = np.asarray(predictor.vocabulary.classes)
    assert got.predicted.to_pylist() == classes[probabilities.argmax(1).numpy()].tolist()
    np.testing.assert_allclose(got.confidence, probabilities.max(1).values.numpy(), rtol=1e-6)
    assert got.confidence.dtype == np.float32 and ((got.confidence > 0) & (got.confidence <= 1)).all()
    # The labelled segments' predictions are those evaluate() scores.
    scored = predict(predictor.model, [batch], torch.device("cpu"), None)
    labelled = arrays["y"] >= 0
    assert got.predicted.to_pylist() != [] and labelled.any()
    assert (classes[scored["y_pred"].argmax(1).numpy()] == np.asarray(got.predicted.to_pylist())[labelled]).all()


def test_the_run_id_names_the_model_and_its_weights(predictor, trained, tmp_path):
    assert predictor.run_id == run_id(trained[1], "mlp") and predictor.run_id.startswith("mlp-")
    assert repr(predictor) == f"SegmentPredictor(run_id={predictor.run_id!r}, label='verb')"
    copy = tmp_path / "copy"
    shutil.copytree(trained[1], copy, ignore=shutil.ignore_patterns("dataset"))
    assert run_id(copy, "mlp") == predictor.run_id
    (copy / "model.pt").write_bytes((copy / "model.pt").read_bytes() + b"\0")
    assert run_id(copy, "mlp") != predictor.run_id


def test_sources_default_to_the_run_and_can_be_given(predictor, source, tmp_path):
    assert predictor.sources() == [str(source)]
    assert predictor.sources("x.parquet") == ["x.parquet"] and predictor.sources(["a", "b"]) == ["a", "b"]
    with pytest.raises(ValueError, match="batch_size=0 must be a positive int"):
        next(predictor.iter_batches(batch_size=0))


def test_not_a_run_directory_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="model.pt does not exist"):
        SegmentPredictor(tmp_path)
