r"""Positives across videos: segments of other videos whose captions say the same thing.

The tree losses of :mod:`graphkit.losses.contrastive` take their positives
from the anchor's own tree, so every segment of every other video is a
negative, including the many that show the same step. :func:`cross_video_positives`
gives each segment the segments of *other* videos of the batch whose caption
embeddings (for example ``plm_action`` embedded by MiniLM, through the
embedding cache) are its nearest neighbours:

* a *candidate* of anchor :math:`i` is a node :math:`j` of another video
  whose embedding is not zero (a node without the caption has none);
* :math:`j` is a positive of :math:`i` when it is among the :math:`k`
  candidates most similar to :math:`i` (cosine) and that similarity is at
  least the threshold.

The pairs are directed (anchor, positive) rows of a ``[2, E]`` tensor, ready
for ``tree_supcon_loss(..., extra_positives=pairs)``. Similarities are
computed :data:`ROWS_PER_CHUNK` anchors at a time, so memory is
``ROWS_PER_CHUNK x N`` whatever the batch.

Examples:
    >>> import torch
    >>> text = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.1], [0.0, 0.0]])
    >>> video = torch.tensor([0, 0, 1, 1])
    >>> cross_video_positives(text, video, k=1, threshold=0.9).tolist()
    [[0, 2], [2, 0]]
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["ROWS_PER_CHUNK", "cross_video_positives"]

#: Anchors whose similarities to the whole batch are computed at once.
ROWS_PER_CHUNK = 4096


@torch.no_grad()
def cross_video_positives(embedding: Tensor, video: Tensor, *, k: int = 5, threshold: float = 0.8) -> Tensor:
    """Each node's ``k`` nearest nodes of other videos, at cosine ``>= threshold``.

    Args:
        embedding (torch.Tensor): ``[N, D]`` caption embeddings; a zero row
            (no caption) is nobody's positive and has none.
        video (torch.Tensor): ``[N]`` video of each node.
        k (int, optional): Most positives per anchor. (default: :obj:`5`)
        threshold (float, optional): Least cosine similarity of a positive,
            in ``(-1, 1]``. (default: :obj:`0.8`)

    Returns:
        torch.Tensor: ``[2, E]`` long (anchor, positive) positions, sorted by
        anchor, then by decreasing similarity; the two always lie in
        different videos.

    Raises:
        ValueError: If shapes disagree, ``k`` is not a positive int or
            ``threshold`` lies outside ``(-1, 1]``.
    """
    if embedding.dim() != 2 or video.shape != (embedding.size(0),):
        raise ValueError(f"embedding {tuple(embedding.shape)} must be [N, D] and video {tuple(video.shape)} [N]")
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    if not -1.0 < threshold <= 1.0:
        raise ValueError(f"threshold={threshold!r} must lie in (-1, 1]")
    num_nodes = embedding.size(0)
    empty = torch.empty(2, 0, dtype=torch.long, device=embedding.device)
    if num_nodes == 0:
        return empty
    unit = F.normalize(embedding.float(), dim=1)
    has_text = embedding.abs().sum(dim=1) > 0
    width = min(k, num_nodes)
    anchors, positives = [], []
    for start in range(0, num_nodes, ROWS_PER_CHUNK):
        rows = slice(start, min(start + ROWS_PER_CHUNK, num_nodes))
        similarity = unit[rows] @ unit.T
        candidate = (video[rows, None] != video[None, :]) & has_text[None, :] & has_text[rows, None]
        similarity = similarity.masked_fill(~candidate, float("-inf"))
        best, where = similarity.topk(width, dim=1)
        keep = best >= threshold  # -inf (no candidate) never passes
        row_of = torch.arange(rows.start, rows.stop, device=embedding.device)[:, None].expand_as(where)
        anchors.append(row_of[keep])
        positives.append(where[keep])
    return torch.stack([torch.cat(anchors), torch.cat(positives)])
