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

An output directory holds one run: :func:`prepare_run_directory` refuses one
that holds a run of another configuration (unless told to overwrite it) and
clears the old files of the run it keeps, so a run never mixes with, or
passes for, another. The JSON files are written redacted
(:func:`graphkit.redact.redact`): a source URL's credentials never reach them.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from graphkit.errors import OutputExistsError
from graphkit.models.config import TrainConfig, resolve_device
from graphkit.models.registry import build_model
from graphkit.redact import redact

if TYPE_CHECKING:
    from graphkit.labels import LabelVocabulary
    from graphkit.models.train import TrainResult

__all__ = [
    "CHECKPOINT",
    "CONFIG",
    "VOCABULARY",
    "RESULT",
    "RUN_FILES",
    "json_ready",
    "prepare_run_directory",
    "write_config",
    "write_checkpoint",
    "write_result",
    "load_model",
    "load_weights",
]

#: File names in a training output directory.
CHECKPOINT, CONFIG, VOCABULARY, RESULT = "model.pt", "config.json", "vocabulary.json", "result.json"

#: Every file a run writes into its output directory.
RUN_FILES: tuple[str, ...] = (CHECKPOINT, CONFIG, VOCABULARY, RESULT)

# What a run's identity leaves out: how it is shown, and where it is (the directory itself).
_NOT_THE_RUN = ("progress", "out")


def prepare_run_directory(out: str | Path, config: TrainConfig, overwrite: bool = False) -> Path:
    """Make ``out`` ready for the run ``config``: refuse another run's directory, clear the old files.

    A directory that holds files of a run (:data:`RUN_FILES`) is the same
    run when its ``config.json`` equals ``config`` (leaving out ``progress``
    and ``out``); it is then trained again from scratch. Any other run is
    refused, unless ``overwrite``. Either way the old run's files are removed
    before training starts, so an interrupted run never leaves another's
    ``result.json`` beside its ``config.json``. Other files (such as the
    dataset cache ``out/dataset``, keyed by its own inputs) are kept.

    Args:
        out (str or Path): The output directory (created if missing).
        config (TrainConfig): The run about to be trained.
        overwrite (bool, optional): Replace a run of another configuration.
            (default: :obj:`False`)

    Returns:
        Path: ``out``.

    Raises:
        NotADirectoryError: If ``out`` is a file.
        OutputExistsError: If ``out`` holds another run and ``overwrite`` is false.

    Examples:
        >>> import tempfile
        >>> out = Path(tempfile.mkdtemp())
        >>> _ = (out / CONFIG).write_text(json.dumps(TrainConfig(epochs=3).to_dict()))
        >>> _ = prepare_run_directory(out, TrainConfig(epochs=3))
        >>> _ = prepare_run_directory(out, TrainConfig(epochs=5))  # config.json was cleared
        >>> _ = (out / CONFIG).write_text(json.dumps(TrainConfig(epochs=3).to_dict()))
        >>> prepare_run_directory(out, TrainConfig(epochs=5))
        Traceback (most recent call last):
        ...
        graphkit.errors.OutputExistsError: ... holds another run (epochs=3, not 5); use a new --out, or --overwrite to replace it
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out} is a file, not a directory")
    held = [name for name in RUN_FILES if (out / name).exists()]
    if held and not overwrite:
        how = "use a new --out, or --overwrite to replace it"
        try:
            stored = json.loads((out / CONFIG).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise OutputExistsError(f"{out} holds {held[0]} of a run without its {CONFIG}; {how}") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise OutputExistsError(f"{out / CONFIG} is unreadable ({type(err).__name__}); {how}") from None
        wanted = json.loads(redact(json.dumps(config.to_dict())))
        if not isinstance(stored, dict):
            raise OutputExistsError(f"{out / CONFIG} is not a run's configuration; {how}")
        # A key that an older graphkit did not write had its default then.
        stored = {**json.loads(json.dumps(TrainConfig().to_dict())), **stored}
        differ = [key for key in wanted if key not in _NOT_THE_RUN and stored.get(key) != wanted[key]]
        if differ:
            shown = ", ".join(f"{key}={stored.get(key)!r}, not {wanted[key]!r}" for key in differ[:3])
            more = f" and {len(differ) - 3} more" if len(differ) > 3 else ""
            raise OutputExistsError(f"{out} holds another run ({shown}{more}); {how}")
    out.mkdir(parents=True, exist_ok=True)
    for name in held:
        (out / name).unlink(missing_ok=True)
    return out


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
    (out / CONFIG).write_text(redact(json.dumps(config.to_dict(), indent=2)), encoding="utf-8")
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
    (out / RESULT).write_text(redact(json.dumps(result.to_dict(), indent=2)), encoding="utf-8")


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
        ValueError: If one of them is damaged.
    """
    from graphkit.labels import LabelVocabulary

    out = Path(out_dir)
    for name in (CHECKPOINT, CONFIG, VOCABULARY):
        if not (out / name).is_file():
            raise FileNotFoundError(f"{out / name} does not exist; is {out} a training output directory?")
    run_device = resolve_device(device)
    try:
        config = TrainConfig.from_dict(json.loads((out / CONFIG).read_text(encoding="utf-8")))
        vocabulary = LabelVocabulary.from_dict(json.loads((out / VOCABULARY).read_text(encoding="utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError, TypeError, KeyError, AttributeError) as err:
        raise ValueError(f"{out} holds a damaged {CONFIG} or {VOCABULARY} ({type(err).__name__}); train again") from None
    try:
        checkpoint = torch.load(out / CHECKPOINT, map_location="cpu", weights_only=True)
        if checkpoint.get("kind") == "retrieval":  # the retrieval task's dual encoder
            from graphkit.models.retrieval import DualEncoder

            model = DualEncoder(checkpoint["model"], checkpoint["in_dim"], checkpoint["text_dim"],
                                dim=checkpoint["dim"], hidden=checkpoint["hidden"], layers=checkpoint["layers"],
                                dropout=checkpoint["dropout"])
        else:
            model = build_model(checkpoint["model"], checkpoint["in_dim"], checkpoint["num_classes"],
                                hidden=checkpoint["hidden"], layers=checkpoint["layers"],
                                dropout=checkpoint["dropout"])
        model.load_state_dict(checkpoint["state_dict"])
    except Exception as err:  # torch raises pickle, zip, key and runtime errors for a damaged checkpoint
        raise ValueError(f"{out / CHECKPOINT} is damaged or not a graphkit checkpoint ({type(err).__name__}); "
                         "train again") from None
    return model.to(run_device), config, vocabulary


def load_weights(model: torch.nn.Module, path: str) -> None:
    """Load ``path``'s state dict into ``model``; name the file and the keys that do not fit.

    Args:
        model (torch.nn.Module): The model to load into.
        path (str): A ``torch.save``'d ``state_dict``, or a ``model.pt``
            written by :func:`write_checkpoint`.

    Raises:
        ValueError: If the file holds no tensors torch can load, or a key is
            missing, unexpected or of the wrong shape.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises pickle, zip and runtime errors for a file it cannot read
        raise ValueError(f"init_weights={path!r} is not a state dict torch can load "
                         f"({type(err).__name__}); give a file written by torch.save") from None
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]  # a checkpoint written by train()
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"init_weights={path!r} holds no state dict (a mapping of names to tensors)")
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
