"""Scoring a trained model: :func:`predict` on batches, :func:`evaluate` on a run directory.

:func:`predict` runs a model over batches and gathers the labelled segments of
one split in the form :class:`graphkit.models.evaluator.Evaluator` scores;
:func:`graphkit.models.train.train` uses it after every epoch. :func:`evaluate`
reloads a training output directory (:func:`graphkit.models.checkpoint.load_model`)
and scores it on any source, encoding labels with the *saved* vocabulary; it
returns the JSON contract of ``graphkit evaluate``:
``{"model", "label", "top1", "top5", "macro_f1", "per_level", "num_nodes"}``
for the run's own task (its ``config.json``'s ``task_name``); ``per_level``
groups by each target's level (the segment scored, the next step, the parent).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from graphkit.models.checkpoint import json_ready, load_model
from graphkit.models.evaluator import Evaluator
from graphkit.redact import is_redacted
from graphkit.splits import SPLIT_NAMES

__all__ = ["EVALUATE_KEYS", "SPLITS", "predict", "evaluate"]

#: Keys of :func:`evaluate`'s JSON object.
EVALUATE_KEYS: tuple[str, ...] = ("model", "label", "top1", "top5", "macro_f1", "per_level", "num_nodes")

#: Splits :func:`evaluate` accepts (``"all"`` scores every labelled segment).
SPLITS: tuple[str, ...] = ("train", "valid", "test", "all")


def _target(store, mask_name: str | None) -> torch.Tensor:
    """Labels with every segment outside ``mask_name`` set to -1 (unlabelled)."""
    if mask_name is None:
        return store.y
    return torch.where(store[mask_name], store.y, torch.full_like(store.y, -1))


@torch.no_grad()
def predict(model: torch.nn.Module, batches: Iterable[Any], device: torch.device,
            mask_name: str | None) -> dict[str, Any]:
    """Logits of the labelled segments in ``mask_name``, as :class:`~graphkit.models.evaluator.Evaluator` takes them.

    The model is put in eval mode; batches without such a segment are skipped.

    Args:
        model (torch.nn.Module): A baseline (``model(batch) -> [N, num_classes]``,
            with a ``head`` linear layer).
        batches (Iterable): PyG batches of whole videos.
        device (torch.device): Where the model is.
        mask_name (str, optional): ``"train_mask"``, ``"valid_mask"`` or
            ``"test_mask"``; :obj:`None` keeps every labelled segment.

    Returns:
        dict[str, Any]: Concatenated ``y_true`` ``[n]``, ``y_pred`` ``[n, C]``
        (float logits, on CPU) and ``level`` ``[n]`` (the segments'
        ``target_level`` where the batch has one, else their ``level``).
    """
    model.eval()
    y_true, y_pred, level = [], [], []
    for batch in batches:
        batch = batch.to(device)
        store = batch["segment"]
        target = _target(store, mask_name)
        keep = target >= 0
        if not bool(keep.any()):
            continue
        logits = model(batch)
        y_true.append(target[keep].cpu())
        y_pred.append(logits[keep].float().cpu())
        # A task whose prediction sits on another node than its target says the target's level.
        levels = store.target_level if "target_level" in store else store.level
        level.append(levels[keep].cpu())
    if not y_true:
        num_classes = model.head.out_features
        return {"y_true": torch.zeros(0, dtype=torch.long), "y_pred": torch.zeros(0, num_classes),
                "level": torch.zeros(0, dtype=torch.long)}
    return {"y_true": torch.cat(y_true), "y_pred": torch.cat(y_pred), "level": torch.cat(level)}


def _nothing_to_score(split: str, label: str, sources: Sequence[Any], videos: np.ndarray) -> str:
    """Why a split has nothing to score, and how to pick another."""
    where = str(sources[0]) if len(sources) == 1 else f"the {len(sources)} sources"
    held = ", ".join(f"{int(n)} {name}" for name, n in zip(SPLIT_NAMES, videos))
    others = [] if split == "all" else [name for name, n in zip(SPLIT_NAMES, videos) if n and name != split]
    others += ["all"] if split != "all" and videos.sum() else []
    pick = f"pick another with {' or '.join(f'--split {name}' for name in others)}, or" if others else "give"
    if split != "all" and videos[SPLIT_NAMES.index(split)] == 0:
        return f"the {split} split of {where} holds no video (its {int(videos.sum())} videos: {held}); {pick} other sources"
    what = f"the {int(videos.sum())} videos of {where}" if split == "all" else f"the {split} split of {where}"
    verb = "hold" if split == "all" else "holds"
    return f"{what} {verb} no segment with a {label!r} label (videos: {held}); {pick} other sources"


def evaluate(out_dir: str | Path, source: Sequence[str] | str | None = None, split: str = "test",
             device: str = "auto", batch_size: int | None = None) -> dict[str, Any]:
    """Score a trained model on a source: the JSON contract of ``graphkit evaluate``.

    Labels are encoded with the vocabulary saved at training time, features
    and the video-level split are rebuilt from the saved config, so any
    source can be scored consistently.

    Args:
        out_dir (str or Path): A :func:`graphkit.models.train.train` output directory.
        source (Sequence[str] or str, optional): What to score; :obj:`None`
            uses the training sources. (default: :obj:`None`)
        split (str, optional): One of :data:`SPLITS`. (default: :obj:`"test"`)
        device (str, optional): See :func:`~graphkit.models.config.resolve_device`.
            (default: :obj:`"auto"`)
        batch_size (int, optional): Videos per batch; :obj:`None` uses the
            training batch size. (default: :obj:`None`)

    Returns:
        dict[str, Any]: ``{"model", "label", "top1", "top5", "macro_f1",
        "per_level", "num_nodes"}``; ``per_level`` maps a level (as a string)
        to ``{"top1", "top5", "macro_f1", "num_nodes"}``. Metrics without a
        labelled segment are ``None``. A ``retrieval`` run gives ``{"model",
        "label", "recall@1", "recall@5", "recall@10", "mean_rank",
        "num_queries", "per_level"}`` instead.

    Raises:
        ValueError: If ``split`` is unknown, no source is known, or the split
            of the sources holds no labelled segment (no video, or none
            labelled): the message names the split and how to pick another.
        FileNotFoundError: If ``out_dir`` is not a training output directory.
    """
    from graphkit.loaders.trees import iter_tree_batches

    if split not in SPLITS:
        raise ValueError(f"split={split!r}; expected one of {SPLITS}")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size={batch_size!r} must be a positive int or None")
    model, config, vocabulary = load_model(out_dir, device)
    sources = [source] if isinstance(source, (str, Path)) else list(source or config.sources)
    if not sources:
        raise ValueError(f"no source to evaluate {out_dir} on, and its config names none")
    if source is None and any(is_redacted(str(s)) for s in sources):
        raise ValueError(f"the sources of {out_dir} were saved without their credentials; "
                         "give the sources to score")
    task = config.task()
    run_device = next(model.parameters()).device
    mask_name = None if split == "all" else f"{split}_mask"
    videos = np.zeros(len(SPLIT_NAMES), dtype=np.int64)  # per split, to say which one is empty

    def batches():
        for trees in iter_tree_batches(sources, node_fields=task.node_fields, metadata=task.reads_metadata,
                                       batch_size=batch_size or config.batch_size):
            if trees.num_videos:
                videos[:] += np.bincount(task.split(trees), minlength=len(SPLIT_NAMES))
                yield task.batch(trees, vocabulary)

    if config.task_name == "retrieval":
        from graphkit.models.retrieval import predict_ranks, retrieval_metrics

        scored = retrieval_metrics(**predict_ranks(model, batches(), run_device, mask_name))
        if scored["num_queries"] == 0:
            raise ValueError(_nothing_to_score(split, config.label, sources, videos))
        return json_ready({"model": config.model, "label": config.label, **scored})
    metrics = Evaluator().eval(predict(model, batches(), run_device, mask_name))
    if metrics["num_nodes"] == 0:
        raise ValueError(_nothing_to_score(split, config.label, sources, videos))
    result = {"model": config.model, "label": config.label, **metrics}
    return json_ready({key: result[key] for key in EVALUATE_KEYS})
