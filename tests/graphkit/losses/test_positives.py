"""Cross-video positives (:mod:`graphkit.losses.positives`) and Tree-SupCon with extra positives."""

from __future__ import annotations

import pytest
import torch

from graphkit import losses as L
from graphkit.losses import positives as P
from graphkit.losses import reference as naive
from tests.graphkit.losses.helpers import random_forest


def captions(num_nodes: int, seed: int, *, blank_every: int = 5) -> torch.Tensor:
    """Embeddings drawn around 4 "steps" (so that close pairs exist), every ``blank_every``-th row zero."""
    generator = torch.Generator().manual_seed(seed)
    steps = torch.randn(4, 16, generator=generator)
    which = torch.randint(0, 4, (num_nodes,), generator=generator)
    text = steps[which] + 0.3 * torch.randn(num_nodes, 16, generator=generator)
    text[::blank_every] = 0
    return text


def brute_force_positives(text: torch.Tensor, video: torch.Tensor, k: int, threshold: float) -> list[list[int]]:
    """The pairs written out one anchor at a time."""
    pairs = []
    for i in range(len(text)):
        if not text[i].any():
            continue
        scored = []
        for j in range(len(text)):
            if video[j] != video[i] and text[j].any():
                scored.append((float(torch.cosine_similarity(text[i], text[j], dim=0)), j))
        scored.sort(key=lambda item: -item[0])
        pairs += [[i, j] for similarity, j in scored[:k] if similarity >= threshold]
    return pairs


@pytest.mark.parametrize("k, threshold", [(1, 0.5), (3, 0.8), (50, -0.5)])
def test_positives_are_the_nearest_captions_of_other_videos(k, threshold):
    parent, video = random_forest([13, 9, 11], 3)
    text = captions(len(parent), 3)
    pairs = P.cross_video_positives(text, video, k=k, threshold=threshold)
    expected = brute_force_positives(text, video, k, threshold)
    assert pairs.dtype == torch.long and pairs.shape == (2, len(expected)) and len(expected) > 0
    assert sorted(map(tuple, pairs.t().tolist())) == sorted(map(tuple, expected))
    assert bool((video[pairs[0]] != video[pairs[1]]).all())
    assert not text[pairs.flatten()].eq(0).all(dim=1).any()  # a node without a caption takes no part


def test_chunked_similarities_give_the_same_pairs(monkeypatch):
    _, video = random_forest([21, 17, 9], 4)
    text = captions(len(video), 4)
    whole = P.cross_video_positives(text, video, k=4, threshold=0.6)
    monkeypatch.setattr(P, "ROWS_PER_CHUNK", 5)
    torch.testing.assert_close(P.cross_video_positives(text, video, k=4, threshold=0.6), whole)


def test_one_video_or_no_caption_gives_no_pair():
    text = captions(10, 5)
    assert P.cross_video_positives(text, torch.zeros(10, dtype=torch.long)).shape == (2, 0)
    assert P.cross_video_positives(torch.zeros(6, 4), torch.tensor([0, 0, 1, 1, 2, 2])).shape == (2, 0)
    assert P.cross_video_positives(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long)).shape == (2, 0)


@pytest.mark.parametrize("arguments, message", [
    ({"k": 0}, "k must be a positive int"),
    ({"k": 2.5}, "k must be a positive int"),
    ({"threshold": 1.5}, "must lie in"),
    ({"threshold": -1.0}, "must lie in"),
])
def test_bad_arguments_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        P.cross_video_positives(torch.ones(3, 2), torch.tensor([0, 1, 2]), **arguments)
    with pytest.raises(ValueError, match=r"must be \[N, D\]"):
        P.cross_video_positives(torch.ones(3, 2), torch.tensor([0, 1]))


def test_supcon_with_extra_positives_matches_the_reference_and_its_gradient():
    parent, video = random_forest([9, 7, 1, 5], 6)  # a one-node tree: an anchor only through an extra pair
    text = captions(len(parent), 6, blank_every=7)
    pairs = P.cross_video_positives(text, video, k=2, threshold=0.3)
    lone = int(torch.nonzero(torch.bincount(video)[video] == 1)[0])
    assert lone in pairs[0].tolist()
    z = torch.randn(len(parent), 8, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    ours_z, naive_z = z.clone().requires_grad_(), z.clone().requires_grad_()
    out = L.tree_supcon_loss(ours_z, parent, video, max_distance=2, temperature=0.2, extra_positives=pairs)
    expected, excluded = naive.naive_tree_supcon_loss(naive_z, parent, video, max_distance=2, temperature=0.2,
                                                      extra_positives=pairs)
    torch.testing.assert_close(out.loss, expected)
    assert int(out.num_excluded) == excluded
    out.loss.backward()
    expected.backward()
    torch.testing.assert_close(ours_z.grad, naive_z.grad)
    plain = L.tree_supcon_loss(z, parent, video, max_distance=2, temperature=0.2)
    assert int(out.num_anchors) == int(plain.num_anchors) + 1  # the lone node
    assert not torch.isclose(out.loss, plain.loss)


def test_no_extra_pair_changes_nothing_and_a_repeated_pair_counts_once():
    parent, video = random_forest([9, 7], 7)
    z = torch.randn(len(parent), 8, generator=torch.Generator().manual_seed(7))
    plain = L.tree_supcon_loss(z, parent, video)
    none = L.tree_supcon_loss(z, parent, video, extra_positives=torch.empty(2, 0, dtype=torch.long))
    assert torch.equal(plain.loss, none.loss) and torch.equal(plain.per_anchor, none.per_anchor)
    first, second = int(torch.nonzero(video == 0)[0]), int(torch.nonzero(video == 1)[0])
    once = L.tree_supcon_loss(z, parent, video, extra_positives=torch.tensor([[first], [second]]))
    twice = L.tree_supcon_loss(z, parent, video, extra_positives=torch.tensor([[first, first], [second, second]]))
    assert torch.equal(once.per_anchor, twice.per_anchor)
    assert not torch.equal(once.per_anchor, plain.per_anchor)


def test_bad_extra_positives_are_refused():
    parent, video = random_forest([5, 5], 8, shuffle=False)
    z = torch.randn(10, 4)
    with pytest.raises(ValueError, match="within one tree"):
        L.tree_supcon_loss(z, parent, video, extra_positives=torch.tensor([[0], [1]]))
    with pytest.raises(ValueError, match="outside"):
        L.tree_supcon_loss(z, parent, video, extra_positives=torch.tensor([[0], [10]]))
    with pytest.raises(ValueError, match=r"\[2, E\] integer"):
        L.tree_supcon_loss(z, parent, video, extra_positives=torch.tensor([[0.0], [6.0]]))
    with pytest.raises(ValueError, match=r"\[2, E\] integer"):
        L.tree_supcon_loss(z, parent, video, extra_positives=torch.tensor([0, 6]))
