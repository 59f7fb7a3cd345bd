"""The baseline registry: a name for every model and one way to build it.

Every model has the same interface: ``model(batch) -> logits`` of shape
``[num_segments, num_classes]``, where ``batch`` is the heterogeneous PyG
batch of whole videos that the ``DataLoader`` yields, and
``model.encode(batch)`` gives the segment embeddings ``[num_segments,
model.head.in_features]`` that the linear ``model.head`` turns into those
logits (an encoder to pretrain or probe, as in
``examples/contrastive_pretrain.py``).

Examples:
    >>> sorted(MODELS)
    ['gat', 'gcn', 'hier', 'mlp', 'sage', 'tree_lstm']
    >>> build_model("mlp", in_dim=4, num_classes=3, hidden=8)
    MLP(
      (body): Sequential(
        (0): Linear(in_features=4, out_features=8, bias=True)
        (1): ReLU()
        (2): Dropout(p=0.2, inplace=False)
        (3): Linear(in_features=8, out_features=8, bias=True)
        (4): ReLU()
        (5): Dropout(p=0.2, inplace=False)
      )
      (head): Linear(in_features=8, out_features=3, bias=True)
    )
"""

from __future__ import annotations

from torch import nn

from graphkit.models.gat import GAT
from graphkit.models.gcn import GCN
from graphkit.models.hier import HierGNN
from graphkit.models.mlp import MLP
from graphkit.models.sage import GraphSAGE
from graphkit.models.tree_lstm import TreeLSTM

__all__ = ["MODELS", "build_model"]

#: Model name -> class; each takes ``(in_dim, num_classes, hidden, layers, dropout)``.
MODELS: dict[str, type[nn.Module]] = {
    "mlp": MLP,
    "gcn": GCN,
    "sage": GraphSAGE,
    "gat": GAT,
    "hier": HierGNN,
    "tree_lstm": TreeLSTM,
}


def build_model(name: str, in_dim: int, num_classes: int, hidden: int = 64, layers: int | None = None,
                dropout: float = 0.2) -> nn.Module:
    """Build a baseline by name.

    Args:
        name (str): One of :data:`MODELS`.
        in_dim (int): Segment feature width.
        num_classes (int): Output classes.
        hidden (int, optional): Hidden width. (default: :obj:`64`)
        layers (int, optional): Layers; :obj:`None` takes the model's own
            default (2, and 1 for ``tree_lstm``, whose layer is a full
            bottom-up and top-down pass). (default: :obj:`None`)
        dropout (float, optional): Dropout. (default: :obj:`0.2`)

    Returns:
        torch.nn.Module: The model, with freshly initialized weights.

    Raises:
        ValueError: If ``name`` is unknown or a size is not positive.
    """
    if name not in MODELS:
        raise ValueError(f"model={name!r}; expected one of {sorted(MODELS)}")
    for arg, value in (("in_dim", in_dim), ("num_classes", num_classes), ("hidden", hidden)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{arg}={value!r} must be a positive int")
    if layers is not None and (not isinstance(layers, int) or layers < 1):
        raise ValueError(f"layers={layers!r} must be a positive int")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout={dropout!r} must lie in [0, 1)")
    kwargs = {"hidden": hidden, "dropout": dropout}
    if layers is not None:
        kwargs["layers"] = layers
    return MODELS[name](in_dim, num_classes, **kwargs)
