"""What every loss of :mod:`graphkit.losses` takes and returns.

* An *anchor* is a node whose loss term is defined: it needs at least one
  positive (another node near it in the tree, a child, a parent). Nodes
  without one are left out of the reduction — never a ``NaN`` — and counted
  as *excluded*.
* The *per-anchor terms* are an ``[N]`` tensor (``[L, N]`` for one term per
  tree level), ``0`` for excluded nodes, with a boolean mask of the anchors.
* The *reduction* (:data:`REDUCTIONS`) turns them into the loss:
  ``"mean"`` over the anchors or their ``"sum"`` (:func:`reduce_terms`).
* A :class:`LossOutput` carries the loss, the anchor and exclusion counts and
  the per-anchor terms.

:func:`check_loss_inputs` checks the arguments the losses share (embeddings,
tree, temperature, reduction).

Examples:
    >>> import torch
    >>> out = reduce_terms((torch.tensor([2.0, 0.0, 4.0]), torch.tensor([True, False, True])), "mean")
    >>> out.loss.item(), int(out.num_anchors), int(out.num_excluded)
    (3.0, 2, 1)
"""

from __future__ import annotations

from typing import NamedTuple

from torch import Tensor

from graphkit.losses.tree import check_parent, check_video

__all__ = ["REDUCTIONS", "LossOutput", "reduce_terms", "check_loss_inputs"]

#: The reductions every loss accepts.
REDUCTIONS = ("mean", "sum")


class LossOutput(NamedTuple):
    """What every loss of :mod:`graphkit.losses` returns.

    Args:
        loss (torch.Tensor): The reduced loss, a scalar (``0`` with a gradient
            when no node is an anchor).
        num_anchors (torch.Tensor): ``long`` count of anchors that entered the
            reduction (``[L]``, one per level, for
            :func:`level_hierarchical_loss`).
        num_excluded (torch.Tensor): ``long`` count of nodes left out because
            they have no positive (same shape as ``num_anchors``).
        per_anchor (torch.Tensor): ``[N]`` loss term of every node, ``0`` for
            excluded nodes (``[L, N]`` for :func:`level_hierarchical_loss`).
        level_losses (torch.Tensor, optional): ``[L]`` loss of each level, after
            the hierarchy constraint, before weighting
            (:func:`level_hierarchical_loss` only).
    """

    loss: Tensor
    num_anchors: Tensor
    num_excluded: Tensor
    per_anchor: Tensor
    level_losses: Tensor | None = None


def reduce_terms(terms: tuple[Tensor, Tensor], reduction: str) -> LossOutput:
    """Reduce per-anchor terms to a :class:`LossOutput`.

    Args:
        terms (tuple[torch.Tensor, torch.Tensor]): ``[N]`` per-anchor terms
            (``0`` for excluded nodes) and the ``[N]`` boolean anchor mask.
        reduction (str): ``"mean"`` over anchors (``0`` when there is none) or
            ``"sum"``.

    Returns:
        LossOutput: The loss, the anchor and excluded counts and the terms.
    """
    per_anchor, counted = terms
    num_anchors = counted.sum()
    total = per_anchor.sum()
    loss = total / num_anchors.clamp(min=1).to(total.dtype) if reduction == "mean" else total
    excluded = counted.numel() - num_anchors
    return LossOutput(loss, num_anchors, excluded, per_anchor)


def check_loss_inputs(
    z: Tensor, parent: Tensor, video: Tensor | None, temperature: float | None, reduction: str
) -> Tensor:
    """Check the arguments the losses share and return ``parent`` on the device of ``z``.

    Args:
        z (torch.Tensor): ``[N, F]`` floating embeddings.
        parent (torch.Tensor): ``[N]`` parent positions, ``-1`` for roots
            (:func:`~graphkit.losses.tree.check_parent`).
        video (torch.Tensor, optional): ``[N]`` video of each node
            (:func:`~graphkit.losses.tree.check_video`); :obj:`None` passes.
        temperature (float, optional): Must be ``> 0``; :obj:`None` for a loss
            without one.
        reduction (str): One of :data:`REDUCTIONS`.

    Returns:
        torch.Tensor: ``[N]`` long parent positions on the device of ``z``.

    Raises:
        ValueError: If an argument is malformed or out of range.
    """
    if not isinstance(z, Tensor) or z.dim() != 2 or not z.is_floating_point():
        shape = tuple(z.shape) if isinstance(z, Tensor) else type(z).__name__
        raise ValueError(f"z must be a 2-D floating tensor [N, F], got {shape}")
    parent = check_parent(parent).to(z.device)
    if parent.numel() != z.size(0):
        raise ValueError(f"parent has {parent.numel()} entries but z has {z.size(0)} rows")
    check_video(video, parent)
    if temperature is not None and not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return parent
