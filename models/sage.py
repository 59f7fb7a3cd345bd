r"""GraphSAGE (Hamilton et al., 2017) on the tree and temporal edges as one undirected graph.

Message passing with mean aggregation and a separate weight for the node itself,

.. math::
    \mathbf{h}^{(l)}_i = \mathrm{ReLU}\Big(\mathbf{W}^{(l)}_{\mathrm{self}} \mathbf{h}^{(l-1)}_i
    + \mathbf{W}^{(l)}_{\mathrm{nbr}} \frac{1}{|\mathcal{N}(i)|}
    \sum_{j \in \mathcal{N}(i)} \mathbf{h}^{(l-1)}_j\Big),

where :math:`\mathcal{N}(i)` mixes parent, children, temporal neighbours and
neighbouring leaves alike (see :mod:`graphkit.models.homogeneous`).

Examples:
    >>> from graphkit.testing import example_batch
    >>> batch = example_batch(2)
    >>> GraphSAGE(4, 3, hidden=8)(batch).shape
    torch.Size([6, 3])
"""

from __future__ import annotations

from torch import nn

from graphkit.models.homogeneous import HomogeneousGNN

__all__ = ["GraphSAGE"]


class GraphSAGE(HomogeneousGNN):
    """GraphSAGE (mean aggregator) over the undirected segment graph.

    Args are those of :class:`graphkit.models.homogeneous.HomogeneousGNN`.
    """

    def make_conv(self, hidden: int) -> nn.Module:
        from torch_geometric.nn import SAGEConv

        return SAGEConv(hidden, hidden, aggr="mean")
