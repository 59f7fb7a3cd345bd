"""Hierarchy losses: :mod:`graphkit.losses` against naive per-pair loops, side by side.

For each loss and batch size the same batch is scored two ways:

* ``vectorized`` — :mod:`graphkit.losses` (batched torch, ``O(N^2)`` work in a
  few tensor passes): the best of ``--repeat`` forward calls after a warm-up,
  plus forward + backward for reference;
* ``naive`` — :mod:`graphkit.losses.reference`, the references the tests check
  against: Python loops over anchors and pairs, torch for the arithmetic.
  One forward call.

Both forward timings run without autograd (``z`` does not require grad). The
batch is a prefix of synthetic videos (:mod:`graphkit.synth`: deep,
unbalanced binary trees, ~390 nodes per video), embeddings are Gaussian.

The naive loops grow with the number of pairs, so they are timed on the real
batch only when a probe predicts that this takes at most ``--naive-budget``
seconds. Otherwise they are timed once on the largest prefix of the batch that
fits the budget and *extrapolated* by the loss's scaling rule (pairs of nodes
``N^2``, pairs of parents ``P^2`` for the aggregation loss, edges ``N - 1``
for the entailment loss); every extrapolated figure is marked as such.

Usage::

    python benchmarks/losses.py                              # sizes 1,024 / 4,096 / 16,384
    python benchmarks/losses.py --sizes 1024 4096 --json     # one JSON object
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from graphkit import losses  # noqa: E402
from graphkit.losses import reference as naive  # noqa: E402
from graphkit.synth import generate_batch  # noqa: E402
from graphkit.tree import TreeBatch  # noqa: E402

#: name -> (vectorized, naive, keyword arguments, whether it takes ``video``, scaling rule)
LOSSES = {
    "tree_supcon": (losses.tree_supcon_loss, naive.naive_tree_supcon_loss, {"max_distance": 2}, True, "pairs"),
    "level_hierarchical": (
        losses.level_hierarchical_loss, naive.naive_level_hierarchical_loss,
        {"hierarchy_constraint": True}, True, "pairs",
    ),
    "tree_distance_infonce": (
        losses.tree_distance_infonce, naive.naive_tree_distance_infonce, {"beta": 1.0}, True, "pairs",
    ),
    "parent_child_aggregation": (
        losses.parent_child_aggregation_loss, naive.naive_parent_child_aggregation_loss,
        {"aggregate": "attention"}, False, "parent pairs",
    ),
    "entailment_cone": (losses.entailment_cone_loss, naive.naive_entailment_cone_loss, {}, False, "edges"),
}
PROBE_NODES = 128


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def make_forest(num_nodes: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, int]:
    """The first ``num_nodes`` nodes of synthetic videos: (parent, video, number of videos).

    Videos list nodes breadth-first, so any prefix is closed under parents.
    """
    batches, total, first = [], 0, 0
    while total < num_nodes:
        trees = TreeBatch.from_arrow(generate_batch(16, seed=seed, first_video=first))
        batches.append(trees)
        total += trees.num_nodes
        first += 16
    trees = TreeBatch.concat(batches)
    parent = torch.from_numpy(trees.parent[:num_nodes].copy())
    video = torch.from_numpy(trees.video_index[:num_nodes].copy())
    return parent, video, int(video.max()) + 1


def work(rule: str, parent: torch.Tensor) -> float:
    """How much naive work a batch holds under a scaling rule."""
    n = len(parent)
    if rule == "pairs":
        return float(n * n)
    if rule == "parent pairs":
        parents = len(np.unique(parent[parent >= 0].numpy()))
        return float(max(parents, 1) ** 2)
    return float(max(int((parent >= 0).sum()), 1))


def call(fn, takes_video: bool, z, parent, video, kwargs):
    return fn(z, parent, video, **kwargs) if takes_video else fn(z, parent, **kwargs)


def time_vectorized(name: str, z, parent, video, repeat: int) -> tuple[float, float]:
    fn, _, kwargs, takes_video, _ = LOSSES[name]
    call(fn, takes_video, z, parent, video, kwargs)  # warm-up
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        call(fn, takes_video, z, parent, video, kwargs).loss.item()
        best = min(best, time.perf_counter() - start)
    best_backward = float("inf")
    for _ in range(max(1, repeat - 1)):
        leaf = z.detach().clone().requires_grad_()
        start = time.perf_counter()
        call(fn, takes_video, leaf, parent, video, kwargs).loss.backward()
        leaf.grad.sum().item()
        best_backward = min(best_backward, time.perf_counter() - start)
    return best * 1e3, best_backward * 1e3


def time_naive(name: str, z, parent, video) -> float:
    _, fn, kwargs, takes_video, _ = LOSSES[name]
    cpu_z, cpu_parent, cpu_video = z.cpu(), parent.cpu(), video.cpu()
    start = time.perf_counter()
    call(fn, takes_video, cpu_z, cpu_parent, cpu_video, kwargs)
    return (time.perf_counter() - start) * 1e3


def naive_timings(name: str, sizes: list[int], forest, z, budget_s: float) -> dict[int, float]:
    """Naive forward ms per batch size, measured where a probe predicts it fits the budget.

    When no requested size fits, the largest power-of-two prefix that fits is
    measured instead (at least :data:`PROBE_NODES` nodes): the caller
    extrapolates from the largest measured size.
    """
    parent, video = forest
    rule = LOSSES[name][4]
    probe = min(PROBE_NODES, len(parent))
    probe_ms = time_naive(name, z[:probe], parent[:probe], video[:probe])
    per_work = probe_ms / work(rule, parent[:probe])
    fits = [n for n in sizes if per_work * work(rule, parent[:n]) <= budget_s * 1e3]
    if not fits:
        prefix = probe
        while prefix * 2 < min(sizes) and per_work * work(rule, parent[: prefix * 2]) <= budget_s * 1e3:
            prefix *= 2
        fits = [prefix]
    measured = {}
    for n in fits:
        measured[n] = probe_ms if n == probe else time_naive(name, z[:n], parent[:n], video[:n])
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 4096, 16384], help="nodes per batch")
    parser.add_argument("--losses", nargs="+", choices=list(LOSSES), default=list(LOSSES))
    parser.add_argument("--dim", type=int, default=128, help="embedding width")
    parser.add_argument("--repeat", type=int, default=3, help="vectorized calls per size (best is kept)")
    parser.add_argument("--naive-budget", type=float, default=60.0,
                        help="seconds a naive run may take before it is extrapolated from a smaller prefix")
    parser.add_argument("--device", default="cpu", help="device of the vectorized losses (naive: always CPU)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    sizes = sorted(set(args.sizes))
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    device_name = cpu_name() if device.type == "cpu" else torch.cuda.get_device_name(device)

    largest = max(sizes)
    parent_all, video_all, _ = make_forest(largest, args.seed)
    z_all = torch.randn(largest, args.dim, generator=torch.Generator().manual_seed(args.seed))
    results = []
    for name in args.losses:
        measured = naive_timings(name, sizes, (parent_all, video_all), z_all, args.naive_budget)
        for n in sizes:
            parent, video = parent_all[:n], video_all[:n]
            row = {"loss": name, "nodes": n, "videos": int(video.max()) + 1}
            try:
                forward_ms, backward_ms = time_vectorized(
                    name, z_all[:n].to(device), parent.to(device), video.to(device), args.repeat)
            except (RuntimeError, MemoryError) as err:  # out of memory at the largest sizes
                row.update(skipped=f"vectorized failed: {type(err).__name__}: {str(err)[:120]}")
                results.append(row)
                continue
            naive_nodes = n if n in measured else max(measured)
            rule = LOSSES[name][4]
            estimate = measured[naive_nodes] * work(rule, parent) / work(rule, parent_all[:naive_nodes])
            row.update(
                vectorized_ms=round(forward_ms, 3),
                vectorized_forward_backward_ms=round(backward_ms, 3),
                naive_ms=round(estimate, 1),
                naive_measured_nodes=naive_nodes,
                naive_extrapolated=naive_nodes != n,
                speedup_vs_naive=round(estimate / forward_ms, 1),
            )
            results.append(row)
            if not args.json:
                print(_line(row, LOSSES[name][4]), flush=True)

    report = {
        "device": f"{device.type}: {device_name}",
        "torch_threads": torch.get_num_threads(),
        "dim": args.dim,
        "naive_budget_s": args.naive_budget,
        "timing": "forward ms, no autograd; vectorized best of --repeat, naive one call",
        "extrapolation": "naive_ms = measured_ms * work(N) / work(measured prefix); work = N^2 (pairs), "
                         "P^2 (parent pairs), N - 1 (edges)",
        "results": results,
        "speedup_vs_naive": {
            name: {str(r["nodes"]): r["speedup_vs_naive"] for r in results if r["loss"] == name and "speedup_vs_naive" in r}
            for name in args.losses
        },
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(f"device: {report['device']}, torch threads: {report['torch_threads']}, dim {args.dim}")
        print(f"extrapolation rule: {report['extrapolation']}")


def _line(row: dict, rule: str) -> str:
    naive_note = (
        f"naive {row['naive_ms']:>12.1f} ms"
        + (f" (extrapolated from {row['naive_measured_nodes']} nodes by {rule})" if row["naive_extrapolated"]
           else " (measured)")
    )
    return (
        f"{row['loss']:<26} N={row['nodes']:>6} videos={row['videos']:>3}  "
        f"vectorized {row['vectorized_ms']:>9.2f} ms (fwd+bwd {row['vectorized_forward_backward_ms']:>9.2f})  "
        f"{naive_note}  speedup {row['speedup_vs_naive']:>9.1f}x"
    )


if __name__ == "__main__":
    main()
