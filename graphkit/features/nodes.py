"""Which node features to build (:class:`FeatureConfig`), and building them.

:func:`node_features` puts the text block (hashed, or embedded by a
:class:`~graphkit.features.TextEncoder`) before the temporal block;
:func:`check_no_label_leakage` refuses every ``gpt`` field, since the labels
are made of them.

Examples:
    >>> FeatureConfig(dim=8, temporal=False).num_features
    8
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow.compute as pc

from graphkit.arrays import as_string_array, check_positive_int, seed_key
from graphkit.features.bag_of_words import hashed_bag_of_words
from graphkit.features.encoders import TextEncoder
from graphkit.features.registry import TEXT_ENCODERS, text_encoder, text_encoder_info
from graphkit.features.temporal import TEMPORAL_COLUMNS, TEMPORAL_FEATURE_NAMES, temporal_features
from graphkit.schema import GPT_PROPERTIES, TEXT_PROPERTIES

__all__ = ["DEFAULT_TEXT_FIELDS", "check_no_label_leakage", "FeatureConfig", "node_features"]

#: The text fields hashed by default: every non-``gpt`` caption.
DEFAULT_TEXT_FIELDS: tuple[str, ...] = ("plm_caption", "llama3_caption", "plm_action")


def check_no_label_leakage(fields: Sequence[str]) -> None:
    """Refuse feature fields that are read from the ``gpt`` annotations.

    Args:
        fields (Sequence[str]): Names of the node fields used as features.

    Raises:
        ValueError: If a field is a ``gpt`` field
            (:data:`graphkit.schema.GPT_PROPERTIES`, ``gpt`` or ``gpt.*``).

    Examples:
        >>> check_no_label_leakage(["plm_caption"])
        >>> check_no_label_leakage(["plm_caption", "action_brief"])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: feature field 'action_brief' comes from the gpt annotations ...
    """
    for field in fields:
        if field in GPT_PROPERTIES or field == "gpt" or str(field).startswith("gpt."):
            raise ValueError(
                f"feature field {field!r} comes from the gpt annotations that the labels are made "
                f"of (label leakage); use some of {TEXT_PROPERTIES}"
            )


@dataclass(frozen=True)
class FeatureConfig:
    """Which node features to build.

    Args:
        text_fields (tuple[str, ...], optional): Text fields to hash, some of
            :data:`graphkit.schema.TEXT_PROPERTIES`; never a ``gpt`` field.
            (default: :data:`DEFAULT_TEXT_FIELDS`)
        dim (int, optional): Hash buckets of the bag of words.
            (default: :obj:`256`)
        seed (int, optional): Hash seed. (default: :obj:`0`)
        temporal (bool, optional): Append the five
            :data:`TEMPORAL_FEATURE_NAMES` columns. (default: :obj:`True`)
        text_encoder (str, optional): Who turns the text fields (joined with
            a space per node) into the text block, one of
            :data:`~graphkit.features.TEXT_ENCODERS`: ``"hashing"``, the
            hashed bag of words (:obj:`dim` buckets, :obj:`seed`), or a
            sentence embedding such as ``"minilm"`` (its own width; :obj:`dim`
            and :obj:`seed` are then unused). (default: :obj:`"hashing"`)
        transcript_dim (int, optional): Hash buckets of a transcript block
            after the text block: the hashed bag of words of the ASR lines
            that fall in each segment, its leaves' summed into it
            (:func:`~graphkit.features.transcript_features`, same
            :obj:`seed`); the videos must then be read with their metadata.
            ``0`` builds none. (default: :obj:`0`)

    Raises:
        ValueError: If a field is a ``gpt`` field (label leakage) or unknown,
            :obj:`dim` is not positive, :obj:`transcript_dim` is negative,
            the encoder is unknown, or the config selects no feature.

    Examples:
        >>> FeatureConfig().num_features
        261
        >>> FeatureConfig(transcript_dim=64).num_features
        325
        >>> FeatureConfig(text_fields=("gpt.action.brief",))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: feature field 'gpt.action.brief' comes from the gpt annotations ...
    """

    text_fields: tuple[str, ...] = DEFAULT_TEXT_FIELDS
    dim: int = 256
    seed: int = 0
    temporal: bool = True
    text_encoder: str = "hashing"
    transcript_dim: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.text_fields, str):
            raise TypeError(
                f"text_fields must be a sequence of names, not the string {self.text_fields!r}"
            )
        object.__setattr__(self, "text_fields", tuple(self.text_fields))
        check_no_label_leakage(self.text_fields)
        unknown = [field for field in self.text_fields if field not in TEXT_PROPERTIES]
        if unknown:
            raise ValueError(f"unknown text fields {unknown}; expected some of {TEXT_PROPERTIES}")
        check_positive_int(self.dim, "dim")
        seed_key(self.seed)
        if self.text_encoder not in TEXT_ENCODERS:
            raise ValueError(f"unknown text encoder {self.text_encoder!r}; expected one of {TEXT_ENCODERS}")
        width = self.transcript_dim
        if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 0:
            raise ValueError(f"transcript_dim={width!r} must be an int >= 0")
        object.__setattr__(self, "transcript_dim", int(width))
        if not self.text_fields and not self.temporal and not self.transcript:
            raise ValueError(
                "the feature config selects nothing: no text_fields, transcript_dim=0 and temporal=False"
            )

    @property
    def embedded(self) -> bool:
        """Whether the text block is a sentence embedding (not the hashed bag of words)."""
        return bool(self.text_fields) and self.text_encoder != "hashing"

    @property
    def text_dim(self) -> int:
        """Columns of the text block (an embedding's width comes from its files, without loading it)."""
        if not self.text_fields:
            return 0
        return text_encoder_info(self.text_encoder).dim if self.embedded else self.dim

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description, the inverse of ``FeatureConfig(**data)``.

        ``text_encoder`` and ``transcript_dim`` appear only when they are not
        their defaults, so the descriptions (and the dataset keys made of
        them) of hashed features without a transcript stay as they were.

        Examples:
            >>> FeatureConfig(dim=8, transcript_dim=4).to_dict()
            {'text_fields': ['plm_caption', 'llama3_caption', 'plm_action'], 'dim': 8, 'seed': 0, \
'temporal': True, 'transcript_dim': 4}
        """
        data: dict[str, Any] = {"text_fields": list(self.text_fields), "dim": self.dim, "seed": self.seed,
                                "temporal": self.temporal}
        if self.text_encoder != "hashing":
            data["text_encoder"] = self.text_encoder
        if self.transcript:
            data["transcript_dim"] = self.transcript_dim
        return data

    @property
    def transcript(self) -> bool:
        """Whether the features have a transcript block (and so need the videos' metadata)."""
        return self.transcript_dim > 0

    @property
    def num_features(self) -> int:
        """Columns of :func:`node_features`: the text block, the transcript block, then the temporal one."""
        return self.text_dim + self.transcript_dim + (len(TEMPORAL_FEATURE_NAMES) if self.temporal else 0)


def node_features(
    columns: Mapping[str, Any],
    config: FeatureConfig | None = None,
    *,
    encoder: TextEncoder | None = None,
    transcript: np.ndarray | None = None,
) -> np.ndarray:
    """The feature matrix of a batch of nodes: text block, transcript block, then temporal block.

    Args:
        columns (Mapping[str, Any]): Per-node arrays by name: the configured
            text fields, plus :data:`TEMPORAL_COLUMNS` when
            :obj:`config.temporal`. Other keys are ignored.
        config (FeatureConfig, optional): What to build.
            (default: :obj:`FeatureConfig()`)
        encoder (TextEncoder, optional): Embeds the text fields joined with a
            space per node; :obj:`None` hashes them with
            :func:`hashed_bag_of_words` (:obj:`config.dim`, :obj:`config.seed`),
            or, when :obj:`config.text_encoder` names another encoder, makes
            it (:func:`~graphkit.features.text_encoder`; to embed each
            distinct text once across calls, pass a
            :class:`~graphkit.loaders.embedding_cache.CachedEncoder`).
            (default: :obj:`None`)
        transcript (numpy.ndarray, optional): ``[N, config.transcript_dim]``
            transcript block (:func:`~graphkit.features.transcript_features`,
            which needs the trees, not columns); required exactly when
            :obj:`config.transcript`. (default: :obj:`None`)

    Returns:
        numpy.ndarray: ``float32`` of shape ``(N, F)``.

    Raises:
        ValueError: If a needed column is missing, lengths differ, or the
            transcript block is missing, unasked for or of another width.

    Examples:
        >>> columns = {"plm_caption": ["slicing bread"], "plm_action": [None],
        ...            "llama3_caption": ["a man slices bread"], "level": [0],
        ...            "start": [0.0], "end": [4.0], "video_start": [0.0],
        ...            "video_end": [4.0], "height": [0]}
        >>> node_features(columns, FeatureConfig(dim=8)).shape
        (1, 13)
    """
    config = FeatureConfig() if config is None else config
    needed = list(config.text_fields) + (list(TEMPORAL_COLUMNS) if config.temporal else [])
    missing = [name for name in needed if name not in columns]
    if missing:
        raise ValueError(
            f"node_features needs columns {missing}, which are missing; got {sorted(columns)}"
        )
    blocks = []
    if config.text_fields:
        texts = [as_string_array(columns[name], name) for name in config.text_fields]
        if encoder is None and config.embedded:
            encoder = text_encoder(config.text_encoder)
        if encoder is None:
            blocks.append(hashed_bag_of_words(texts, config.dim, seed=config.seed))
        else:
            joined = texts[0] if len(texts) == 1 else pc.binary_join_element_wise(
                *texts, " ", null_handling="skip"
            )
            blocks.append(np.asarray(encoder.encode(joined), dtype=np.float32))
    if config.transcript != (transcript is not None):
        raise ValueError(f"transcript_dim={config.transcript_dim} but the transcript block was "
                         f"{'not ' if transcript is None else ''}given")
    if transcript is not None:
        transcript = np.asarray(transcript, dtype=np.float32)
        if transcript.ndim != 2 or transcript.shape[1] != config.transcript_dim:
            raise ValueError(f"the transcript block has shape {transcript.shape}; expected "
                             f"(N, {config.transcript_dim})")
        blocks.append(transcript)
    if config.temporal:
        blocks.append(temporal_features(*(columns[name] for name in TEMPORAL_COLUMNS)))
    lengths = {block.shape[0] for block in blocks}
    if len(lengths) > 1:
        raise ValueError(f"text, transcript and temporal blocks differ in length: {sorted(lengths)}")
    return np.concatenate(blocks, axis=1)
