"""The signed hashed bag of words: text as a fixed-size vector without a vocabulary.

See :mod:`graphkit.features` for the tokenization and the hash.

Examples:
    >>> hashed_bag_of_words(["Cut the paper", None], dim=4).shape
    (2, 4)
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit.arrays import NODES_PER_CHUNK, as_string_array, check_positive_int, seed_key
from graphkit.parallel import thread_map
from graphkit.typing import StringArrayLike

__all__ = ["TokenCounts", "hashed_token_counts", "hashed_bag_of_words"]

_NON_LETTERS = r"[^\p{L}\p{M}]+"
# BLAKE2b personalization: the same token and seed hash differently elsewhere.
_PERSON = b"graphkit.bow"


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
    # 1 for the bytes a token is made of: a-z and every byte of a non-ASCII character
    # (two comparisons run ten times faster than a 256-entry lookup table).
    letter = (((data - np.uint8(ord("a"))) < 26) | (data >= 0x80)).view(np.int8)
    # Run edges alternate, +1 at a start and -1 at an end: one scan finds both.
    edges = np.flatnonzero(np.diff(letter, prepend=np.int8(0), append=np.int8(0)))
    starts, ends = edges[0::2], edges[1::2]
    # A run that continues across a row boundary is two tokens: split it there.
    inner = offsets[1:-1]
    inner = inner[(inner > 0) & (inner < len(data))]
    glued = inner[(letter[inner - 1] == 1) & (letter[inner] == 1)]
    if glued.size:
        starts = np.sort(np.concatenate((starts, glued)))
        ends = np.sort(np.concatenate((ends, glued)))
    if starts.size == 0:
        return nothing
    # No token crosses a row boundary now, so counting the tokens that start before each
    # row's end places them (far fewer searches than placing every token among the rows).
    per_row = np.diff(np.searchsorted(starts, offsets))
    token_rows = np.repeat(rows, per_row)
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


@dataclass(frozen=True)
class TokenCounts:
    """The signed hashed bag of words in sparse form: each node's nonzero buckets.

    Node ``i`` owns entries ``ptr[i]:ptr[i + 1]`` of :attr:`bucket` and
    :attr:`count`, buckets ascending. Integer counts make the sparse form
    exact: :meth:`to_dense` gives :func:`hashed_bag_of_words` bit for bit.

    Args:
        num_tokens (numpy.ndarray): ``[N]`` int64 nonzero buckets of each node.
        bucket (numpy.ndarray): ``[M]`` int64 bucket of each entry, in ``[0, dim)``.
        count (numpy.ndarray): ``[M]`` int64 signed token count of each entry (never 0).
        dim (int): Number of buckets.
    """

    num_tokens: np.ndarray
    bucket: np.ndarray
    count: np.ndarray
    dim: int

    @property
    def ptr(self) -> np.ndarray:
        """``[N + 1]`` int64 offsets of each node's entries."""
        return np.concatenate(([0], np.cumsum(self.num_tokens, dtype=np.int64)))

    def to_dense(self) -> np.ndarray:
        """``float32`` ``(N, dim)`` rows of unit L2 norm (zero rows where a node has no entry)."""
        num_nodes = len(self.num_tokens)
        rows = np.repeat(np.arange(num_nodes, dtype=np.int64), self.num_tokens)
        out = np.zeros((num_nodes, self.dim), dtype=np.float32)
        out[rows, self.bucket] = self.count
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out


def hashed_token_counts(
    texts: StringArrayLike | Sequence[StringArrayLike],
    dim: int = 256,
    *,
    seed: int = 0,
    threads: int = 1,
) -> TokenCounts:
    """The signed hashed bag of words of each node, as sparse integer counts.

    Takes the arguments of :func:`hashed_bag_of_words`, whose rows are
    ``hashed_token_counts(...).to_dense()``; a compact form to store (a few
    bytes per token instead of ``4 * dim`` bytes per node), plus ``threads``:
    chunks of :data:`~graphkit.arrays.NODES_PER_CHUNK` nodes are counted on
    up to that many threads (:func:`graphkit.parallel.thread_map`), with the
    same result whatever their number.

    Returns:
        TokenCounts: The nonzero buckets of each node.

    Examples:
        >>> counts = hashed_token_counts(["cut cut paper", None], dim=4)
        >>> counts.num_tokens.tolist(), int(abs(counts.count).max())
        ([2, 0], 2)
    """
    dim = check_positive_int(dim, "dim")
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

    parts = thread_map(lambda start: _chunk_counts([field.slice(start, NODES_PER_CHUNK) for field in fields],
                                                   dim, seed),
                       range(0, num_nodes, NODES_PER_CHUNK), threads=threads)
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return TokenCounts(empty, empty, empty, dim)
    return TokenCounts(*(np.concatenate(columns) for columns in zip(*parts)), dim)


def _chunk_counts(fields: list[pa.Array], dim: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(num_tokens, bucket, count)`` of one chunk of nodes (see :func:`hashed_token_counts`)."""
    num_nodes = len(fields[0])
    keys = []
    for field in fields:
        for uniques, codes, rows in _tokenize(field):
            if not codes.size:
                continue
            hashes = _token_hashes(uniques, seed)
            buckets = (hashes % np.uint64(dim)).astype(np.int64)
            # Each token is one int64: (node * dim + bucket) * 2 + (sign > 0).
            positive = (hashes >> np.uint64(63) == 0).astype(np.int64)
            keys.append((rows * dim + buckets[codes]) * 2 + positive[codes])
    if not keys:
        empty = np.zeros(0, dtype=np.int64)
        return np.zeros(num_nodes, dtype=np.int64), empty, empty
    # One sort of the packed tokens groups them by (node, bucket), and no dense
    # N x dim block is needed, whatever dim is.
    packed = np.sort(np.concatenate(keys))
    key, sign = packed >> 1, (packed & 1) * 2 - 1
    first = np.flatnonzero(np.diff(key, prepend=np.int64(-1)))
    total = np.add.reduceat(sign, first)
    key = key[first]
    nonzero = total != 0
    key, total = key[nonzero], total[nonzero]
    num_tokens = np.bincount(key // dim, minlength=num_nodes).astype(np.int64)
    return num_tokens, key % dim, total


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
    return hashed_token_counts(texts, dim, seed=seed).to_dense()
