"""An OGB-style evaluator for segment classification, with a fixed input/output format.

**Input** (:meth:`Evaluator.eval`): a dict with

* ``"y_true"``: ``LongTensor[N]``, the true class of each segment; ``-1``
  marks an unlabelled segment (no ``gpt``, or ``N/A``), which is left out of
  every metric;
* ``"y_pred"``: ``FloatTensor[N, C]``, logits or any scores (higher is more
  likely) over the ``C`` classes;
* ``"level"``: ``LongTensor[N]``, each segment's tree level (root = 0).

numpy arrays are accepted in place of tensors.

**Output**: a dict of plain Python values,

* ``"top1"``: share of labelled segments whose highest score is the true class
  (ties go to the lower class index);
* ``"top5"``: share whose true class is among the ``min(5, C)`` highest scores;
* ``"macro_f1"``: the unweighted mean, over every class that occurs as a true
  label or as a top-1 prediction, of :math:`F_1 = 2\\,TP / (2\\,TP + FP + FN)`
  (the convention of scikit-learn's ``f1_score(average="macro")``);
* ``"num_nodes"``: labelled segments scored;
* ``"per_level"``: ``{level: {"top1", "top5", "macro_f1", "num_nodes"}}`` for
  every level holding a labelled segment, keys ``int`` in increasing order.

With no labelled segment the three metrics are ``nan``.

Examples:
    >>> import torch
    >>> scores = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.5, 0.5]])
    >>> result = Evaluator().eval({"y_true": torch.tensor([0, 1, 1, -1]), "y_pred": scores,
    ...                            "level": torch.tensor([0, 1, 1, 1])})
    >>> round(result["top1"], 4), result["top5"], round(result["macro_f1"], 4), result["num_nodes"]
    (0.6667, 1.0, 0.6667, 3)
    >>> result["per_level"][1]
    {'top1': 0.5, 'top5': 1.0, 'macro_f1': 0.3333333333333333, 'num_nodes': 2}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

__all__ = ["Evaluator", "EVAL_KEYS", "top_k_accuracy", "macro_f1"]

#: The keys :meth:`Evaluator.eval` expects.
EVAL_KEYS: tuple[str, ...] = ("y_true", "y_pred", "level")


def top_k_accuracy(y_true: Tensor, y_pred: Tensor, k: int) -> float:
    """Share of rows whose true class is among the ``min(k, C)`` highest scores (``nan`` if none)."""
    if y_true.numel() == 0:
        return math.nan
    if k == 1:
        hits = y_pred.argmax(dim=1) == y_true
    else:
        top = y_pred.topk(min(k, y_pred.size(1)), dim=1).indices
        hits = (top == y_true.unsqueeze(1)).any(dim=1)
    return hits.double().mean().item()


def macro_f1(y_true: Tensor, predicted: Tensor, num_classes: int) -> float:
    """Macro-F1 over the classes present in ``y_true`` or ``predicted`` (``nan`` if empty)."""
    if y_true.numel() == 0:
        return math.nan
    true_count = torch.bincount(y_true, minlength=num_classes).double()
    predicted_count = torch.bincount(predicted, minlength=num_classes).double()
    true_positive = torch.bincount(y_true[predicted == y_true], minlength=num_classes).double()
    present = (true_count + predicted_count) > 0
    f1 = 2 * true_positive[present] / (true_count[present] + predicted_count[present])
    return f1.mean().item()


def _as_tensor(value: Any, key: str) -> Tensor:
    if isinstance(value, Tensor):
        return value.detach().cpu()
    try:
        return torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(f"input_dict[{key!r}] must be a tensor or an array, not {type(value).__name__}") from err


class Evaluator:
    """Scores segment-label predictions; the format is in the module docstring.

    Examples:
        >>> Evaluator().expected_input_format  # doctest: +ELLIPSIS
        'y_true: LongTensor[N] (-1 = unlabelled), y_pred: FloatTensor[N, C], level: LongTensor[N]'
    """

    expected_input_format: str = (
        "y_true: LongTensor[N] (-1 = unlabelled), y_pred: FloatTensor[N, C], level: LongTensor[N]"
    )

    def _check(self, input_dict: Mapping[str, Any]) -> tuple[Tensor, Tensor, Tensor]:
        if not isinstance(input_dict, Mapping):
            raise TypeError(f"input_dict must be a dict with keys {EVAL_KEYS}, not {type(input_dict).__name__}")
        missing = [key for key in EVAL_KEYS if key not in input_dict]
        if missing:
            raise ValueError(f"input_dict lacks {missing}; expected {self.expected_input_format}")
        y_true, y_pred, level = (_as_tensor(input_dict[key], key) for key in EVAL_KEYS)
        if y_true.dim() != 1:
            raise ValueError(f"y_true has shape {tuple(y_true.shape)}; expected [N]")
        if y_pred.dim() != 2:
            raise ValueError(f"y_pred has shape {tuple(y_pred.shape)}; expected [N, C] scores")
        if level.dim() != 1:
            raise ValueError(f"level has shape {tuple(level.shape)}; expected [N]")
        if not (y_pred.size(0) == y_true.size(0) == level.size(0)):
            raise ValueError(
                f"y_true [{y_true.size(0)}], y_pred [{y_pred.size(0)}, ...] and level [{level.size(0)}] "
                "must have the same number of rows"
            )
        if y_pred.size(1) == 0:
            raise ValueError("y_pred has no class column")
        if y_true.is_floating_point() or y_true.dtype == torch.bool:
            raise ValueError(f"y_true must hold integer classes, not {y_true.dtype}")
        if level.is_floating_point() or level.dtype == torch.bool:
            raise ValueError(f"level must hold integer levels, not {level.dtype}")
        if not y_pred.is_floating_point():
            raise ValueError(f"y_pred must hold float scores, not {y_pred.dtype}")
        y_true, level = y_true.long(), level.long()
        if y_true.numel() and (int(y_true.min()) < -1 or int(y_true.max()) >= y_pred.size(1)):
            raise ValueError(
                f"y_true holds classes in [{int(y_true.min())}, {int(y_true.max())}]; "
                f"expected -1 (unlabelled) or [0, {y_pred.size(1) - 1}]"
            )
        return y_true, y_pred, level

    @staticmethod
    def _metrics(y_true: Tensor, y_pred: Tensor) -> dict[str, Any]:
        return {
            "top1": top_k_accuracy(y_true, y_pred, 1),
            "top5": top_k_accuracy(y_true, y_pred, 5),
            "macro_f1": macro_f1(y_true, y_pred.argmax(dim=1), y_pred.size(1)),
            "num_nodes": int(y_true.numel()),
        }

    def eval(self, input_dict: Mapping[str, Any]) -> dict[str, Any]:
        """Score predictions.

        Args:
            input_dict (Mapping[str, Any]): ``y_true``, ``y_pred`` and ``level``
                as documented in the module docstring.

        Returns:
            dict[str, Any]: ``top1``, ``top5``, ``macro_f1``, ``num_nodes`` and
            ``per_level``.

        Raises:
            ValueError: If a key is missing, a shape, dtype or class is wrong.
            TypeError: If the input is not a dict of tensors or arrays.
        """
        y_true, y_pred, level = self._check(input_dict)
        labelled = y_true >= 0
        y_true, y_pred, level = y_true[labelled], y_pred[labelled].float(), level[labelled]
        result = self._metrics(y_true, y_pred)
        result["per_level"] = {
            int(depth): self._metrics(y_true[level == depth], y_pred[level == depth])
            for depth in torch.unique(level).tolist()
        }
        return result

    def __repr__(self) -> str:
        return "Evaluator(metrics=['top1', 'top5', 'macro_f1'], per_level=True)"
