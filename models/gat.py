r"""GAT (Veličković et al., 2018) on the tree and temporal edges as one undirected graph.

Message passing with learned attention over neighbours (and the node itself),
``heads`` heads concatenated,

.. math::
    \mathbf{h}^{(l)}_i = \mathrm{ReLU}\Big(\big\Vert_{k=1}^{K} \sum_{j \in \mathcal{N}(i) \cup \{i\}}
    \alpha^{k}_{ij} \mathbf{W}^{k} \mathbf{h}^{(l-1)}_j\Big), \qquad
    \alpha^{k}_{ij} = \mathrm{softmax}_j\big(\mathrm{LeakyReLU}(\mathbf{a}^{k\top}
    [\mathbf{W}^{k}\mathbf{h}_i \Vert \mathbf{W}^{k}\mathbf{h}_j])\big).

Attention can weigh neighbours differently, but it sees no edge type: a parent
and a temporal neighbour are told apart only by their features (see
:mod:`graphkit.models.homogeneous`).

Examples:
    >>> from graphkit.testing import example_batch
    >>> batch = example_batch(2)
    >>> GAT(4, 3, hidden=8)(batch).shape
    torch.Size([6, 3])
"""

from __future__ import annotations

from torch import nn

from graphkit.models.homogeneous import HomogeneousGNN

__all__ = ["GAT"]


class GAT(HomogeneousGNN):
    """Graph attention network over the undirected segment graph.

    Args are those of :class:`graphkit.models.homogeneous.HomogeneousGNN`, plus:

    Args:
        heads (int, optional): Attention heads; ``hidden`` must be divisible
            by it. (default: :obj:`4`)

    Raises:
        ValueError: If ``hidden`` is not divisible by ``heads``.
    """

    def __init__(self, in_dim: int, num_classes: int, hidden: int = 64, layers: int = 2,
                 dropout: float = 0.2, heads: int = 4) -> None:
        if hidden % heads:
            raise ValueError(f"hidden={hidden} must be divisible by heads={heads}")
        self.heads = heads
        super().__init__(in_dim, num_classes, hidden=hidden, layers=layers, dropout=dropout)

    def make_conv(self, hidden: int) -> nn.Module:
        from torch_geometric.nn import GATConv

        return GATConv(hidden, hidden // self.heads, heads=self.heads)
