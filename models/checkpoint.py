"""A training run's files: the checkpoint, its config, vocabulary and result.

:func:`graphkit.models.train.train` writes its output directory through these
functions, and :func:`load_model` reads it back:

* ``model.pt`` (:data:`CHECKPOINT`): ``{"model", "in_dim", "num_classes",
  "hidden", "layers", "dropout", "epoch", "state_dict"}``, the best epoch so far;
* ``config.json`` (:data:`CONFIG`): the :class:`~graphkit.models.config.TrainConfig`;
* ``vocabulary.json`` (:data:`VOCABULARY`): the label vocabulary
  (:meth:`~graphkit.labels.LabelVocabulary.to_dict`);
* ``result.json`` (:data:`RESULT`): the :class:`~graphkit.models.train.TrainResult`
  (history, throughput, test metrics).

:func:`load_weights` loads a bare ``state_dict`` file (or a ``model.pt``) into
a model built elsewhere, naming the keys that do not fit.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from graphkit.models.config import TrainConfig, resolve_device
from graphkit.models.registry import build_model

if TYPE_CHECKING:
    from graphkit.labels import LabelVocabulary
    from graphkit.models.train import TrainResult

__all__ = [
    "CHECKPOINT",
    "CONFIG",
    "VOCABULARY",
    "RESULT",
    "json_ready",
    "write_config",
    "write_checkpoint",
    "write_result",
    "load_model",
    "load_weights",
]

#: File names in a training output directory.
CHECKPOINT, CONFIG, VOCABULARY, RESULT = "model.pt", "config.json", "vocabulary.json", "result.json"


def json_ready(value: Any) -> Any:
    """``value`` with ``nan`` floats as :obj:`None`, dict keys as strings and tuples as lists.

    Args:
        value (Any): Nested dicts, lists, tuples and scalars.

    Returns:
        Any: The same structure, ready for strict JSON.

    Examples:
        >>> json_ready({1: (0.5, float("nan"))})
        {'1': [0.5, None]}
    """
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    return value


def write_config(out: Path, config: TrainConfig, vocabulary: LabelVocabulary) -> None:
    """Write ``config.json`` and ``vocabulary.json`` into ``out``.

    Args:
        out (Path): The output directory (it must exist).
        config (TrainConfig): The run.
        vocabulary (LabelVocabulary): The labels the model predicts.
    """
    (out / CONFIG).write_text(json.dumps(config.to_dict(), indent=2), encoding="utf-8")
    (out / VOCABULARY).write_text(json.dumps(vocabulary.to_dict()), encoding="utf-8")


def write_checkpoint(out: Path, config: TrainConfig, in_dim: int, num_classes: int, epoch: int,
                     state_dict: dict[str, torch.Tensor]) -> None:
    """Write ``model.pt``: what :func:`load_model` needs to rebuild the model, and its weights.

    Args:
        out (Path): The output directory (it must exist).
        config (TrainConfig): The run (model name, width, layers, dropout).
        in_dim (int): Segment feature width.
        num_classes (int): Output classes.
        epoch (int): The epoch (1-based) the weights come from.
        state_dict (dict[str, torch.Tensor]): The weights.
    """
    torch.save({"model": config.model, "in_dim": in_dim, "num_classes": num_classes, "hidden": config.hidden,
                "layers": config.layers, "dropout": config.dropout, "epoch": epoch, "state_dict": state_dict},
               out / CHECKPOINT)


def write_result(out: Path, result: TrainResult) -> None:
    """Write ``result.json`` (:meth:`TrainResult.to_dict <graphkit.models.train.TrainResult.to_dict>`).

    Args:
        out (Path): The output directory (it must exist).
        result (TrainResult): What the run produced.
    """
    (out / RESULT).write_text(json.dumps(result.to_dict(), indent=2), encoding="utf-8")


def load_model(out_dir: str | Path, device: str = "auto") -> tuple[torch.nn.Module, TrainConfig, Any]:
    """Reload a trained model, its config and its vocabulary from an output directory.

    Args:
        out_dir (str or Path): A :func:`graphkit.models.train.train` output directory.
        device (str, optional): See :func:`~graphkit.models.config.resolve_device`.
            (default: :obj:`"auto"`)

    Returns:
        tuple: The model (on ``device``, with the best epoch's weights), its
        :class:`~graphkit.models.config.TrainConfig` and its
        :class:`~graphkit.labels.LabelVocabulary`.

    Raises:
        FileNotFoundError: If the directory lacks ``model.pt``, ``config.json``
            or ``vocabulary.json``.
    """
    from graphkit.labels import LabelVocabulary

    out = Path(out_dir)
    for name in (CHECKPOINT, CONFIG, VOCABULARY):
        if not (out / name).is_file():
            raise FileNotFoundError(f"{out / name} does not exist; is {out} a training output directory?")
    config = TrainConfig.from_dict(json.loads((out / CONFIG).read_text(encoding="utf-8")))
    vocabulary = LabelVocabulary.from_dict(json.loads((out / VOCABULARY).read_text(encoding="utf-8")))
    checkpoint = torch.load(out / CHECKPOINT, map_location="cpu", weights_only=True)
    model = build_model(checkpoint["model"], checkpoint["in_dim"], checkpoint["num_classes"],
                        hidden=checkpoint["hidden"], layers=checkpoint["layers"], dropout=checkpoint["dropout"])
    model.load_state_dict(checkpoint["state_dict"])
    return model.to(resolve_device(device)), config, vocabulary


def load_weights(model: torch.nn.Module, path: str) -> None:
    """Load ``path``'s state dict into ``model``; name the file and the keys that do not fit.

    Args:
        model (torch.nn.Module): The model to load into.
        path (str): A ``torch.save``'d ``state_dict``, or a ``model.pt``
            written by :func:`write_checkpoint`.

    Raises:
        ValueError: If a key is missing, unexpected or of the wrong shape.
    """
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
