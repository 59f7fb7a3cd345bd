r"""Node features for segment classification that never read the ``gpt`` text.

The action labels (:mod:`graphkit.labels`) come from the ``gpt`` annotations,
so features built from any ``gpt`` field would leak the target into the input.
Features here come only from the captions that every segment carries
(:data:`graphkit.schema.TEXT_PROPERTIES`: ``plm_caption``, ``llama3_caption``,
``plm_action``) and from the tree's time structure; :class:`FeatureConfig`
refuses any ``gpt`` field.

*Text* becomes a fixed-size vector by the signed hashing trick: lowercase
(after NFKC), split on every character that is not a letter, and add ``+1`` or
``-1`` to the bucket ``hash(token) mod dim``, where the hash, not the token,
chooses the sign. Summing over the tokens of all configured fields of a node
and L2-normalizing the row gives a bag of words without a vocabulary. The hash
is a keyed BLAKE2b of the token's UTF-8 bytes (the key is the seed), stable
across processes, machines and Python versions, unlike the salted built-in
``hash()``; each *unique* token is hashed once, and the counts are summed with
numpy. A node with no tokens gets a zero row.

*Temporal* features are five columns, in this order
(:data:`TEMPORAL_FEATURE_NAMES`):

0. ``level``: depth of the segment in the tree (root = 0);
1. ``log_duration``: :math:`\log(1 + (\mathrm{end} - \mathrm{start}))`, seconds;
2. ``relative_start``: start within the video, in ``[0, 1]``;
3. ``relative_end``: end within the video, in ``[0, 1]``;
4. ``height``: distance to the deepest leaf below (leaves = 0).

For learned text embeddings, :class:`SentenceTransformerEncoder` wraps a
locally installed sentence-transformers model; :class:`HashingEncoder` is the
model-free default. Both follow the :class:`TextEncoder` protocol, and
:func:`text_encoder` makes one by name (:data:`TEXT_ENCODERS`: ``hashing``,
``minilm``), as ``FeatureConfig(text_encoder=...)`` selects it.

*Transcript* features (:func:`transcript_features`, selected by
``FeatureConfig(transcript_dim=...)``) hash the ASR lines that fall in each
segment, its leaves' summed into it, with the same tokens and hash.

Examples:
    >>> import numpy as np
    >>> x = hashed_bag_of_words(["Cut the paper", "paper, cut!", None], dim=16)
    >>> x.shape, x.dtype
    ((3, 16), dtype('float32'))
    >>> np.linalg.norm(x, axis=1).round(6)
    array([1., 1., 0.], dtype=float32)
    >>> np.array_equal(hashed_bag_of_words(["PAPER cut"], dim=16)[0], x[1])
    True
"""

from graphkit.features.bag_of_words import TokenCounts, hashed_bag_of_words, hashed_token_counts
from graphkit.features.encoders import (
    HashingEncoder,
    SentenceTransformerEncoder,
    TextEncoder,
    default_device,
    model_fingerprint,
)
from graphkit.features.nodes import DEFAULT_TEXT_FIELDS, FeatureConfig, check_no_label_leakage, node_features
from graphkit.features.registry import (
    TEXT_ENCODERS,
    TextEncoderInfo,
    minilm_model_dir,
    text_encoder,
    text_encoder_info,
)
from graphkit.features.temporal import TEMPORAL_COLUMNS, TEMPORAL_FEATURE_NAMES, temporal_features
from graphkit.features.transcript import (
    pool_transcript,
    spoken_token_counts,
    transcript_features,
    transcript_token_counts,
)
from graphkit.typing import StringArrayLike

__all__ = [
    "StringArrayLike",
    "TEMPORAL_FEATURE_NAMES",
    "TEMPORAL_COLUMNS",
    "DEFAULT_TEXT_FIELDS",
    "hashed_bag_of_words",
    "hashed_token_counts",
    "TokenCounts",
    "temporal_features",
    "TextEncoder",
    "HashingEncoder",
    "SentenceTransformerEncoder",
    "model_fingerprint",
    "default_device",
    "TEXT_ENCODERS",
    "TextEncoderInfo",
    "text_encoder",
    "text_encoder_info",
    "minilm_model_dir",
    "check_no_label_leakage",
    "FeatureConfig",
    "node_features",
    "transcript_features",
    "transcript_token_counts",
    "spoken_token_counts",
    "pool_transcript",
]
