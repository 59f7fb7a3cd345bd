r"""A homogeneous GNN skeleton shared by :mod:`graphkit.models.gcn`, :mod:`graphkit.models.sage` and :mod:`graphkit.models.gat`.

Those baselines differ only in their convolution. Each sees the tree and
temporal edges as **one undirected graph** (:func:`graphkit.models.inputs.undirected_segment_edges`):
a parent, a child, a temporal neighbour and a next leaf are all just
"neighbours". The skeleton is

.. math::
    \mathbf{h}^{(0)} = \mathrm{ReLU}(\mathbf{W}^{\mathrm{in}} \mathbf{x}), \qquad
    \mathbf{h}^{(l)} = \mathrm{Dropout}(\mathrm{ReLU}(\mathrm{Conv}^{(l)}(\mathbf{h}^{(l-1)}, E))),
    \qquad \hat{\mathbf{y}} = \mathbf{W}^{\mathrm{out}} \mathbf{h}^{(L)}.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from torch import Tensor, nn

from graphkit.models.inputs import segment_features, undirected_segment_edges

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

__all__ = ["HomogeneousGNN"]


class HomogeneousGNN(nn.Module):
    """Input projection, ``layers`` convolutions on the undirected graph, output head.

    Subclasses implement :meth:`make_conv`.

    Args:
        in_dim (int): Segment feature width.
        num_classes (int): Output classes.
        hidden (int, optional): Hidden width. (default: :obj:`64`)
        layers (int, optional): Convolutions. (default: :obj:`2`)
        dropout (float, optional): Dropout after each convolution.
            (default: :obj:`0.2`)
    """

    def __init__(self, in_dim: int, num_classes: int, hidden: int = 64, layers: int = 2,
                 dropout: float = 0.2) -> None:
        super().__init__()
        self.encoder = nn.Linear(in_dim, hidden)
        self.convs = nn.ModuleList(self.make_conv(hidden) for _ in range(layers))
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, num_classes)

    def make_conv(self, hidden: int) -> nn.Module:
        """One ``hidden -> hidden`` convolution."""
        raise NotImplementedError

    def encode(self, batch: HeteroData) -> Tensor:
        """``[N, hidden]`` segment embeddings: the input of :attr:`head`."""
        edge_index = undirected_segment_edges(batch)
        h = self.encoder(segment_features(batch)).relu()
        for conv in self.convs:
            h = self.dropout(conv(h, edge_index).relu())
        return h

    def forward(self, batch: HeteroData) -> Tensor:
        return self.head(self.encode(batch))
