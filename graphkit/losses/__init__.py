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

Modules (everything above is re-exported here):

* :mod:`graphkit.losses.tree` — the tree utilities;
* :mod:`graphkit.losses.output` — :class:`LossOutput`, anchors and the
  reduction shared by every loss;
* :mod:`graphkit.losses.tiles` — the similarity matrix by tiles of whole
  trees (the cost paragraph below);
* :mod:`graphkit.losses.contrastive` — the four contrastive losses;
* :mod:`graphkit.losses.hyperbolic` — the entailment cone loss and the
  Lorentz helpers;
* :mod:`graphkit.losses.positives` — :func:`cross_video_positives`: segments
  of other videos whose caption embeddings are an anchor's nearest
  neighbours, for ``tree_supcon_loss(..., extra_positives=...)``;
* :mod:`graphkit.losses.retrieval` — :func:`text_segment_infonce`, a text
  query against the segments of its video (the ``retrieval`` task);
* :mod:`graphkit.losses.reference` — plain-Python loop references: the
  oracle of the tests and the obvious code of ``benchmarks/losses.py``; slow
  on purpose (not re-exported).

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

from graphkit.losses.contrastive import (
    level_hierarchical_loss,
    parent_child_aggregation_loss,
    tree_distance_infonce,
    tree_supcon_loss,
)
from graphkit.losses.hyperbolic import (
    entailment_cone_loss,
    exp_map0,
    exterior_angle,
    half_aperture,
    lorentz_distance,
    lorentz_inner,
    lorentz_time,
)
from graphkit.losses.output import LossOutput
from graphkit.losses.positives import cross_video_positives
from graphkit.losses.retrieval import text_segment_infonce
from graphkit.losses.tree import ancestor_paths, lca_depth, parent_index, tree_distance

__all__ = [
    "text_segment_infonce",
    "cross_video_positives",
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
