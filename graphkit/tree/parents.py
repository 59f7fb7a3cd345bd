"""``parent_id`` resolved to parent positions, video by video.

:func:`resolve_parents` is the one entry point; the joins behind it are
described there. Every join is confirmed on the full ids, so the result is
the same whichever path is taken.

Examples:
    >>> import numpy as np
    >>> import pyarrow as pa
    >>> ids = pa.array(["root", "a", "b", "root", "c"])
    >>> parents = pa.array([None, "root", "root", None, "nope"])
    >>> parent, code = resolve_parents(ids, parents, np.array([3, 2]))
    >>> parent.tolist()
    [-1, 0, 0, -1, -2]
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit.arrays import valid_mask

__all__ = ["resolve_parents"]


def resolve_parents(
    node_id: pa.Array,
    parent_id: pa.Array,
    counts: np.ndarray,
    layout: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Parent positions (``-1`` root, ``-2`` not in the video) and id codes.

    The id code is equal for equal ids of one video and ``-1`` for a null id;
    it is ``None`` when the ids are proven set and unique.

    Fixed-width ids (UUIDs, as in all of Action100M) are read as 64-bit words
    straight from the Arrow buffer. Published rows list each video's nodes by
    level, then start time; when ``layout`` (levels and starts) shows that
    order, each child's parent is *guessed* by time (the node one level up
    that starts at or before it, found with one binary search) and the guess
    is confirmed word for word against ``parent_id``. Otherwise ids are hashed
    and joined by sorting, again confirmed word for word, so a hash collision
    can never pair the wrong nodes. Other ids, a failed guess or repeated ids
    use Arrow's hash kernels on (video, id) pairs, so equal ids in different
    videos never mix.
    """
    video_index = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    if pa.types.is_null(parent_id.type):
        parent_id = pa.nulls(len(node_id), pa.string())
    nodes = _fixed_width_ids(node_id) if node_id.null_count == 0 else None
    if nodes is not None:
        parents = _fixed_width_ids(parent_id, size=nodes[0].shape[1])
        if parents is not None and _distinct_keys(_mix(nodes[1])):
            has_parent = valid_mask(parent_id)
            if layout is not None:
                parent = _join_by_layout(nodes[0], parents[0], has_parent, video_index, *layout)
                if parent is not None:
                    return parent, None
            return _join_by_hash(nodes[1], parents[1], has_parent, video_index), None
    return _join_by_dictionary(node_id, parent_id, video_index)


def _distinct_keys(keys: np.ndarray) -> bool:
    """Whether all 64-bit keys differ (then the ids they hash certainly do)."""
    ordered = np.sort(keys)
    return not np.any(ordered[1:] == ordered[:-1])


def _join_by_layout(
    node_bytes: np.ndarray,
    parent_bytes: np.ndarray,
    has_parent: np.ndarray,
    video_index: np.ndarray,
    level: np.ndarray,
    start: np.ndarray,
) -> np.ndarray | None:
    """Parents guessed from the (video, level, start) order, or ``None``."""
    if np.any(start < 0) or np.any(level < 0) or len(level) == 0:
        return None
    # (video, level, start) packed into one sortable uint64: non-negative
    # float32 values order like their bit patterns.
    bits = start.view(np.uint32).astype(np.uint64)
    key = (video_index.astype(np.uint64) << np.uint64(38)) | (level.astype(np.uint64) << np.uint64(32)) | bits
    if int(video_index[-1]) >= 1 << 26 or int(level.max()) >= 64 or not np.all(key[1:] > key[:-1]):
        return None
    children = np.flatnonzero(has_parent)
    if np.any(level[children] < 1):
        return None
    query = key[children] - (np.uint64(1) << np.uint64(32))  # the same start one level up
    guess = np.searchsorted(key, query, side="right") - 1
    guess = np.maximum(guess, 0)
    if not (
        np.all(video_index[guess] == video_index[children])
        and np.array_equal(np.take(node_bytes, guess, axis=0), parent_bytes)
    ):
        return None
    parent = np.full(len(level), -1, dtype=np.int64)
    parent[children] = guess
    return parent


def _join_by_hash(
    node_words: list[np.ndarray],
    parent_words: list[np.ndarray],
    has_parent: np.ndarray,
    video_index: np.ndarray,
) -> np.ndarray:
    """Parents by sorting 64-bit hashes of the ids (node ids known distinct)."""
    node_key = _mix(node_words)
    by_key = np.argsort(node_key)
    sorted_key = node_key[by_key]
    parent_key = _mix(parent_words)
    queries = np.argsort(parent_key)
    hit = np.minimum(np.searchsorted(sorted_key, parent_key[queries]), len(sorted_key) - 1)
    key_match = np.empty(len(queries), dtype=bool)
    key_match[queries] = sorted_key[hit] == parent_key[queries]
    candidate = np.empty(len(queries), dtype=np.int64)
    candidate[queries] = by_key[hit]
    # Confirm each match on the full id (in child order, so one gather per word).
    same = key_match & _words_equal([words[candidate] for words in node_words], parent_words)
    parent = np.full(len(video_index), -1, dtype=np.int64)
    children = np.flatnonzero(has_parent)
    parent[children] = np.where(same, candidate, -2)
    found = parent >= 0
    found[found] = video_index[parent[found]] == video_index[found]
    parent[has_parent & ~found] = -2
    return parent


def _fixed_width_ids(array: pa.Array, size: int | None = None) -> tuple[np.ndarray, list[np.ndarray]] | None:
    """Equal-length strings as a byte block and as uint64 word columns, without copying.

    Returns the ``[non-null, L]`` uint8 block of their bytes and ``ceil(L / 8)``
    strided uint64 views into it (the last word overlaps the one before when
    ``L`` is not a multiple of 8, so every byte is covered). Null strings must
    be empty and are left out. Returns ``None`` when the strings differ in
    length (or from ``size``) or are shorter than 8 bytes, so the caller takes
    the general path.
    """
    if not pa.types.is_string(array.type) or len(array) == 0:
        return None
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)[array.offset : array.offset + len(array) + 1]
    lengths = np.diff(offsets)
    valid = valid_mask(array)
    num_valid = int(valid.sum())
    if num_valid == 0:
        return None
    length = int(lengths[valid][0])
    if length < 8 or (size is not None and length != size):
        return None
    if np.any(lengths[valid] != length) or np.any(lengths[~valid] != 0):
        return None
    data = array.buffers()[2]
    block = np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]].reshape(num_valid, length)
    starts = list(range(0, length - 7, 8)) + ([length - 8] if length % 8 else [])
    words = [
        np.ndarray((num_valid,), dtype="<u8", buffer=data, offset=int(offsets[0]) + start, strides=(length,))
        for start in starts
    ]
    return block, words


def _words_equal(a: list[np.ndarray], b: list[np.ndarray]) -> np.ndarray:
    """Row-wise equality of two lists of word columns."""
    differ = a[0] ^ b[0]
    for left, right in zip(a[1:], b[1:]):
        differ |= left ^ right
    return differ == 0


def _mix(words: list[np.ndarray]) -> np.ndarray:
    """A 64-bit hash of each row of word columns (multiply-xor; uint64 wraps)."""
    key = words[0].copy()
    for column in words[1:]:
        key ^= column
        key *= np.uint64(0x9E3779B97F4A7C15)
    return key


def _join_by_dictionary(
    node_id: pa.Array, parent_id: pa.Array, video_index: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    num_nodes = len(node_id)
    encoded = node_id.dictionary_encode()
    id_code = encoded.indices.fill_null(-1).to_numpy().astype(np.int64)
    parent_code = pc.index_in(parent_id, value_set=encoded.dictionary, skip_nulls=True)
    parent_code = parent_code.fill_null(-1).to_numpy().astype(np.int64)
    width = len(encoded.dictionary) + 1
    keys = video_index * width + id_code
    order = np.argsort(keys, kind="stable")
    wanted = video_index * width + parent_code
    pos = np.minimum(np.searchsorted(keys[order], wanted), max(num_nodes - 1, 0))
    parent = order[pos] if num_nodes else np.zeros(0, dtype=np.int64)
    found = (parent_code >= 0) & (keys[parent] == wanted)
    parent = np.where(found, parent, -2)
    parent[~valid_mask(parent_id)] = -1
    return parent, id_code
