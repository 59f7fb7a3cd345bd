from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pytest
import torch

from graphkit.errors import LeakageError
from graphkit.features import FeatureConfig
from graphkit.schema import SOURCE_SCHEMA
from graphkit.synth import generate_batch
from graphkit.tasks import AnticipationTask, NodeTask
from graphkit.tasks.anticipation import finest_labelled
from graphkit.tree import TreeBatch
from graphkit.validation import ValidationConfig
from tests.graphkit.tasks.helpers import assert_same_inputs, junk, junk_transcript


@pytest.fixture(scope="module")
def trees() -> TreeBatch:
    return TreeBatch.from_arrow(generate_batch(4, seed=3))


@pytest.fixture(scope="module")
def task() -> AnticipationTask:
    return AnticipationTask(features=FeatureConfig(dim=32), examples_per_video=None)


def _labelled(task, trees):
    return task.labels(trees).is_valid().to_numpy(zero_copy_only=False)


def test_replacing_every_segment_that_ends_after_the_cut_changes_no_input(task, trees):
    video, t, _ = task.cuts(trees, _labelled(task, trees))
    assert video.size >= 8 and set(video.tolist()) == {0, 1, 2, 3}
    for v, cut in zip(video.tolist(), t.tolist()):
        future = (trees.video_index == v) & (trees.end > cut)
        assert future.any()
        changed = junk(trees, future, text=True, timing=True, children=True, seed=v)
        # The junk does change the video: its whole-graph segment features differ.
        whole = NodeTask(features=task.features)
        assert not np.array_equal(whole.feature_matrix(trees), whole.feature_matrix(changed))
        before = task.inputs(trees, task.examples_at(trees, [v], [cut]))
        after = task.inputs(changed, task.examples_at(changed, [v], [cut]))
        assert_same_inputs(before, after)


def test_with_transcript_features_no_speech_from_after_the_cut_is_read(trees):
    task = AnticipationTask(features=FeatureConfig(dim=32, transcript_dim=16), examples_per_video=None)
    video, t, _ = task.cuts(trees, _labelled(task, trees))
    heard = 0
    for v, cut in zip(video.tolist(), t.tolist()):
        future = (trees.video_index == v) & (trees.end > cut)
        changed = junk_transcript(junk(trees, future, text=True, timing=True, children=True, seed=v), v,
                                  0.0, cut, seed=v)
        # The junk does change what the whole graph hears.
        whole = NodeTask(features=task.features)
        assert not np.array_equal(whole.feature_matrix(trees), whole.feature_matrix(changed))
        before = task.inputs(trees, task.examples_at(trees, [v], [cut]))
        after = task.inputs(changed, task.examples_at(changed, [v], [cut]))
        assert_same_inputs(before, after)
        heard += int((before["segment"].x[:, 32:48].abs().sum(dim=1) > 0).sum())
    assert heard > 0  # members do read their speech: the test can fail


def test_a_member_that_ends_after_its_cut_is_refused(task, trees):
    examples = task.examples(trees, _labelled(task, trees))
    early = dataclasses.replace(examples, attrs={"cut": examples.attrs["cut"] - 0.5})
    with pytest.raises(LeakageError, match=r"video '[^']+', node '.+': a segment that ends after the cut"):
        task.inputs(trees, early)


def test_the_target_is_the_step_that_begins_at_the_cut(task, trees):
    labelled = _labelled(task, trees)
    video, t, target = task.cuts(trees, labelled)
    assert labelled[target].all()
    assert np.array_equal(trees.start[target], t) and (trees.end[target] > t).all()
    assert np.array_equal(trees.video_index[target], video)
    nearest = finest_labelled(trees, labelled)
    assert (nearest[labelled] == np.flatnonzero(labelled)).all()


@pytest.mark.parametrize("videos", [[2], [0, 1, 2, 3]])
def test_batches_of_one_and_four_videos(task, trees, videos):
    picked = trees.select(videos)
    vocabulary = task.fit_vocabulary([trees])
    batch = task.batch(picked, vocabulary)
    examples = task.labelled_examples(picked)
    store = batch["segment"]
    assert batch.num_graphs == examples.num_examples > 0
    assert store.num_nodes == examples.node.size and store.x.shape[1] == 32 + 5
    assert torch.isfinite(store.x).all()
    # One target per graph, on its query: the last leaf that ended, no later than the cut.
    assert torch.equal(store.y >= 0, store.query)
    assert torch.bincount(store.batch[store.query], minlength=batch.num_graphs).eq(1).all()
    cut = torch.from_numpy(examples.attrs["cut"])
    assert (store.end <= cut[store.batch]).all()
    assert torch.equal(store.end[store.query], cut)
    assert torch.equal(store.train_mask | store.valid_mask | store.test_mask, store.query)
    assert "video" not in batch.node_types
    if len(videos) == 4:  # four videos batch as the four one-video batches do
        parts = [task.batch(trees.select([v]), vocabulary)["segment"] for v in videos]
        assert torch.equal(store.x, torch.cat([p.x for p in parts]))
        assert torch.equal(store.y, torch.cat([p.y for p in parts]))


def test_examples_per_video_caps_and_spreads_the_cuts(trees):
    capped = AnticipationTask(examples_per_video=2)
    video, _, _ = capped.cuts(trees, capped.labels(trees).is_valid().to_numpy(zero_copy_only=False))
    assert np.bincount(video).max() <= 2


def test_round_trips_through_its_dict():
    task = AnticipationTask(label="actor", top_k=7, examples_per_video=3)
    assert AnticipationTask.from_dict(task.to_dict()) == task
    with pytest.raises(ValueError, match="examples_per_video=0"):
        AnticipationTask(examples_per_video=0)


def _tiny(lines, nodes, tolerance=0.0):
    rows = pa.Table.from_pylist([{"video_uid": "v", "nodes": nodes, "metadata": {"transcript": lines}}],
                                schema=SOURCE_SCHEMA)
    return TreeBatch.from_arrow(rows, config=ValidationConfig(time_tolerance=tolerance))


def _node(node_id, parent, level, start, end):
    return {"node_id": node_id, "parent_id": parent, "level": level, "start": start, "end": end}


SPEECH_ONLY = AnticipationTask(features=FeatureConfig(dim=8, transcript_dim=16, temporal=False, text_fields=()))


@pytest.mark.parametrize("late", ["5.15", "4.9"])
def test_a_line_not_over_by_the_cut_is_not_heard(late):
    # 5.15: in A2, which ends after the cut though its parent A does not (time tolerance);
    # 4.9: in A2, which ends by the cut, but the line runs on until the next one starts, after the cut.
    nodes = [_node("r", None, 0, 0, 10), _node("A", "r", 1, 0, 5.0), _node("B", "r", 1, 5.0, 10),
             _node("A1", "A", 2, 0, 2.5), _node("A2", "A", 2, 2.5, 5.0 if late == "4.9" else 5.2),
             _node("B1", "B", 2, 5.0, 7.5), _node("B2", "B", 2, 7.5, 10)]
    cut = 5.0 if late == "4.9" else 5.1

    def heard(text):
        trees = _tiny([{"time": "1.0", "text": "early words"}, {"time": "2.0", "text": "more words"},
                       {"time": late, "text": text},
                       {"time": "6.0", "text": "after"}], nodes, tolerance=0.5)
        return SPEECH_ONLY.inputs(trees, SPEECH_ONLY.examples_at(trees, [0], [cut]))["segment"].x

    first, second = heard("cut the paper"), heard("fold the towel")
    assert torch.equal(first, second)
    assert first.abs().sum() > 0  # the line at 1.0 (over at 2.0) is heard: the test can fail
