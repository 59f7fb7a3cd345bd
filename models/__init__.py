"""Baseline GNNs for Action100M segment classification, with training and evaluation.

Every model maps a heterogeneous PyG batch of whole videos to per-segment
logits (``model(batch) -> [num_segments, num_classes]``):

* ``mlp`` (:class:`~graphkit.models.mlp.MLP`): segment features only, the floor;
* ``gcn``, ``sage``, ``gat``: one undirected graph of tree and temporal edges;
* ``hier`` (:class:`~graphkit.models.hier.HierGNN`): one transform per relation and
  direction, depth encoding, residual + LayerNorm;
* ``tree_lstm`` (:class:`~graphkit.models.tree_lstm.TreeLSTM`): binary Tree-LSTM,
  bottom-up then top-down, one vectorized step per level.

:mod:`graphkit.models.evaluator` scores predictions (top-1, top-5, macro-F1, per level)
:mod:`graphkit.models.train` trains them (configured by :mod:`graphkit.models.config`,
saved by :mod:`graphkit.models.checkpoint`), :mod:`graphkit.models.evaluate` scores a
trained run and :mod:`graphkit.models.benchmark` compares them over seeds.
"""

from __future__ import annotations

from graphkit.models.registry import MODELS, build_model

__all__ = ["MODELS", "build_model"]
