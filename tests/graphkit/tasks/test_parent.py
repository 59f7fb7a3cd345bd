from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from graphkit.errors import LeakageError
from graphkit.features import FeatureConfig
from graphkit.synth import generate_batch
from graphkit.tasks import ParentTask
from graphkit.tasks.examples import Examples
from graphkit.tree import TreeBatch
from tests.graphkit.tasks.helpers import assert_same_inputs, junk, junk_transcript


@pytest.fixture(scope="module")
def trees() -> TreeBatch:
    return TreeBatch.from_arrow(generate_batch(4, seed=5))


@pytest.fixture(scope="module")
def task() -> ParentTask:
    return ParentTask(features=FeatureConfig(dim=32), examples_per_video=None)


def _subtree(trees, root):
    inside = np.zeros(trees.num_nodes, dtype=bool)
    inside[root] = True
    for _ in range(int(trees.level.max())):
        inside |= (trees.parent >= 0) & inside[np.maximum(trees.parent, 0)]
    return inside


def test_replacing_the_parents_text_and_all_outside_its_subtree_changes_no_input(task, trees):
    examples = task.labelled_examples(trees)
    assert examples.num_examples >= 8
    for root in examples.target.tolist():
        inside = _subtree(trees, root)
        hidden = ~inside
        hidden[root] = True  # its own text, and all above or beside it (ancestors included)
        changed = junk(trees, hidden, text=True, seed=root)
        changed = junk(changed, ~inside, text=False, timing=True, seed=root + 1)
        before = task.inputs(trees, task.examples_of(trees, [root]))
        after = task.inputs(changed, task.examples_of(changed, [root]))
        assert_same_inputs(before, after)
        # The subtree's own text does reach the model: the test can fail.
        below = inside.copy()
        below[root] = False
        assert below.any()
        other = task.inputs(junk(trees, below, seed=3), task.examples_of(trees, [root]))
        assert not torch.equal(before["segment"].x, other["segment"].x)


def test_with_transcript_features_only_the_subtrees_speech_is_read(trees):
    task = ParentTask(features=FeatureConfig(dim=32, transcript_dim=16), examples_per_video=None)
    examples = task.labelled_examples(trees)
    for root in examples.target.tolist()[:12]:
        inside = _subtree(trees, root)
        hidden = ~inside
        hidden[root] = True
        video = int(trees.video_index[root])
        changed = junk(trees, hidden, text=True, seed=root)
        changed = junk(changed, ~inside, text=False, timing=True, seed=root + 1)
        changed = junk_transcript(changed, video, float(trees.start[root]), float(trees.end[root]), seed=root)
        before = task.inputs(trees, task.examples_of(trees, [root]))
        after = task.inputs(changed, task.examples_of(changed, [root]))
        assert_same_inputs(before, after)
        store = before["segment"]
        assert store.x[store.query][:, 32:48].abs().sum() == 0  # the parent's own row is hidden too
    # Speech inside the subtree does reach the model: the test can fail.
    root = examples.target[0]
    inside_lines = junk_transcript(trees, int(trees.video_index[root]), float("inf"), float("inf"), seed=1)
    assert not torch.equal(task.inputs(trees, task.examples_of(trees, [root]))["segment"].x,
                           task.inputs(inside_lines, task.examples_of(inside_lines, [root]))["segment"].x)


def test_the_targets_text_is_hidden_whatever_the_examples_say(task, trees):
    examples = task.labelled_examples(trees)
    shown = dataclasses.replace(examples, text_hidden=np.zeros_like(examples.text_hidden))
    assert_same_inputs(task.inputs(trees, examples), task.inputs(trees, shown))
    query_text = task.inputs(trees, examples)["segment"].x[:, :32][torch.from_numpy(examples.query)]
    assert query_text.abs().sum() == 0


def test_a_member_outside_the_subtree_is_refused(task, trees):
    root = int(np.flatnonzero(trees.parent >= 0)[0])  # a child of the first video's root
    parent = int(trees.parent[root])
    examples = Examples(video=np.array([0]), offsets=np.array([0, 2]), node=np.array([parent, root]),
                        text_hidden=np.array([False, True]), query=np.array([1]), target=np.array([root]),
                        attrs={"root": np.array([root])})
    with pytest.raises(LeakageError, match=r"video '[^']+', node '.+': a segment outside the target's subtree"):
        task.inputs(trees, examples)


@pytest.mark.parametrize("videos", [[1], [0, 1, 2, 3]])
def test_batches_of_one_and_four_videos(task, trees, videos):
    picked = trees.select(videos)
    vocabulary = task.fit_vocabulary([trees])
    batch = task.batch(picked, vocabulary)
    examples = task.labelled_examples(picked)
    store = batch["segment"]
    assert batch.num_graphs == examples.num_examples > 0
    assert torch.isfinite(store.x).all() and store.x.shape[1] == 37
    assert torch.equal(store.y >= 0, store.query)
    # Each graph is one subtree: its query is its only root, at the target's level.
    roots = store.child_order < 0
    assert torch.equal(roots, store.query)
    assert torch.equal(store.target_level[store.query], torch.from_numpy(picked.level[examples.target]).long())
    sizes = torch.bincount(store.batch, minlength=batch.num_graphs)
    assert torch.equal(sizes, torch.from_numpy(picked.subtree_size[examples.target]))
    assert (store.level[store.query] == store.target_level[store.query]).all()
    if len(videos) == 4:
        parts = [task.batch(trees.select([v]), vocabulary)["segment"] for v in videos]
        assert torch.equal(store.x, torch.cat([p.x for p in parts]))
        assert torch.equal(store.y, torch.cat([p.y for p in parts]))
