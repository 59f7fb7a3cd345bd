"""Tests of graphkit.synth.generate: the generated batches, their content and statistics."""

from __future__ import annotations

import collections
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from graphkit.labels import extract_labels
from graphkit.synth import VERB_FORMS, SynthConfig, generate_batch
from graphkit.tree import TreeBatch

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
VIDEO_UID = re.compile(r"^[A-Za-z0-9_-]{11}$")


@pytest.fixture(scope="module")
def batch() -> pa.RecordBatch:
    return generate_batch(200, seed=0)


@pytest.fixture(scope="module")
def nodes(batch: pa.RecordBatch) -> pa.StructArray:
    return batch.column("nodes").values


def _ipc_bytes(batch: pa.RecordBatch) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def _durations(nodes: pa.StructArray) -> np.ndarray:
    start = nodes.field("start").to_numpy().astype(np.float64)
    return nodes.field("end").to_numpy().astype(np.float64) - start


def _leaf_mask(nodes: pa.StructArray) -> np.ndarray:
    parents = set(nodes.field("parent_id").drop_null().to_pylist())
    return np.array([node_id not in parents for node_id in nodes.field("node_id").to_pylist()])


def test_same_seed_gives_identical_bytes():
    first, second = generate_batch(12, seed=42), generate_batch(12, seed=42)
    assert _ipc_bytes(first) == _ipc_bytes(second)
    other = generate_batch(12, seed=43)
    assert not other.column("video_uid").equals(first.column("video_uid"))
    assert _ipc_bytes(other) != _ipc_bytes(first)


@pytest.mark.parametrize(("first_video", "count"), [(5, 5), (0, 3), (7, 1)])
def test_videos_do_not_depend_on_the_batch_they_are_in(first_video: int, count: int):
    whole = generate_batch(10, seed=3)
    part = generate_batch(count, seed=3, first_video=first_video)
    assert part.equals(whole.slice(first_video, count))


def test_graphkit_validator_accepts_the_trees(batch: pa.RecordBatch):
    trees = TreeBatch.from_arrow(batch)
    assert trees.num_videos == batch.num_rows
    assert trees.num_nodes == len(batch.column("nodes").values)


def test_annotations_sit_where_the_real_ones_do(nodes: pa.StructArray):
    duration = _durations(nodes)
    has_gpt = nodes.field("gpt").is_valid().to_numpy(zero_copy_only=False)
    np.testing.assert_array_equal(has_gpt, duration >= 4.0)
    float32_duration = nodes.field("end").to_numpy() - nodes.field("start").to_numpy()
    np.testing.assert_array_equal(has_gpt, float32_duration >= np.float32(4.0))
    is_leaf = _leaf_mask(nodes)
    has_llama3 = nodes.field("llama3_caption").is_valid().to_numpy(zero_copy_only=False)
    np.testing.assert_array_equal(has_llama3, is_leaf)
    for name in ("plm_caption", "plm_action"):
        share = 1 - nodes.field(name).null_count / len(nodes)
        assert 0.99 <= share < 1.0, name
    gpt = nodes.field("gpt").filter(nodes.field("gpt").is_valid())
    for part, field in (("summary", "brief"), ("action", "brief"), ("action", "actor")):
        assert gpt.field(part).field(field).null_count == 0


def test_statistics_resemble_the_real_sample(batch: pa.RecordBatch, nodes: pa.StructArray):
    duration = _durations(nodes)
    assert 1.5 <= np.median(duration) <= 3.0
    assert 0.6 <= np.mean(duration < 4.0) <= 0.85
    assert duration.min() >= 0.49
    assert nodes.field("level").to_numpy().max() >= 12
    per_video = np.diff(batch.column("nodes").offsets.to_numpy())
    assert per_video.min() < 150 < 1000 < per_video.max()  # small and huge videos both occur
    assert 200 <= np.median(per_video) <= 600


def test_not_applicable_briefs_and_actors_occur(nodes: pa.StructArray):
    action = nodes.field("gpt").field("action")
    for name in ("brief", "detailed", "actor"):
        values = action.field(name).drop_null()
        is_na = pc.equal(pc.utf8_lower(values), "n/a").to_numpy(zero_copy_only=False)
        assert 0.02 <= is_na.mean() <= 0.09, name
    spellings = set(
        pc.filter(
            action.field("brief"), pc.equal(pc.utf8_lower(action.field("brief")), "n/a")
        ).to_pylist()
    )
    assert "N/A" in spellings and len(spellings) > 1


def test_ids_are_unique_and_well_formed(batch: pa.RecordBatch, nodes: pa.StructArray):
    node_ids = nodes.field("node_id").to_pylist()
    assert len(set(node_ids)) == len(node_ids)
    assert all(UUID.match(node_id) for node_id in node_ids[:2000])
    video_uids = batch.column("video_uid").to_pylist()
    assert len(set(video_uids)) == len(video_uids)
    assert all(VIDEO_UID.match(uid) for uid in video_uids)


def test_metadata_matches_the_video(batch: pa.RecordBatch):
    metadata = batch.column("metadata").to_pylist()
    roots = [row[0] for row in batch.column("nodes").to_pylist()]
    for meta, root in zip(metadata, roots, strict=True):
        assert meta["duration"] == round(root["end"])
        assert re.fullmatch(r"(200[6-9]|201\d|202[0-4])[01]\d[0-3]\d", meta["upload_date"])
        assert 0 <= meta["like_count"] <= meta["view_count"]
        assert meta["title"] and meta["description"]
        times = [float(line["time"]) for line in meta["transcript"]]
        assert times == sorted(times)
        assert all(0 <= time <= root["end"] for time in times)
    assert sum(bool(meta["transcript"]) for meta in metadata) > len(metadata) // 2


def test_action_briefs_name_a_zipf_like_verb_set(nodes: pa.StructArray):
    briefs = nodes.field("gpt").field("action").field("brief")
    verbs = collections.Counter(extract_labels(briefs, "verb").drop_null().to_pylist())
    grammar_verbs = {verb.split()[0] for verb in VERB_FORMS}
    assert set(verbs) <= grammar_verbs
    assert 30 <= len(verbs) <= 50
    counts = sorted(verbs.values(), reverse=True)
    assert counts[0] > 5 * counts[len(counts) // 2]  # a head of frequent verbs and a long tail
    assert {"open", "insert", "add", "show", "explain"} <= {
        verb for verb, _ in verbs.most_common(10)
    }


def test_captions_are_noisy_but_informative_views_of_the_action(nodes: pa.StructArray):
    # The true verb of a gpt node is its brief's verb; own captions name it only sometimes.
    verbs = extract_labels(nodes.field("gpt").field("action").field("brief"), "verb").to_pylist()
    gerund = {verb.split()[0]: forms[1] for verb, forms in VERB_FORMS.items()}
    captions = nodes.field("plm_caption").to_pylist()
    guesses = extract_labels(nodes.field("plm_action"), "verb").to_pylist()
    named = [
        gerund[verb] in caption
        for verb, caption in zip(verbs, captions, strict=True)
        if verb and caption
    ]
    guessed = [guess == verb for verb, guess in zip(verbs, guesses, strict=True) if verb and guess]
    assert 0.35 <= np.mean(named) <= 0.7
    assert 0.4 <= np.mean(guessed) <= 0.8


@pytest.mark.parametrize(
    ("config", "check"),
    [
        (SynthConfig(na_rate=0.0, actor_na_rate=0.0), "no_na"),
        (SynthConfig(max_depth=3), "shallow"),
        (SynthConfig(mean_video_duration=20.0, video_duration_sigma=0.0), "short"),
        (SynthConfig(plm_caption_null_rate=1.0), "no_plm_caption"),
    ],
)
def test_config_knobs_take_effect(config: SynthConfig, check: str):
    nodes = generate_batch(20, seed=1, config=config).column("nodes").values
    if check == "no_na":
        actors = nodes.field("gpt").field("action").field("actor").drop_null()
        assert not pc.any(pc.equal(pc.utf8_lower(actors), "n/a")).as_py()
    elif check == "shallow":
        assert nodes.field("level").to_numpy().max() == 3
    elif check == "short":
        roots = nodes.filter(pc.equal(nodes.field("level"), 0))
        assert set(roots.field("end").to_pylist()) == {20.0}
    else:
        assert nodes.field("plm_caption").null_count == len(nodes)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"num_videos": -1}, ValueError, "num_videos=-1 must be >= 0"),
        ({"num_videos": 2.5}, TypeError, "num_videos must be an int"),
        ({"num_videos": 1, "seed": -3}, ValueError, "seed=-3"),
        ({"num_videos": 1, "seed": 2**64}, ValueError, "must be < 2\\*\\*64"),
        ({"num_videos": 1, "first_video": True}, TypeError, "first_video must be an int"),
        ({"num_videos": 1, "config": {"na_rate": 0}}, TypeError, "config must be a SynthConfig"),
    ],
)
def test_generate_batch_rejects_bad_arguments(kwargs: dict, error: type, match: str):
    with pytest.raises(error, match=match):
        generate_batch(**kwargs)
