from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from graphkit.errors import GraphkitError
from graphkit.features import TEXT_ENCODERS
from graphkit.features.encoders import HashingEncoder
from graphkit.loaders.neo4j.csv import ARRAY_DELIMITER
from graphkit.loaders.neo4j.embeddings import SegmentEmbedder, as_embedder, resolve_encoder
from graphkit.synth import generate_batch
from graphkit.tree import TreeBatch


class CountingEncoder:
    """Records the texts it is asked to embed."""

    def __init__(self, dim: int = 4) -> None:
        self.dim = dim
        self.calls: list[list] = []

    def encode(self, texts) -> np.ndarray:
        texts = list(texts.to_pylist() if isinstance(texts, pa.Array) else texts)
        self.calls.append(texts)
        return np.array([[len(t), 1.0, 0.0, float(t == "zero")] if t != "zero" else [0.0] * self.dim
                         for t in texts], dtype=np.float32)


def _trees(briefs: list) -> TreeBatch:
    trees = TreeBatch.from_arrow(generate_batch(3, seed=5))
    text = dict(trees.text)
    column = (briefs * (trees.num_nodes // len(briefs) + 1))[: trees.num_nodes]
    text["action_brief"] = pa.array(column, pa.string())
    return TreeBatch(**{**{f: getattr(trees, f) for f in trees.__dataclass_fields__}, "text": text})


def test_resolve_encoder_knows_minilm_and_hashing():
    assert TEXT_ENCODERS == ("hashing", "minilm")  # the names --text-encoder takes, too
    assert repr(resolve_encoder("hashing")) == "HashingEncoder(dim=256, seed=0)"
    with pytest.raises(ValueError, match="unknown encoder 'Minilm'; expected one of 'hashing', 'minilm'"):
        resolve_encoder("Minilm")
    with pytest.raises(ValueError, match="unknown encoder"):
        resolve_encoder(None)


def test_minilm_loads_the_packaged_weights():
    embedder = SegmentEmbedder.from_name("minilm")
    assert embedder.dim == 384 and embedder.index_name == "segment_embedding_minilm"
    vector = np.asarray(embedder.encode_query("cut the cucumber"))
    assert vector.shape == (384,) and abs(np.linalg.norm(vector) - 1) < 1e-5


def test_each_distinct_text_is_embedded_once_and_na_or_empty_texts_not_at_all():
    encoder = CountingEncoder()
    trees = _trees(["Cut bread", None, "N/A", " n/a ", "", "   ", "Cut bread", "Pour milk", "zero"])
    embedder = SegmentEmbedder("counting", encoder, 4)
    positions, vectors = embedder.embed(trees, slice(0, 9))
    assert encoder.calls == [["Cut bread", "Pour milk", "zero"]]
    assert positions.tolist() == [0, 6, 7]  # the zero vector of "zero" is left out: no cosine for it
    assert vectors.dtype == np.float32 and vectors[:, 0].tolist() == [9, 9, 9]
    positions, _ = embedder.embed(trees, slice(9, 18))
    assert positions.tolist() == [9, 15, 16]  # positions in the whole batch


def test_embedding_is_bounded_by_the_range_asked_for():
    encoder = CountingEncoder()
    trees = _trees([f"brief {i}" for i in range(1000)])
    SegmentEmbedder("counting", encoder, 4).embed(trees, slice(10, 30))
    assert len(encoder.calls) == 1 and len(encoder.calls[0]) == 20


def test_bolt_rows_name_each_segment_by_its_identity():
    trees = _trees(["Cut bread", None])
    rows = SegmentEmbedder("counting", CountingEncoder(), 4).bolt_rows(trees, slice(0, 4))
    ids = trees.node_id.to_pylist()
    video = trees.video_uid[int(trees.video_index[0])].as_py()
    assert rows == [{"video_uid": video, "node_id": ids[0], "embedding": [9.0, 1.0, 0.0, 0.0]},
                    {"video_uid": video, "node_id": ids[2], "embedding": [9.0, 1.0, 0.0, 0.0]}]


def test_the_csv_column_holds_float32_decimals_or_nothing():
    trees = _trees(["Cut bread", None])
    embedder = SegmentEmbedder("hashing", HashingEncoder(dim=8), 8)
    column = embedder.csv_column(trees, ARRAY_DELIMITER).to_pylist()
    positions, vectors = embedder.embed(trees)
    assert len(column) == trees.num_nodes
    assert [i for i, value in enumerate(column) if value is not None] == positions.tolist()
    parsed = np.array([column[i].split(ARRAY_DELIMITER) for i in positions], dtype=np.float32)
    assert np.array_equal(parsed, vectors)


def test_names_and_types_are_checked():
    with pytest.raises(ValueError, match="lower-case letters"):
        SegmentEmbedder("Bad-Name", HashingEncoder(dim=8), 8)
    with pytest.raises(TypeError, match="embed must be an encoder name or a SegmentEmbedder"):
        as_embedder(3)
    assert as_embedder(None) is None


def test_an_encoder_of_the_wrong_shape_is_an_error():
    with pytest.raises(GraphkitError, match="returned shape"):
        SegmentEmbedder("counting", CountingEncoder(dim=4), 5).embed(_trees(["Cut bread"]))


def test_a_query_the_encoder_cannot_embed_is_refused():
    with pytest.raises(ValueError, match="finds nothing to embed"):
        SegmentEmbedder("counting", CountingEncoder(), 4).encode_query("zero")
