r"""GCN (Kipf and Welling, 2017) on the tree and temporal edges as one undirected graph.

Message passing, with self-loops added and symmetric degree normalization,

.. math::
    \mathbf{h}^{(l)}_i = \mathrm{ReLU}\Big(\sum_{j \in \mathcal{N}(i) \cup \{i\}}
    \frac{1}{\sqrt{\hat d_i \hat d_j}} \mathbf{W}^{(l)} \mathbf{h}^{(l-1)}_j\Big),

where :math:`\mathcal{N}(i)` is the union of a segment's parent, children,
same-level temporal neighbours and (for leaves) neighbouring leaves, with no
distinction between them (see :mod:`graphkit.models.homogeneous`).

Examples:
    >>> from graphkit.testing import example_batch
    >>> batch = example_batch(2)
    >>> GCN(4, 3, hidden=8)(batch).shape
    torch.Size([6, 3])
"""

from __future__ import annotations

from torch import nn

from graphkit.models.homogeneous import HomogeneousGNN

__all__ = ["GCN"]


class GCN(HomogeneousGNN):
    """Graph convolutional network over the undirected segment graph.

    Args are those of :class:`graphkit.models.homogeneous.HomogeneousGNN`.
    """

    def make_conv(self, hidden: int) -> nn.Module:
        from torch_geometric.nn import GCNConv

        return GCNConv(hidden, hidden)
