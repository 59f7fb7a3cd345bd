r"""Tree utilities: ancestor paths, lowest common ancestors, tree distance.

A batch of ``N`` segments comes with the tree it was drawn from as a
``parent`` vector (``[N]``, the batch position of each node's parent, ``-1``
for a root, as in :attr:`graphkit.tree.TreeBatch.parent`) and, optionally, a
``video`` vector (``[N]``, the video of each node, as
:attr:`~graphkit.tree.TreeBatch.video_index` or a PyG store's ``batch``). The
batch must be closed under parents: every parent index points into the batch.
Nodes of different trees are unrelated: their tree distance is infinite.

* An *ancestor path* is the root-to-node path of a node as one padded row
  (:func:`ancestor_paths`): ``paths[i, k]`` is the ancestor of ``i`` at depth
  ``k``, ``paths[i, depth(i)] == i``, ``-1`` after that. Its *depth*
  (:func:`path_depth`) is the number of filled columns minus one.
* The *lowest common ancestor* of two nodes is the deepest node on both their
  paths; paths of one tree share a prefix up to it, and only up to it, so
  :func:`lca_depth` compares padded paths column by column.
* The *tree distance* is the number of tree edges between two nodes
  (:func:`tree_distance`),
  :math:`d(i, j) = \mathrm{depth}(i) + \mathrm{depth}(j) - 2\,\mathrm{depth}(\mathrm{lca}(i, j))`,
  ``inf`` across trees.

All are vectorized, one tensor operation per tree level. :func:`parent_index`
turns a PyG ``parent_of`` edge index into a ``parent`` vector;
:func:`check_parent` and :func:`check_video` validate the two vectors.

Examples:
    >>> parent = torch.tensor([-1, 0, 0, 1, 1, -1, 5, 5])  # two videos
    >>> ancestor_paths(parent).tolist()[:5]
    [[0, -1, -1], [0, 1, -1], [0, 2, -1], [0, 1, 3], [0, 1, 4]]
    >>> tree_distance(parent)[3].tolist()
    [2.0, 1.0, 3.0, 0.0, 2.0, inf, inf, inf]
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = [
    "ancestor_paths",
    "lca_depth",
    "tree_distance",
    "parent_index",
    "path_depth",
    "check_parent",
    "check_video",
]


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
    parent = check_parent(parent)
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
    parent = check_parent(parent)
    check_video(video, parent)
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


def path_depth(paths: Tensor) -> Tensor:
    """Depth of every node, from its row of :func:`ancestor_paths`.

    Args:
        paths (torch.Tensor): ``[N, D]`` rows of :func:`ancestor_paths`.

    Returns:
        torch.Tensor: ``[N]`` int16 depth (``0`` for a root).

    Examples:
        >>> path_depth(ancestor_paths(torch.tensor([-1, 0, 1, -1]))).tolist()
        [0, 1, 2, 0]
    """
    return ((paths >= 0).sum(dim=1) - 1).to(torch.int16)


def check_parent(parent: Tensor) -> Tensor:
    """Check a ``parent`` vector and return it as ``long``.

    Args:
        parent (torch.Tensor): ``[N]`` integer position of each node's parent,
            ``-1`` for a root.

    Returns:
        torch.Tensor: ``parent`` as a ``long`` tensor on its own device.

    Raises:
        ValueError: If ``parent`` is not a 1-D integer tensor of positions in
            ``[-1, N)`` (cycles are found by :func:`ancestor_paths`).

    Examples:
        >>> check_parent(torch.tensor([-1, 0], dtype=torch.int32)).dtype
        torch.int64
    """
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


def check_video(video: Tensor | None, parent: Tensor) -> None:
    """Check a ``video`` vector against ``parent``: a parent belongs to its child's video.

    Args:
        video (torch.Tensor, optional): ``[N]`` video of each node; :obj:`None`
            passes.
        parent (torch.Tensor): ``[N]`` long parent positions, as returned by
            :func:`check_parent`.

    Raises:
        ValueError: If ``video`` does not have the shape of ``parent`` or a
            node and its parent belong to different videos.

    Examples:
        >>> check_video(torch.tensor([0, 0, 1]), torch.tensor([-1, 0, -1]))
    """
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


def _depth_and_lca(parent: Tensor) -> tuple[Tensor, Tensor]:
    """``[N]`` int16 depth and ``[N, N]`` int16 depth of the lowest common ancestor."""
    paths = ancestor_paths(parent)
    return path_depth(paths), lca_depth(paths, paths)
