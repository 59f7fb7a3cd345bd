from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from graphkit.models.evaluator import Evaluator, macro_f1, top_k_accuracy


def loop_macro_f1(y_true: list[int], y_pred: list[int]) -> float:
    """Macro-F1 by plain loops over the classes seen as truth or prediction."""
    classes = sorted(set(y_true) | set(y_pred))
    scores = []
    for c in classes:
        tp = sum(t == c and p == c for t, p in zip(y_true, y_pred))
        fp = sum(t != c and p == c for t, p in zip(y_true, y_pred))
        fn = sum(t == c and p != c for t, p in zip(y_true, y_pred))
        scores.append(2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores)


def test_hand_computed_example():
    # Six nodes, 6 classes; node 5 is unlabelled and must not count.
    y_pred = torch.tensor([
        [9, 1, 0, 0, 0, 0],  # true 0, top1 0
        [0, 9, 8, 0, 0, 0],  # true 2, top1 1, top2 2
        [0, 0, 9, 0, 0, 0],  # true 2, top1 2
        [1, 2, 3, 4, 5, 6],  # true 0: 0 is the lowest score, outside the top 5
        [0, 9, 0, 0, 0, 0],  # true 1, top1 1
        [0, 0, 0, 0, 0, 9],  # unlabelled
    ], dtype=torch.float)
    y_true = torch.tensor([0, 2, 2, 0, 1, -1])
    level = torch.tensor([0, 1, 1, 2, 2, 2])
    result = Evaluator().eval({"y_true": y_true, "y_pred": y_pred, "level": level})
    # top-1 hits: nodes 0, 2, 4 -> 3/5; top-5 misses only node 3 -> 4/5.
    assert result["top1"] == pytest.approx(3 / 5)
    assert result["top5"] == pytest.approx(4 / 5)
    # Predictions 0, 1, 2, 5, 1. Class 0: tp 1, fn 1 -> 2/3; class 1: tp 1, fp 1 -> 2/3;
    # class 2: tp 1, fn 1 -> 2/3; class 5: fp 1 -> 0. Mean over 4 classes = 0.5.
    assert result["macro_f1"] == pytest.approx(0.5)
    assert result["num_nodes"] == 5
    assert list(result["per_level"]) == [0, 1, 2]
    assert result["per_level"][0] == {"top1": 1.0, "top5": 1.0, "macro_f1": 1.0, "num_nodes": 1}
    assert result["per_level"][1]["top1"] == 0.5 and result["per_level"][1]["top5"] == 1.0
    # Level 1: truth 2, 2; predictions 1, 2. Class 1: 0; class 2: tp 1, fn 1 -> 2/3.
    assert result["per_level"][1]["macro_f1"] == pytest.approx(1 / 3)
    # Level 2: node 3 (true 0, pred 5) and node 4 (true 1, pred 1); node 5 is unlabelled.
    assert result["per_level"][2]["num_nodes"] == 2
    assert result["per_level"][2]["top1"] == 0.5 and result["per_level"][2]["top5"] == 0.5
    assert result["per_level"][2]["macro_f1"] == pytest.approx(1 / 3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_straightforward_loops(seed):
    generator = torch.Generator().manual_seed(seed)
    n, classes = 200, 9
    y_pred = torch.randn(n, classes, generator=generator)
    y_true = torch.randint(-1, classes, (n,), generator=generator)
    level = torch.randint(0, 4, (n,), generator=generator)
    result = Evaluator().eval({"y_true": y_true, "y_pred": y_pred, "level": level})
    rows = [i for i in range(n) if y_true[i] >= 0]
    truth = [int(y_true[i]) for i in rows]
    best = [int(max(range(classes), key=lambda c: y_pred[i, c])) for i in rows]
    top5 = [sorted(range(classes), key=lambda c: -y_pred[i, c])[:5] for i in rows]
    assert result["top1"] == pytest.approx(sum(t == p for t, p in zip(truth, best)) / len(rows))
    assert result["top5"] == pytest.approx(sum(t in k for t, k in zip(truth, top5)) / len(rows))
    assert result["macro_f1"] == pytest.approx(loop_macro_f1(truth, best))
    for depth, metrics in result["per_level"].items():
        keep = [j for j, i in enumerate(rows) if level[i] == depth]
        assert metrics["num_nodes"] == len(keep)
        assert metrics["macro_f1"] == pytest.approx(loop_macro_f1([truth[j] for j in keep], [best[j] for j in keep]))


def test_fewer_than_five_classes_make_top5_perfect():
    result = Evaluator().eval({"y_true": np.array([0, 1]), "y_pred": np.array([[0.0, 1.0], [1.0, 0.0]]),
                               "level": np.array([0, 0])})
    assert result["top1"] == 0.0 and result["top5"] == 1.0 and result["macro_f1"] == 0.0


def test_no_labelled_node_gives_nan():
    result = Evaluator().eval({"y_true": torch.tensor([-1, -1]), "y_pred": torch.zeros(2, 3),
                               "level": torch.tensor([0, 1])})
    assert math.isnan(result["top1"]) and math.isnan(result["macro_f1"])
    assert result["num_nodes"] == 0 and result["per_level"] == {}


def test_functions_agree_with_the_evaluator():
    y_true, y_pred = torch.tensor([0, 1, 1]), torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert top_k_accuracy(y_true, y_pred, 1) == pytest.approx(2 / 3)
    assert macro_f1(y_true, y_pred.argmax(1), 2) == pytest.approx((2 / 3 + 2 / 3) / 2)


GOOD = {"y_true": torch.tensor([0, 1]), "y_pred": torch.zeros(2, 3), "level": torch.tensor([0, 1])}


@pytest.mark.parametrize("change,match", [
    ({"y_true": torch.zeros(2, 1, dtype=torch.long)}, r"y_true has shape \(2, 1\); expected \[N\]"),
    ({"y_pred": torch.zeros(2)}, r"y_pred has shape \(2,\); expected \[N, C\]"),
    ({"y_pred": torch.zeros(3, 3)}, "must have the same number of rows"),
    ({"level": torch.tensor([0])}, "must have the same number of rows"),
    ({"level": torch.zeros(2, 2, dtype=torch.long)}, r"level has shape"),
    ({"y_true": torch.tensor([0.0, 1.0])}, "y_true must hold integer classes"),
    ({"y_pred": torch.zeros(2, 3, dtype=torch.long)}, "y_pred must hold float scores"),
    ({"y_true": torch.tensor([0, 3])}, r"expected -1 \(unlabelled\) or \[0, 2\]"),
    ({"y_true": torch.tensor([0, -2])}, r"holds classes in \[-2, 0\]"),
    ({"y_pred": torch.zeros(2, 0)}, "no class column"),
])
def test_bad_input_raises(change, match):
    with pytest.raises(ValueError, match=match):
        Evaluator().eval({**GOOD, **change})


def test_missing_key_and_wrong_type():
    with pytest.raises(ValueError, match=r"lacks \['level'\]"):
        Evaluator().eval({"y_true": GOOD["y_true"], "y_pred": GOOD["y_pred"]})
    with pytest.raises(TypeError, match="must be a dict"):
        Evaluator().eval([GOOD])


def test_repr():
    assert repr(Evaluator()) == "Evaluator(metrics=['top1', 'top5', 'macro_f1'], per_level=True)"
