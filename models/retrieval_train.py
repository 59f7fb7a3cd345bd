"""Training the retrieval task's dual encoder: :func:`train_retrieval`.

The ``retrieval`` task (:class:`graphkit.tasks.RetrievalTask`) trains a
:class:`~graphkit.models.retrieval.DualEncoder` with
:func:`graphkit.losses.text_segment_infonce`: each training segment's brief
must pick its own segment among the segments of its video. Batches are whole
videos (:class:`~graphkit.loaders.task_dataset.TaskDataset`); after every
epoch the validation recall@1 chooses the checkpoint (early stopping after
``patience`` epochs without a better one, the validation loss deciding where
no validation query exists). The run directory holds what
:func:`graphkit.models.train.train` writes: ``model.pt`` (with ``kind:
"retrieval"``), ``config.json``, ``vocabulary.json`` and ``result.json``,
whose ``test`` is :func:`~graphkit.models.retrieval.retrieval_metrics`'s.
"""

from __future__ import annotations

import copy
import logging
import math
import statistics
import time
from pathlib import Path

import torch

from graphkit.losses import text_segment_infonce
from graphkit.models.checkpoint import CHECKPOINT, prepare_run_directory, write_config, write_result
from graphkit.models.config import TrainConfig, resolve_device
from graphkit.models.retrieval import DualEncoder, predict_ranks, retrieval_metrics
from graphkit.models.train import TrainResult, deterministic, labelled_videos

__all__ = ["train_retrieval", "TEMPERATURE"]

logger = logging.getLogger(__name__)

#: The InfoNCE temperature.
TEMPERATURE: float = 0.07


def _progress(enabled: bool):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("{task.fields[status]}"), console=Console(stderr=True), disable=not enabled)


def train_retrieval(config: TrainConfig, overwrite: bool = False) -> TrainResult:
    """Train the dual encoder of the ``retrieval`` task; write the run's files.

    Args:
        config (TrainConfig): The run (``task_name="retrieval"``; ``model``
            is the segment encoder, ``hidden`` both encoders' width and the
            embedding's).
        overwrite (bool, optional): Replace a run of another configuration.
            (default: :obj:`False`)

    Returns:
        TrainResult: ``test`` holds recall@1/5/10, the mean rank and
        ``per_level``; ``best_valid_macro_f1`` is the best validation recall@1.

    Raises:
        ValueError: If the task is not ``retrieval``, or no training video has a query.
    """
    from graphkit.loaders.task_dataset import TaskDataset

    if config.task_name != "retrieval":
        raise ValueError(f"task_name={config.task_name!r}; train_retrieval trains the 'retrieval' task")
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    device = resolve_device(config.device)
    out = Path(config.out)
    prepare_run_directory(out, config, overwrite=overwrite)
    dataset = TaskDataset(list(config.sources), config.task())
    split = dataset.get_idx_split()
    if split["train"].numel() == 0:
        raise ValueError(f"no training video among the {len(dataset)} videos of {list(config.sources)}")
    train_videos = labelled_videos(split["train"], config.label_fraction, config.seed)
    write_config(out, config, dataset.vocabulary)
    text_dim = config.feature_dim
    with deterministic(config.seed):
        model = DualEncoder(config.model, dataset.num_segment_features, text_dim, dim=config.hidden,
                            hidden=config.hidden, layers=config.layers, dropout=config.dropout).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        shuffle = torch.Generator().manual_seed(config.seed)
        train_loader = dataset.loader(train_videos, batch_size=config.batch_size, shuffle=True, generator=shuffle)
        valid_loader = dataset.loader(split["valid"], batch_size=config.batch_size)
        history, best_score, best_epoch, best_recall, best_state = [], -math.inf, 0, math.nan, None
        with _progress(config.progress) as progress:
            bar = progress.add_task("retrieval", total=config.epochs, status="")
            for epoch in range(1, config.epochs + 1):
                model.train()
                started = time.perf_counter()
                loss_sum, queries, segments = 0.0, 0, 0
                for batch in train_loader:
                    batch = batch.to(device)
                    store = batch["segment"]
                    segments += store.num_nodes
                    query = store.train_mask.nonzero().squeeze(1)
                    if query.numel() == 0:
                        continue
                    optimizer.zero_grad()
                    text, embedded = model(batch)
                    out_loss = text_segment_infonce(text[query], embedded, query, store.batch[query], store.batch,
                                                    temperature=TEMPERATURE, reduction="sum")
                    anchors = int(out_loss.num_anchors)
                    if anchors == 0:
                        continue
                    (out_loss.loss / anchors).backward()
                    optimizer.step()
                    loss_sum += out_loss.loss.item()
                    queries += anchors
                if queries == 0:
                    raise ValueError(f"no query among the {len(train_videos)} training videos used")
                seconds = time.perf_counter() - started
                valid = retrieval_metrics(**predict_ranks(model, valid_loader, device, "valid_mask"))
                row = {"epoch": epoch, "loss": loss_sum / queries, "valid_recall@1": valid["recall@1"],
                       "valid_mean_rank": valid["mean_rank"], "seconds": seconds, "segments": segments,
                       "segments_per_s": segments / seconds}
                history.append(row)
                score = valid["recall@1"] if not math.isnan(valid["recall@1"]) else -row["loss"]
                if score > best_score:
                    best_score, best_epoch, best_recall = score, epoch, valid["recall@1"]
                    best_state = copy.deepcopy(model.state_dict())
                    torch.save({"kind": "retrieval", "model": config.model, "in_dim": dataset.num_segment_features,
                                "text_dim": text_dim, "dim": config.hidden, "hidden": config.hidden,
                                "layers": config.layers, "dropout": config.dropout, "epoch": epoch,
                                "state_dict": best_state}, out / CHECKPOINT)
                status = f"loss {row['loss']:.3f}  valid R@1 {valid['recall@1']:.3f}"
                progress.update(bar, advance=1, status=status)
                logger.info("retrieval epoch %d: %s", epoch, status)
                if epoch - best_epoch >= config.patience:
                    break
        model.load_state_dict(best_state)
        test_loader = dataset.loader(split["test"], batch_size=config.batch_size)
        test = retrieval_metrics(**predict_ranks(model, test_loader, device, "test_mask"))
    result = TrainResult(out=str(out), model=config.model, device=str(device), best_epoch=best_epoch,
                         epochs_run=len(history), train_videos=int(train_videos.numel()),
                         best_valid_macro_f1=best_recall,
                         segments_per_s=statistics.fmean(row["segments_per_s"] for row in history), test=test,
                         history=history, threads=torch.get_num_threads(), task="retrieval")
    write_result(out, result)
    return result
