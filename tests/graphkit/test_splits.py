from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from graphkit.splits import SPLIT_NAMES, TEST, TRAIN, VALID, split_indices, split_masks, split_of

SAMPLE_UIDS = [
    "8JOpXDtraZI", "0Rtv7y3jTBo", "30PLZNxHuUo", "xOuGjjvOdIs", "uGNJCIFy9fE", "uX67f8CTK4w",
    "V_835de6hZM",
]
FAKE_UIDS = [f"vid{i:07d}" for i in range(10_000)]


def test_split_names_and_indices_follow_ogb() -> None:
    assert SPLIT_NAMES == ("train", "valid", "test")
    assert (TRAIN, VALID, TEST) == (0, 1, 2)


def test_split_is_pinned() -> None:
    # The same uid lands in the same split in every process, machine and release.
    assert split_of(SAMPLE_UIDS).tolist() == [0, 0, 0, 0, 2, 0, 1]
    assert split_of(SAMPLE_UIDS, seed=1).tolist() == [0, 0, 0, 1, 1, 2, 0]
    assert split_of(SAMPLE_UIDS, fractions=(0.5, 0.25, 0.25)).tolist() == [2, 0, 1, 1, 2, 0, 2]


def test_split_is_deterministic_and_int8() -> None:
    first = split_of(FAKE_UIDS)
    assert first.dtype == np.int8 and first.shape == (len(FAKE_UIDS),)
    np.testing.assert_array_equal(first, split_of(FAKE_UIDS))


@pytest.mark.parametrize(
    "fractions", [(0.8, 0.1, 0.1), (0.6, 0.2, 0.2), (0.5, 0.5, 0.0), (1 / 3, 1 / 3, 1 / 3)]
)
@pytest.mark.parametrize("seed", [0, 17])
def test_fractions_are_respected_within_two_points(fractions, seed: int) -> None:
    split = split_of(FAKE_UIDS, fractions=fractions, seed=seed)
    observed = np.bincount(split, minlength=3) / len(FAKE_UIDS)
    np.testing.assert_allclose(observed, fractions, atol=0.02)
    for index, fraction in enumerate(fractions):
        if fraction == 0:
            assert not (split == index).any()


def test_split_of_a_video_does_not_depend_on_the_others() -> None:
    full = dict(zip(FAKE_UIDS, split_of(FAKE_UIDS).tolist()))
    rng = np.random.default_rng(0)
    subset = list(rng.choice(FAKE_UIDS, size=500, replace=False))
    assert split_of(subset).tolist() == [full[uid] for uid in subset]
    extended = subset + [f"new{i}" for i in range(300)]
    assert split_of(extended)[:500].tolist() == [full[uid] for uid in subset]


def test_per_node_uids_give_every_node_its_video_split() -> None:
    per_video = split_of(SAMPLE_UIDS)
    node_video = np.repeat(np.arange(len(SAMPLE_UIDS)), [3, 1, 5, 2, 2, 4, 1])
    per_node = split_of(pa.array(SAMPLE_UIDS).take(pa.array(node_video)))
    np.testing.assert_array_equal(per_node, per_video[node_video])


def test_another_seed_gives_another_split() -> None:
    a, b = split_of(FAKE_UIDS, seed=0), split_of(FAKE_UIDS, seed=1)
    assert 0.2 < (a != b).mean() < 0.5


def test_growing_train_only_moves_videos_into_train() -> None:
    small = split_of(FAKE_UIDS, fractions=(0.6, 0.2, 0.2))
    large = split_of(FAKE_UIDS, fractions=(0.8, 0.1, 0.1))
    assert np.all(large[small == TRAIN] == TRAIN)
    assert np.all(small[large == TEST] == TEST)


@pytest.mark.parametrize(
    "make",
    [
        pa.array,
        lambda v: pa.array(v, type=pa.large_string()),
        lambda v: pa.chunked_array([v[:2], v[2:]]),
        lambda v: np.array(v),
        tuple,
    ],
)
def test_input_containers_agree(make) -> None:
    np.testing.assert_array_equal(split_of(make(SAMPLE_UIDS)), split_of(SAMPLE_UIDS))


def test_masks_and_indices_partition_the_input() -> None:
    masks = split_masks(FAKE_UIDS[:1000])
    assert list(masks) == list(SPLIT_NAMES)
    stacked = np.stack(list(masks.values()))
    assert stacked.dtype == bool and np.all(stacked.sum(axis=0) == 1)
    indices = split_indices(FAKE_UIDS[:1000])
    assert list(indices) == list(SPLIT_NAMES)
    for name in SPLIT_NAMES:
        assert indices[name].dtype == np.int64
        np.testing.assert_array_equal(indices[name], np.flatnonzero(masks[name]))


def test_empty_input() -> None:
    assert split_of([]).shape == (0,)
    assert all(len(v) == 0 for v in split_indices(pa.array([], pa.string())).values())


@pytest.mark.parametrize(
    ("fractions", "message"),
    [
        ((0.8, 0.1), "one entry per split"),
        ((0.8, 0.1, 0.2), "must sum to 1"),
        ((1.2, -0.1, -0.1), "non-negative"),
        ((float("nan"), 0.5, 0.5), "finite"),
        (("a", 0.5, 0.5), "three numbers"),
    ],
)
def test_bad_fractions_raise(fractions, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        split_of(SAMPLE_UIDS, fractions=fractions)


def test_bad_uids_and_seeds_raise() -> None:
    with pytest.raises(ValueError, match="video_uids has 1 null values"):
        split_of(["a", None])
    with pytest.raises(TypeError, match="video_uids must be a string array"):
        split_of(pa.array([1, 2]))
    with pytest.raises(TypeError, match="not a single string"):
        split_of("8JOpXDtraZI")
    with pytest.raises(TypeError, match="seed must be an integer"):
        split_of(SAMPLE_UIDS, seed="0")
