from __future__ import annotations

import json
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from graphkit.labels import (
    LABEL_KINDS,
    OTHER_LABEL,
    LabelVocabulary,
    extract_labels,
    label_mask,
    normalize_label_text,
    verb_lemmas,
)
from tests.paths import SAMPLE

# Briefs as they appear in the real sample (U+2011 is the non-breaking hyphen GPT writes).
VERB_TABLE = [
    ("Speak about the dog park", "speak"),
    ("Pan camera left", "pan"),
    ("Dip toast into egg", "dip"),
    ("Season and garnish eggs", "season"),
    ("Opening the lid", "open"),
    ("Cut paper", "cut"),
    ("Insert wire into jet", "insert"),
    ("pour mixture onto tray", "pour"),
    ("Add butter, chocolate chips, and sea salt to saucepan", "add"),
    ("Prepare soft\u2011boiled eggs with toast soldiers", "prepare"),
    ("Pan\u2011camera left", "pan"),
    ("Pan-camera left", "pan"),
    ("Stir-fry vegetables", "stir"),
    ("Pre-heat the oven", "pre-heat"),
    ("Re-attach the hose", "re-attach"),
    ("Dogs play in the park", "dog"),
    ("Points at bucket", "point"),
    ("Gave a thumbs\u2011up", "give"),
    ("Lay tiles", "lay"),
    ("  WHISK   eggs.", "whisk"),
    ('"Open" the gate', "open"),
    ("1) Cut paper", "cut"),
]


@pytest.mark.parametrize(("brief", "verb"), VERB_TABLE)
def test_verb_is_lemma_of_first_word(brief: str, verb: str) -> None:
    assert verb_lemmas([brief]).to_pylist() == [verb]


def test_verbs_of_many_briefs_at_once_keep_order_and_nulls() -> None:
    briefs = [b for b, _ in VERB_TABLE] + [None, "N/A"]
    expected = [v for _, v in VERB_TABLE] + [None, None]
    assert extract_labels(pa.array(briefs), "verb").to_pylist() == expected


NO_LABEL = ["N/A", "n/a", "N/a", "n/A", " N/A ", "\tn/a\n", "N/A.", "", "   ", None]


@pytest.mark.parametrize("kind", LABEL_KINDS)
@pytest.mark.parametrize("value", NO_LABEL)
def test_not_applicable_empty_and_null_mean_no_label(kind: str, value: str | None) -> None:
    assert extract_labels([value], kind).to_pylist() == [None]
    vocab = LabelVocabulary(kind=kind, classes=("x", OTHER_LABEL), counts=(1, 0))
    assert vocab.encode([value]).tolist() == [-1]


@pytest.mark.parametrize("value", ["N/A tool", "n/a/b", "na"])
def test_only_the_whole_value_na_is_missing(value: str) -> None:
    assert normalize_label_text([value]).to_pylist() == [value.lower()]


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("Prepare soft\u2011boiled eggs", "prepare soft-boiled eggs"),
        ("Pour \u2014 then stir", "pour - then stir"),
        ("Add confectioners\u2019 sugar", "add confectioners' sugar"),
        ("Say \u201chello\u201d", 'say "hello"'),
        ("  Open   the\tLID!! ", "open the lid"),
        ("Cut\u00a0paper.", "cut paper"),
        ("Slice bread\u2026", "slice bread"),
        ("Zoom\u200b in", "zoom in"),
        ("\uff26\uff55\uff4c\uff4c width", "full width"),
        ("Pour mixture (slowly)", "pour mixture (slowly)"),
    ],
)
def test_normalize_label_text(raw: str, normalized: str) -> None:
    assert normalize_label_text([raw]).to_pylist() == [normalized]


def test_actor_spellings_collapse_to_one_class() -> None:
    actors = [
        "The presenter, a man wearing a blue T\u2011shirt",
        "the presenter, a man wearing a blue T-shirt",
        "the presenter,  a man wearing a blue t-shirt.",
    ]
    assert len(set(extract_labels(actors, "actor").to_pylist())) == 1


@pytest.mark.parametrize(
    "make",
    [
        lambda v: v,
        pa.array,
        lambda v: pa.array(v, type=pa.large_string()),
        lambda v: pa.chunked_array([v[:2], v[2:]], type=pa.string()),
        lambda v: np.array(v, dtype=object),
        lambda v: pa.array(["skip"] + v).slice(1),
    ],
)
def test_accepts_arrow_python_and_numpy_strings(make) -> None:
    values = ["Cut paper", None, "N/A", "opening lid"]
    assert extract_labels(make(values), "verb").to_pylist() == ["cut", None, None, "open"]


def test_all_null_array_has_no_labels() -> None:
    assert extract_labels(pa.nulls(3), "brief").to_pylist() == [None, None, None]


@pytest.mark.parametrize("bad", [pa.array([1, 2]), [1, 2], "Cut paper"])
def test_non_strings_raise_type_error(bad) -> None:
    with pytest.raises(TypeError, match="string"):
        extract_labels(bad, "brief")


def test_unknown_kind_raises() -> None:
    with pytest.raises(ValueError, match=r"unknown label kind 'noun'.*'verb', 'brief', 'actor'"):
        extract_labels(["Cut paper"], "noun")


# Two videos in train, one in valid, one in test.
BRIEFS = [
    "Cut paper", "cut cardboard", "Open lid", "Opening box", "Stir soup", "N/A", None,  # train
    "Fold towel", "Cut cake",  # valid
    "Fold napkin", "Open door",  # test
]
TRAIN = np.array([True] * 7 + [False] * 4)


def test_fit_keeps_top_k_training_classes_and_maps_the_rest_to_other() -> None:
    vocab = LabelVocabulary.fit(BRIEFS, kind="verb", top_k=2, train_mask=TRAIN)
    # cut and open tie at 2: alphabetical order; stir is the third class -> other.
    assert vocab.classes == ("cut", "open", OTHER_LABEL)
    assert vocab.counts == (2, 2, 1)
    assert vocab.other_index == 2 == len(vocab) - 1
    # fold appears only in valid/test nodes: it becomes other even though it is frequent there.
    assert vocab.encode(BRIEFS).tolist() == [0, 0, 1, 1, 2, -1, -1, 2, 0, 2, 1]


def test_fit_without_mask_counts_every_node() -> None:
    vocab = LabelVocabulary.fit(BRIEFS, kind="verb", top_k=2)
    assert vocab.classes == ("cut", "open", OTHER_LABEL)
    assert vocab.counts == (3, 3, 3)


def test_fit_ties_are_broken_alphabetically_whatever_the_order() -> None:
    values = ["Zip bag", "Add salt", "Mix dough", "Add sugar", "Zip coat", "Mix batter"]
    expected = LabelVocabulary.fit(values, kind="verb", top_k=2)
    for seed in range(5):
        shuffled = list(np.random.default_rng(seed).permutation(values))
        assert LabelVocabulary.fit(shuffled, kind="verb", top_k=2) == expected
    assert expected.classes == ("add", "mix", OTHER_LABEL)


def test_fit_top_k_none_or_large_keeps_every_class() -> None:
    every = LabelVocabulary.fit(BRIEFS, kind="verb", top_k=None, train_mask=TRAIN)
    large = LabelVocabulary.fit(BRIEFS, kind="verb", top_k=50, train_mask=TRAIN)
    assert every.classes == large.classes == ("cut", "open", "stir", OTHER_LABEL)
    assert every.counts[-1] == 0
    assert large.top_k == 50 and every.top_k is None


def test_fit_brief_and_actor_kinds() -> None:
    vocab = LabelVocabulary.fit(["Cut paper.", "cut  paper", "Open lid"], kind="brief", top_k=1)
    assert vocab.classes == ("cut paper", OTHER_LABEL)
    actors = LabelVocabulary.fit(["a hand", "A hand", "N/A", "the child"], kind="actor", top_k=5)
    assert actors.classes == ("a hand", "the child", OTHER_LABEL)


@pytest.mark.parametrize("top_k", [0, -1, 1.5, True, "3"])
def test_fit_rejects_bad_top_k(top_k) -> None:
    with pytest.raises(ValueError, match="top_k must be a positive integer"):
        LabelVocabulary.fit(BRIEFS, kind="verb", top_k=top_k)


def test_fit_rejects_bad_masks() -> None:
    with pytest.raises(ValueError, match=r"train_mask has shape \(3,\), expected \(11,\)"):
        LabelVocabulary.fit(BRIEFS, kind="verb", top_k=2, train_mask=np.ones(3, bool))
    with pytest.raises(TypeError, match="train_mask must be a boolean array"):
        LabelVocabulary.fit(BRIEFS, kind="verb", top_k=2, train_mask=np.ones(11))


def test_fit_without_labelled_training_nodes_raises() -> None:
    with pytest.raises(ValueError, match="no training node has a 'verb' label"):
        LabelVocabulary.fit(["N/A", None, "Cut paper"], kind="verb", top_k=2,
                            train_mask=np.array([True, True, False]))


def test_literal_other_label_joins_the_other_class() -> None:
    vocab = LabelVocabulary.fit(["<other>", "<other>", "cut"], kind="brief", top_k=5)
    assert vocab.classes == ("cut", OTHER_LABEL)
    assert vocab.counts == (1, 2)


def test_encode_decode_round_trip() -> None:
    vocab = LabelVocabulary.fit(BRIEFS, kind="verb", top_k=2, train_mask=TRAIN)
    encoded = vocab.encode(BRIEFS)
    assert encoded.dtype == np.int64 and encoded.shape == (len(BRIEFS),)
    decoded = vocab.decode(encoded).to_pylist()
    labels = extract_labels(BRIEFS, "verb").to_pylist()
    expected = [None if x is None else x if x in vocab.classes else OTHER_LABEL for x in labels]
    assert decoded == expected
    assert vocab.encode(decoded[:5]).tolist() == encoded[:5].tolist()


def test_decode_checks_indices() -> None:
    vocab = LabelVocabulary(kind="verb", classes=("cut", OTHER_LABEL), counts=(1, 1))
    assert vocab.decode(np.array([], dtype=np.int64)).to_pylist() == []
    with pytest.raises(ValueError, match="class index 2 out of range; expected -1 to 1"):
        vocab.decode([0, 2])
    with pytest.raises(ValueError, match="class index -2 out of range"):
        vocab.decode([-2])
    with pytest.raises(TypeError, match="indices must be integers"):
        vocab.decode([0.5])


def test_repr_is_pinned() -> None:
    vocab = LabelVocabulary.fit(BRIEFS, kind="verb", top_k=2, train_mask=TRAIN)
    assert repr(vocab) == "LabelVocabulary(kind='verb', num_classes=3, top_k=2)"
    assert vocab.num_classes == len(vocab) == 3


def test_to_dict_from_dict_round_trips_through_json() -> None:
    vocab = LabelVocabulary.fit(BRIEFS, kind="verb", top_k=2, train_mask=TRAIN)
    data = json.loads(json.dumps(vocab.to_dict()))
    restored = LabelVocabulary.from_dict(data)
    assert restored == vocab
    np.testing.assert_array_equal(restored.encode(BRIEFS), vocab.encode(BRIEFS))


def test_from_dict_rejects_bad_data() -> None:
    data = LabelVocabulary(kind="verb", classes=("cut", OTHER_LABEL), counts=(1, 0)).to_dict()
    with pytest.raises(ValueError, match=r"lacks keys \['classes'\]"):
        LabelVocabulary.from_dict({k: v for k, v in data.items() if k != "classes"})
    with pytest.raises(ValueError, match="has version 99"):
        LabelVocabulary.from_dict({**data, "version": 99})
    with pytest.raises(ValueError, match="the last class must be '<other>'"):
        LabelVocabulary.from_dict({**data, "classes": ["cut", "open"]})
    with pytest.raises(ValueError, match="classes must be unique"):
        LabelVocabulary.from_dict(
            {**data, "classes": ["cut", "cut", OTHER_LABEL], "counts": [1, 1, 1]}
        )
    with pytest.raises(ValueError, match="got 3 counts for 2 classes"):
        LabelVocabulary.from_dict({**data, "counts": [1, 1, 1]})
    with pytest.raises(ValueError, match="unknown label kind"):
        LabelVocabulary.from_dict({**data, "kind": "noun"})


def test_label_mask() -> None:
    np.testing.assert_array_equal(label_mask(np.array([0, -1, 2, -1])), [True, False, True, False])
    with pytest.raises(TypeError, match="labels must be integer"):
        label_mask(np.array([0.0, 1.0]))


@pytest.mark.skipif(not SAMPLE.exists(), reason="real Action100M sample not present")
def test_real_sample_briefs_and_actors() -> None:
    table = pq.read_table(SAMPLE, columns=["video_uid", "nodes"])
    nodes = pc.list_flatten(table["nodes"])
    briefs = pc.struct_field(nodes, ["gpt", "action", "brief"])
    actors = pc.struct_field(nodes, ["gpt", "action", "actor"])
    verbs = extract_labels(briefs, "verb")
    assert len(verbs) == len(briefs)
    # Every node without gpt, plus the briefs written N/A, has no label.
    n_na = pc.sum(pc.equal(pc.utf8_lower(briefs), "n/a")).as_py()
    assert verbs.null_count == briefs.null_count + n_na
    assert all(re.fullmatch(r"[a-z]+(?:['-][a-z]+)*", v) for v in verbs.drop_null().to_pylist())
    assert {"open", "insert", "speak", "dip", "season", "pan"} <= set(verbs.to_pylist())
    node_video = pc.list_parent_indices(table["nodes"]).to_numpy()
    train = np.isin(node_video, [0, 1, 2, 3, 4])
    vocab = LabelVocabulary.fit(actors, kind="actor", top_k=10, train_mask=train)
    encoded = vocab.encode(actors)
    assert len(vocab) == 11 and encoded.max() == 10
    assert (encoded[train] >= 0).sum() == sum(vocab.counts)


def test_counts_summed_over_batches_fit_the_same_vocabulary():
    briefs = ["Cut paper", "Open box", "Open lid", "Stir soup", "cut wood", "N/A", None, "Pour tea"]
    whole = LabelVocabulary.fit(briefs, kind="verb", top_k=2)
    counts = {}
    for part in (briefs[:3], briefs[3:]):
        for label in extract_labels(part, "verb").drop_null().to_pylist():
            counts[label] = counts.get(label, 0) + 1
    assert LabelVocabulary.from_counts(counts, kind="verb", top_k=2) == whole
    assert whole.encode_labels(["cut", "pour", None]).tolist() == [whole.classes.index("cut"), whole.other_index, -1]


@pytest.mark.parametrize("kind", ["verb", "brief", "actor"])
def test_labels_computed_in_chunks_of_nodes_are_the_same(monkeypatch, kind: str) -> None:
    import graphkit.arrays

    briefs = pa.array(["Opening the lid", None, "N/A", "Cut paper", "Pan\u2011camera left", "42", "Stir"] * 5)
    whole = extract_labels(briefs, kind)
    monkeypatch.setattr(graphkit.arrays, "NODES_PER_CHUNK", 3)
    chunked = extract_labels(briefs, kind)
    assert chunked.equals(whole) and chunked.type == whole.type and len(whole) == len(briefs)
