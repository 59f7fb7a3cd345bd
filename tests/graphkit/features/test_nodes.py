from __future__ import annotations

import numpy as np
import pytest

from graphkit.features import (
    DEFAULT_TEXT_FIELDS,
    TEMPORAL_COLUMNS,
    FeatureConfig,
    HashingEncoder,
    check_no_label_leakage,
    hashed_bag_of_words,
    node_features,
    temporal_features,
)
from graphkit.schema import GPT_PROPERTIES, TEXT_PROPERTIES


@pytest.mark.parametrize(
    "field", [*GPT_PROPERTIES, "gpt", "gpt.action.brief", "gpt.summary.detailed"]
)
def test_feature_config_refuses_gpt_fields(field: str) -> None:
    with pytest.raises(ValueError, match=f"feature field '{field}' comes from the gpt .*leakage"):
        FeatureConfig(text_fields=("plm_caption", field))
    with pytest.raises(ValueError, match="leakage"):
        check_no_label_leakage([field])


def test_feature_config_defaults_and_checks() -> None:
    config = FeatureConfig()
    assert config.text_fields == DEFAULT_TEXT_FIELDS
    assert set(DEFAULT_TEXT_FIELDS) == set(TEXT_PROPERTIES)
    assert config.num_features == 256 + 5
    assert FeatureConfig(text_fields=["plm_action"], dim=8, temporal=False).num_features == 8
    assert FeatureConfig(text_fields=(), temporal=True).num_features == 5
    with pytest.raises(ValueError, match=r"unknown text fields \['title'\]"):
        FeatureConfig(text_fields=("title",))
    with pytest.raises(ValueError, match="selects nothing"):
        FeatureConfig(text_fields=(), temporal=False)
    with pytest.raises(ValueError, match="dim must be a positive integer"):
        FeatureConfig(dim=-3)
    with pytest.raises(TypeError, match="not the string 'plm_caption'"):
        FeatureConfig(text_fields="plm_caption")


COLUMNS = {
    "plm_caption": ["A man slices bread", "A woman pours milk", None],
    "llama3_caption": [None, "Milk is poured into a glass", "Eggs"],
    "plm_action": ["slicing bread", None, "cracking eggs"],
    "level": np.array([0, 1, 1], np.int16),
    "start": [0.0, 0.0, 3.0],
    "end": [6.0, 3.0, 6.0],
    "video_start": [0.0] * 3,
    "video_end": [6.0] * 3,
    "height": [1, 0, 0],
    "action_brief": ["must", "not be", "read"],
}


def test_node_features_concatenate_text_and_temporal_blocks() -> None:
    config = FeatureConfig(dim=16, seed=1)
    x = node_features(COLUMNS, config)
    assert x.shape == (3, config.num_features) and x.dtype == np.float32
    text = hashed_bag_of_words([COLUMNS[f] for f in DEFAULT_TEXT_FIELDS], 16, seed=1)
    np.testing.assert_array_equal(x[:, :16], text)
    temporal = temporal_features(*(COLUMNS[c] for c in TEMPORAL_COLUMNS))
    np.testing.assert_array_equal(x[:, 16:], temporal)


def test_node_features_with_an_encoder_embeds_the_joined_fields() -> None:
    x = node_features(COLUMNS, FeatureConfig(temporal=False), encoder=HashingEncoder(dim=8))
    joined = ["A man slices bread slicing bread", "A woman pours milk Milk is poured into a glass",
              "Eggs cracking eggs"]
    np.testing.assert_allclose(x, hashed_bag_of_words(joined, 8), atol=1e-6)


def test_node_features_needs_its_columns() -> None:
    columns = {k: v for k, v in COLUMNS.items() if k not in ("height", "plm_action")}
    with pytest.raises(ValueError, match=r"needs columns \['plm_action', 'height'\]"):
        node_features(columns)
