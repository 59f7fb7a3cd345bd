"""Training the baselines on Action100M segment labels: :func:`train`.

The task is inductive node classification: predict each segment's action label
(:class:`graphkit.tasks.NodeTask`: verb, normalized brief or actor from
``gpt.action``) from caption and timing features, training on some videos and
testing on others (a video-level split by a hash of ``video_uid``).

:func:`train` builds (or reuses) an :class:`graphkit.loaders.pyg_dataset.Action100MDataset`,
feeds mini-batches of **whole videos** through PyG's ``DataLoader``, and
computes the cross-entropy only on the *labelled training* segments: unlabelled
segments (no ``gpt``, or ``N/A``) still pass messages but never enter the loss
or a metric. After every epoch the model is scored on the validation videos by
:class:`graphkit.models.evaluator.Evaluator`; the best validation macro-F1 is kept
(``model.pt``) and training stops after ``patience`` epochs without
improvement. The output directory then holds ``model.pt``, ``config.json``,
``vocabulary.json`` and ``result.json`` (see :mod:`graphkit.models.checkpoint`).

Nothing is reused that was built from something else: a directory that holds
a run of another configuration is refused unless ``overwrite``
(:func:`graphkit.models.checkpoint.prepare_run_directory`), and the dataset
cache is keyed by its inputs (:mod:`graphkit.loaders.pyg_dataset`): the
run's own (``out/dataset``) is processed again for other sources or another
task, a shared ``dataset_root`` built for another task is refused.

The run is configured by :class:`graphkit.models.config.TrainConfig`;
:func:`graphkit.models.evaluate.evaluate` scores a trained run on any source and
:func:`graphkit.models.benchmark.benchmark_models` trains every baseline over
several seeds.

On CPU a fixed seed and thread count give bit-identical runs: weights,
dropout masks and the shuffling order all come from seeded generators, and
PyTorch's deterministic algorithms are switched on while training. Unless
:attr:`TrainConfig.threads <graphkit.models.config.TrainConfig.threads>` is
given the count is timed (:func:`graphkit.models.threads.choose_threads`),
and another count sums floating-point numbers in another order; the count
used is in ``result.json``.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from graphkit.models.checkpoint import (
    json_ready,
    load_weights,
    prepare_run_directory,
    write_checkpoint,
    write_config,
    write_result,
)
from graphkit.models.config import TrainConfig, resolve_device
from graphkit.models.distributed import Distributed
from graphkit.models.evaluate import predict
from graphkit.models.evaluator import Evaluator
from graphkit.models.registry import build_model
from graphkit.models.threads import choose_threads
from graphkit.parallel import available_cpus

__all__ = ["TrainResult", "train", "labelled_videos", "deterministic"]

logger = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """What a training run produced.

    Attributes:
        out (str): The output directory.
        model (str): The model name.
        device (str): The device trained on.
        best_epoch (int): Epoch (1-based) of the kept checkpoint.
        epochs_run (int): Epochs trained before stopping.
        train_videos (int): Training videos whose labels were used (see
            :attr:`TrainConfig.label_fraction <graphkit.models.config.TrainConfig.label_fraction>`).
        best_valid_macro_f1 (float): Validation macro-F1 of the kept checkpoint.
        segments_per_s (float): Mean training throughput, segments (all of
            them, labelled or not) through forward and backward per second.
        test (dict): :class:`~graphkit.models.evaluator.Evaluator` output on the test videos.
        history (list[dict]): Per epoch: ``epoch``, ``loss``, ``train_top1``,
            ``valid_top1``, ``valid_macro_f1``, ``seconds``, ``segments``,
            ``segments_per_s``.
        threads (int): CPU threads torch trained with
            (:attr:`TrainConfig.threads <graphkit.models.config.TrainConfig.threads>`), per process.
        world_size (int): Processes that trained together
            (:mod:`graphkit.models.distributed`; 1 without ``torchrun``).
        task (str): The task's name (:data:`graphkit.tasks.TASKS`).
    """

    out: str
    model: str
    device: str
    best_epoch: int
    epochs_run: int
    train_videos: int
    best_valid_macro_f1: float
    segments_per_s: float
    test: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    threads: int = 1
    world_size: int = 1
    task: str = "segment"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``nan`` becomes ``None``)."""
        return json_ready(asdict(self))


@contextlib.contextmanager
def deterministic(seed: int) -> Iterator[None]:
    """Seed torch and switch on deterministic algorithms, restoring the old setting after.

    Training runs inside it, so a seed reproduces a run on CPU and, where the
    kernels allow, on CUDA (non-deterministic kernels warn instead of failing).

    Examples:
        >>> with deterministic(0):
        ...     first = torch.rand(2)
        >>> with deterministic(0):
        ...     torch.equal(first, torch.rand(2))
        True
    """
    enabled = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)


def _load_dataset(config: TrainConfig):
    """Build or reuse the processed dataset, refusing a cache made for another task."""
    from graphkit.errors import DatasetError
    from graphkit.loaders.ondisk import read_manifest
    from graphkit.loaders.pyg_dataset import Action100MDataset, Action100MOnDiskDataset, stored_task

    task = config.task()
    if config.task_name != "segment":
        from graphkit.loaders.task_dataset import TaskDataset

        return TaskDataset(list(config.sources), task)
    if config.dataset_dir.exists() and not config.dataset_dir.is_dir():
        raise NotADirectoryError(f"dataset_root={str(config.dataset_dir)!r} is a file, not a directory")
    try:
        on_disk = config.on_disk or read_manifest(config.dataset_dir / "processed") is not None
    except DatasetError:
        if not config.sources:
            raise
        on_disk = True  # damaged shards: the dataset processes its sources again
    try:
        stored = stored_task(config.dataset_dir)
    except DatasetError:
        if not config.sources:
            raise
        stored = None  # damaged files: the dataset processes its sources again
    # Given sources, a dataset rebuilds itself for other inputs; another task is rebuilt only where
    # that breaks no other run: on disk, or in the run's own out/dataset.
    rebuilds = bool(config.sources) and (on_disk or config.dataset_root is None)
    if stored is not None and not rebuilds:
        if stored != task:
            found, wanted = stored.to_dict(), task.to_dict()
            differ = [key for key in wanted if found.get(key) != wanted[key]]
            raise ValueError(f"the dataset in {config.dataset_dir} was built for {({k: found.get(k) for k in differ})}, "
                             f"not {({k: wanted[k] for k in differ})}; use another dataset_root (--dataset-root)")
    elif stored is None and not config.sources:
        raise ValueError(f"no sources given and no processed dataset in {config.dataset_dir}")
    if on_disk:
        # Given sources, an on-disk dataset built from other inputs or for another task is rebuilt.
        return Action100MOnDiskDataset(str(config.dataset_dir), list(config.sources), task=task, log=False)
    return Action100MDataset(str(config.dataset_dir), list(config.sources), task=task, log=False)


def _training_step(model: torch.nn.Module, batch: Any, device: torch.device) -> Callable[[], None]:
    """A forward and backward pass on one batch that leaves no trace (for timing thread counts)."""
    batch = batch.to(device)

    def step() -> None:
        with torch.random.fork_rng(devices=[]):
            store = batch["segment"]
            logits = model(batch)
            F.cross_entropy(logits[store.train_mask], store.y[store.train_mask]).backward()
        model.zero_grad(set_to_none=True)

    return step


@contextlib.contextmanager
def _torch_threads_restored() -> Iterator[None]:
    """Give torch back the thread count it had: choosing one for a run must not outlive it."""
    before = torch.get_num_threads()
    try:
        yield
    finally:
        torch.set_num_threads(before)


def labelled_videos(train_index: torch.Tensor, fraction: float, seed: int) -> torch.Tensor:
    """The training videos a label budget keeps: ``ceil(fraction * n)`` of them (at least one).

    Drawn uniformly with ``seed`` and returned in increasing order, so a
    pretrained encoder's probe and an encoder trained from scratch can be
    given the very same labelled videos.

    Args:
        train_index (torch.Tensor): ``[n]`` indices of the training videos.
        fraction (float): Share to keep, in ``(0, 1]``.
        seed (int): Seed of the draw.

    Returns:
        torch.Tensor: The kept indices; all of ``train_index`` when ``fraction`` is 1.

    Raises:
        ValueError: If ``fraction`` is outside ``(0, 1]``.

    Examples:
        >>> labelled_videos(torch.arange(10, 20), 0.3, seed=0).tolist()
        [11, 14, 17]
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction={fraction!r} must lie in (0, 1]")
    if fraction == 1.0 or train_index.numel() == 0:
        return train_index
    # round() first: 0.07 * 100 is 7.000000000000001 in floating point, not 7.
    count = max(1, math.ceil(round(fraction * train_index.numel(), 9)))
    order = torch.randperm(train_index.numel(), generator=torch.Generator().manual_seed(seed))
    return train_index[order[:count].sort().values]


def _progress(enabled: bool):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("{task.fields[status]}"), console=Console(stderr=True), disable=not enabled,
                    transient=False)


def train(config: TrainConfig, overwrite: bool = False) -> TrainResult:
    """Train one baseline; write ``model.pt``, ``config.json``, ``vocabulary.json``, ``result.json``.

    Args:
        config (TrainConfig): The run.
        overwrite (bool, optional): Replace a run of another configuration
            in ``config.out`` instead of refusing it. (default: :obj:`False`)

    Returns:
        TrainResult: Best epoch, validation and test metrics, throughput, history.

    Raises:
        ValueError: If the dataset has no training video with a label, or the
            config does not fit the cached dataset.
        OutputExistsError: If ``config.out`` holds a run of another
            configuration and ``overwrite`` is false.
    """
    if config.task_name == "retrieval":
        raise ValueError("the 'retrieval' task trains a dual encoder: "
                         "use graphkit.models.retrieval_train.train_retrieval (graphkit train --task retrieval)")
    device = resolve_device(config.device)
    group = Distributed.from_environment(device)
    out = Path(config.out)
    if group.is_main:
        prepare_run_directory(out, config, overwrite=overwrite)
    else:
        out.mkdir(parents=True, exist_ok=True)
    # Rank 0 processes the dataset if needed; the others then open what it wrote.
    dataset = _load_dataset(config) if group.is_main else None
    group.barrier()
    if dataset is None:
        dataset = _load_dataset(config)
    split = dataset.get_idx_split()
    if split["train"].numel() == 0:
        raise ValueError(f"no training video among the {len(dataset)} videos of {config.dataset_dir}")
    train_videos = labelled_videos(split["train"], config.label_fraction, config.seed)
    in_dim = dataset.num_segment_features
    num_classes = dataset.vocabulary.num_classes
    if group.is_main:
        write_config(out, config, dataset.vocabulary)

    evaluator = Evaluator()
    with deterministic(config.seed), _torch_threads_restored():
        model = build_model(config.model, in_dim, num_classes, hidden=config.hidden, layers=config.layers,
                            dropout=config.dropout)
        if config.init_weights is not None:
            load_weights(model, config.init_weights)
        model = model.to(device)
        trained = group.wrap(model)
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        shuffle = torch.Generator().manual_seed(config.seed)
        train_loader = dataset.loader(train_videos, batch_size=config.batch_size, shuffle=True, generator=shuffle,
                                      num_workers=config.workers, replicas=group.world_size, rank=group.rank)
        valid_loader = dataset.loader(split["valid"], batch_size=config.batch_size, num_workers=config.workers)
        test_loader = dataset.loader(split["test"], batch_size=config.batch_size, num_workers=config.workers)
        if config.threads is not None:
            torch.set_num_threads(config.threads)
        elif group.active and device.type == "cpu":
            torch.set_num_threads(max(1, available_cpus() // group.world_size))
        elif device.type == "cpu":
            sample = next(iter(dataset.loader(train_videos[: config.batch_size], batch_size=config.batch_size)))
            choose_threads(_training_step(model, sample, device))
        threads = torch.get_num_threads()

        history: list[dict[str, Any]] = []
        best_score, best_epoch, best_valid_f1, best_state = -math.inf, 0, math.nan, None
        with _progress(config.progress and group.is_main) as progress:
            bar = progress.add_task(f"{config.model}", total=config.epochs, status="")
            for epoch in range(1, config.epochs + 1):
                model.train()
                started = time.perf_counter()
                loss_sum, labelled, correct, segments = 0.0, 0, 0, 0
                for batch in train_loader:
                    batch = batch.to(device)
                    store = batch["segment"]
                    segments += store.num_nodes
                    mask = store.train_mask
                    count = int(mask.sum())
                    (total,) = group.sum([count])  # the global batch's labelled segments
                    if total == 0:
                        continue
                    optimizer.zero_grad()
                    logits = trained(batch)
                    summed = F.cross_entropy(logits[mask], store.y[mask], reduction="sum")
                    # DDP averages the ranks' gradients: scaled so, they are the global mean loss's.
                    (summed * (group.world_size / total)).backward()
                    optimizer.step()
                    loss_sum += summed.item()
                    labelled += count
                    correct += int((logits[mask].argmax(dim=1) == store.y[mask]).sum())
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                seconds = time.perf_counter() - started
                loss_sum, labelled, correct, segments = group.sum([loss_sum, labelled, correct, segments])
                seconds = group.sum([seconds])[0] / group.world_size
                if labelled == 0:
                    raise ValueError(f"no labelled segment among the {len(train_videos)} training videos used "
                             f"(label_fraction={config.label_fraction})")
                valid = evaluator.eval(predict(model, valid_loader, device, "valid_mask"))
                row = {"epoch": epoch, "loss": loss_sum / labelled, "train_top1": correct / labelled,
                       "valid_top1": valid["top1"], "valid_macro_f1": valid["macro_f1"],
                       "seconds": seconds, "segments": segments, "segments_per_s": segments / seconds}
                history.append(row)
                # Without labelled validation segments, the training loss chooses.
                score = valid["macro_f1"] if not math.isnan(valid["macro_f1"]) else -row["loss"]
                if score > best_score:
                    best_score, best_epoch, best_valid_f1 = score, epoch, valid["macro_f1"]
                    best_state = copy.deepcopy(model.state_dict())
                    if group.is_main:
                        write_checkpoint(out, config, in_dim, num_classes, epoch, best_state)
                status = (f"loss {row['loss']:.3f}  train top1 {row['train_top1']:.3f}  "
                          f"valid F1 {valid['macro_f1']:.3f}  {row['segments_per_s']:.0f} seg/s")
                progress.update(bar, advance=1, status=status)
                logger.info("%s epoch %d: %s", config.model, epoch, status)
                if epoch - best_epoch >= config.patience:
                    logger.info("no better validation macro-F1 for %d epochs; stopping", config.patience)
                    break

        model.load_state_dict(best_state)
        test = evaluator.eval(predict(model, test_loader, device, "test_mask"))
    result = TrainResult(
        out=str(out), model=config.model, device=str(device), best_epoch=best_epoch,
        epochs_run=len(history), train_videos=int(train_videos.numel()), best_valid_macro_f1=best_valid_f1,
        segments_per_s=statistics.fmean(row["segments_per_s"] for row in history), test=test,
        history=history, threads=threads, world_size=group.world_size, task=config.task_name,
    )
    if group.is_main:
        write_result(out, result)
    return result
