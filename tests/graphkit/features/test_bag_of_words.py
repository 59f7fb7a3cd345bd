from __future__ import annotations

import os
import subprocess
import sys
import unicodedata

import numpy as np
import pyarrow as pa
import pytest

from graphkit.features import hashed_bag_of_words
from tests.graphkit.features.samples import EMPTY, TEXTS
from tests.paths import ROOT


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


def test_token_counts_are_the_dense_features_bit_for_bit():
    from graphkit.features import hashed_token_counts

    texts = [["Cut the paper, cut!", None, "", "Ça coûte cher — ÉTÉ", "x " * 300, "naïve café"],
             ["paper", "only this", None, "été", "y", None]]
    for dim in (1, 7, 256, 4096):
        counts = hashed_token_counts(texts, dim, seed=3)
        dense = hashed_bag_of_words(texts, dim, seed=3)
        assert np.array_equal(counts.to_dense().view(np.uint32), dense.view(np.uint32))
        assert (counts.count != 0).all() and counts.bucket.max() < dim
        assert counts.ptr[-1] == counts.bucket.size == counts.num_tokens.sum()
        for row in range(len(texts[0])):  # buckets ascend within a row
            assert np.all(np.diff(counts.bucket[counts.ptr[row]:counts.ptr[row + 1]]) > 0)


@pytest.mark.parametrize("chunk", [1, 3, 7])
def test_counting_in_chunks_of_nodes_changes_nothing(monkeypatch, chunk: int) -> None:
    import graphkit.features.bag_of_words as bag_of_words

    rows = TEXTS * 4 + EMPTY
    texts = [pa.array(rows), pa.array(rows[::-1])]
    whole = bag_of_words.hashed_token_counts(texts, dim=16, seed=2)
    monkeypatch.setattr(bag_of_words, "NODES_PER_CHUNK", chunk)
    chunked = bag_of_words.hashed_token_counts(texts, dim=16, seed=2)
    for name in ("num_tokens", "bucket", "count"):
        np.testing.assert_array_equal(getattr(chunked, name), getattr(whole, name))
    assert whole.bucket.size > 0


@pytest.mark.parametrize("threads", [2, 3])
def test_counting_on_threads_changes_nothing(monkeypatch, threads: int) -> None:
    import graphkit.features.bag_of_words as bag_of_words

    rows = TEXTS * 6 + EMPTY
    texts = [pa.array(rows), pa.array(rows[::-1])]
    monkeypatch.setattr(bag_of_words, "NODES_PER_CHUNK", 4)  # many chunks, so threads share them
    one = bag_of_words.hashed_token_counts(texts, dim=16, seed=2)
    many = bag_of_words.hashed_token_counts(texts, dim=16, seed=2, threads=threads)
    for name in ("num_tokens", "bucket", "count"):
        np.testing.assert_array_equal(getattr(many, name), getattr(one, name))
    assert one.bucket.size > 0
