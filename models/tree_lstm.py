r"""A binary Tree-LSTM: bottom-up over the tree, then top-down, one step per level.

The **bottom-up** pass is the N-ary Tree-LSTM of Tai et al. (2015) with
:math:`N = 2`: a node :math:`j` with left child :math:`\ell` and right child
:math:`r` (the earlier and the later child, told apart by ``child_order``;
a missing child has zero state) computes

.. math::
    \begin{aligned}
    \mathbf{i}_j &= \sigma(\mathbf{W}_i \mathbf{x}_j + \mathbf{U}_i [\mathbf{h}_\ell; \mathbf{h}_r] + \mathbf{b}_i), &
    \mathbf{o}_j &= \sigma(\mathbf{W}_o \mathbf{x}_j + \mathbf{U}_o [\mathbf{h}_\ell; \mathbf{h}_r] + \mathbf{b}_o), \\
    \mathbf{u}_j &= \tanh(\mathbf{W}_u \mathbf{x}_j + \mathbf{U}_u [\mathbf{h}_\ell; \mathbf{h}_r] + \mathbf{b}_u), &
    \mathbf{f}_{jk} &= \sigma(\mathbf{W}_f \mathbf{x}_j + \mathbf{U}_{f,k} [\mathbf{h}_\ell; \mathbf{h}_r] + \mathbf{b}_f),
    \quad k \in \{\ell, r\}, \\
    \mathbf{c}_j &= \mathbf{i}_j \odot \mathbf{u}_j + \mathbf{f}_{j\ell} \odot \mathbf{c}_\ell
                  + \mathbf{f}_{jr} \odot \mathbf{c}_r, &
    \mathbf{h}_j &= \mathbf{o}_j \odot \tanh(\mathbf{c}_j),
    \end{aligned}

so the left and right children have distinct weights (:math:`\mathbf{U}` acts
on the concatenation) and each child has its own forget gate. The **top-down**
pass then runs an LSTM from the root along every root-to-node path: node
:math:`j` reads :math:`[\mathbf{x}_j; \mathbf{h}^{\uparrow}_j]` and the top-down
state of its parent :math:`p`, through a parent weight
:math:`\mathbf{V}_{o(j)}` chosen by whether :math:`j` is the left or the right
child (the root starts from zero state):

.. math::
    [\mathbf{i}, \mathbf{o}, \mathbf{u}, \mathbf{f}]_j =
    \mathbf{W}^{\downarrow} [\mathbf{x}_j; \mathbf{h}^{\uparrow}_j] + \mathbf{V}_{o(j)} \mathbf{h}^{\downarrow}_p
    + \mathbf{b}^{\downarrow},
    \quad \mathbf{c}^{\downarrow}_j = \sigma(\mathbf{i}) \odot \tanh(\mathbf{u}) + \sigma(\mathbf{f}) \odot \mathbf{c}^{\downarrow}_p,
    \quad \mathbf{h}^{\downarrow}_j = \sigma(\mathbf{o}) \odot \tanh(\mathbf{c}^{\downarrow}_j).

A node's output is :math:`[\mathbf{h}^{\uparrow}_j; \mathbf{h}^{\downarrow}_j]`:
its subtree and its ancestry. Temporal edges are not used.

Both passes are **vectorized per level**: every node of one level, across all
videos of the batch, is updated in one tensor step (the children of level
:math:`L` all lie on level :math:`L + 1`), so a batch costs two steps per tree
level and no Python loop per node.

Examples:
    >>> from graphkit.testing import example_batch
    >>> batch = example_batch(2)
    >>> TreeLSTM(4, 3, hidden=8)(batch).shape
    torch.Size([6, 3])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from graphkit.models.inputs import SEGMENT, segment_features

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

__all__ = ["TreeLayout", "tree_layout", "BinaryTreeLSTMLayer", "TreeLSTM"]


@dataclass(frozen=True)
class TreeLayout:
    """The batch's trees arranged level by level, for per-level tensor steps.

    Nodes are grouped by level (``order``: node ids, level 0 first, stable in
    node order); ``bounds[L]:bounds[L + 1]`` is level ``L``'s slice. Child and
    parent links are given as *positions within the neighbouring level*
    (``-1`` where absent), so a level's step gathers straight from the
    previous step's output.

    Attributes:
        order (Tensor): ``[N]`` node ids sorted by level.
        bounds (list[int]): ``num_levels + 1`` slice bounds into ``order``.
        rank (Tensor): ``[N]`` position of each node in ``order``.
        left (Tensor): ``[N]`` position of the earlier child in the next level.
        right (Tensor): ``[N]`` position of the later child in the next level.
        parent (Tensor): ``[N]`` position of the parent in the previous level.
        child_order (Tensor): ``[N]`` 0 (earlier child), 1 (later child) or -1 (root).
    """

    order: Tensor
    bounds: list[int]
    rank: Tensor
    left: Tensor
    right: Tensor
    parent: Tensor
    child_order: Tensor

    @property
    def num_levels(self) -> int:
        """Levels in the deepest tree of the batch."""
        return len(self.bounds) - 1

    def level(self, depth: int) -> Tensor:
        """Node ids of one level."""
        return self.order[self.bounds[depth] : self.bounds[depth + 1]]


def tree_layout(batch: HeteroData) -> TreeLayout:
    """Arrange a batch's segment trees level by level (vectorized).

    Raises:
        ValueError: If a node has more than two children, or a child's level
            is not its parent's plus one.
    """
    store = batch[SEGMENT]
    num_nodes = store.num_nodes
    level = store.level.long()
    device = level.device
    if (SEGMENT, "parent_of", SEGMENT) in set(batch.edge_types):
        parent, child = batch[SEGMENT, "parent_of", SEGMENT].edge_index
    else:
        parent = child = torch.empty(0, dtype=torch.long, device=device)
    child_order = store.child_order.long()
    order_of_edge = child_order[child]
    if bool(((order_of_edge < 0) | (order_of_edge > 1)).any()):
        raise ValueError("the binary Tree-LSTM needs at most two children per node (child_order 0 or 1)")
    if bool((level[child] != level[parent] + 1).any()):
        raise ValueError("the Tree-LSTM needs every child one level below its parent")
    order = torch.argsort(level, stable=True)
    counts = torch.bincount(level, minlength=int(level.max()) + 1 if num_nodes else 0)
    bounds = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
    rank = torch.empty_like(order)
    rank[order] = torch.arange(num_nodes, device=device)
    position = rank - bounds[level]
    left = torch.full((num_nodes,), -1, dtype=torch.long, device=device)
    right = left.clone()
    is_left = order_of_edge == 0
    left[parent[is_left]] = position[child[is_left]]
    right[parent[~is_left]] = position[child[~is_left]]
    parent_position = torch.full((num_nodes,), -1, dtype=torch.long, device=device)
    parent_position[child] = position[parent]
    node_order = torch.full((num_nodes,), -1, dtype=torch.long, device=device)
    node_order[child] = order_of_edge
    return TreeLayout(order, bounds.tolist(), rank, left, right, parent_position, node_order)


def _gather(states: Tensor, positions: Tensor) -> Tensor:
    """Rows of ``states`` at ``positions``; zero rows where a position is -1."""
    padded = torch.cat([states, states.new_zeros(1, states.size(1))])
    return padded[torch.where(positions < 0, states.size(0), positions)]


class BinaryTreeLSTMLayer(nn.Module):
    """One bottom-up and one top-down Tree-LSTM pass.

    Parameters, named after the module docstring's symbols:
    ``up_input`` (:math:`\\mathbf{W}`, gates ``i, o, u, f``, with bias),
    ``up_children`` (:math:`\\mathbf{U}`, gates ``i, o, u, f_left, f_right``,
    no bias), ``down_input`` (:math:`\\mathbf{W}^{\\downarrow}`, gates
    ``i, o, u, f``, with bias) and ``down_parent`` (:math:`\\mathbf{V}`, the
    four gates for a left child, then for a right child, no bias).

    Args:
        in_dim (int): Input width.
        hidden (int): State width :math:`H`; the output is ``2 * hidden`` wide.
    """

    def __init__(self, in_dim: int, hidden: int) -> None:
        super().__init__()
        self.hidden = hidden
        self.up_input = nn.Linear(in_dim, 4 * hidden)
        self.up_children = nn.Linear(2 * hidden, 5 * hidden, bias=False)
        self.down_input = nn.Linear(in_dim + hidden, 4 * hidden)
        self.down_parent = nn.Linear(hidden, 8 * hidden, bias=False)

    def forward(self, x: Tensor, layout: TreeLayout) -> Tensor:
        up = self._bottom_up(x, layout)
        down = self._top_down(torch.cat([x, up], dim=1), layout)
        return torch.cat([up, down], dim=1)

    def _bottom_up(self, x: Tensor, layout: TreeLayout) -> Tensor:
        from_input = self.up_input(x)
        h = c = x.new_zeros(0, self.hidden)  # the (empty) level below the deepest
        h_levels: list[Tensor] = []
        for depth in reversed(range(layout.num_levels)):
            nodes = layout.level(depth)
            h_left, c_left = _gather(h, layout.left[nodes]), _gather(c, layout.left[nodes])
            h_right, c_right = _gather(h, layout.right[nodes]), _gather(c, layout.right[nodes])
            wi, wo, wu, wf = from_input[nodes].chunk(4, dim=1)
            ui, uo, uu, uf_left, uf_right = self.up_children(torch.cat([h_left, h_right], dim=1)).chunk(5, dim=1)
            c = (torch.sigmoid(wi + ui) * torch.tanh(wu + uu)
                 + torch.sigmoid(wf + uf_left) * c_left + torch.sigmoid(wf + uf_right) * c_right)
            h = torch.sigmoid(wo + uo) * torch.tanh(c)
            h_levels.append(h)
        if not h_levels:
            return x.new_zeros(0, self.hidden)
        return torch.cat(h_levels[::-1])[layout.rank]

    def _top_down(self, x: Tensor, layout: TreeLayout) -> Tensor:
        from_input = self.down_input(x)
        h = c = x.new_zeros(0, self.hidden)  # the (empty) level above the roots
        h_levels: list[Tensor] = []
        for depth in range(layout.num_levels):
            nodes = layout.level(depth)
            h_parent, c_parent = _gather(h, layout.parent[nodes]), _gather(c, layout.parent[nodes])
            by_side = self.down_parent(h_parent).view(-1, 2, 4 * self.hidden)
            side = layout.child_order[nodes].clamp(min=0)  # roots: zero parent state, either side
            from_parent = by_side[torch.arange(nodes.numel(), device=x.device), side]
            gi, go, gu, gf = (from_input[nodes] + from_parent).chunk(4, dim=1)
            c = torch.sigmoid(gi) * torch.tanh(gu) + torch.sigmoid(gf) * c_parent
            h = torch.sigmoid(go) * torch.tanh(c)
            h_levels.append(h)
        if not h_levels:
            return x.new_zeros(0, self.hidden)
        return torch.cat(h_levels)[layout.rank]


class TreeLSTM(nn.Module):
    """Binary Tree-LSTM classifier: input projection, Tree-LSTM layers, head.

    Args:
        in_dim (int): Segment feature width.
        num_classes (int): Output classes.
        hidden (int, optional): State width of each pass. (default: :obj:`64`)
        layers (int, optional): Stacked Tree-LSTM layers; layer ``k + 1`` reads
            layer ``k``'s ``[h_up; h_down]``. (default: :obj:`1`)
        dropout (float, optional): Dropout between layers and before the
            head. (default: :obj:`0.2`)

    Shapes:
        - **input:** a batch with ``batch['segment'].x`` ``[N, in_dim]``,
          ``level``, ``child_order`` and ``parent_of`` edges
        - **output:** logits ``[N, num_classes]``
    """

    def __init__(self, in_dim: int, num_classes: int, hidden: int = 64, layers: int = 1,
                 dropout: float = 0.2) -> None:
        super().__init__()
        self.encoder = nn.Linear(in_dim, hidden)
        self.layers = nn.ModuleList(
            BinaryTreeLSTMLayer(hidden if k == 0 else 2 * hidden, hidden) for k in range(layers)
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(2 * hidden, num_classes)

    def encode(self, batch: HeteroData) -> Tensor:
        """``[N, 2 * hidden]`` segment embeddings ``[h_up; h_down]``: the input of :attr:`head`."""
        layout = tree_layout(batch)
        h = self.encoder(segment_features(batch)).relu()
        for layer in self.layers:
            h = layer(self.dropout(h), layout)
        return h

    def forward(self, batch: HeteroData) -> Tensor:
        return self.head(self.dropout(self.encode(batch)))
