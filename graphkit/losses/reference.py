"""Plain-Python loop references of the losses and tree utilities of :mod:`graphkit.losses`.

Plain-Python loop references: the oracle of the tests and the obvious code of
``benchmarks/losses.py``; slow on purpose. Each *reference* is what one writes
straight from a paper's formula, one anchor and one pair at a time, with torch
only for the arithmetic (so autograd gives the reference gradients): the same
loss as its vectorized counterpart in :mod:`graphkit.losses`, computed the
obvious way. The tests compare :mod:`graphkit.losses` against these functions
(``tests/graphkit/losses/``) and ``benchmarks/losses.py`` times them. Each loss
reference returns ``(loss, num_excluded)`` (per level for the level loss, with
the level losses as a third item) and takes the same arguments as its
vectorized counterpart, less ``normalize`` and ``reduction`` (cosine similarity
and the mean over anchors).

Examples:
    >>> naive_paths([-1, 0, 0, 2])
    [[0], [0, 1], [0, 2], [0, 2, 3]]
    >>> naive_tree_distance([-1, 0, -1])
    [[0, 1, inf], [1, 0, inf], [inf, inf, 0]]
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = [
    "naive_paths",
    "naive_lca_depth",
    "naive_tree_distance",
    "naive_tree_supcon_loss",
    "naive_level_hierarchical_loss",
    "naive_tree_distance_infonce",
    "naive_parent_child_aggregation_loss",
    "naive_entailment_cone_loss",
]


def naive_paths(parent: Tensor | list[int]) -> list[list[int]]:
    """Root-to-node path of every node, by walking up the parent pointers."""
    parent = [int(p) for p in parent]
    paths = []
    for node in range(len(parent)):
        chain = []
        current = node
        while current != -1:
            chain.append(current)
            current = parent[current]
        paths.append(chain[::-1])
    return paths


def naive_lca_depth(path_a: list[int], path_b: list[int]) -> int:
    """Depth of the last common entry of two root-to-node paths, -1 if none."""
    depth = -1
    for a, b in zip(path_a, path_b):
        if a != b:
            break
        depth += 1
    return depth


def naive_tree_distance(parent: Tensor | list[int]) -> list[list[float]]:
    """Edges between every pair of nodes, ``inf`` across trees."""
    paths = naive_paths(parent)
    n = len(paths)
    distance = [[math.inf] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            lca = naive_lca_depth(paths[i], paths[j])
            if lca >= 0:
                distance[i][j] = (len(paths[i]) - 1) + (len(paths[j]) - 1) - 2 * lca
    return distance


def _unit_rows(z: Tensor, normalize: bool = True) -> list[Tensor]:
    rows = []
    for row in z.unbind(0):
        rows.append(row / torch.clamp(row.norm(), min=1e-12) if normalize else row)
    return rows


def _log_prob_row(rows: list[Tensor], i: int, temperature: float) -> dict[int, Tensor]:
    """log of softmax over j != i of sim(i, j) / temperature, as {j: value}."""
    logits = {j: torch.dot(rows[i], rows[j]) / temperature for j in range(len(rows)) if j != i}
    log_total = torch.log(sum(torch.exp(value) for value in logits.values()))
    return {j: value - log_total for j, value in logits.items()}


def _mean_or_zero(terms: list[Tensor], z: Tensor) -> Tensor:
    return sum(terms) / len(terms) if terms else (z * 0).sum()


def naive_tree_supcon_loss(
    z: Tensor, parent: Tensor, video: Tensor | None = None, *, max_distance: int = 2, temperature: float = 0.1,
    extra_positives: Tensor | None = None,
) -> tuple[Tensor, int]:
    distance = naive_tree_distance(parent)
    rows = _unit_rows(z)
    extra: dict[int, set[int]] = {}
    for anchor, other in ([] if extra_positives is None else extra_positives.t().tolist()):
        extra.setdefault(anchor, set()).add(other)
    terms, excluded = [], 0
    for i in range(len(rows)):
        positives = [j for j in range(len(rows)) if j != i and distance[i][j] <= max_distance]
        positives += sorted(extra.get(i, ()))
        if not positives:
            excluded += 1
            continue
        log_prob = _log_prob_row(rows, i, temperature)
        terms.append(-sum(log_prob[p] for p in positives) / len(positives))
    return _mean_or_zero(terms, z), excluded


def naive_level_hierarchical_loss(
    z: Tensor,
    parent: Tensor,
    video: Tensor | None = None,
    *,
    levels: list[int] | None = None,
    weights: list[float] | None = None,
    temperature: float = 0.1,
    hierarchy_constraint: bool = False,
    exclusive_levels: bool = False,
) -> tuple[Tensor, list[int], list[Tensor]]:
    paths = naive_paths(parent)
    n = len(paths)
    if levels is None:
        levels = list(range(max(len(path) for path in paths)))
    if weights is None:
        weights = [1.0 / len(levels)] * len(levels)
    rows = _unit_rows(z)
    log_probs: dict[int, dict[int, Tensor]] = {}

    def ancestor(node: int, level: int) -> int | None:
        return paths[node][level] if level < len(paths[node]) else None

    def shares(i: int, j: int, level: int) -> bool:
        return ancestor(i, level) is not None and ancestor(i, level) == ancestor(j, level)

    level_losses, excluded, nonempty = [], [], []
    for level in levels:
        terms, left_out = [], 0
        for i in range(n):
            positives = [
                j for j in range(n)
                if j != i and shares(i, j, level) and not (exclusive_levels and shares(i, j, level + 1))
            ]
            if not positives:
                left_out += 1
                continue
            if i not in log_probs:
                log_probs[i] = _log_prob_row(rows, i, temperature)
            terms.append(-sum(log_probs[i][p] for p in positives) / len(positives))
        level_losses.append(_mean_or_zero(terms, z))
        excluded.append(left_out)
        nonempty.append(bool(terms))
    if hierarchy_constraint:
        best = None
        for position in sorted(range(len(levels)), key=lambda k: levels[k]):
            if not nonempty[position]:
                continue
            if best is not None:
                level_losses[position] = torch.maximum(level_losses[position], best)
            best = level_losses[position]
    loss = sum(weight * level_loss for weight, level_loss in zip(weights, level_losses))
    return loss, excluded, level_losses


def naive_tree_distance_infonce(
    z: Tensor, parent: Tensor, video: Tensor | None = None, *, temperature: float = 0.1, beta: float = 1.0
) -> tuple[Tensor, int]:
    distance = naive_tree_distance(parent)
    rows = _unit_rows(z)
    terms, excluded = [], 0
    for i in range(len(rows)):
        related = [j for j in range(len(rows)) if j != i and distance[i][j] < math.inf]
        if not related:
            excluded += 1
            continue
        unnormalised = {j: math.exp(-beta * distance[i][j]) for j in related}
        total = sum(unnormalised.values())
        log_prob = _log_prob_row(rows, i, temperature)
        terms.append(-sum(unnormalised[j] / total * log_prob[j] for j in related))
    return _mean_or_zero(terms, z), excluded


def naive_parent_child_aggregation_loss(
    z: Tensor,
    parent: Tensor,
    *,
    aggregate: str = "mean",
    temperature: float = 0.1,
    query: Tensor | None = None,
) -> tuple[Tensor, int]:
    n, dim = z.shape
    children: dict[int, list[int]] = {}
    for node in range(n):
        if int(parent[node]) >= 0:
            children.setdefault(int(parent[node]), []).append(node)
    anchors = sorted(children)
    pooled = {}
    for p in anchors:
        if aggregate == "mean":
            pooled[p] = sum(z[c] for c in children[p]) / len(children[p])
        else:
            q = z[p] if query is None else query
            scores = [torch.dot(z[c], q) / math.sqrt(dim) for c in children[p]]
            total = sum(torch.exp(s) for s in scores)
            pooled[p] = sum(torch.exp(s) / total * z[c] for s, c in zip(scores, children[p]))

    def unit(v: Tensor) -> Tensor:
        return v / torch.clamp(v.norm(), min=1e-12)

    terms = []
    for p in anchors:
        logits = {other: torch.dot(unit(pooled[p]), unit(z[other])) / temperature for other in anchors}
        terms.append(-(logits[p] - torch.log(sum(torch.exp(v) for v in logits.values()))))
    return _mean_or_zero(terms, z), n - len(anchors)


def naive_entailment_cone_loss(
    z: Tensor, parent: Tensor, *, curvature: float = 1.0, min_radius: float = 0.1, eps: float = 1e-6
) -> tuple[Tensor, int]:
    c = curvature

    def lift(v: Tensor) -> Tensor:  # exponential map at the origin, space components
        r = math.sqrt(c) * v.norm()
        if float(r.detach()) == 0.0:
            return v
        return torch.sinh(torch.clamp(r, max=math.asinh(2.0**15))) / r * v

    def time(x: Tensor) -> Tensor:
        return torch.sqrt(1.0 / c + torch.dot(x, x))

    terms, excluded = [], 0
    for node in range(z.size(0)):
        p = int(parent[node])
        if p < 0:
            excluded += 1
            continue
        x, y = lift(z[p]), lift(z[node])
        inner = torch.dot(x, y) - time(x) * time(y)
        cosine = (time(y) + time(x) * c * inner) / (
            x.norm() * torch.sqrt(torch.clamp((c * inner) ** 2 - 1, min=eps)) + eps
        )
        exterior = torch.acos(torch.clamp(cosine, -1 + eps, 1 - eps))
        aperture = torch.asin(torch.clamp(2 * min_radius / (math.sqrt(c) * x.norm() + eps), -1 + eps, 1 - eps))
        terms.append(torch.clamp(exterior - aperture, min=0))
    return _mean_or_zero(terms, z), excluded
