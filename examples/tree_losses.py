"""Every hierarchy loss of ``graphkit.losses`` on one batch of an on-disk dataset.

The main job's loss step: it takes a mini-batch of whole videos straight from
the shards that ``graphkit convert --on-disk`` wrote, embeds its segments with
the encoder of a trained run (``graphkit train --out RUN``) or, without a run,
with a freshly initialised ``hier`` encoder, and computes each tree loss on
those embeddings. It prints one JSON object (also written to ``--out``): the
batch's size and, per loss, its value and how many anchors it had.

Usage::

    python examples/tree_losses.py DATASET_ROOT [--run RUN_DIR] [--videos 16] [--out losses.json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from pathlib import Path

import torch

# torch_geometric scripts a few modules on import, and torch deprecates jit.script: not ours to fix.
warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)

from graphkit.loaders.pyg_dataset import Action100MOnDiskDataset  # noqa: E402
from graphkit.losses import (  # noqa: E402
    level_hierarchical_loss,
    parent_child_aggregation_loss,
    parent_index,
    tree_distance_infonce,
    tree_supcon_loss,
)
from graphkit.models import build_model  # noqa: E402
from graphkit.models.checkpoint import load_model  # noqa: E402


def batch_losses(dataset_root: str, run: str | None = None, videos: int = 16, seed: int = 0) -> dict:
    """The losses on the first ``videos`` training videos of an on-disk dataset (see the module docstring)."""
    torch.manual_seed(seed)
    dataset = Action100MOnDiskDataset(dataset_root, log=False)
    train = dataset.get_idx_split()["train"][:videos]
    batch = next(iter(dataset.loader(train, batch_size=videos)))
    if run is None:
        encoder = build_model("hier", in_dim=dataset.num_segment_features,
                              num_classes=dataset.vocabulary.num_classes)
    else:
        encoder, _, _ = load_model(run, device="cpu")
    encoder.eval()
    segment = batch["segment"]
    parent = parent_index(batch["segment", "parent_of", "segment"].edge_index, segment.num_nodes)
    with torch.no_grad():
        z = encoder.encode(batch)
        outputs = {
            "tree_supcon": tree_supcon_loss(z, parent, segment.batch, max_distance=2, temperature=0.1),
            "level_hierarchical": level_hierarchical_loss(z, parent, segment.batch, temperature=0.1),
            "tree_distance_infonce": tree_distance_infonce(z, parent, segment.batch, temperature=0.1),
            "parent_child_aggregation": parent_child_aggregation_loss(z, parent, temperature=0.1),
        }
    # level_hierarchical_loss counts anchors per level: a list then.
    losses = {name: {"loss": float(out.loss), "anchors": out.num_anchors.tolist()} for name, out in outputs.items()}
    return {"dataset": str(dataset_root), "encoder": run or "untrained hier", "videos": int(batch.num_graphs),
            "segments": int(segment.num_nodes), "losses": losses}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset_root", help="what `graphkit convert --on-disk --out` wrote")
    parser.add_argument("--run", help="a `graphkit train --out` directory whose encoder embeds the segments")
    parser.add_argument("--videos", type=int, default=16, help="videos in the batch (default: 16)")
    parser.add_argument("--out", type=Path, help="also write the JSON object here")
    args = parser.parse_args(argv)
    try:
        report = batch_losses(args.dataset_root, args.run, args.videos)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if not all(math.isfinite(entry["loss"]) for entry in report["losses"].values()):
        print(f"error: a loss is not finite: {report['losses']}", file=sys.stderr)
        return 1
    text = json.dumps(report, indent=2)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
