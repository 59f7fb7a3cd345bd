from __future__ import annotations

import math

import pytest
import torch

from graphkit.losses import text_segment_infonce


def test_matches_a_per_query_cross_entropy_over_its_video():
    g = torch.Generator().manual_seed(0)
    text, segments = torch.randn(3, 4, generator=g), torch.randn(5, 4, generator=g)
    positive, query_video = torch.tensor([0, 2, 4]), torch.tensor([0, 0, 1])
    segment_video = torch.tensor([0, 0, 0, 1, 1])
    out = text_segment_infonce(text, segments, positive, query_video, segment_video, temperature=0.5)
    expected = []
    for q in range(3):
        candidates = (segment_video == query_video[q]).nonzero().squeeze(1)
        scores = torch.nn.functional.cosine_similarity(text[q].unsqueeze(0), segments[candidates]) / 0.5
        target = (candidates == positive[q]).nonzero().item()
        expected.append(torch.nn.functional.cross_entropy(scores.unsqueeze(0), torch.tensor([target])))
    assert out.loss.item() == pytest.approx(torch.stack(expected).mean().item(), rel=1e-5)
    assert int(out.num_anchors) == 3 and int(out.num_excluded) == 0


def test_a_query_alone_in_its_video_is_excluded_and_gradients_flow():
    text = torch.randn(2, 3, requires_grad=True)
    segments = torch.randn(3, 3, requires_grad=True)
    out = text_segment_infonce(text, segments, torch.tensor([0, 2]), torch.tensor([0, 1]), torch.tensor([0, 0, 1]))
    assert int(out.num_anchors) == 1 and int(out.num_excluded) == 1 and math.isfinite(out.loss.item())
    out.loss.backward()
    assert text.grad.abs().sum() > 0 and segments.grad.abs().sum() > 0


def test_a_positive_in_another_video_is_refused():
    with pytest.raises(ValueError, match="another video"):
        text_segment_infonce(torch.randn(1, 2), torch.randn(2, 2), torch.tensor([1]), torch.tensor([0]),
                             torch.tensor([0, 1]))
