"""Similarity by tree tiles: the ``[N, N]`` softmax, tree structure only inside trees.

The contrastive losses of :mod:`graphkit.losses.contrastive` compare every
anchor with every other node of the batch (all of them are negatives), so they
need the ``[N, N]`` similarity matrix: time and memory grow as ``N^2``, a few
``N x N`` float tensors, 1 GiB each at ``N = 16384`` in float32. Their
positives, though, lie in the anchor's own tree.

* A *tile* is a run of consecutive whole trees of about :data:`TILE_NODES`
  nodes (a bigger tree gets a tile of its own) once the batch is regrouped by
  tree; the tiles lie on the diagonal of the similarity matrix.
* The *log-normaliser* of an anchor is the log-sum-exp of its logits over all
  other nodes of the batch: it needs the whole matrix.
* The *tile terms* are what a loss computes from a tile's logits,
  log-normalisers and ancestor paths: tree structure for ``sum n_tree^2``
  pairs, not ``N^2``.

:func:`by_tree_tiles` does the regrouping, the tiling and the way back: every
per-node output comes back in the batch's own order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from graphkit.losses.tree import ancestor_paths

__all__ = ["TILE_NODES", "by_tree_tiles"]

logger = logging.getLogger(__name__)

#: Trees are packed into diagonal tiles of about this many nodes (a bigger tree gets its own tile):
#: small enough that the per-tile [n, n] structure is cheap, big enough that tiles are few.
TILE_NODES = 256


def by_tree_tiles(
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
    trees are packed into tiles of about :data:`TILE_NODES` nodes. The
    normaliser (log-sum-exp over all other nodes of the batch) needs the whole
    ``[N, N]`` similarity matrix, but the positives only its diagonal tiles, so
    tree structure (``[n, n]`` per tile) is computed for ``sum n^2`` pairs
    instead of ``N^2``.

    Args:
        z (torch.Tensor): ``[N, F]`` embeddings.
        parent (torch.Tensor): ``[N]`` long parent positions, ``-1`` for roots.
        temperature (float): Logits are similarities divided by it.
        normalize (bool): L2-normalise ``z`` first (cosine similarity).
        tile_terms (Callable): ``tile_terms(logits, log_normalizer, paths)``
            gets a tile's ``[n, n]`` logits, ``[n]`` log-sum-exps and ``[n, D]``
            paths (node ids, or tile-local positions with ``local_paths``) and
            returns ``[..., n]`` terms and anchor masks.
        local_paths (bool, optional): Give ``tile_terms`` paths of tile-local
            positions instead of batch node ids. (default: :obj:`False`)

    Returns:
        tuple[torch.Tensor, torch.Tensor]: ``[..., N]`` terms and anchor masks
        of all tiles, in the batch's own order.
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
    tiles = _pack(tree_sizes.tolist(), TILE_NODES)
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
