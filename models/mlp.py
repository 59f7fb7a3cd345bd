r"""The floor: a multi-layer perceptron on each segment's own features.

No message passing at all: a segment's prediction depends only on its own
feature row,

.. math::
    \mathbf{h}^{(0)}_i = \mathbf{x}_i, \qquad
    \mathbf{h}^{(l)}_i = \mathrm{ReLU}(\mathbf{W}^{(l)} \mathbf{h}^{(l-1)}_i + \mathbf{b}^{(l)}),
    \qquad \hat{\mathbf{y}}_i = \mathbf{W}^{\mathrm{out}} \mathbf{h}^{(L)}_i,

with dropout after every hidden layer. Every graph model must beat it; if one
does not, the graph adds nothing the features do not already say.

Examples:
    >>> from graphkit.testing import example_batch
    >>> batch = example_batch(2)
    >>> MLP(4, 3, hidden=8)(batch).shape
    torch.Size([6, 3])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from torch import Tensor, nn

from graphkit.models.inputs import segment_features

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

__all__ = ["MLP"]


class MLP(nn.Module):
    """Per-segment MLP classifier (ignores every edge).

    Args:
        in_dim (int): Segment feature width.
        num_classes (int): Output classes.
        hidden (int, optional): Hidden width. (default: :obj:`64`)
        layers (int, optional): Hidden layers. (default: :obj:`2`)
        dropout (float, optional): Dropout after each hidden layer.
            (default: :obj:`0.2`)

    Shapes:
        - **input:** a batch with ``batch['segment'].x`` of shape ``[N, in_dim]``
        - **output:** logits ``[N, num_classes]``
    """

    def __init__(self, in_dim: int, num_classes: int, hidden: int = 64, layers: int = 2,
                 dropout: float = 0.2) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        width = in_dim
        for _ in range(layers):
            blocks += [nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout)]
            width = hidden
        self.body = nn.Sequential(*blocks)
        self.head = nn.Linear(width, num_classes)

    def encode(self, batch: HeteroData) -> Tensor:
        """``[N, hidden]`` segment embeddings: the input of :attr:`head`."""
        return self.body(segment_features(batch))

    def forward(self, batch: HeteroData) -> Tensor:
        return self.head(self.encode(batch))
