r"""Text-to-segment retrieval loss: InfoNCE of a text query against the segments of its video.

Each query ``q`` (a text embedding, ``[Q, F]``) has one positive segment
(``positive[q]``, a row of the ``[N, F]`` segment embeddings); its negatives
are the other segments **of the same video** (``segment_video`` equal to
``query_video[q]``), the candidates a user ranks when searching inside one
video. The term of ``q`` is

.. math::
    -\log \frac{\exp(s_{q,p} / \tau)}{\sum_{j \in V(q)} \exp(s_{q,j} / \tau)},
    \qquad s = \cos(t_q, z_j),

the CLIP / InfoNCE objective restricted to the query's video. A query whose
video has a single segment has no negative and is excluded (counted in
:attr:`~graphkit.losses.LossOutput.num_excluded`).

Examples:
    >>> import torch
    >>> text = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> segments = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> out = text_segment_infonce(text, segments, torch.tensor([0, 1]), torch.tensor([0, 0]),
    ...                            torch.tensor([0, 0, 1]), temperature=0.1)
    >>> int(out.num_anchors), round(float(out.loss), 4)
    (2, 0.0)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from graphkit.losses.output import LossOutput, reduce_terms

__all__ = ["text_segment_infonce"]


def text_segment_infonce(text: Tensor, segments: Tensor, positive: Tensor, query_video: Tensor,
                         segment_video: Tensor, temperature: float = 0.07, reduction: str = "mean") -> LossOutput:
    """InfoNCE of each text query against the segments of its own video; see the module docstring.

    Args:
        text (torch.Tensor): ``[Q, F]`` query embeddings.
        segments (torch.Tensor): ``[N, F]`` segment embeddings.
        positive (torch.Tensor): ``[Q]`` the segment each query describes.
        query_video (torch.Tensor): ``[Q]`` video of each query.
        segment_video (torch.Tensor): ``[N]`` video of each segment.
        temperature (float, optional): :math:`\\tau`. (default: :obj:`0.07`)
        reduction (str, optional): ``"mean"`` or ``"sum"``. (default: :obj:`"mean"`)

    Returns:
        LossOutput: The loss; anchors are queries with a negative.

    Raises:
        ValueError: If shapes disagree, ``temperature`` is not positive, a
            positive is out of range or lies in another video.
    """
    if text.dim() != 2 or segments.dim() != 2 or text.size(1) != segments.size(1):
        raise ValueError(f"text {tuple(text.shape)} and segments {tuple(segments.shape)} must be [Q, F] and [N, F]")
    if not (positive.shape == query_video.shape == (text.size(0),)) or segment_video.shape != (segments.size(0),):
        raise ValueError("positive and query_video must be [Q], segment_video [N]")
    if not temperature > 0:
        raise ValueError(f"temperature={temperature!r} must be > 0")
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction={reduction!r}; expected 'mean' or 'sum'")
    if positive.numel() and (int(positive.min()) < 0 or int(positive.max()) >= segments.size(0)):
        raise ValueError(f"positive holds segments outside [0, {segments.size(0) - 1}]")
    if positive.numel() and not torch.equal(segment_video[positive], query_video):
        raise ValueError("a query's positive segment lies in another video")
    same = query_video.unsqueeze(1) == segment_video.unsqueeze(0)  # [Q, N] candidates
    scores = F.normalize(text, dim=1) @ F.normalize(segments, dim=1).t() / temperature
    scores = scores.masked_fill(~same, float("-inf"))
    anchors = same.sum(dim=1) > 1
    log_prob = scores.gather(1, positive.unsqueeze(1)).squeeze(1) - torch.logsumexp(scores, dim=1)
    per_anchor = torch.where(anchors, -log_prob, torch.zeros_like(log_prob))
    return reduce_terms((per_anchor, anchors), reduction)
