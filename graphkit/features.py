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
model-free default. Both follow the :class:`TextEncoder` protocol.

Examples:
    >>> x = hashed_bag_of_words(["Cut the paper", "paper, cut!", None], dim=16)
    >>> x.shape, x.dtype
    ((3, 16), dtype('float32'))
    >>> np.linalg.norm(x, axis=1).round(6)
    array([1., 1., 0.], dtype=float32)
    >>> np.array_equal(hashed_bag_of_words(["PAPER cut"], dim=16)[0], x[1])
    True
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit.arrays import StringArrayLike, as_string_array, seed_key
from graphkit.errors import GraphkitError
from graphkit.schema import GPT_PROPERTIES, TEXT_PROPERTIES

__all__ = [
    "StringArrayLike",
    "TEMPORAL_FEATURE_NAMES",
    "TEMPORAL_COLUMNS",
    "DEFAULT_TEXT_FIELDS",
    "hashed_bag_of_words",
    "temporal_features",
    "TextEncoder",
    "HashingEncoder",
    "SentenceTransformerEncoder",
    "check_no_label_leakage",
    "FeatureConfig",
    "node_features",
]

logger = logging.getLogger(__name__)

#: The columns of :func:`temporal_features`, in order.
TEMPORAL_FEATURE_NAMES: tuple[str, ...] = (
    "level",
    "log_duration",
    "relative_start",
    "relative_end",
    "height",
)
#: The per-node inputs :func:`node_features` needs for temporal features.
TEMPORAL_COLUMNS: tuple[str, ...] = ("level", "start", "end", "video_start", "video_end", "height")
#: The text fields hashed by default: every non-``gpt`` caption.
DEFAULT_TEXT_FIELDS: tuple[str, ...] = ("plm_caption", "llama3_caption", "plm_action")

_NON_LETTERS = r"[^\p{L}\p{M}]+"
# 1 for the bytes a token is made of: a-z and every byte of a non-ASCII character.
_LETTER_BYTES = np.zeros(256, dtype=np.int8)
_LETTER_BYTES[ord("a") : ord("z") + 1] = 1
_LETTER_BYTES[0x80:] = 1
# BLAKE2b personalization: the same token and seed hash differently elsewhere.
_PERSON = b"graphkit.bow"


def _check_positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _token_hashes(tokens: list[str], seed: int) -> np.ndarray:
    """A stable 64-bit hash of each token (one BLAKE2b per token)."""
    key = seed_key(seed)
    digests = b"".join(
        hashlib.blake2b(token.encode("utf-8"), digest_size=8, key=key, person=_PERSON).digest()
        for token in tokens
    )
    return np.frombuffer(digests, dtype="<u8")


def _letter_runs(text: pa.Array, rows: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Tokens of a null-free, lowercase text array whose non-letters are all ASCII.

    Works on the raw UTF-8 bytes: a token is a maximal run of bytes that are
    ``a``-``z`` or part of a non-ASCII character, never crossing a row. Tokens
    and the gaps between them become one Arrow string array over the same
    bytes, so a single ``dictionary_encode`` finds the unique tokens.

    Returns:
        (unique strings, code of each token into them, row of each token).
    """
    nothing = ([], np.zeros(0, np.int64), np.zeros(0, np.int64))
    if len(text) == 0:
        return nothing
    text = text.cast(pa.large_string())
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)
    offsets = offsets[text.offset : text.offset + len(text) + 1]
    if offsets[-1] == offsets[0]:
        return nothing
    data = np.frombuffer(text.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    offsets = offsets - offsets[0]
    letter = _LETTER_BYTES[data]
    edge = np.diff(letter, prepend=np.int8(0), append=np.int8(0))
    starts, ends = np.flatnonzero(edge == 1), np.flatnonzero(edge == -1)
    # A run that continues across a row boundary is two tokens: split it there.
    inner = offsets[1:-1]
    inner = inner[(inner > 0) & (inner < len(data))]
    glued = inner[(letter[inner - 1] == 1) & (letter[inner] == 1)]
    if glued.size:
        starts = np.sort(np.concatenate((starts, glued)))
        ends = np.sort(np.concatenate((ends, glued)))
    if starts.size == 0:
        return nothing
    token_rows = rows[np.searchsorted(offsets, starts, side="right") - 1]
    bounds = np.empty(2 * starts.size, dtype=np.int64)
    bounds[0::2], bounds[1::2] = starts, ends
    pieces = pa.LargeStringArray.from_buffers(
        bounds.size - 1, pa.py_buffer(bounds), pa.py_buffer(data)
    ).dictionary_encode()
    return pieces.dictionary.to_pylist(), pieces.indices.to_numpy()[0::2], token_rows


def _tokenize(field: pa.Array) -> list[tuple[list[str], np.ndarray, np.ndarray]]:
    """Lowercase letter-run tokens of each row; see :func:`_letter_runs`."""
    rows = np.arange(len(field), dtype=np.int64)
    valid = pc.is_valid(field).to_numpy(zero_copy_only=False)
    ascii_ = pc.fill_null(pc.string_is_ascii(field), False).to_numpy(zero_copy_only=False)
    # ASCII rows need no NFKC and no Unicode-aware split (the common, fast case).
    simple = ascii_ & valid
    parts = [_letter_runs(pc.ascii_lower(field.filter(pa.array(simple))), rows[simple])]
    other = valid & ~ascii_
    if other.any():
        text = pc.utf8_lower(pc.utf8_normalize(field.filter(pa.array(other)), "NFKC"))
        parts.append(_letter_runs(pc.replace_substring_regex(text, _NON_LETTERS, " "), rows[other]))
    return parts


def hashed_bag_of_words(
    texts: StringArrayLike | Sequence[StringArrayLike],
    dim: int = 256,
    *,
    seed: int = 0,
) -> np.ndarray:
    """L2-normalized signed hashed bag of words, one row per node.

    Args:
        texts (StringArrayLike or list[StringArrayLike]): One text (or null)
            per node, or a list of such arrays of equal length (one per text
            field) whose tokens are summed into the same row.
        dim (int, optional): Number of hash buckets (columns).
            (default: :obj:`256`)
        seed (int, optional): Selects the hash function; the same seed gives
            the same features in every process. (default: :obj:`0`)

    Returns:
        numpy.ndarray: ``float32`` of shape ``(N, dim)``; each row has unit L2
        norm, or is zero when the node has no tokens (or they cancel).

    Raises:
        ValueError: If :obj:`dim` is not positive or the arrays differ in
            length.
        TypeError: If the texts are not strings or :obj:`seed` is not an
            integer.

    Examples:
        >>> import pyarrow as pa
        >>> caption = pa.array(["A man slices bread", None])
        >>> action = pa.array(["slice bread", "n/a"])
        >>> hashed_bag_of_words([caption, action], dim=8).shape
        (2, 8)
    """
    dim = _check_positive_int(dim, "dim")
    seed_key(seed)
    if isinstance(texts, (pa.Array, pa.ChunkedArray, np.ndarray)) or not any(
        isinstance(t, (pa.Array, pa.ChunkedArray, np.ndarray, list, tuple)) for t in texts
    ):
        fields = [as_string_array(texts, "texts")]
    else:
        fields = [as_string_array(t, f"texts[{i}]") for i, t in enumerate(texts)]
    num_nodes = len(fields[0])
    if any(len(field) != num_nodes for field in fields):
        raise ValueError(f"text arrays differ in length: {[len(field) for field in fields]}")

    flat = np.zeros(num_nodes * dim, dtype=np.float32)
    for field in fields:
        for uniques, codes, rows in _tokenize(field):
            if not codes.size:
                continue
            hashes = _token_hashes(uniques, seed)
            buckets = (hashes % np.uint64(dim)).astype(np.int64)
            signs = np.where(hashes >> np.uint64(63), -1.0, 1.0).astype(np.float32)
            np.add.at(flat, rows * dim + buckets[codes], signs[codes])
    out = flat.reshape(num_nodes, dim)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


def _as_float_array(values: Any, name: str) -> np.ndarray:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        if values.null_count:
            raise ValueError(f"{name} has {values.null_count} null values")
        values = values.to_numpy(zero_copy_only=False)
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise TypeError(f"{name} must be numeric, got dtype {array.dtype}")
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} has non-finite values (NaN or infinity)")
    return array


def temporal_features(
    level: Any,
    start: Any,
    end: Any,
    video_start: Any,
    video_end: Any,
    height: Any,
) -> np.ndarray:
    """Per-node position in the tree and in time.

    Every argument is one value per node (numpy or Arrow, no nulls); the video
    span is repeated for every node of the video.

    Args:
        level (numpy.ndarray): Depth in the tree, root = 0.
        start (numpy.ndarray): Segment start, seconds.
        end (numpy.ndarray): Segment end, seconds.
        video_start (numpy.ndarray): Start of the node's video (its root).
        video_end (numpy.ndarray): End of the node's video (its root).
        height (numpy.ndarray): Distance to the deepest leaf below, leaves = 0.

    Returns:
        numpy.ndarray: ``float32`` of shape ``(N, 5)``, columns
        :data:`TEMPORAL_FEATURE_NAMES`: level, ``log1p`` of the duration,
        relative start and relative end (``(t - video_start) / (video_end -
        video_start)``, 0 for a video of zero length) and height.

    Raises:
        ValueError: If the lengths differ, a value is null or not finite, or
            a segment ends before it starts.
        TypeError: If an argument is not numeric.

    Examples:
        >>> temporal_features([0, 1, 1], [0.0, 0.0, 3.0], [10.0, 3.0, 10.0],
        ...                   [0.0] * 3, [10.0] * 3, [1, 0, 0]).round(3)
        array([[0.   , 2.398, 0.   , 1.   , 1.   ],
               [1.   , 1.386, 0.   , 0.3  , 0.   ],
               [1.   , 2.079, 0.3  , 1.   , 0.   ]], dtype=float32)
    """
    names = ("level", "start", "end", "video_start", "video_end", "height")
    arrays = [
        _as_float_array(values, name)
        for values, name in zip((level, start, end, video_start, video_end, height), names)
    ]
    lengths = {name: len(array) for name, array in zip(names, arrays)}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"temporal inputs differ in length: {lengths}")
    level_, start_, end_, video_start_, video_end_, height_ = arrays
    duration = end_ - start_
    if (duration < 0).any():
        at = int(np.flatnonzero(duration < 0)[0])
        raise ValueError(f"node {at} ends before it starts: start={start_[at]}, end={end_[at]}")
    span = video_end_ - video_start_
    safe_span = np.where(span > 0, span, 1.0)
    relative_start = np.where(span > 0, (start_ - video_start_) / safe_span, 0.0)
    relative_end = np.where(span > 0, (end_ - video_start_) / safe_span, 0.0)
    columns = (level_, np.log1p(duration), relative_start, relative_end, height_)
    return np.stack(columns, axis=1).astype(np.float32)


@runtime_checkable
class TextEncoder(Protocol):
    """Anything that embeds texts as rows of a float matrix.

    ``encode`` takes one text (or :obj:`None`) per node and returns an array of
    shape ``(N, dim)``; a missing or empty text must give a zero row.
    """

    def encode(self, texts: StringArrayLike) -> np.ndarray:
        """Embed the texts, one row each."""
        ...


class HashingEncoder:
    """The model-free :class:`TextEncoder`: :func:`hashed_bag_of_words`.

    Args:
        dim (int, optional): Number of hash buckets. (default: :obj:`256`)
        seed (int, optional): Hash seed. (default: :obj:`0`)

    Examples:
        >>> encoder = HashingEncoder(dim=32)
        >>> encoder
        HashingEncoder(dim=32, seed=0)
        >>> encoder.encode(["pour mixture", ""]).shape
        (2, 32)
    """

    def __init__(self, dim: int = 256, *, seed: int = 0) -> None:
        self.dim = _check_positive_int(dim, "dim")
        seed_key(seed)
        self.seed = int(seed)

    def encode(self, texts: StringArrayLike) -> np.ndarray:
        """Embed the texts, one ``float32`` row of length :attr:`dim` each.

        Args:
            texts (StringArrayLike): One text (or :obj:`None`) per node.

        Returns:
            numpy.ndarray: ``float32`` of shape ``(N, dim)``.
        """
        return hashed_bag_of_words(texts, self.dim, seed=self.seed)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim}, seed={self.seed})"


class SentenceTransformerEncoder:
    """A :class:`TextEncoder` backed by a local sentence-transformers model.

    The model is loaded once, here, from a local directory or the local
    Hugging Face cache only: nothing is ever downloaded. ``sentence_transformers``
    is imported only when an instance is created, so graphkit does not depend
    on it.

    Args:
        model_name_or_path (str): A model directory, or a hub name already in
            the local Hugging Face cache.
        device (str, optional): Torch device. (default: :obj:`"cpu"`)
        batch_size (int, optional): Texts per forward pass.
            (default: :obj:`64`)
        normalize (bool, optional): L2-normalize the embeddings.
            (default: :obj:`True`)

    Raises:
        GraphkitError: If sentence-transformers is not installed, or the model
            cannot be loaded from local files.
    """

    def __init__(
        self,
        model_name_or_path: str,
        *,
        device: str = "cpu",
        batch_size: int = 64,
        normalize: bool = True,
    ) -> None:
        self.model_name_or_path = str(model_name_or_path)
        self.device = device
        self.batch_size = _check_positive_int(batch_size, "batch_size")
        self.normalize = bool(normalize)
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as err:
            if getattr(err, "name", None) == "sentence_transformers":
                raise GraphkitError(
                    "SentenceTransformerEncoder needs the sentence-transformers package, which "
                    "is not installed; install it with `pip install sentence-transformers` or "
                    "use HashingEncoder"
                ) from err
            raise GraphkitError(
                f"sentence-transformers is installed but cannot be imported: {err}"
            ) from err
        try:
            self.model = SentenceTransformer(
                self.model_name_or_path, device=device, local_files_only=True
            )
        except Exception as err:  # noqa: BLE001 - loaders raise OSError, ValueError, HF errors...
            raise GraphkitError(
                f"cannot load sentence-transformers model {self.model_name_or_path!r} from local "
                f"files (graphkit never downloads models): {err}"
            ) from err
        # sentence-transformers 6 renamed get_sentence_embedding_dimension.
        dimension = getattr(self.model, "get_embedding_dimension", None)
        dim = (dimension or self.model.get_sentence_embedding_dimension)()
        if dim is None:
            dim = np.asarray(self.model.encode(["a"], convert_to_numpy=True)).shape[-1]
        self.dim = int(dim)
        logger.info(
            "loaded sentence-transformers model %r (dim %d)", self.model_name_or_path, self.dim
        )

    def encode(self, texts: StringArrayLike) -> np.ndarray:
        """Embed the texts; missing and empty texts give zero rows.

        Args:
            texts (StringArrayLike): One text (or :obj:`None`) per node.

        Returns:
            numpy.ndarray: ``float32`` of shape ``(N, dim)``.
        """
        array = as_string_array(texts, "texts")
        present = pc.fill_null(pc.greater(pc.binary_length(array), 0), False).to_numpy(
            zero_copy_only=False
        )
        out = np.zeros((len(array), self.dim), dtype=np.float32)
        if present.any():
            batch = array.filter(pa.array(present)).to_pylist()
            out[present] = self.model.encode(
                batch,
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=self.normalize,
                show_progress_bar=False,
            )
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.model_name_or_path!r}, dim={self.dim})"


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

    Raises:
        ValueError: If a field is a ``gpt`` field (label leakage) or unknown,
            :obj:`dim` is not positive, or the config selects no feature.

    Examples:
        >>> FeatureConfig().num_features
        261
        >>> FeatureConfig(text_fields=("gpt.action.brief",))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: feature field 'gpt.action.brief' comes from the gpt annotations ...
    """

    text_fields: tuple[str, ...] = DEFAULT_TEXT_FIELDS
    dim: int = 256
    seed: int = 0
    temporal: bool = True

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
        _check_positive_int(self.dim, "dim")
        seed_key(self.seed)
        if not self.text_fields and not self.temporal:
            raise ValueError(
                "the feature config selects nothing: no text_fields and temporal=False"
            )

    @property
    def num_features(self) -> int:
        """Columns of :func:`node_features` with the default hashing encoder."""
        text = self.dim if self.text_fields else 0
        return text + (len(TEMPORAL_FEATURE_NAMES) if self.temporal else 0)


def node_features(
    columns: Mapping[str, Any],
    config: FeatureConfig | None = None,
    *,
    encoder: TextEncoder | None = None,
) -> np.ndarray:
    """The feature matrix of a batch of nodes: text block, then temporal block.

    Args:
        columns (Mapping[str, Any]): Per-node arrays by name: the configured
            text fields, plus :data:`TEMPORAL_COLUMNS` when
            :obj:`config.temporal`. Other keys are ignored.
        config (FeatureConfig, optional): What to build.
            (default: :obj:`FeatureConfig()`)
        encoder (TextEncoder, optional): Embeds the text fields joined with a
            space per node; :obj:`None` hashes them with
            :func:`hashed_bag_of_words` (:obj:`config.dim`, :obj:`config.seed`).
            (default: :obj:`None`)

    Returns:
        numpy.ndarray: ``float32`` of shape ``(N, F)``.

    Raises:
        ValueError: If a needed column is missing or lengths differ.

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
        if encoder is None:
            blocks.append(hashed_bag_of_words(texts, config.dim, seed=config.seed))
        else:
            joined = texts[0] if len(texts) == 1 else pc.binary_join_element_wise(
                *texts, " ", null_handling="skip"
            )
            blocks.append(np.asarray(encoder.encode(joined), dtype=np.float32))
    if config.temporal:
        blocks.append(temporal_features(*(columns[name] for name in TEMPORAL_COLUMNS)))
    lengths = {block.shape[0] for block in blocks}
    if len(lengths) > 1:
        raise ValueError(f"text and temporal columns differ in length: {sorted(lengths)}")
    return np.concatenate(blocks, axis=1)
