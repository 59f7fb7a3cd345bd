"""Pretrain a GNN encoder with a hierarchy contrastive loss, then probe it for the verb label.

For every seed, on one video-level split:

1. **pretrain** -- a baseline encoder of :mod:`models` (``model.encode``) and a
   two-layer projection head learn, without labels, from the training videos
   with one loss of :mod:`graphkit.losses` (default: Tree-SupCon, positives
   within tree distance 2, other videos as negatives); with
   ``--cross-video-positives`` Tree-SupCon also pulls each segment towards
   the segments of other videos in its batch whose caption (``--positive-field``,
   embedded by ``--text-encoder`` through the embedding cache) is among its
   ``--k`` nearest at cosine ``>= --threshold``
   (:func:`graphkit.losses.cross_video_positives`);
2. **probe** -- the encoder is frozen and a linear classifier on its
   embeddings learns the verb from the labelled training segments, keeping
   the step with the best validation macro-F1;
3. **controls** -- the same probe on the same encoder left at its random
   initialization (the weights pretraining started from) and on the input
   features themselves; the same architecture trained from scratch end to end
   with the labels (:func:`graphkit.models.train.train`); and the pretrained encoder
   fine-tuned end to end the same way (``TrainConfig.init_weights``).

Test metrics come from :class:`graphkit.models.evaluator.Evaluator`. With
``--label-fraction`` only that share of the training videos keeps its labels,
the same videos for the probes and for the supervised runs
(:func:`graphkit.models.train.labelled_videos`); pretraining always sees every training
video, never a label. The label vocabulary is the dataset's, fitted on all
training videos, and the validation videos (which choose the probe's step and
the supervised epoch) stay labelled. Results go to ``OUT/results.json`` and a
markdown table to ``OUT/results.md`` and stdout.

Usage:
    python examples/contrastive_pretrain.py --out runs/pretrain                  # 1,000 synthetic videos, 3 seeds
    python examples/contrastive_pretrain.py --out runs/pretrain-5pc --label-fraction 0.05 --epochs 300 --patience 30
    python examples/contrastive_pretrain.py --out runs/pretrain-cross --cross-video-positives \
        --positive-field plm_action --text-encoder minilm --threshold 0.8 --k 5
    python examples/contrastive_pretrain.py --source "data/*.parquet" --out runs/pretrain-real
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import logging
import math
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from graphkit import losses
from graphkit.features import TEXT_ENCODERS, FeatureConfig
from graphkit.loaders.pyg_dataset import Action100MDataset
from graphkit.loaders.synth import write_parquet
from graphkit.models import build_model
from graphkit.models.benchmark import format_mean_std
from graphkit.models.config import TrainConfig, resolve_device
from graphkit.models.evaluator import Evaluator
from graphkit.models.train import deterministic, labelled_videos, train
from graphkit.synth import SynthConfig

logger = logging.getLogger("contrastive_pretrain")

SEGMENT = "segment"
METHODS = (
    "pretrained encoder + linear probe",
    "random-init encoder + linear probe",
    "input features + linear probe",
    "trained from scratch",
    "pretrained, then fine-tuned",
)

LossFn = Callable[[Tensor, Tensor, Tensor, argparse.Namespace, "Tensor | None"], losses.LossOutput]

#: The losses: ``(z, parent, video, args, extra_positives) -> LossOutput``; only Tree-SupCon
#: takes positives beyond the tree (``extra_positives`` is None for the others).
LOSSES: dict[str, LossFn] = {
    "tree_supcon": lambda z, parent, video, args, extra: losses.tree_supcon_loss(
        z, parent, video, max_distance=args.max_distance, temperature=args.temperature, extra_positives=extra),
    "level_hierarchical": lambda z, parent, video, args, extra: losses.level_hierarchical_loss(
        z, parent, video, temperature=args.temperature),
    "tree_distance_infonce": lambda z, parent, video, args, extra: losses.tree_distance_infonce(
        z, parent, video, temperature=args.temperature, beta=args.beta),
}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("runs/pretrain"), help="output directory")
    parser.add_argument("--source", action="append", default=None,
                        help="parquet/JSON source (repeatable); default: synthetic videos written to OUT")
    parser.add_argument("--videos", type=int, default=1000, help="synthetic videos when no --source")
    parser.add_argument("--mean-duration", type=float, default=90.0,
                        help="mean synthetic video duration in seconds (90: about 126 segments per video)")
    parser.add_argument("--model", default="hier", help="encoder: a name of models.MODELS")
    parser.add_argument("--loss", default="tree_supcon", choices=sorted(LOSSES))
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--projection", type=int, default=64, help="width of the projection head's output")
    parser.add_argument("--temperature", type=float, default=0.1)
    parser.add_argument("--max-distance", type=int, default=2, help="Tree-SupCon positives: tree distance <= k")
    parser.add_argument("--beta", type=float, default=1.0, help="tree-distance InfoNCE: targets ~ exp(-beta d)")
    parser.add_argument("--cross-video-positives", action="store_true",
                        help="Tree-SupCon: add positives from other videos with similar captions")
    parser.add_argument("--positive-field", default="plm_action",
                        help="caption whose embeddings choose the cross-video positives (never a gpt field)")
    parser.add_argument("--text-encoder", default="minilm", choices=TEXT_ENCODERS,
                        help="encoder of --positive-field (embedded once, through the embedding cache)")
    parser.add_argument("--threshold", type=float, default=0.8, help="least cosine of a cross-video positive")
    parser.add_argument("--k", type=int, default=5, help="most cross-video positives per segment")
    parser.add_argument("--pretrain-epochs", type=int, default=20)
    parser.add_argument("--pretrain-lr", type=float, default=0.001)
    parser.add_argument("--batch-size", type=int, default=16, help="videos per pretraining batch")
    parser.add_argument("--probe-steps", type=int, default=300, help="full-batch steps of the linear probe")
    parser.add_argument("--epochs", type=int, default=20, help="most epochs of the supervised runs (scratch, fine-tuned)")
    parser.add_argument("--patience", type=int, default=5,
                        help="early-stopping patience of the supervised runs (raise it with few labelled videos)")
    parser.add_argument("--label-fraction", type=float, default=1.0,
                        help="share of the training videos whose labels the probes and supervised runs see")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    args = parser.parse_args(argv)
    if not 0.0 < args.label_fraction <= 1.0:
        parser.error(f"--label-fraction {args.label_fraction} must lie in (0, 1]")
    if not (args.mean_duration > 0 and math.isfinite(args.mean_duration)):
        parser.error(f"--mean-duration {args.mean_duration} must be a positive number of seconds")
    if args.videos < 1:
        parser.error(f"--videos {args.videos} must be >= 1")
    if args.cross_video_positives:
        if args.loss != "tree_supcon":
            parser.error(f"--cross-video-positives needs --loss tree_supcon, not {args.loss}")
        if args.k < 1 or not -1.0 < args.threshold <= 1.0:
            parser.error(f"--k {args.k} must be >= 1 and --threshold {args.threshold} in (-1, 1]")
        try:
            FeatureConfig(text_fields=(args.positive_field,), text_encoder=args.text_encoder, temporal=False)
        except ValueError as error:
            parser.error(f"--positive-field {args.positive_field}: {error}")
    return args


def prepare_sources(args: argparse.Namespace) -> list[str]:
    """The sources to read: ``--source``, or synthetic videos written once to OUT.

    ``OUT/data.json`` records what OUT's data and processed dataset were made
    from; another run into the same OUT must ask for the same data.

    Raises:
        SystemExit: If OUT holds data made from other settings.
    """
    if args.source:
        wanted = {"source": list(args.source)}
    else:
        wanted = {"synthetic_videos": args.videos, "mean_duration": args.mean_duration, "data_seed": 0}
    stamp, path = args.out / "data.json", args.out / "synthetic.parquet"
    if stamp.exists():
        made = json.loads(stamp.read_text(encoding="utf-8"))
        if made != wanted:
            sys.exit(f"error: {args.out} holds data made from {made}, not {wanted}; use another --out")
    elif path.exists() or (args.out / "dataset").exists():
        sys.exit(f"error: {args.out} holds data without a data.json saying what it was made from; use another --out")
    if not args.source and not path.exists():
        write_parquet(path, args.videos, seed=0, config=SynthConfig(mean_video_duration=args.mean_duration))
    stamp.write_text(json.dumps(wanted), encoding="utf-8")
    return list(args.source) if args.source else [str(args.out / "synthetic.parquet")]


class WithCaptions(torch.utils.data.Dataset):
    """The videos of ``dataset``, each segment store given ``caption``: its rows of ``captions``' ``x``.

    ``captions`` holds the same videos in the same order (:func:`caption_dataset`).
    """

    def __init__(self, dataset: Action100MDataset, captions: Action100MDataset) -> None:
        self.dataset, self.captions = dataset, captions

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        data = self.dataset[index]
        data[SEGMENT].caption = self.captions[index][SEGMENT].x
        return data


def caption_dataset(dataset: Action100MDataset, config: TrainConfig, args: argparse.Namespace) -> Action100MDataset:
    """``--positive-field`` embedded by ``--text-encoder``, one row per segment of ``dataset``'s videos.

    Raises:
        SystemExit: If the two datasets do not hold the same segments in the same order.
    """
    features = FeatureConfig(text_fields=(args.positive_field,), text_encoder=args.text_encoder, temporal=False)
    root = args.out / f"captions-{args.positive_field}-{args.text_encoder}"
    captions = Action100MDataset(str(root), list(config.sources), task=dataclasses.replace(config.task(),
                                 features=features), log=False)
    same = len(captions) == len(dataset) and all(
        torch.equal(captions[i][SEGMENT].start, dataset[i][SEGMENT].start) for i in range(len(dataset)))
    if not same:
        sys.exit(f"error: {root} does not hold the segments of {config.dataset_root} in the same order; remove it")
    return captions


def pretrain(encoder: nn.Module, dataset: Action100MDataset, videos: Tensor, args: argparse.Namespace,
             seed: int, device: torch.device, captions: Action100MDataset | None = None) -> list[dict[str, float]]:
    """Train ``encoder`` (in place) and a projection head with the chosen loss; per-epoch history.

    With ``captions`` (``--cross-video-positives``), each batch's Tree-SupCon also gets
    :func:`graphkit.losses.cross_video_positives` of the captions' embeddings; the history then
    says how many pairs a segment got and how often a pair of labelled segments shares its verb
    (measured only: the labels never reach the loss).
    """
    from torch_geometric.loader import DataLoader

    width = encoder.head.in_features
    projector = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, args.projection)).to(device)
    parameters = [p for name, p in encoder.named_parameters() if not name.startswith("head.")]
    optimizer = torch.optim.Adam(parameters + list(projector.parameters()), lr=args.pretrain_lr)
    videos_seen = dataset[videos] if captions is None else WithCaptions(dataset[videos], captions[videos])
    loader = DataLoader(videos_seen, batch_size=args.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    loss_fn = LOSSES[args.loss]
    history = []
    encoder.train()
    for epoch in range(1, args.pretrain_epochs + 1):
        started, total, anchors = time.perf_counter(), 0.0, 0
        pairs_total, segments_total, labelled_pairs, same_verb = 0, 0, 0, 0
        for batch in loader:
            batch = batch.to(device)
            store = batch[SEGMENT]
            parent = losses.parent_index(batch[SEGMENT, "parent_of", SEGMENT].edge_index, store.num_nodes)
            extra = None
            if captions is not None:
                extra = losses.cross_video_positives(store.caption, store.batch, k=args.k, threshold=args.threshold)
                both = (store.y[extra[0]] >= 0) & (store.y[extra[1]] >= 0)
                pairs_total, segments_total = pairs_total + extra.size(1), segments_total + store.num_nodes
                labelled_pairs += int(both.sum())
                same_verb += int((both & (store.y[extra[0]] == store.y[extra[1]])).sum())
            out = loss_fn(projector(encoder.encode(batch)), parent, store.batch, args, extra)
            count = int(out.num_anchors.sum())
            if count == 0:
                continue
            optimizer.zero_grad()
            out.loss.backward()
            optimizer.step()
            total += out.loss.item() * count
            anchors += count
        history.append({"epoch": epoch, "loss": total / max(anchors, 1), "seconds": time.perf_counter() - started})
        if captions is not None:
            history[-1] |= {"cross_video_pairs_per_segment": pairs_total / max(segments_total, 1),
                            "cross_video_pairs_same_verb": same_verb / max(labelled_pairs, 1)}
        logger.info("seed %d pretrain epoch %d: %s loss %.4f", seed, epoch, args.loss, history[-1]["loss"])
    encoder.eval()
    return history


def input_features(batch) -> Tensor:
    """The segments' input features: what a probe sees without any encoder."""
    return batch[SEGMENT].x.float()


@torch.no_grad()
def embed(features: Callable[[Any], Tensor], dataset: Action100MDataset, videos: Tensor, mask_name: str,
          device: torch.device, batch_size: int = 64) -> dict[str, Tensor]:
    """``features(batch)``, labels and levels of the labelled segments in ``mask_name`` of ``videos``.

    ``features`` is an encoder's bound ``encode`` (in eval mode) or :func:`input_features`.
    """
    from torch_geometric.loader import DataLoader

    parts: dict[str, list[Tensor]] = {"z": [], "y": [], "level": []}
    for batch in DataLoader(dataset[videos], batch_size=batch_size):
        batch = batch.to(device)
        store = batch[SEGMENT]
        keep = store[mask_name] & (store.y >= 0)
        parts["z"].append(features(batch)[keep].float().cpu())
        parts["y"].append(store.y[keep].cpu())
        parts["level"].append(store.level[keep].cpu())
    return {key: torch.cat(value) for key, value in parts.items()}


def linear_probe(train_set: dict[str, Tensor], valid_set: dict[str, Tensor], test_set: dict[str, Tensor],
                 num_classes: int, steps: int, seed: int) -> dict[str, Any]:
    """A linear classifier on standardized frozen embeddings; test metrics at the best validation step."""
    evaluator = Evaluator()
    mean, std = train_set["z"].mean(0), train_set["z"].std(0).clamp_min(1e-6)

    def scores(classifier: nn.Module, split: dict[str, Tensor]) -> dict[str, Tensor]:
        return {"y_true": split["y"], "y_pred": classifier((split["z"] - mean) / std), "level": split["level"]}

    torch.manual_seed(seed)
    classifier = nn.Linear(train_set["z"].size(1), num_classes)
    optimizer = torch.optim.Adam(classifier.parameters(), lr=0.01, weight_decay=1e-4)
    x = (train_set["z"] - mean) / std
    best_f1, best_state = -math.inf, None
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(classifier(x), train_set["y"]).backward()
        optimizer.step()
        with torch.no_grad():
            f1 = evaluator.eval(scores(classifier, valid_set))["macro_f1"]
        if not math.isnan(f1) and f1 > best_f1:
            best_f1, best_state = f1, copy.deepcopy(classifier.state_dict())
    if best_state is not None:
        classifier.load_state_dict(best_state)
    with torch.no_grad():
        return evaluator.eval(scores(classifier, test_set))


def run_seed(dataset: Action100MDataset, config: TrainConfig, args: argparse.Namespace, seed: int,
             device: torch.device, captions: Action100MDataset | None = None) -> dict[str, Any]:
    """The five :data:`METHODS` for one seed; pretraining and probes run under :func:`deterministic`."""
    split = dataset.get_idx_split()
    labelled = labelled_videos(split["train"], args.label_fraction, seed)
    in_dim, num_classes = dataset.num_segment_features, dataset.vocabulary.num_classes

    def probe(features: Callable[[Any], Tensor]) -> dict[str, Any]:
        sets = [embed(features, dataset, videos, mask, device)
                for videos, mask in ((labelled, "train_mask"), (split["valid"], "valid_mask"),
                                     (split["test"], "test_mask"))]
        return linear_probe(*sets, num_classes=num_classes, steps=args.probe_steps, seed=seed)

    with deterministic(seed):
        encoder = build_model(args.model, in_dim, num_classes, hidden=args.hidden).to(device).eval()
        random_probe = probe(encoder.encode)  # before pretraining: the very weights pretraining starts from
        started = time.perf_counter()
        history = pretrain(encoder, dataset, split["train"], args, seed, device, captions)
        pretrain_seconds = time.perf_counter() - started
        pretrained_probe = probe(encoder.encode)
        features_probe = probe(input_features)
    weights = args.out / "pretrained" / f"seed{seed}.pt"
    weights.parent.mkdir(parents=True, exist_ok=True)
    torch.save(encoder.state_dict(), weights)

    def supervised(name: str, **changes: Any) -> dict[str, Any]:
        run = {**config.to_dict(), "seed": seed, "out": str(args.out / name / f"seed{seed}"), **changes}
        return train(TrainConfig(**run)).test

    return {
        "seed": seed,
        "labelled_train_videos": int(labelled.numel()),
        "labelled_train_index": labelled.tolist(),
        "pretrain_history": history,
        "pretrain_seconds": pretrain_seconds,
        METHODS[0]: pretrained_probe,
        METHODS[1]: random_probe,
        METHODS[2]: features_probe,
        METHODS[3]: supervised("scratch"),
        METHODS[4]: supervised("finetuned", init_weights=str(weights)),
    }


def summarize(runs: Sequence[dict[str, Any]]) -> str:
    """Markdown table: test top-1, top-5 and macro-F1 (mean ± std over seeds) per method."""
    lines = ["| method | test top-1 (%) | test top-5 (%) | test macro-F1 (%) |", "|---|---|---|---|"]
    for method in METHODS:
        cells = [format_mean_std([run[method][key] for run in runs]) for key in ("top1", "top5", "macro_f1")]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    device = resolve_device(args.device)
    sources = prepare_sources(args)
    config = TrainConfig(model=args.model, sources=tuple(sources), out=str(args.out / "scratch"),
                         dataset_root=str(args.out / "dataset"), epochs=args.epochs, patience=args.patience,
                         hidden=args.hidden, label_fraction=args.label_fraction, device=str(device))
    dataset = Action100MDataset(config.dataset_root, list(sources), task=config.task(), log=False)
    split = dataset.get_idx_split()
    empty = [name for name, index in split.items() if index.numel() == 0]
    if empty:
        sys.exit(f"error: no {' or '.join(empty)} video among the {len(dataset)} videos; the probes need all three "
                 "splits (give more videos)")
    logger.info("%d videos (%s train / %d valid / %d test), %d classes, %s on %s", len(dataset),
                split["train"].numel(), split["valid"].numel(), split["test"].numel(),
                dataset.vocabulary.num_classes, args.model, device)
    captions = caption_dataset(dataset, config, args) if args.cross_video_positives else None
    runs = [run_seed(dataset, config, args, seed, device, captions) for seed in args.seeds]
    table = summarize(runs)
    settings = {key: (str(value) if isinstance(value, Path) else value) for key, value in vars(args).items()}
    result = {"settings": {**settings, "source": list(sources), "device": str(device)},
              "videos": {name: int(index.numel()) for name, index in split.items()}, "runs": runs, "table": table}
    (args.out / "results.json").write_text(json.dumps(result, indent=2, default=float), encoding="utf-8")
    (args.out / "results.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    return result


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)
    main()
