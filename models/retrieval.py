"""The retrieval task's dual encoder and its scoring: :class:`DualEncoder`, :func:`retrieval_ranks`.

A :class:`DualEncoder` embeds a brief (its hashed bag of words, ``query_x``)
with a small text encoder and every segment with a baseline GNN
(:func:`graphkit.models.registry.build_model`, whose output layer gives the
embedding), both into one space; a query's score for a segment is their
cosine. :func:`retrieval_ranks` ranks, for each query, the segments of its
video (1 = first, ties counted against the query), and
:func:`retrieval_metrics` turns ranks into recall@1/5/10 and the mean rank,
overall and per level of the described segment.

Examples:
    >>> ranks = torch.tensor([1, 3, 12])
    >>> metrics = retrieval_metrics(ranks, torch.tensor([0, 1, 1]))
    >>> metrics["recall@1"], metrics["recall@5"], metrics["mean_rank"], metrics["per_level"][1]["num_queries"]
    (0.3333333333333333, 0.6666666666666666, 5.333333333333333, 2)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from graphkit.models.registry import build_model

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

__all__ = ["DualEncoder", "retrieval_ranks", "retrieval_metrics", "predict_ranks", "RECALL_AT"]

#: The cut-offs of the recalls.
RECALL_AT: tuple[int, ...] = (1, 5, 10)


class DualEncoder(nn.Module):
    """A text encoder for briefs and a GNN for segments, into one embedding space.

    Args:
        model (str): The segment encoder, a name of :data:`graphkit.models.MODELS`.
        in_dim (int): Segment feature width.
        text_dim (int): Width of ``query_x``.
        dim (int, optional): Embedding width. (default: :obj:`64`)
        hidden (int, optional): Hidden width of both encoders. (default: :obj:`64`)
        layers (int, optional): GNN layers (:obj:`None`: the model's own).
        dropout (float, optional): Dropout. (default: :obj:`0.2`)
    """

    def __init__(self, model: str, in_dim: int, text_dim: int, dim: int = 64, hidden: int = 64,
                 layers: int | None = None, dropout: float = 0.2) -> None:
        super().__init__()
        self.segment = build_model(model, in_dim, dim, hidden=hidden, layers=layers, dropout=dropout)
        self.text = nn.Sequential(nn.Linear(text_dim, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, dim))

    def forward(self, batch: HeteroData) -> tuple[Tensor, Tensor]:
        """``([N, dim] query embeddings of every segment's brief, [N, dim] segment embeddings)``, unit rows.

        The segment encoder reads the batch as every baseline does (``x``,
        tree columns, relations), never ``query_x``.
        """
        store = batch["segment"]
        return F.normalize(self.text(store.query_x.float()), dim=1), F.normalize(self.segment(batch), dim=1)


def retrieval_ranks(text: Tensor, segments: Tensor, positive: Tensor, query_video: Tensor,
                    segment_video: Tensor) -> Tensor:
    """``[Q]`` rank (1 = first) of each query's own segment among the segments of its video.

    A segment scoring as high as the positive counts ahead of it, so a
    constant model ranks last, not first.

    Examples:
        >>> text = torch.tensor([[1.0, 0.0]])
        >>> segments = torch.tensor([[0.0, 1.0], [1.0, 0.0], [1.0, 0.1], [5.0, 0.0]])
        >>> retrieval_ranks(text, segments, torch.tensor([1]), torch.tensor([0]), torch.tensor([0, 0, 0, 1])).tolist()
        [2]
    """
    scores = text @ segments.t()
    own = scores.gather(1, positive.unsqueeze(1))
    same = query_video.unsqueeze(1) == segment_video.unsqueeze(0)
    ahead = same & (scores >= own)
    ahead[torch.arange(positive.numel()), positive] = False
    return ahead.sum(dim=1) + 1


def retrieval_metrics(rank: Tensor, level: Tensor) -> dict[str, Any]:
    """Recall@1/5/10, mean rank and ``num_queries``, overall and ``per_level`` (``nan`` without a query)."""

    def score(subset: Tensor) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k in RECALL_AT:
            out[f"recall@{k}"] = (subset <= k).double().mean().item() if subset.numel() else math.nan
        out["mean_rank"] = subset.double().mean().item() if subset.numel() else math.nan
        out["num_queries"] = int(subset.numel())
        return out

    result = score(rank)
    result["per_level"] = {int(depth): score(rank[level == depth]) for depth in torch.unique(level).tolist()}
    return result


@torch.no_grad()
def predict_ranks(model: DualEncoder, batches: Iterable[Any], device: torch.device,
                  mask_name: str | None) -> dict[str, Tensor]:
    """``{"rank", "level"}`` of every query in ``mask_name`` (:obj:`None`: every query) over ``batches``."""
    model.eval()
    ranks, levels = [], []
    for batch in batches:
        batch = batch.to(device)
        store = batch["segment"]
        keep = store.is_query if mask_name is None else store[mask_name]
        if not bool(keep.any()):
            continue
        text, segments = model(batch)
        query = keep.nonzero().squeeze(1)
        ranks.append(retrieval_ranks(text[query], segments, query, store.batch[query], store.batch).cpu())
        levels.append(store.level[query].cpu())
    if not ranks:
        return {"rank": torch.zeros(0, dtype=torch.long), "level": torch.zeros(0, dtype=torch.long)}
    return {"rank": torch.cat(ranks), "level": torch.cat(levels)}
