r"""Contrastive losses that read the Tree-of-Captions hierarchy.

A batch of ``N`` segment embeddings ``z`` (``[N, F]``) comes with the tree it
was drawn from: ``parent`` (``[N]``, the batch position of each node's parent,
``-1`` for a root, as in :attr:`graphkit.tree.TreeBatch.parent`) and,
optionally, ``video`` (``[N]``, the video of each node, as
:attr:`~graphkit.tree.TreeBatch.video_index` or a PyG store's ``batch``). The
batch must be closed under parents: every parent index points into the batch.
Nodes of different trees are unrelated: their tree distance is infinite.

Tree utilities (all vectorized, one tensor operation per tree level):

* :func:`ancestor_paths` — the root-to-node path of every node as one padded
  row: ``paths[i, k]`` is the ancestor of ``i`` at depth ``k``,
  ``paths[i, depth(i)] == i``, ``-1`` after that;
* :func:`lca_depth` — the depth of the lowest common ancestor of every pair,
  by comparing padded paths column by column (paths of one tree share a
  prefix up to the ancestor, and only up to it);
* :func:`tree_distance` — the number of tree edges between two nodes,
  :math:`d(i, j) = \mathrm{depth}(i) + \mathrm{depth}(j) - 2\,\mathrm{depth}(\mathrm{lca}(i, j))`,
  ``inf`` across trees.

Losses (each a function returning a :class:`LossOutput`):

* :func:`tree_supcon_loss` — supervised contrastive loss (Khosla et al., 2020)
  whose positives are the nodes within tree distance ``k`` of the anchor;
* :func:`level_hierarchical_loss` — one supervised contrastive term per tree
  level, positives sharing the ancestor at that level, weighted and optionally
  constrained to grow with depth (HiMulCon, Zhang et al., CVPR 2022);
* :func:`tree_distance_infonce` — cross-entropy between the similarity softmax
  and soft targets that decay with tree distance;
* :func:`parent_child_aggregation_loss` — the aggregate of a parent's children
  must retrieve the parent among all parents of the batch (HierVL, Ashutosh et
  al., CVPR 2023);
* :func:`entailment_cone_loss` — in the Lorentz model of hyperbolic space,
  every child lies inside its parent's entailment cone (MERU, Desai et al.,
  ICML 2023), with the Lorentz helpers :func:`exp_map0`,
  :func:`lorentz_inner`, :func:`lorentz_distance`, :func:`half_aperture` and
  :func:`exterior_angle`.

**Cost.** The contrastive losses need the ``[N, N]`` similarity matrix (every
other node of the batch is a negative), so time and memory grow as ``N^2``:
a few ``N x N`` float tensors, 1 GiB each at ``N = 16384`` in float32. Tree
structure only matters inside a tree, so it is computed on diagonal tiles that
hold whole trees (``sum n_tree^2`` pairs, not ``N^2``): nodes are regrouped by
tree internally and every per-node output comes back in the batch's order.

An *anchor* is a node whose loss term is defined: it needs at least one
positive (another node near it in the tree, a child, a parent). Nodes without
one are left out of the reduction — never a ``NaN`` — and counted in
:attr:`LossOutput.num_excluded`. Every loss runs on the device of ``z``, in
its dtype, and works for one video or many.

Examples:
    >>> import torch
    >>> parent = torch.tensor([-1, 0, 0, 1, 1, -1, 5, 5])  # two videos
    >>> ancestor_paths(parent).tolist()[:5]
    [[0, -1, -1], [0, 1, -1], [0, 2, -1], [0, 1, 3], [0, 1, 4]]
    >>> tree_distance(parent)[3].tolist()
    [2.0, 1.0, 3.0, 0.0, 2.0, inf, inf, inf]
    >>> z = torch.randn(8, 16, generator=torch.Generator().manual_seed(0))
    >>> out = tree_supcon_loss(z, parent, max_distance=1)
    >>> out.loss.shape, int(out.num_anchors), int(out.num_excluded)
    (torch.Size([]), 8, 0)
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "LossOutput",
    "ancestor_paths",
    "lca_depth",
    "tree_distance",
    "parent_index",
    "tree_supcon_loss",
    "level_hierarchical_loss",
    "tree_distance_infonce",
    "parent_child_aggregation_loss",
    "entailment_cone_loss",
    "exp_map0",
    "lorentz_time",
    "lorentz_inner",
    "lorentz_distance",
    "half_aperture",
    "exterior_angle",
]

logger = logging.getLogger(__name__)

REDUCTIONS = ("mean", "sum")
AGGREGATES = ("mean", "attention")


class LossOutput(NamedTuple):
    """What every loss of this module returns.

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


# -- tree utilities -----------------------------------------------------------


def ancestor_paths(parent: Tensor, max_depth: int | None = None) -> Tensor:
    """The root-to-node path of every node, padded to one width.

    Built by repeated gathers, one per tree level: column ``s`` of the
    intermediate table is each node's ancestor ``s`` steps up; each row is then
    turned around so that the root comes first.

    Args:
        parent (torch.Tensor): ``[N]`` integer position of each node's parent,
            ``-1`` for a root.
        max_depth (int, optional): Depth of the deepest node allowed; the
            result then has exactly ``max_depth + 1`` columns and the loop runs
            a fixed number of steps (no device synchronisation per level).
            When :obj:`None`, the width is the batch's own depth + 1.
            (default: :obj:`None`)

    Returns:
        torch.Tensor: ``[N, D]`` long; ``paths[i, k]`` is the ancestor of ``i``
        at depth ``k`` (``paths[i, 0]`` its root, ``paths[i, depth(i)] == i``)
        and ``-1`` for ``k > depth(i)``.

    Raises:
        ValueError: If ``parent`` is not a 1-D integer tensor of positions in
            ``[-1, N)``, if it has a cycle, or if a node is deeper than
            ``max_depth``.

    Examples:
        >>> ancestor_paths(torch.tensor([-1, 0, 0, 2])).tolist()
        [[0, -1, -1], [0, 1, -1], [0, 2, -1], [0, 2, 3]]
        >>> ancestor_paths(torch.tensor([-1, 0]), max_depth=3).tolist()
        [[0, -1, -1, -1], [0, 1, -1, -1]]
    """
    parent = _check_parent(parent)
    num_nodes = parent.numel()
    if max_depth is not None and (not isinstance(max_depth, int) or max_depth < 0):
        raise ValueError(f"max_depth must be a non-negative int or None, got {max_depth!r}")
    up = [torch.arange(num_nodes, device=parent.device)]
    current = parent
    steps = num_nodes if max_depth is None else max_depth
    for _ in range(steps):
        if max_depth is None and not bool((current >= 0).any()):
            break
        up.append(current)
        current = torch.where(current >= 0, parent[current.clamp(min=0)], current)
    if bool((current >= 0).any()):
        node = int(torch.nonzero(current >= 0)[0])
        if max_depth is None:
            raise ValueError(f"parent has a cycle through node {node}")
        raise ValueError(f"node {node} is deeper than max_depth={max_depth} (or on a cycle)")
    steps_up = torch.stack(up, dim=1)  # [N, S]: ancestor s steps up, -1 beyond the root
    depth = (steps_up >= 0).sum(dim=1) - 1
    width = len(up) if max_depth is None else max_depth + 1
    offset = depth[:, None] - torch.arange(width, device=parent.device)[None, :]
    paths = steps_up.gather(1, offset.clamp(0, len(up) - 1))
    return paths.masked_fill(offset < 0, -1)


def lca_depth(paths_a: Tensor, paths_b: Tensor) -> Tensor:
    """Depth of the lowest common ancestor of every pair of nodes.

    Two paths of one tree agree exactly up to the lowest common ancestor, so
    its depth is the number of agreeing columns minus one. Columns are compared
    one at a time (``D`` passes over ``[A, B]``), never as an ``[A, B, D]`` block.

    Args:
        paths_a (torch.Tensor): ``[A, D]`` rows of :func:`ancestor_paths`.
        paths_b (torch.Tensor): ``[B, D']`` rows of :func:`ancestor_paths` of the
            same batch (node positions must mean the same nodes).

    Returns:
        torch.Tensor: ``[A, B]`` int16 depth of the lowest common ancestor,
        ``-1`` for nodes of different trees.

    Examples:
        >>> paths = ancestor_paths(torch.tensor([-1, 0, 0, 2, -1]))
        >>> lca_depth(paths, paths).tolist()
        [[0, 0, 0, 0, -1], [0, 1, 0, 0, -1], [0, 0, 1, 1, -1], [0, 0, 1, 2, -1], [-1, -1, -1, -1, 0]]
    """
    if paths_a.dim() != 2 or paths_b.dim() != 2:
        raise ValueError(
            f"paths must be 2-D [nodes, depth], got shapes {tuple(paths_a.shape)} and {tuple(paths_b.shape)}"
        )
    # Padding of b becomes -2 so that padding never equals padding.
    padded_b = paths_b.masked_fill(paths_b < 0, -2)
    shared = torch.zeros(paths_a.size(0), paths_b.size(0), dtype=torch.int16, device=paths_a.device)
    for column in range(min(paths_a.size(1), paths_b.size(1))):
        shared += paths_a[:, column, None] == padded_b[None, :, column]
    return shared - 1


def tree_distance(
    parent: Tensor, video: Tensor | None = None, *, dtype: torch.dtype = torch.float32
) -> Tensor:
    r"""Number of tree edges between every pair of nodes.

    .. math::
        d(i, j) = \mathrm{depth}(i) + \mathrm{depth}(j) - 2\,\mathrm{depth}(\mathrm{lca}(i, j))

    for nodes of one tree, ``inf`` for nodes of different trees (different
    videos).

    Args:
        parent (torch.Tensor): ``[N]`` parent positions, ``-1`` for roots.
        video (torch.Tensor, optional): ``[N]`` video of each node; only checked
            against ``parent`` (a parent belongs to its child's video).
            (default: :obj:`None`)
        dtype (torch.dtype, optional): Floating dtype of the result.
            (default: :obj:`torch.float32`)

    Returns:
        torch.Tensor: ``[N, N]`` symmetric distances, ``0`` on the diagonal.

    Raises:
        ValueError: If ``parent`` or ``video`` is malformed.

    Examples:
        >>> tree_distance(torch.tensor([-1, 0, 0, 2, -1])).tolist()[1]
        [1.0, 0.0, 2.0, 3.0, inf]
    """
    parent = _check_parent(parent)
    _check_video(video, parent)
    depth, lca = _depth_and_lca(parent)
    distance = (depth[:, None] + depth[None, :] - 2 * lca).to(dtype)
    return distance.masked_fill(lca < 0, math.inf)


def parent_index(edge_index: Tensor, num_nodes: int) -> Tensor:
    """The ``parent`` vector of a ``('segment', 'parent_of', 'segment')`` edge index.

    Args:
        edge_index (torch.Tensor): ``[2, E]`` parent → child edges, e.g.
            ``batch['segment', 'parent_of', 'segment'].edge_index`` of
            :func:`graphkit.pyg.to_hetero_batch`.
        num_nodes (int): Number of segments ``N``.

    Returns:
        torch.Tensor: ``[N]`` long parent positions, ``-1`` for roots.

    Raises:
        ValueError: If ``edge_index`` is not ``[2, E]`` or a node has two parents.

    Examples:
        >>> parent_index(torch.tensor([[0, 0, 2], [1, 2, 3]]), 5).tolist()
        [-1, 0, 0, 2, -1]
    """
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"edge_index must have shape [2, E], got {tuple(edge_index.shape)}")
    source, target = edge_index.long()
    if target.numel() != torch.unique(target).numel():
        raise ValueError("a node has more than one parent in edge_index")
    parent = torch.full((num_nodes,), -1, dtype=torch.long, device=edge_index.device)
    parent[target] = source
    return parent


# -- contrastive losses -------------------------------------------------------


def tree_supcon_loss(
    z: Tensor,
    parent: Tensor,
    video: Tensor | None = None,
    *,
    max_distance: int = 2,
    temperature: float = 0.1,
    normalize: bool = True,
    reduction: str = "mean",
) -> LossOutput:
    r"""Supervised contrastive loss whose positives are the tree neighbourhood.

    For anchor :math:`i` with positives
    :math:`P(i) = \{p \ne i : d(i, p) \le k\}` (same tree, tree distance at most
    ``max_distance``) and cosine similarities :math:`s_{ij}`:

    .. math::
        \ell_i = -\frac{1}{|P(i)|} \sum_{p \in P(i)}
            \log \frac{\exp(s_{ip} / \tau)}{\sum_{a \ne i} \exp(s_{ia} / \tau)}

    The denominator runs over every other node of the batch, so other videos
    are negatives (Khosla et al., "Supervised Contrastive Learning", 2020,
    :math:`\mathcal{L}^{sup}_{out}`).

    Args:
        z (torch.Tensor): ``[N, F]`` embeddings.
        parent (torch.Tensor): ``[N]`` parent positions, ``-1`` for roots.
        video (torch.Tensor, optional): ``[N]`` video of each node, checked
            against ``parent``. (default: :obj:`None`)
        max_distance (int, optional): The ``k`` of the positive set.
            (default: :obj:`2`)
        temperature (float, optional): :math:`\tau`. (default: :obj:`0.1`)
        normalize (bool, optional): L2-normalise ``z`` first (cosine
            similarity). (default: :obj:`True`)
        reduction (str, optional): ``"mean"`` over anchors or ``"sum"``.
            (default: :obj:`"mean"`)

    Returns:
        LossOutput: Anchors are nodes with at least one positive (a single-node
        tree has none).

    Raises:
        ValueError: If an argument is malformed or out of range.

    Examples:
        >>> z = torch.randn(5, 8, generator=torch.Generator().manual_seed(1))
        >>> out = tree_supcon_loss(z, torch.tensor([-1, 0, 0, -1, -1]), max_distance=1)
        >>> int(out.num_anchors), int(out.num_excluded), bool(out.loss > 0)
        (3, 2, True)
    """
    parent = _check_inputs(z, parent, video, temperature, reduction)
    if not isinstance(max_distance, int) or max_distance < 1:
        raise ValueError(f"max_distance must be a positive int, got {max_distance!r}")

    def tile_terms(logits: Tensor, log_normalizer: Tensor, paths: Tensor) -> tuple[Tensor, Tensor]:
        depth, lca = _depth(paths), lca_depth(paths, paths)
        positive = (lca >= 0) & (depth[:, None] + depth[None, :] - 2 * lca <= max_distance)
        positive.fill_diagonal_(False)
        num_positive = positive.sum(dim=1)
        # -mean_p log p(p | i) = logsumexp_i - mean_p logit_ip
        mean_logit = torch.where(positive, logits, 0.0).sum(dim=1) / num_positive.clamp(min=1).to(logits.dtype)
        counted = num_positive > 0
        return (log_normalizer - mean_logit).masked_fill(~counted, 0.0), counted

    per_anchor, counted = _by_tree_tiles(z, parent, temperature, normalize, tile_terms)
    return _reduce((per_anchor, counted), reduction)


def level_hierarchical_loss(
    z: Tensor,
    parent: Tensor,
    video: Tensor | None = None,
    *,
    levels: Sequence[int] | None = None,
    weights: Sequence[float] | Tensor | None = None,
    temperature: float = 0.1,
    hierarchy_constraint: bool = False,
    exclusive_levels: bool = False,
    normalize: bool = True,
    reduction: str = "mean",
) -> LossOutput:
    r"""One supervised contrastive term per tree level (HiMulCon).

    After Zhang et al., "Use All The Labels: A Hierarchical Multi-Label
    Contrastive Learning Framework" (CVPR 2022), with the tree levels as the
    label hierarchy. At level :math:`l`, the positives of node :math:`i` are the
    other nodes that share its ancestor at depth :math:`l`,
    :math:`P_l(i) = \{p \ne i : A_l(p) = A_l(i)\}`; a node shallower than
    :math:`l` has no such ancestor and no positive there. Each level's positive
    set is a set: a pair enters a level's term once. With ``exclusive_levels``
    a pair counts only at the depth of its lowest common ancestor (the analogue
    of HiMulCon collapsing each finer group before the next level).

    .. math::
        \mathcal{L}_l = \frac{1}{|I_l|} \sum_{i \in I_l} -\frac{1}{|P_l(i)|}
            \sum_{p \in P_l(i)} \log \frac{\exp(s_{ip}/\tau)}{\sum_{a \ne i} \exp(s_{ia}/\tau)},
        \qquad \mathcal{L} = \sum_l \lambda_l \tilde{\mathcal{L}}_l

    where :math:`I_l` are the anchors of level :math:`l` (nodes with
    :math:`P_l(i) \ne \emptyset`). Without the hierarchy constraint
    :math:`\tilde{\mathcal{L}}_l = \mathcal{L}_l`; with it, levels are visited
    from the root down and
    :math:`\tilde{\mathcal{L}}_l = \max(\mathcal{L}_l, \tilde{\mathcal{L}}_{l'})`
    for the previous non-empty level :math:`l'`, so a deeper level's loss is
    never below a shallower one's. Levels without anchors contribute nothing.

    Args:
        z (torch.Tensor): ``[N, F]`` embeddings.
        parent (torch.Tensor): ``[N]`` parent positions, ``-1`` for roots.
        video (torch.Tensor, optional): ``[N]`` video of each node, checked
            against ``parent``. (default: :obj:`None`)
        levels (Sequence[int], optional): The ancestor depths :math:`l` used,
            in any order; level ``0`` (the root) groups whole videos. When
            :obj:`None`, every depth of the batch. (default: :obj:`None`)
        weights (Sequence[float] or torch.Tensor, optional): :math:`\lambda_l`,
            one per entry of ``levels``; :obj:`None` gives ``1 / len(levels)``
            each. (default: :obj:`None`)
        temperature (float, optional): :math:`\tau`. (default: :obj:`0.1`)
        hierarchy_constraint (bool, optional): Apply the running maximum from
            shallow to deep levels. (default: :obj:`False`)
        exclusive_levels (bool, optional): Count each pair only at the level of
            its lowest common ancestor. (default: :obj:`False`)
        normalize (bool, optional): L2-normalise ``z`` first.
            (default: :obj:`True`)
        reduction (str, optional): ``"mean"`` or ``"sum"`` over each level's
            anchors. (default: :obj:`"mean"`)

    Returns:
        LossOutput: ``num_anchors``, ``num_excluded`` and ``level_losses`` have
        one entry per level (in the order of ``levels``), ``per_anchor`` is
        ``[L, N]``.

    Raises:
        ValueError: If an argument is malformed, a level is negative or the
            weights do not match the levels.

    Examples:
        >>> z = torch.randn(5, 8, generator=torch.Generator().manual_seed(2))
        >>> out = level_hierarchical_loss(z, torch.tensor([-1, 0, 0, 1, 1]), levels=[0, 1])
        >>> out.num_anchors.tolist(), out.num_excluded.tolist()
        ([5, 3], [0, 2])
    """
    parent = _check_inputs(z, parent, video, temperature, reduction)
    if levels is None:
        levels = list(range(int(ancestor_paths(parent).size(1))))
    levels = [int(level) for level in levels]
    if not levels or min(levels) < 0:
        raise ValueError(f"levels must be a non-empty sequence of depths >= 0, got {levels!r}")
    weight = _level_weights(weights, len(levels), z)

    def tile_terms(logits: Tensor, log_normalizer: Tensor, paths: Tensor) -> tuple[Tensor, Tensor]:
        # The positives of i at level l are the subtree of its level-l ancestor a, less i itself, so
        # -mean_p log p(p | i) = logsumexp_i - subtree_logits[a, i] / (size(a) - 1): one table of
        # subtree sums serves every level, built bottom-up with one index_add per depth.
        num_nodes = logits.size(0)
        depth = _depth(paths)
        subtree_logits = logits.masked_fill(torch.eye(num_nodes, dtype=torch.bool, device=logits.device), 0.0)
        for level in range(paths.size(1) - 1, 0, -1):
            nodes = torch.nonzero(depth == level).flatten()
            subtree_logits.index_add_(0, paths[nodes, level - 1], subtree_logits[nodes])
        subtree_size = torch.bincount(paths[paths >= 0], minlength=num_nodes)
        anchor = torch.arange(num_nodes, device=logits.device)

        def subtree_at(level: int) -> tuple[Tensor, Tensor]:
            """Per anchor: sum of logits to, and number of, the others in its level-l subtree."""
            if level >= paths.size(1):
                return logits.new_zeros(num_nodes), torch.zeros_like(depth)
            group = paths[:, level]
            inside = group >= 0
            total = torch.where(inside, subtree_logits[group.clamp(min=0), anchor], 0.0)
            return total, torch.where(inside, subtree_size[group.clamp(min=0)] - 1, 0)

        terms, counted = [], []
        for level in levels:
            total, count = subtree_at(level)
            if exclusive_levels:  # leave out the pairs that also share the next level's ancestor
                deeper_total, deeper_count = subtree_at(level + 1)
                total, count = total - deeper_total, count - deeper_count
            has_positive = count > 0
            mean_logit = total / count.clamp(min=1).to(logits.dtype)
            terms.append((log_normalizer - mean_logit).masked_fill(~has_positive, 0.0))
            counted.append(has_positive)
        return torch.stack(terms), torch.stack(counted)

    per_anchor, counted = _by_tree_tiles(z, parent, temperature, normalize, tile_terms, local_paths=True)
    terms, anchors, losses = per_anchor.unbind(), counted.unbind(), []
    for level_terms, level_counted in zip(terms, anchors):
        losses.append(_reduce((level_terms, level_counted), reduction).loss)
    level_losses = torch.stack(losses)
    num_anchors = torch.stack([counted.sum() for counted in anchors])
    if hierarchy_constraint:
        level_losses = _running_max_by_depth(level_losses, levels, num_anchors > 0)
    loss = (weight * level_losses).sum()
    return LossOutput(loss, num_anchors, z.size(0) - num_anchors, per_anchor, level_losses)


def tree_distance_infonce(
    z: Tensor,
    parent: Tensor,
    video: Tensor | None = None,
    *,
    temperature: float = 0.1,
    beta: float = 1.0,
    normalize: bool = True,
    reduction: str = "mean",
) -> LossOutput:
    r"""InfoNCE with soft targets that decay with tree distance.

    For anchor :math:`i`, the predicted distribution over the other nodes is
    :math:`p_{ij} = \operatorname{softmax}_{j \ne i}(s_{ij} / \tau)` and the
    target is :math:`q_{ij} \propto \exp(-\beta\, d(i, j))` over the other nodes
    of the same tree (nodes of other trees are at distance :math:`\infty`, so
    :math:`q_{ij} = 0`):

    .. math::
        \ell_i = -\sum_{j \ne i} q_{ij} \log p_{ij}

    The minimum of :math:`\ell_i` is the entropy of :math:`q_{i\cdot}`, not zero.

    Args:
        z (torch.Tensor): ``[N, F]`` embeddings.
        parent (torch.Tensor): ``[N]`` parent positions, ``-1`` for roots.
        video (torch.Tensor, optional): ``[N]`` video of each node, checked
            against ``parent``. (default: :obj:`None`)
        temperature (float, optional): :math:`\tau`. (default: :obj:`0.1`)
        beta (float, optional): :math:`\beta`, how fast targets decay with
            distance; must be ``>= 0``. (default: :obj:`1.0`)
        normalize (bool, optional): L2-normalise ``z`` first.
            (default: :obj:`True`)
        reduction (str, optional): ``"mean"`` over anchors or ``"sum"``.
            (default: :obj:`"mean"`)

    Returns:
        LossOutput: Anchors are nodes with another node in their tree.

    Raises:
        ValueError: If an argument is malformed or out of range.

    Examples:
        >>> z = torch.randn(4, 8, generator=torch.Generator().manual_seed(3))
        >>> out = tree_distance_infonce(z, torch.tensor([-1, 0, 0, -1]), beta=2.0)
        >>> int(out.num_anchors), int(out.num_excluded)
        (3, 1)
    """
    parent = _check_inputs(z, parent, video, temperature, reduction)
    if not beta >= 0:
        raise ValueError(f"beta must be >= 0, got {beta!r}")

    def tile_terms(logits: Tensor, log_normalizer: Tensor, paths: Tensor) -> tuple[Tensor, Tensor]:
        depth, lca = _depth(paths), lca_depth(paths, paths)
        related = lca >= 0
        related.fill_diagonal_(False)
        distance = (depth[:, None] + depth[None, :] - 2 * lca).to(logits.dtype)
        target_logits = (-beta * distance).masked_fill(~related, torch.finfo(logits.dtype).min)
        target = target_logits.softmax(dim=1).masked_fill(~related, 0.0)
        # -sum_j q_ij log p(j | i) = logsumexp_i - sum_j q_ij logit_ij, as the targets sum to 1
        counted = related.any(dim=1)
        per_anchor = log_normalizer - (target * torch.where(related, logits, 0.0)).sum(dim=1)
        return per_anchor.masked_fill(~counted, 0.0), counted

    per_anchor, counted = _by_tree_tiles(z, parent, temperature, normalize, tile_terms)
    return _reduce((per_anchor, counted), reduction)


def parent_child_aggregation_loss(
    z: Tensor,
    parent: Tensor,
    *,
    aggregate: str = "mean",
    temperature: float = 0.1,
    query: Tensor | None = None,
    normalize: bool = True,
    reduction: str = "mean",
) -> LossOutput:
    r"""The aggregate of a parent's children must retrieve the parent (HierVL).

    After Ashutosh et al., "HierVL: Learning Hierarchical Video-Language
    Embeddings" (CVPR 2023). For every node :math:`p` with children
    :math:`C(p)` in the batch (the anchors), the children are pooled,

    .. math::
        g_p = \sum_{c \in C(p)} w_c z_c, \qquad
        w_c = \frac{1}{|C(p)|} \ (\text{mean}) \quad\text{or}\quad
        w_c = \operatorname{softmax}_{c \in C(p)}\Big(\frac{\langle z_c, q_p\rangle}{\sqrt{F}}\Big)
        \ (\text{attention}),

    and :math:`g_p` must pick :math:`z_p` out of all anchors' embeddings:

    .. math::
        \ell_p = -\log \frac{\exp(\cos(g_p, z_p)/\tau)}{\sum_{p'} \exp(\cos(g_p, z_{p'})/\tau)}

    over the anchors :math:`p'` of the whole batch (all videos).

    Args:
        z (torch.Tensor): ``[N, F]`` embeddings.
        parent (torch.Tensor): ``[N]`` parent positions, ``-1`` for roots.
        aggregate (str, optional): ``"mean"`` or ``"attention"``.
            (default: :obj:`"mean"`)
        temperature (float, optional): :math:`\tau`. (default: :obj:`0.1`)
        query (torch.Tensor, optional): ``[F]`` attention query :math:`q` shared by
            all parents (e.g. a learned ``nn.Parameter``); when :obj:`None`, each
            parent attends with its own embedding, :math:`q_p = z_p`. Only used
            by ``"attention"``. (default: :obj:`None`)
        normalize (bool, optional): Compare by cosine similarity (``False``:
            plain dot product). (default: :obj:`True`)
        reduction (str, optional): ``"mean"`` over anchors or ``"sum"``.
            (default: :obj:`"mean"`)

    Returns:
        LossOutput: Anchors are nodes with children; leaves are excluded.

    Raises:
        ValueError: If an argument is malformed or out of range.

    Examples:
        >>> z = torch.randn(7, 8, generator=torch.Generator().manual_seed(4))
        >>> parent = torch.tensor([-1, 0, 0, 1, 1, -1, 5])
        >>> out = parent_child_aggregation_loss(z, parent, aggregate="attention")
        >>> int(out.num_anchors), int(out.num_excluded)
        (3, 4)
    """
    parent = _check_inputs(z, parent, None, temperature, reduction)
    if aggregate not in AGGREGATES:
        raise ValueError(f"aggregate must be one of {AGGREGATES}, got {aggregate!r}")
    if query is not None and query.shape != (z.size(1),):
        raise ValueError(f"query must have shape [{z.size(1)}], got {tuple(query.shape)}")
    num_nodes = z.size(0)
    child = torch.nonzero(parent >= 0).flatten()
    of = parent[child]
    num_children = torch.bincount(of, minlength=num_nodes)
    if aggregate == "mean":
        weight = (1.0 / num_children[of].to(z.dtype))[:, None]
    else:
        keys = z[child]
        queries = z[of] if query is None else query.expand_as(keys)
        score = (keys * queries).sum(dim=1) / math.sqrt(z.size(1))
        weight = _group_softmax(score, of, num_nodes)[:, None]
    pooled = torch.zeros_like(z).index_add(0, of, weight * z[child])
    counted = num_children > 0
    anchor = torch.nonzero(counted).flatten()
    pooled, target = pooled[anchor], z[anchor]
    if normalize:
        pooled, target = F.normalize(pooled, dim=1), F.normalize(target, dim=1)
    logits = pooled @ target.T / temperature
    terms = -logits.log_softmax(dim=1).diagonal()
    per_anchor = torch.zeros(num_nodes, dtype=z.dtype, device=z.device).index_put((anchor,), terms)
    return _reduce((per_anchor, counted), reduction)


def entailment_cone_loss(
    z: Tensor,
    parent: Tensor,
    *,
    curvature: float = 1.0,
    min_radius: float = 0.1,
    on_manifold: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> LossOutput:
    r"""Every child must lie in its parent's entailment cone (MERU).

    After Desai et al., "Hyperbolic Image-Text Representations" (ICML 2023),
    in the Lorentz model of curvature :math:`-c`: the more general segment (the
    parent) entails the more specific one (its child). With :math:`x` the space
    components of a point (:func:`exp_map0` of the Euclidean ``z``),

    .. math::
        \ell_c = \max\big(0,\ \mathrm{ext}(x_{\pi(c)}, x_c) - \mathrm{aper}(x_{\pi(c)})\big)

    for every non-root node :math:`c` with parent :math:`\pi(c)`, where
    :func:`exterior_angle` is the angle at the parent between the origin and the
    child and :func:`half_aperture` the half-width of the parent's cone.

    Args:
        z (torch.Tensor): ``[N, F]`` embeddings (tangent vectors at the origin,
            or space components on the hyperboloid with ``on_manifold``).
        parent (torch.Tensor): ``[N]`` parent positions, ``-1`` for roots.
        curvature (float, optional): :math:`c > 0`. (default: :obj:`1.0`)
        min_radius (float, optional): :math:`K`, the cone's boundary radius near
            the origin. (default: :obj:`0.1`)
        on_manifold (bool, optional): ``z`` already holds space components of
            hyperboloid points; skip :func:`exp_map0`. (default: :obj:`False`)
        eps (float, optional): Clamp margin of ``asin``/``acos``/``sqrt``
            arguments. (default: :obj:`1e-6`)
        reduction (str, optional): ``"mean"`` over anchors or ``"sum"``.
            (default: :obj:`"mean"`)

    Returns:
        LossOutput: Anchors are the non-root nodes (one term per tree edge).

    Raises:
        ValueError: If an argument is malformed or out of range.

    Examples:
        >>> z = torch.tensor([[1.0, 0.0], [2.0, 0.1], [-2.0, 0.0]])
        >>> out = entailment_cone_loss(z, torch.tensor([-1, 0, 0]))
        >>> out.per_anchor > 0
        tensor([False, False,  True])
    """
    parent = _check_inputs(z, parent, None, None, reduction)
    _check_curvature(curvature)
    x = z if on_manifold else exp_map0(z, curvature)
    counted = parent >= 0
    child = torch.nonzero(counted).flatten()
    general = x[parent[child]]
    angle = exterior_angle(general, x[child], curvature, eps=eps)
    aperture = half_aperture(general, curvature, min_radius=min_radius, eps=eps)
    terms = torch.relu(angle - aperture)
    per_anchor = torch.zeros(z.size(0), dtype=z.dtype, device=z.device).index_put((child,), terms)
    return _reduce((per_anchor, counted), reduction)


# -- Lorentz model ------------------------------------------------------------


def exp_map0(v: Tensor, curvature: float = 1.0) -> Tensor:
    r"""Exponential map at the origin of the hyperboloid of curvature :math:`-c`.

    .. math::
        x = \frac{\sinh(\sqrt{c}\,\lVert v \rVert)}{\sqrt{c}\,\lVert v \rVert}\, v

    Only the space components are returned; the time component follows from
    :func:`lorentz_time`. :math:`\sqrt{c}\lVert v\rVert` is clamped to
    :math:`\operatorname{asinh}(2^{15})` so that ``sinh`` cannot overflow; the
    zero vector maps to the origin.

    Args:
        v (torch.Tensor): ``[..., F]`` tangent vectors at the origin.
        curvature (float, optional): :math:`c > 0`. (default: :obj:`1.0`)

    Returns:
        torch.Tensor: ``[..., F]`` space components.

    Examples:
        >>> exp_map0(torch.tensor([[0.0, 0.0], [1.0, 0.0]])).tolist()
        [[0.0, 0.0], [1.175201177597046, 0.0]]
    """
    _check_curvature(curvature)
    # sinh(r) / r -> 1 as r -> 0: below eps the ratio is taken at eps, where it is 1 to precision.
    radius = (math.sqrt(curvature) * v.norm(dim=-1, keepdim=True)).clamp(min=torch.finfo(v.dtype).eps)
    return torch.sinh(radius.clamp(max=math.asinh(2.0**15))) / radius * v


def lorentz_time(x: Tensor, curvature: float = 1.0) -> Tensor:
    r"""Time component :math:`x_0 = \sqrt{1/c + \lVert x \rVert^2}` of hyperboloid points.

    Args:
        x (torch.Tensor): ``[..., F]`` space components.
        curvature (float, optional): :math:`c > 0`. (default: :obj:`1.0`)

    Returns:
        torch.Tensor: ``[...]`` time components.

    Examples:
        >>> lorentz_time(torch.tensor([0.0, 0.0])).item()
        1.0
    """
    return torch.sqrt(1.0 / curvature + (x * x).sum(dim=-1))


def lorentz_inner(x: Tensor, y: Tensor, curvature: float = 1.0) -> Tensor:
    r"""Lorentzian inner product :math:`\langle x, y\rangle_L = \langle x, y \rangle - x_0 y_0`.

    Args:
        x (torch.Tensor): ``[..., F]`` space components.
        y (torch.Tensor): ``[..., F]`` space components (broadcast with ``x``).
        curvature (float, optional): :math:`c > 0`. (default: :obj:`1.0`)

    Returns:
        torch.Tensor: ``[...]`` inner products (``-1/c`` for a point with itself).

    Examples:
        >>> lorentz_inner(torch.tensor([0.5, 0.0]), torch.tensor([0.5, 0.0])).item()
        -1.0
    """
    return (x * y).sum(dim=-1) - lorentz_time(x, curvature) * lorentz_time(y, curvature)


def lorentz_distance(x: Tensor, y: Tensor, curvature: float = 1.0, *, eps: float = 1e-6) -> Tensor:
    r"""Geodesic distance :math:`\frac{1}{\sqrt c}\operatorname{acosh}(-c\langle x, y\rangle_L)`.

    The ``acosh`` argument is clamped to ``>= 1 + eps`` (its gradient is
    infinite at ``1``).

    Args:
        x (torch.Tensor): ``[..., F]`` space components.
        y (torch.Tensor): ``[..., F]`` space components.
        curvature (float, optional): :math:`c > 0`. (default: :obj:`1.0`)
        eps (float, optional): Clamp margin. (default: :obj:`1e-6`)

    Returns:
        torch.Tensor: ``[...]`` distances.

    Examples:
        >>> origin, point = torch.zeros(2), exp_map0(torch.tensor([1.5, 0.0]))
        >>> round(lorentz_distance(origin, point).item(), 4)
        1.5
    """
    argument = (-curvature * lorentz_inner(x, y, curvature)).clamp(min=1.0 + eps)
    return torch.acosh(argument) / math.sqrt(curvature)


def half_aperture(x: Tensor, curvature: float = 1.0, *, min_radius: float = 0.1, eps: float = 1e-6) -> Tensor:
    r"""Half-aperture of the entailment cone at :math:`x`.

    .. math::
        \mathrm{aper}(x) = \sin^{-1}\!\Big(\frac{2K}{\sqrt{c}\,\lVert x \rVert}\Big)

    with the argument clamped to :math:`[-1 + \epsilon, 1 - \epsilon]`: points
    within :math:`2K/\sqrt c` of the origin have (almost) the widest cone,
    :math:`\pi/2`.

    Args:
        x (torch.Tensor): ``[..., F]`` space components.
        curvature (float, optional): :math:`c > 0`. (default: :obj:`1.0`)
        min_radius (float, optional): :math:`K`. (default: :obj:`0.1`)
        eps (float, optional): Clamp margin. (default: :obj:`1e-6`)

    Returns:
        torch.Tensor: ``[...]`` angles in :math:`(0, \pi/2)`.

    Examples:
        >>> round(half_aperture(torch.tensor([0.4, 0.0])).item(), 4)
        0.5236
    """
    ratio = 2.0 * min_radius / (math.sqrt(curvature) * x.norm(dim=-1) + eps)
    return torch.asin(ratio.clamp(-1.0 + eps, 1.0 - eps))


def exterior_angle(x: Tensor, y: Tensor, curvature: float = 1.0, *, eps: float = 1e-6) -> Tensor:
    r"""Exterior angle at :math:`x` of the hyperbolic triangle origin, :math:`x`, :math:`y`.

    .. math::
        \mathrm{ext}(x, y) = \cos^{-1}\!\Big(
            \frac{y_0 + x_0\, c\,\langle x, y\rangle_L}
                 {\lVert x \rVert \sqrt{(c\,\langle x, y\rangle_L)^2 - 1}}\Big)

    ``0`` when :math:`y` lies on the geodesic from the origin through and beyond
    :math:`x`, :math:`\pi` when it lies back towards the origin. The square-root
    argument is clamped to ``>= eps``, the denominator offset by ``eps`` and the
    cosine clamped to :math:`[-1 + \epsilon, 1 - \epsilon]`.

    Args:
        x (torch.Tensor): ``[..., F]`` space components of the cone's apex.
        y (torch.Tensor): ``[..., F]`` space components of the other point.
        curvature (float, optional): :math:`c > 0`. (default: :obj:`1.0`)
        eps (float, optional): Clamp margin. (default: :obj:`1e-6`)

    Returns:
        torch.Tensor: ``[...]`` angles in :math:`[0, \pi]`.

    Examples:
        >>> x = exp_map0(torch.tensor([1.0, 0.0]))
        >>> beyond, behind = exp_map0(torch.tensor([2.0, 0.0])), exp_map0(torch.tensor([-1.0, 0.0]))
        >>> round(exterior_angle(x, beyond).item(), 2), round(exterior_angle(x, behind).item(), 2)
        (0.0, 3.14)
    """
    scaled_inner = curvature * lorentz_inner(x, y, curvature)
    numerator = lorentz_time(y, curvature) + lorentz_time(x, curvature) * scaled_inner
    denominator = x.norm(dim=-1) * torch.sqrt((scaled_inner**2 - 1.0).clamp(min=eps)) + eps
    return torch.acos((numerator / denominator).clamp(-1.0 + eps, 1.0 - eps))


# -- shared pieces ------------------------------------------------------------


def _check_parent(parent: Tensor) -> Tensor:
    if not isinstance(parent, Tensor) or parent.dim() != 1 or parent.is_floating_point() or parent.is_complex():
        shape = tuple(parent.shape) if isinstance(parent, Tensor) else type(parent).__name__
        raise ValueError(f"parent must be a 1-D integer tensor, got {shape}")
    parent = parent.long()
    if parent.numel() and (int(parent.min()) < -1 or int(parent.max()) >= parent.numel()):
        raise ValueError(
            f"parent holds positions in [-1, {parent.numel()}), got range "
            f"[{int(parent.min())}, {int(parent.max())}]"
        )
    return parent


def _check_video(video: Tensor | None, parent: Tensor) -> None:
    if video is None:
        return
    if not isinstance(video, Tensor) or video.shape != parent.shape:
        shape = tuple(video.shape) if isinstance(video, Tensor) else type(video).__name__
        raise ValueError(f"video must have shape {tuple(parent.shape)} like parent, got {shape}")
    video = video.to(parent.device)
    child = parent >= 0
    mismatch = child & (video != video[parent.clamp(min=0)])
    if bool(mismatch.any()):
        node = int(torch.nonzero(mismatch)[0])
        raise ValueError(f"node {node} and its parent {int(parent[node])} belong to different videos")


def _check_inputs(
    z: Tensor, parent: Tensor, video: Tensor | None, temperature: float | None, reduction: str
) -> Tensor:
    if not isinstance(z, Tensor) or z.dim() != 2 or not z.is_floating_point():
        shape = tuple(z.shape) if isinstance(z, Tensor) else type(z).__name__
        raise ValueError(f"z must be a 2-D floating tensor [N, F], got {shape}")
    parent = _check_parent(parent).to(z.device)
    if parent.numel() != z.size(0):
        raise ValueError(f"parent has {parent.numel()} entries but z has {z.size(0)} rows")
    _check_video(video, parent)
    if temperature is not None and not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return parent


def _check_curvature(curvature: float) -> None:
    if not curvature > 0:
        raise ValueError(f"curvature must be > 0, got {curvature!r}")


def _depth_and_lca(parent: Tensor) -> tuple[Tensor, Tensor]:
    """``[N]`` int16 depth and ``[N, N]`` int16 depth of the lowest common ancestor."""
    paths = ancestor_paths(parent)
    return _depth(paths), lca_depth(paths, paths)


def _depth(paths: Tensor) -> Tensor:
    return ((paths >= 0).sum(dim=1) - 1).to(torch.int16)


# Trees are packed into diagonal tiles of about this many nodes (a bigger tree gets its own tile):
# small enough that the per-tile [n, n] structure is cheap, big enough that tiles are few.
_TILE_NODES = 256


def _by_tree_tiles(
    z: Tensor,
    parent: Tensor,
    temperature: float,
    normalize: bool,
    tile_terms: Callable[[Tensor, Tensor, Tensor], tuple[Tensor, Tensor]],
    *,
    local_paths: bool = False,
) -> tuple[Tensor, Tensor]:
    """Per-anchor terms of a loss whose positives lie in the anchor's own tree.

    The nodes are reordered so that each tree is contiguous and consecutive
    trees are packed into tiles of about ``_TILE_NODES`` nodes. The
    normaliser (log-sum-exp over all other nodes of the batch) needs the whole
    ``[N, N]`` similarity matrix, but the positives only its diagonal tiles, so
    tree structure (``[n, n]`` per tile) is computed for ``sum n^2`` pairs
    instead of ``N^2``. ``tile_terms(logits, log_normalizer, paths)`` gets a
    tile's ``[n, n]`` logits, ``[n]`` log-sum-exps and ``[n, D]`` paths (node
    ids, or tile-local positions with ``local_paths``) and returns ``[..., n]``
    terms and anchor masks, which come back in the batch's own order.
    """
    paths = ancestor_paths(parent)
    order = torch.argsort(paths[:, 0], stable=True)  # group nodes by root
    inverse = torch.empty_like(order)
    inverse[order] = torch.arange(order.numel(), device=order.device)
    if local_paths:
        paths = torch.where(paths >= 0, inverse[paths.clamp(min=0)], -1)
    paths = paths[order]
    z = z[order]
    if normalize:
        z = F.normalize(z, dim=1)
    scaled = z / temperature  # scaling the [N, F] side saves a pass over [N, N]
    log_normalizer = _log_normalizer(scaled, z)
    _, tree_sizes = torch.unique_consecutive(paths[:, 0], return_counts=True)
    tiles = _pack(tree_sizes.tolist(), _TILE_NODES)
    if not tiles:  # an empty batch
        return z.new_zeros(0), torch.zeros(0, dtype=torch.bool, device=z.device)
    # Tiles are split off (not sliced out of an [N, N] matrix): the backward of a slice would
    # allocate a full [N, N] gradient per tile. Their logits are recomputed, sum n^2 F work.
    sizes = [end - start for start, end in tiles]
    logger.debug("%d nodes of %d trees in %d tiles (largest %d)", z.size(0), len(tree_sizes), len(tiles), max(sizes))
    terms, counted = [], []
    for (start, _), tile_z, tile_scaled, tile_normalizer in zip(
        tiles, z.split(sizes), scaled.split(sizes), log_normalizer.split(sizes)
    ):
        tile_paths = paths[start : start + tile_z.size(0)]
        if local_paths:
            tile_paths = torch.where(tile_paths >= 0, tile_paths - start, -1)
        tile = tile_terms(tile_scaled @ tile_z.T, tile_normalizer, tile_paths)
        terms.append(tile[0])
        counted.append(tile[1])
    return torch.cat(terms, dim=-1)[..., inverse], torch.cat(counted, dim=-1)[..., inverse]


def _pack(sizes: list[int], target: int) -> list[tuple[int, int]]:
    """``[start, end)`` ranges of consecutive groups of ``sizes``, each about ``target`` long."""
    ranges, start, end = [], 0, 0
    for size in sizes:  # a loop per tree
        if end > start and end - start + size > target:
            ranges.append((start, end))
            start = end
        end += size
    if end > start:
        ranges.append((start, end))
    return ranges


def _log_normalizer(scaled: Tensor, z: Tensor) -> Tensor:
    """``[N]`` log-sum-exp of ``scaled @ z.T`` over each row's other entries (``j != i``).

    The diagonal gets a finite floor, not ``-inf``: a lone node's row stays
    finite, and so do its gradients.
    """
    logits = scaled @ z.T
    logits.fill_diagonal_(torch.finfo(logits.dtype).min)
    return logits.logsumexp(dim=1)


def _reduce(terms: tuple[Tensor, Tensor], reduction: str) -> LossOutput:
    per_anchor, counted = terms
    num_anchors = counted.sum()
    total = per_anchor.sum()
    loss = total / num_anchors.clamp(min=1).to(total.dtype) if reduction == "mean" else total
    excluded = counted.numel() - num_anchors
    return LossOutput(loss, num_anchors, excluded, per_anchor)


def _level_weights(weights: Sequence[float] | Tensor | None, num_levels: int, z: Tensor) -> Tensor:
    if weights is None:
        return torch.full((num_levels,), 1.0 / num_levels, dtype=z.dtype, device=z.device)
    weight = torch.as_tensor(weights, dtype=z.dtype, device=z.device)
    if weight.shape != (num_levels,):
        raise ValueError(f"weights must have one entry per level ({num_levels}), got shape {tuple(weight.shape)}")
    return weight


def _running_max_by_depth(level_losses: Tensor, levels: list[int], nonempty: Tensor) -> Tensor:
    """Each non-empty level's loss raised to the largest loss of the shallower non-empty levels."""
    constrained = list(level_losses.unbind())
    best: Tensor | None = None
    # A loop per level (at most the tree depth), in depth order.
    for position in sorted(range(len(levels)), key=lambda i: levels[i]):
        if not bool(nonempty[position]):
            continue
        if best is not None:
            constrained[position] = torch.maximum(constrained[position], best)
        best = constrained[position]
    return torch.stack(constrained)


def _group_softmax(score: Tensor, group: Tensor, num_groups: int) -> Tensor:
    """Softmax of ``score`` within each group (children of one parent)."""
    peak = torch.full((num_groups,), -math.inf, dtype=score.dtype, device=score.device)
    peak = peak.scatter_reduce(0, group, score.detach(), reduce="amax")
    weight = torch.exp(score - peak[group])
    total = torch.zeros(num_groups, dtype=score.dtype, device=score.device).index_add(0, group, weight)
    return weight / total[group]
