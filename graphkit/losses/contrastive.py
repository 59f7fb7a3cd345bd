r"""Contrastive losses whose positives come from the Tree-of-Captions hierarchy.

A batch of ``N`` segment embeddings ``z`` (``[N, F]``) comes with its tree
(``parent`` and, optionally, ``video``: see :mod:`graphkit.losses.tree`).

* The *similarity* of two nodes is the cosine of their embeddings (the dot
  product with ``normalize=False``), divided by a *temperature* :math:`\tau`
  to give a *logit*.
* The *positives* of an anchor are the nodes its term pulls towards it (near
  in the tree, sharing an ancestor, its own children's aggregate); every other
  node of the batch, other videos included, is a *negative*. Each loss defines
  its positives; a node without one is excluded
  (:mod:`graphkit.losses.output`).

Losses (each a function returning a
:class:`~graphkit.losses.output.LossOutput`):

* :func:`tree_supcon_loss` — supervised contrastive loss (Khosla et al., 2020)
  whose positives are the nodes within tree distance ``k`` of the anchor;
* :func:`level_hierarchical_loss` — one supervised contrastive term per tree
  level, positives sharing the ancestor at that level, weighted and optionally
  constrained to grow with depth (HiMulCon, Zhang et al., CVPR 2022);
* :func:`tree_distance_infonce` — cross-entropy between the similarity softmax
  and soft targets that decay with tree distance;
* :func:`parent_child_aggregation_loss` — the aggregate of a parent's children
  must retrieve the parent among all parents of the batch (HierVL, Ashutosh et
  al., CVPR 2023).

The first three need the ``[N, N]`` similarity matrix and compute tree
structure on diagonal tiles of whole trees (:mod:`graphkit.losses.tiles`);
the aggregation loss compares the ``P`` parents of the batch, ``[P, P]``.
Every loss runs on the device of ``z``, in its dtype, and works for one video
or many.

Examples:
    >>> z = torch.randn(8, 16, generator=torch.Generator().manual_seed(0))
    >>> out = tree_supcon_loss(z, torch.tensor([-1, 0, 0, 1, 1, -1, 5, 5]), max_distance=1)
    >>> out.loss.shape, int(out.num_anchors), int(out.num_excluded)
    (torch.Size([]), 8, 0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from graphkit.losses.output import LossOutput, check_loss_inputs, reduce_terms
from graphkit.losses.tiles import by_tree_tiles
from graphkit.losses.tree import ancestor_paths, lca_depth, path_depth

__all__ = [
    "AGGREGATES",
    "tree_supcon_loss",
    "level_hierarchical_loss",
    "tree_distance_infonce",
    "parent_child_aggregation_loss",
]

#: The pooling of :func:`parent_child_aggregation_loss`.
AGGREGATES = ("mean", "attention")


def tree_supcon_loss(
    z: Tensor,
    parent: Tensor,
    video: Tensor | None = None,
    *,
    max_distance: int = 2,
    temperature: float = 0.1,
    normalize: bool = True,
    reduction: str = "mean",
    extra_positives: Tensor | None = None,
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
        extra_positives (torch.Tensor, optional): ``[2, E]`` (anchor,
            positive) positions added to the anchors' positive sets, each
            pair joining two different trees, such as
            :func:`~graphkit.losses.positives.cross_video_positives`; a pair
            given twice counts once. (default: :obj:`None`)

    Returns:
        LossOutput: Anchors are nodes with at least one positive (a single-node
        tree has none, unless an extra pair gives it one).

    Raises:
        ValueError: If an argument is malformed or out of range.

    Examples:
        >>> z = torch.randn(5, 8, generator=torch.Generator().manual_seed(1))
        >>> out = tree_supcon_loss(z, torch.tensor([-1, 0, 0, -1, -1]), max_distance=1)
        >>> int(out.num_anchors), int(out.num_excluded), bool(out.loss > 0)
        (3, 2, True)
    """
    parent = check_loss_inputs(z, parent, video, temperature, reduction)
    if not isinstance(max_distance, int) or max_distance < 1:
        raise ValueError(f"max_distance must be a positive int, got {max_distance!r}")

    extra = None if extra_positives is None else _check_extra_positives(extra_positives, parent)

    def tile_terms(logits: Tensor, log_normalizer: Tensor, paths: Tensor) -> tuple[Tensor, Tensor]:
        depth, lca = path_depth(paths), lca_depth(paths, paths)
        positive = (lca >= 0) & (depth[:, None] + depth[None, :] - 2 * lca <= max_distance)
        positive.fill_diagonal_(False)
        num_positive = positive.sum(dim=1).to(logits.dtype)
        sum_logit = torch.where(positive, logits, 0.0).sum(dim=1)
        return torch.stack([log_normalizer, sum_logit, num_positive]), num_positive > 0

    terms, counted = by_tree_tiles(z, parent, temperature, normalize, tile_terms)
    log_normalizer, sum_logit, num_positive = terms.reshape(3, -1)  # an empty batch gives [0]
    if extra is not None and extra.size(1):
        unit = F.normalize(z, dim=1) if normalize else z
        anchor, other = extra
        logit = (unit[anchor] * unit[other]).sum(dim=1) / temperature
        sum_logit = sum_logit.index_add(0, anchor, logit)
        num_positive = num_positive.index_add(0, anchor, torch.ones_like(logit))
        counted = num_positive > 0
    # -mean_p log p(p | i) = logsumexp_i - mean_p logit_ip
    mean_logit = sum_logit / num_positive.clamp(min=1)
    return reduce_terms(((log_normalizer - mean_logit).masked_fill(~counted, 0.0), counted), reduction)


def _check_extra_positives(pairs: Tensor, parent: Tensor) -> Tensor:
    """``pairs`` as ``[2, E]`` long without repeats; each must join two trees of ``parent``."""
    if pairs.dim() != 2 or pairs.size(0) != 2 or pairs.dtype.is_floating_point or pairs.dtype == torch.bool:
        raise ValueError(f"extra_positives must be a [2, E] integer tensor, got {pairs.dtype} {tuple(pairs.shape)}")
    pairs = pairs.to(device=parent.device, dtype=torch.long)
    if not pairs.numel():
        return pairs
    num_nodes = parent.numel()
    if int(pairs.min()) < 0 or int(pairs.max()) >= num_nodes:
        raise ValueError(f"extra_positives holds positions outside [0, {num_nodes - 1}]")
    root = ancestor_paths(parent)[:, 0]
    if bool((root[pairs[0]] == root[pairs[1]]).any()):
        raise ValueError("an extra positive pair lies within one tree; the tree's own positives are "
                         "max_distance's, extra pairs must join two trees")
    return torch.unique(pairs, dim=1)


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
    parent = check_loss_inputs(z, parent, video, temperature, reduction)
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
        depth = path_depth(paths)
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

    per_anchor, counted = by_tree_tiles(z, parent, temperature, normalize, tile_terms, local_paths=True)
    terms, anchors, losses = per_anchor.unbind(), counted.unbind(), []
    for level_terms, level_counted in zip(terms, anchors):
        losses.append(reduce_terms((level_terms, level_counted), reduction).loss)
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
    parent = check_loss_inputs(z, parent, video, temperature, reduction)
    if not beta >= 0:
        raise ValueError(f"beta must be >= 0, got {beta!r}")

    def tile_terms(logits: Tensor, log_normalizer: Tensor, paths: Tensor) -> tuple[Tensor, Tensor]:
        depth, lca = path_depth(paths), lca_depth(paths, paths)
        related = lca >= 0
        related.fill_diagonal_(False)
        distance = (depth[:, None] + depth[None, :] - 2 * lca).to(logits.dtype)
        target_logits = (-beta * distance).masked_fill(~related, torch.finfo(logits.dtype).min)
        target = target_logits.softmax(dim=1).masked_fill(~related, 0.0)
        # -sum_j q_ij log p(j | i) = logsumexp_i - sum_j q_ij logit_ij, as the targets sum to 1
        counted = related.any(dim=1)
        per_anchor = log_normalizer - (target * torch.where(related, logits, 0.0)).sum(dim=1)
        return per_anchor.masked_fill(~counted, 0.0), counted

    per_anchor, counted = by_tree_tiles(z, parent, temperature, normalize, tile_terms)
    return reduce_terms((per_anchor, counted), reduction)


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
    parent = check_loss_inputs(z, parent, None, temperature, reduction)
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
    return reduce_terms((per_anchor, counted), reduction)


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
