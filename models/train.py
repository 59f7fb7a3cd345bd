"""Training, evaluation and benchmarking of the baselines on Action100M segment labels.

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
improvement. The output directory then holds:

* ``model.pt``: ``{"model", "in_dim", "num_classes", "hidden", "layers",
  "dropout", "epoch", "state_dict"}``;
* ``config.json``: the :class:`TrainConfig`;
* ``vocabulary.json``: the label vocabulary (:meth:`LabelVocabulary.to_dict`);
* ``result.json``: the :class:`TrainResult` (history, throughput, test metrics).

:func:`evaluate` reloads such a directory and scores it on any source, encoding
labels with the *saved* vocabulary; it returns the JSON contract
``{"model", "label", "top1", "top5", "macro_f1", "per_level", "num_nodes"}``.
:func:`benchmark_models` trains every baseline over several seeds and returns a
markdown table of mean ± standard deviation.

On CPU a fixed seed gives bit-identical runs: weights, dropout masks and the
shuffling order all come from seeded generators, and PyTorch's deterministic
algorithms are switched on while training.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import math
import statistics
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from graphkit.models.evaluator import Evaluator
from graphkit.models.registry import MODELS, build_model

__all__ = [
    "TrainConfig",
    "TrainResult",
    "EVALUATE_KEYS",
    "SPLITS",
    "resolve_device",
    "train",
    "labelled_videos",
    "deterministic",
    "load_model",
    "evaluate",
    "benchmark_models",
]

logger = logging.getLogger(__name__)

#: Keys of :func:`evaluate`'s JSON object.
EVALUATE_KEYS: tuple[str, ...] = ("model", "label", "top1", "top5", "macro_f1", "per_level", "num_nodes")

#: Splits :func:`evaluate` accepts (``"all"`` scores every labelled segment).
SPLITS: tuple[str, ...] = ("train", "valid", "test", "all")

_CHECKPOINT, _CONFIG, _VOCABULARY, _RESULT = "model.pt", "config.json", "vocabulary.json", "result.json"


@dataclass(frozen=True)
class TrainConfig:
    """Everything one training run depends on.

    Args:
        model (str, optional): A name of :data:`models.MODELS`. (default: :obj:`"hier"`)
        sources (tuple[str, ...], optional): Files, directories, globs or URLs;
            may be empty when :obj:`dataset_root` already holds a processed
            dataset. (default: :obj:`()`)
        out (str, optional): Output directory. (default: :obj:`"runs/model"`)
        label (str, optional): Label kind: ``"verb"``, ``"brief"`` or
            ``"actor"``. (default: :obj:`"verb"`)
        epochs (int, optional): Most epochs. (default: :obj:`20`)
        lr (float, optional): Adam learning rate. (default: :obj:`0.005`)
        weight_decay (float, optional): Adam weight decay. (default: :obj:`0.0`)
        hidden (int, optional): Hidden width. (default: :obj:`64`)
        layers (int, optional): Layers; :obj:`None` takes the model's default.
            (default: :obj:`None`)
        dropout (float, optional): Dropout. (default: :obj:`0.2`)
        batch_size (int, optional): Videos per mini-batch. (default: :obj:`32`)
        seed (int, optional): Seed of weights, dropout and shuffling. (default: :obj:`0`)
        patience (int, optional): Epochs without a better validation macro-F1
            before stopping. (default: :obj:`5`)
        device (str, optional): ``"auto"`` (CUDA when present), ``"cpu"``,
            ``"cuda"`` or ``"cuda:N"``. (default: :obj:`"auto"`)
        dataset_root (str, optional): Cache directory of the processed
            dataset; :obj:`None` uses ``out/dataset``. (default: :obj:`None`)
        top_k (int, optional): Label classes kept; the rest are ``<other>``.
            (default: :obj:`50`)
        feature_dim (int, optional): Hash buckets of the caption features.
            (default: :obj:`256`)
        split_seed (int, optional): Seed of the video-level split. (default: :obj:`0`)
        label_fraction (float, optional): Share of the training videos whose
            labels are used, a label budget drawn with ``seed`` by
            :func:`labelled_videos`; the other training videos are left out.
            The label vocabulary (top-K classes) stays the one the dataset
            fitted on all training videos, and validation stays fully
            labelled (it picks the epoch). (default: :obj:`1.0`)
        init_weights (str, optional): A ``state_dict`` file (``torch.save``)
            to start from instead of random weights, e.g. an encoder
            pretrained with :mod:`graphkit.losses`; it must fit the model
            exactly. (default: :obj:`None`)
        progress (bool, optional): Show a progress bar on stderr. (default: :obj:`False`)

    Raises:
        ValueError: If a value is out of range or the model or label is unknown.

    Examples:
        >>> TrainConfig(model="mlp", epochs=3).to_dict()["epochs"]
        3
        >>> TrainConfig(model="cnn")
        Traceback (most recent call last):
        ...
        ValueError: model='cnn'; expected one of ['gat', 'gcn', 'hier', 'mlp', 'sage', 'tree_lstm']
    """

    model: str = "hier"
    sources: tuple[str, ...] = ()
    out: str = "runs/model"
    label: str = "verb"
    epochs: int = 20
    lr: float = 0.005
    weight_decay: float = 0.0
    hidden: int = 64
    layers: int | None = None
    dropout: float = 0.2
    batch_size: int = 32
    seed: int = 0
    patience: int = 5
    device: str = "auto"
    dataset_root: str | None = None
    top_k: int = 50
    feature_dim: int = 256
    split_seed: int = 0
    label_fraction: float = 1.0
    init_weights: str | None = None
    progress: bool = False

    def __post_init__(self) -> None:
        from graphkit.labels import LABEL_KINDS

        if isinstance(self.sources, str):
            object.__setattr__(self, "sources", (self.sources,))
        object.__setattr__(self, "sources", tuple(str(s) for s in self.sources))
        object.__setattr__(self, "out", str(self.out))
        if self.dataset_root is not None:
            object.__setattr__(self, "dataset_root", str(self.dataset_root))
        if self.init_weights is not None:
            object.__setattr__(self, "init_weights", str(self.init_weights))
            if not Path(self.init_weights).is_file():
                raise ValueError(f"init_weights={self.init_weights!r} is not a file")
        if self.model not in MODELS:
            raise ValueError(f"model={self.model!r}; expected one of {sorted(MODELS)}")
        if self.label not in LABEL_KINDS:
            raise ValueError(f"label={self.label!r}; expected one of {LABEL_KINDS}")
        for name in ("epochs", "hidden", "batch_size", "patience", "top_k", "feature_dim"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive int")
        if self.layers is not None and (not isinstance(self.layers, int) or self.layers < 1):
            raise ValueError(f"layers={self.layers!r} must be a positive int or None")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr={self.lr!r} must be > 0")
        if not self.weight_decay >= 0:
            raise ValueError(f"weight_decay={self.weight_decay!r} must be >= 0")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout={self.dropout!r} must lie in [0, 1)")
        if not 0.0 < self.label_fraction <= 1.0:
            raise ValueError(f"label_fraction={self.label_fraction!r} must lie in (0, 1]")
        resolve_device(self.device)

    @property
    def dataset_dir(self) -> Path:
        """Where the processed dataset lives."""
        return Path(self.dataset_root) if self.dataset_root is not None else Path(self.out) / "dataset"

    def task(self):
        """The :class:`~graphkit.tasks.NodeTask` of this run."""
        from graphkit.features import FeatureConfig
        from graphkit.tasks import NodeTask

        return NodeTask(label=self.label, features=FeatureConfig(dim=self.feature_dim), top_k=self.top_k,
                        split_seed=self.split_seed)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``sources`` as a list)."""
        data = asdict(self)
        data["sources"] = list(self.sources)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        """The inverse of :meth:`to_dict`; unknown keys are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


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
            :attr:`TrainConfig.label_fraction`).
        best_valid_macro_f1 (float): Validation macro-F1 of the kept checkpoint.
        segments_per_s (float): Mean training throughput, segments (all of
            them, labelled or not) through forward and backward per second.
        test (dict): :class:`~graphkit.models.evaluator.Evaluator` output on the test videos.
        history (list[dict]): Per epoch: ``epoch``, ``loss``, ``train_top1``,
            ``valid_top1``, ``valid_macro_f1``, ``seconds``, ``segments``,
            ``segments_per_s``.
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

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``nan`` becomes ``None``)."""
        return _json_ready(asdict(self))


def _json_ready(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(key): _json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(item) for item in value]
    return value


def resolve_device(device: str) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; other names are checked.

    Raises:
        ValueError: If the name is not a device, or CUDA is asked for and absent.

    Examples:
        >>> resolve_device("cpu")
        device(type='cpu')
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device={device!r}; expected 'auto', 'cpu', 'cuda' or 'cuda:N'") from err
    if resolved.type not in ("cpu", "cuda"):
        raise ValueError(f"device={device!r}; expected 'auto', 'cpu', 'cuda' or 'cuda:N'")
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but CUDA is not available; use 'auto' or 'cpu'")
    return resolved


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
    from graphkit.loaders.pyg_dataset import Action100MDataset

    task = config.task()
    task_file = config.dataset_dir / "processed" / "task.json"
    if task_file.exists():
        stored = json.loads(task_file.read_text(encoding="utf-8"))["task"]
        wanted = {"label": task.label, "top_k": task.top_k, "split_seed": task.split_seed,
                  "dim": task.features.dim}
        found = {"label": stored["label"], "top_k": stored["top_k"], "split_seed": stored["split_seed"],
                 "dim": stored["features"]["dim"]}
        if found != wanted:
            raise ValueError(f"the dataset in {config.dataset_dir} was built for {found}, not {wanted}; "
                             "use another dataset_root")
    elif not config.sources:
        raise ValueError(f"no sources given and no processed dataset in {config.dataset_dir}")
    return Action100MDataset(str(config.dataset_dir), list(config.sources), task=task, log=False)


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


def _load_initial_weights(model: torch.nn.Module, path: str) -> None:
    """Load ``path``'s state dict into ``model``; name the file and the keys that do not fit."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]  # a checkpoint written by train()
    expected = model.state_dict()
    problems = {
        "missing": [k for k in expected if k not in state],
        "unexpected": [k for k in state if k not in expected],
        "wrong shape": [k for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape)],
    }
    problems = {kind: keys for kind, keys in problems.items() if keys}
    if problems:
        listed = "; ".join(f"{kind}: {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''} ({len(keys)})"
                           for kind, keys in problems.items())
        raise ValueError(f"init_weights={path!r} does not fit {type(model).__name__}: {listed}")
    model.load_state_dict(state)


def _target(store, mask_name: str | None) -> torch.Tensor:
    """Labels with every segment outside ``mask_name`` set to -1 (unlabelled)."""
    if mask_name is None:
        return store.y
    return torch.where(store[mask_name], store.y, torch.full_like(store.y, -1))


@torch.no_grad()
def _predict(model: torch.nn.Module, batches, device: torch.device, mask_name: str | None) -> dict[str, Any]:
    """Concatenated ``y_true``/``y_pred``/``level`` of the labelled segments in ``mask_name``."""
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
        level.append(store.level[keep].cpu())
    if not y_true:
        num_classes = model.head.out_features
        return {"y_true": torch.zeros(0, dtype=torch.long), "y_pred": torch.zeros(0, num_classes),
                "level": torch.zeros(0, dtype=torch.long)}
    return {"y_true": torch.cat(y_true), "y_pred": torch.cat(y_pred), "level": torch.cat(level)}


def _progress(enabled: bool):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("{task.fields[status]}"), console=Console(stderr=True), disable=not enabled,
                    transient=False)


def train(config: TrainConfig) -> TrainResult:
    """Train one baseline; write ``model.pt``, ``config.json``, ``vocabulary.json``, ``result.json``.

    Args:
        config (TrainConfig): The run.

    Returns:
        TrainResult: Best epoch, validation and test metrics, throughput, history.

    Raises:
        ValueError: If the dataset has no training video with a label, or the
            config does not fit the cached dataset.
    """
    from torch_geometric.loader import DataLoader

    device = resolve_device(config.device)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    dataset = _load_dataset(config)
    split = dataset.get_idx_split()
    if split["train"].numel() == 0:
        raise ValueError(f"no training video among the {len(dataset)} videos of {config.dataset_dir}")
    train_videos = labelled_videos(split["train"], config.label_fraction, config.seed)
    in_dim = int(dataset._data["segment"].x.size(1))
    num_classes = dataset.vocabulary.num_classes
    (out / _CONFIG).write_text(json.dumps(config.to_dict(), indent=2), encoding="utf-8")
    (out / _VOCABULARY).write_text(json.dumps(dataset.vocabulary.to_dict()), encoding="utf-8")

    evaluator = Evaluator()
    with deterministic(config.seed):
        model = build_model(config.model, in_dim, num_classes, hidden=config.hidden, layers=config.layers,
                            dropout=config.dropout)
        if config.init_weights is not None:
            _load_initial_weights(model, config.init_weights)
        model = model.to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        shuffle = torch.Generator().manual_seed(config.seed)
        train_loader = DataLoader(dataset[train_videos], batch_size=config.batch_size, shuffle=True,
                                  generator=shuffle)
        valid_loader = DataLoader(dataset[split["valid"]], batch_size=config.batch_size)
        test_loader = DataLoader(dataset[split["test"]], batch_size=config.batch_size)
        checkpoint = {"model": config.model, "in_dim": in_dim, "num_classes": num_classes,
                      "hidden": config.hidden, "layers": config.layers, "dropout": config.dropout}

        history: list[dict[str, Any]] = []
        best_score, best_epoch, best_valid_f1, best_state = -math.inf, 0, math.nan, None
        with _progress(config.progress) as progress:
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
                    if not bool(mask.any()):
                        continue
                    optimizer.zero_grad()
                    logits = model(batch)
                    loss = F.cross_entropy(logits[mask], store.y[mask])
                    loss.backward()
                    optimizer.step()
                    count = int(mask.sum())
                    loss_sum += loss.item() * count
                    labelled += count
                    correct += int((logits[mask].argmax(dim=1) == store.y[mask]).sum())
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                seconds = time.perf_counter() - started
                if labelled == 0:
                    raise ValueError(f"no labelled segment among the {len(train_videos)} training videos used "
                             f"(label_fraction={config.label_fraction})")
                valid = evaluator.eval(_predict(model, valid_loader, device, "valid_mask"))
                row = {"epoch": epoch, "loss": loss_sum / labelled, "train_top1": correct / labelled,
                       "valid_top1": valid["top1"], "valid_macro_f1": valid["macro_f1"],
                       "seconds": seconds, "segments": segments, "segments_per_s": segments / seconds}
                history.append(row)
                # Without labelled validation segments, the training loss chooses.
                score = valid["macro_f1"] if not math.isnan(valid["macro_f1"]) else -row["loss"]
                if score > best_score:
                    best_score, best_epoch, best_valid_f1 = score, epoch, valid["macro_f1"]
                    best_state = copy.deepcopy(model.state_dict())
                    torch.save({**checkpoint, "epoch": epoch, "state_dict": best_state}, out / _CHECKPOINT)
                status = (f"loss {row['loss']:.3f}  train top1 {row['train_top1']:.3f}  "
                          f"valid F1 {valid['macro_f1']:.3f}  {row['segments_per_s']:.0f} seg/s")
                progress.update(bar, advance=1, status=status)
                logger.info("%s epoch %d: %s", config.model, epoch, status)
                if epoch - best_epoch >= config.patience:
                    logger.info("no better validation macro-F1 for %d epochs; stopping", config.patience)
                    break

        model.load_state_dict(best_state)
        test = evaluator.eval(_predict(model, test_loader, device, "test_mask"))
    result = TrainResult(
        out=str(out), model=config.model, device=str(device), best_epoch=best_epoch,
        epochs_run=len(history), train_videos=int(train_videos.numel()), best_valid_macro_f1=best_valid_f1,
        segments_per_s=statistics.fmean(row["segments_per_s"] for row in history), test=test,
        history=history,
    )
    (out / _RESULT).write_text(json.dumps(result.to_dict(), indent=2), encoding="utf-8")
    return result


def load_model(out_dir: str | Path, device: str = "auto") -> tuple[torch.nn.Module, TrainConfig, Any]:
    """Reload a trained model, its config and its vocabulary from an output directory.

    Raises:
        FileNotFoundError: If the directory lacks ``model.pt``, ``config.json``
            or ``vocabulary.json``.
    """
    from graphkit.labels import LabelVocabulary

    out = Path(out_dir)
    for name in (_CHECKPOINT, _CONFIG, _VOCABULARY):
        if not (out / name).is_file():
            raise FileNotFoundError(f"{out / name} does not exist; is {out} a training output directory?")
    config = TrainConfig.from_dict(json.loads((out / _CONFIG).read_text(encoding="utf-8")))
    vocabulary = LabelVocabulary.from_dict(json.loads((out / _VOCABULARY).read_text(encoding="utf-8")))
    checkpoint = torch.load(out / _CHECKPOINT, map_location="cpu", weights_only=True)
    model = build_model(checkpoint["model"], checkpoint["in_dim"], checkpoint["num_classes"],
                        hidden=checkpoint["hidden"], layers=checkpoint["layers"], dropout=checkpoint["dropout"])
    model.load_state_dict(checkpoint["state_dict"])
    return model.to(resolve_device(device)), config, vocabulary


def evaluate(out_dir: str | Path, source: Sequence[str] | str | None = None, split: str = "test",
             device: str = "auto", batch_size: int | None = None) -> dict[str, Any]:
    """Score a trained model on a source: the JSON contract of ``graphkit evaluate``.

    Labels are encoded with the vocabulary saved at training time, features
    and the video-level split are rebuilt from the saved config, so any
    source can be scored consistently.

    Args:
        out_dir (str or Path): A :func:`train` output directory.
        source (Sequence[str] or str, optional): What to score; :obj:`None`
            uses the training sources. (default: :obj:`None`)
        split (str, optional): One of :data:`SPLITS`. (default: :obj:`"test"`)
        device (str, optional): See :func:`resolve_device`. (default: :obj:`"auto"`)
        batch_size (int, optional): Videos per batch; :obj:`None` uses the
            training batch size. (default: :obj:`None`)

    Returns:
        dict[str, Any]: ``{"model", "label", "top1", "top5", "macro_f1",
        "per_level", "num_nodes"}``; ``per_level`` maps a level (as a string)
        to ``{"top1", "top5", "macro_f1", "num_nodes"}``. Metrics without a
        labelled segment are ``None``.

    Raises:
        ValueError: If ``split`` is unknown or no source is known.
        FileNotFoundError: If ``out_dir`` is not a training output directory.
    """
    from graphkit.loaders.trees import iter_tree_batches
    from graphkit.pyg import to_hetero_batch

    if split not in SPLITS:
        raise ValueError(f"split={split!r}; expected one of {SPLITS}")
    model, config, vocabulary = load_model(out_dir, device)
    sources = [source] if isinstance(source, (str, Path)) else list(source or config.sources)
    if not sources:
        raise ValueError(f"no source to evaluate {out_dir} on, and its config names none")
    task = config.task()
    run_device = next(model.parameters()).device
    mask_name = None if split == "all" else f"{split}_mask"

    def batches():
        for trees in iter_tree_batches(sources, node_fields=task.node_fields,
                                       batch_size=batch_size or config.batch_size):
            if trees.num_videos:
                arrays = task.arrays(trees, vocabulary)
                yield to_hetero_batch(trees, {k: v for k, v in arrays.items() if k != "split"})

    metrics = Evaluator().eval(_predict(model, batches(), run_device, mask_name))
    result = {"model": config.model, "label": config.label, **metrics}
    return _json_ready({key: result[key] for key in EVALUATE_KEYS})


def _mean_std(values: Sequence[float]) -> str:
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return "n/a"
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{100 * statistics.fmean(values):.2f} ± {100 * std:.2f}"


def benchmark_models(sources: Sequence[str], models: Sequence[str] | None = None,
                     seeds: Sequence[int] = (0, 1, 2), out: str | Path = "runs/benchmark",
                     **overrides: Any) -> str:
    """Train every model over every seed; a markdown table of test metrics.

    All runs share one processed dataset (``out/dataset``) and hence one split;
    run ``(model, seed)`` writes to ``out/<model>/seed<seed>``. The table (also
    written to ``out/benchmark.md``, the raw results to ``out/benchmark.json``)
    gives mean ± sample standard deviation over seeds, in percent.

    Args:
        sources (Sequence[str]): The data.
        models (Sequence[str], optional): Names of :data:`models.MODELS`;
            :obj:`None` runs them all. (default: :obj:`None`)
        seeds (Sequence[int], optional): Seeds. (default: :obj:`(0, 1, 2)`)
        out (str or Path, optional): Output directory. (default: :obj:`"runs/benchmark"`)
        **overrides: Other :class:`TrainConfig` fields (``epochs``, ``hidden``, ...).

    Returns:
        str: The markdown table.

    Raises:
        ValueError: If a model name is unknown or no seed is given.
    """
    names = list(models) if models is not None else list(MODELS)
    unknown = [name for name in names if name not in MODELS]
    if unknown:
        raise ValueError(f"unknown models {unknown}; expected some of {sorted(MODELS)}")
    if not seeds:
        raise ValueError("seeds is empty; give at least one seed")
    out = Path(out)
    runs: dict[str, list[TrainResult]] = {}
    for name in names:
        for seed in seeds:
            config = TrainConfig(model=name, sources=tuple(sources), out=str(out / name / f"seed{seed}"),
                                 seed=seed, dataset_root=str(out / "dataset"), **overrides)
            result = train(config)
            logger.info("%s seed %d: test %s", name, seed, {k: result.test[k] for k in ("top1", "macro_f1")})
            runs.setdefault(name, []).append(result)
    lines = [
        "| model | test top-1 (%) | test top-5 (%) | test macro-F1 (%) | train segments/s | epochs |",
        "|---|---|---|---|---|---|",
    ]
    for name, results in runs.items():
        lines.append(
            f"| {name} | {_mean_std([r.test['top1'] for r in results])} "
            f"| {_mean_std([r.test['top5'] for r in results])} "
            f"| {_mean_std([r.test['macro_f1'] for r in results])} "
            f"| {statistics.fmean(r.segments_per_s for r in results):.0f} "
            f"| {statistics.fmean(r.epochs_run for r in results):.1f} |"
        )
    table = "\n".join(lines)
    out.mkdir(parents=True, exist_ok=True)
    (out / "benchmark.md").write_text(table + "\n", encoding="utf-8")
    (out / "benchmark.json").write_text(
        json.dumps({name: [r.to_dict() for r in results] for name, results in runs.items()}, indent=2),
        encoding="utf-8")
    return table
