r"""Label vocabularies for action prediction, built from the ``gpt`` annotations.

Action100M annotates segments of 4 s or longer with a ``gpt.action.brief``, a
short imperative phrase ("Cut paper", "Insert wire into jet"), and a
``gpt.action.actor`` ("the presenter's hand"). A node classifier needs them as
integer classes. This module turns those strings into labels of three *kinds*:

* ``"verb"``: the lemma of the brief's first word, lowercased ("Opening the
  lid" -> ``"open"``). The word is the first run of letters, so leading
  punctuation or digits are skipped; apostrophes and hyphens inside it are kept
  ("don't"). A hyphenated word stays whole when lemminflect knows the
  compound as a verb ("pre-heat"), is cut to its first part when that part is a
  verb ("Pan-camera left" -> ``"pan"``) and otherwise stays whole
  ("re-attach"). The lemma is lemminflect's ``getLemma(word, upos="VERB")``;
  when it offers several, the word itself wins if it is one of them ("lay"
  stays ``"lay"``, not ``"lie"``). A brief that does not start with a verb
  still yields the lemma of its first word ("Dogs play" -> ``"dog"``).
* ``"brief"``: the whole brief, normalized (below).
* ``"actor"``: the actor, normalized the same way.

*Normalization* is Unicode NFKC, then every Unicode dash becomes ``-``, curly
quotes become ``'`` and ``"``, invisible format characters (zero-width space,
soft hyphen) are dropped, the text is lowercased, runs of whitespace become one
space, and leading whitespace and trailing whitespace and ``.,;:!?`` are
stripped. The value ``N/A`` in any letter case
(:data:`graphkit.schema.NOT_APPLICABLE`), an empty string and null all mean
*no label*.

A :class:`LabelVocabulary` is fitted on the training nodes only: it keeps the
``top_k`` most frequent classes (ties broken in code-point order of the class
name) and maps every other class, including classes that only occur in
validation or test videos, to one last class, :data:`OTHER_LABEL`. Encoding
gives ``-1`` for nodes with no label; :func:`label_mask` selects the others.

Everything is vectorized with :mod:`pyarrow.compute`; only the lemmatizer runs
in Python, once per *unique* first word.

Examples:
    >>> import pyarrow as pa
    >>> briefs = pa.array(["Cut paper", "cut the cake.", "Open lid", "N/A", None, "Stir soup"])
    >>> extract_labels(briefs, "verb").to_pylist()
    ['cut', 'cut', 'open', None, None, 'stir']
    >>> vocab = LabelVocabulary.fit(briefs, kind="verb", top_k=1)
    >>> vocab
    LabelVocabulary(kind='verb', num_classes=2, top_k=1)
    >>> vocab.classes
    ('cut', '<other>')
    >>> vocab.encode(briefs)
    array([ 0,  0,  1, -1, -1,  1])
    >>> label_mask(vocab.encode(briefs))
    array([ True,  True,  True, False, False,  True])
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit.arrays import as_string_array, map_chunks
from graphkit.schema import NOT_APPLICABLE
from graphkit.typing import StringArrayLike

__all__ = [
    "LABEL_KINDS",
    "OTHER_LABEL",
    "StringArrayLike",
    "normalize_label_text",
    "verb_lemmas",
    "extract_labels",
    "LabelVocabulary",
    "label_mask",
]

logger = logging.getLogger(__name__)

#: The label kinds :func:`extract_labels` and :class:`LabelVocabulary` know.
LABEL_KINDS: tuple[str, ...] = ("verb", "brief", "actor")
#: The name of the class that collects everything outside the top-K classes.
OTHER_LABEL = "<other>"

# Hyphens, dashes and minus signs that NFKC leaves alone.
_DASHES = "[\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\ufe58\ufe63\uff0d]"
_SINGLE_QUOTES = "[\u2018\u2019\u201a\u201b\u2032\u02bc]"
_DOUBLE_QUOTES = "[\u201c\u201d\u201e\u201f\u2033]"
# RE2's \s lacks \v and the Unicode spaces; \p{Z} adds them.
_WHITESPACE = r"[\s\v\p{Z}]+"
_TRAILING = r"[\s.,;:!?]+$"
_FIRST_WORD = r"^[^\p{L}]*(?P<word>\p{L}[\p{L}\p{M}]*(?:['\-][\p{L}\p{M}]+)*)"
_SERIAL_VERSION = 1


def _check_kind(kind: str) -> str:
    if kind not in LABEL_KINDS:
        raise ValueError(f"unknown label kind {kind!r}; expected one of {LABEL_KINDS}")
    return kind


def normalize_label_text(values: StringArrayLike) -> pa.Array:
    """Normalize briefs or actors; ``N/A``, empty and null become null.

    See the module docstring for the exact rules.

    Args:
        values (StringArrayLike): One string (or null) per node.

    Returns:
        pyarrow.Array: Normalized strings of the same length and string type,
        null where the node has no label.

    Raises:
        TypeError: If :obj:`values` are not strings.

    Examples:
        >>> normalize_label_text(["  Open  the LID. ", "n/a", " N/A ", "", None]).to_pylist()
        ['open the lid', None, None, None, None]
        >>> normalize_label_text(["The cook\u2019s hand", "Pan\u2011camera left!"]).to_pylist()
        ["the cook's hand", 'pan-camera left']
    """
    text = as_string_array(values)
    text = pc.utf8_normalize(text, "NFKC")
    text = pc.replace_substring_regex(text, _DASHES, "-")
    text = pc.replace_substring_regex(text, _SINGLE_QUOTES, "'")
    text = pc.replace_substring_regex(text, _DOUBLE_QUOTES, '"')
    text = pc.replace_substring_regex(text, r"\p{Cf}+", "")
    text = pc.utf8_lower(text)
    text = pc.replace_substring_regex(text, _WHITESPACE, " ")
    text = pc.replace_substring_regex(text, _TRAILING, "")
    text = pc.utf8_ltrim_whitespace(text)
    missing = pc.or_kleene(pc.equal(text, NOT_APPLICABLE.lower()), pc.equal(text, ""))
    return pc.if_else(missing, pa.scalar(None, text.type), text)


@functools.lru_cache(maxsize=1 << 16)  # first words repeat: the same few thousand verbs
def _lemmatize(word: str) -> str:
    """The verb lemma of one lowercased word (hyphen rules in the module docstring)."""
    # Imported on first use: loading lemminflect's tables takes ~70 ms.
    from lemminflect import getAllLemmas, getLemma

    if "-" in word and not getAllLemmas(word, upos="VERB"):
        head = word.split("-", 1)[0]
        if getAllLemmas(head, upos="VERB"):
            word = head
    lemmas = getLemma(word, upos="VERB")
    if not lemmas or word in lemmas:
        return word
    return lemmas[0]


def verb_lemmas(values: StringArrayLike) -> pa.Array:
    """The verb label of each brief: the lemma of its first word.

    Args:
        values (StringArrayLike): One ``gpt.action.brief`` (or null) per node.

    Returns:
        pyarrow.Array: A string array of the same length, null where the brief
        is missing, ``N/A`` or has no letters.

    Raises:
        TypeError: If :obj:`values` are not strings.

    Examples:
        >>> verb_lemmas(["Opening the lid", "Cut paper", "Insert wire into jet"]).to_pylist()
        ['open', 'cut', 'insert']
        >>> verb_lemmas(["Pan\u2011camera left", "N/A", "42"]).to_pylist()
        ['pan', None, None]
    """
    text = normalize_label_text(values)
    words = pc.struct_field(pc.extract_regex(text, _FIRST_WORD), "word")
    encoded = words.dictionary_encode()
    uniques = encoded.dictionary.to_pylist()
    lemmas = pa.array([_lemmatize(word) for word in uniques], type=text.type)
    logger.debug("lemmatized %d unique first words of %d briefs", len(uniques), len(text))
    return lemmas.take(encoded.indices)


def extract_labels(values: StringArrayLike, kind: str) -> pa.Array:
    """The label string of each node for one label kind.

    Args:
        values (StringArrayLike): ``gpt.action.brief`` for ``"verb"`` and
            ``"brief"``, ``gpt.action.actor`` for ``"actor"``; one per node.
        kind (str): One of :data:`LABEL_KINDS`.

    Returns:
        pyarrow.Array: One label string per node, null for *no label*.

    Raises:
        ValueError: If :obj:`kind` is unknown.
        TypeError: If :obj:`values` are not strings.

    Examples:
        >>> extract_labels(["Season and garnish eggs", "N/a"], "brief").to_pylist()
        ['season and garnish eggs', None]
    """
    transform = verb_lemmas if _check_kind(kind) == "verb" else normalize_label_text
    return map_chunks(transform, as_string_array(values))


def _as_train_mask(train_mask: Any, length: int) -> np.ndarray:
    mask = np.asarray(train_mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"train_mask must be a boolean array, got dtype {mask.dtype}")
    if mask.shape != (length,):
        raise ValueError(f"train_mask has shape {mask.shape}, expected ({length},), one per node")
    return mask


@dataclass(frozen=True)
class LabelVocabulary:
    """A fixed mapping between label strings and class indices.

    Build one with :meth:`fit` on the training nodes; save it next to a model
    checkpoint with :meth:`to_dict` and restore it with :meth:`from_dict`.
    Class ``i`` is :obj:`classes[i]`; the kept classes come first, most
    frequent first, and the last class, :attr:`other_index`, is
    :data:`OTHER_LABEL`.

    Args:
        kind (str): The label kind, one of :data:`LABEL_KINDS`.
        classes (tuple[str, ...]): Class names; the last is :data:`OTHER_LABEL`.
        counts (tuple[int, ...]): Training nodes per class (same length as
            :obj:`classes`), e.g. for class weights.
        top_k (int, optional): The ``top_k`` it was fitted with, :obj:`None`
            for all classes. (default: :obj:`None`)

    Raises:
        ValueError: If the fields are inconsistent.
    """

    kind: str
    classes: tuple[str, ...]
    counts: tuple[int, ...]
    top_k: int | None = None

    def __post_init__(self) -> None:
        _check_kind(self.kind)
        object.__setattr__(self, "classes", tuple(self.classes))
        object.__setattr__(self, "counts", tuple(int(c) for c in self.counts))
        if not self.classes or self.classes[-1] != OTHER_LABEL:
            raise ValueError(
                f"the last class must be {OTHER_LABEL!r}, got classes {self.classes!r}"
            )
        if len(set(self.classes)) != len(self.classes):
            raise ValueError(f"classes must be unique, got {self.classes!r}")
        if len(self.counts) != len(self.classes):
            raise ValueError(
                f"got {len(self.counts)} counts for {len(self.classes)} classes; need one per class"
            )
        if self.top_k is not None and self.top_k < len(self.classes) - 1:
            raise ValueError(f"top_k={self.top_k} but {len(self.classes) - 1} classes are kept")

    @classmethod
    def fit(
        cls,
        values: StringArrayLike,
        *,
        kind: str,
        top_k: int | None,
        train_mask: Any = None,
    ) -> LabelVocabulary:
        """Build the vocabulary from the labels of the training nodes.

        Args:
            values (StringArrayLike): Raw briefs or actors, one per node.
            kind (str): One of :data:`LABEL_KINDS`.
            top_k (int or None): How many of the most frequent classes to keep
                (ties broken in code-point order of the class name); the rest
                become :data:`OTHER_LABEL`. :obj:`None` keeps every class.
            train_mask (numpy.ndarray, optional): Boolean, one per node, true
                for training nodes. Only those are counted, so a class seen
                only in validation or test nodes is :data:`OTHER_LABEL`.
                :obj:`None` counts every node. (default: :obj:`None`)

        Returns:
            LabelVocabulary: The fitted vocabulary.

        Raises:
            ValueError: If :obj:`kind` or :obj:`top_k` is invalid, the mask has
                the wrong length, or no training node has a label.
            TypeError: If :obj:`values` are not strings or the mask is not
                boolean.

        Examples:
            >>> briefs = ["Cut paper", "Open box", "Open lid", "Stir soup"]
            >>> LabelVocabulary.fit(briefs, kind="verb", top_k=2).classes
            ('open', 'cut', '<other>')
        """
        _check_kind(kind)
        if top_k is not None and (
            isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1
        ):
            raise ValueError(f"top_k must be a positive integer or None, got {top_k!r}")
        labels = extract_labels(values, kind)
        if train_mask is not None:
            labels = labels.filter(pa.array(_as_train_mask(train_mask, len(labels))))
        labels = labels.drop_null()
        if len(labels) == 0:
            raise ValueError(f"no training node has a {kind!r} label; cannot fit a vocabulary")
        counted = pc.value_counts(labels)
        return cls.from_counts(
            dict(zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist())),
            kind=kind, top_k=top_k,
        )

    @classmethod
    def from_counts(cls, counts: Mapping[str, int], *, kind: str, top_k: int | None) -> LabelVocabulary:
        """Build the vocabulary from training-label counts, e.g. summed over a stream of batches.

        Args:
            counts (Mapping[str, int]): Training nodes per label string
                (extracted by :func:`extract_labels`).
            kind (str): One of :data:`LABEL_KINDS`.
            top_k (int or None): See :meth:`fit`.

        Returns:
            LabelVocabulary: What :meth:`fit` returns on the same labels.

        Raises:
            ValueError: If :obj:`kind` or :obj:`top_k` is invalid or no count is positive.

        Examples:
            >>> LabelVocabulary.from_counts({"open": 2, "cut": 1, "stir": 1}, kind="verb", top_k=2).classes
            ('open', 'cut', '<other>')
        """
        _check_kind(kind)
        if top_k is not None and (
            isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1
        ):
            raise ValueError(f"top_k must be a positive integer or None, got {top_k!r}")
        ranked = sorted(((name, int(n)) for name, n in counts.items() if n > 0), key=lambda kv: (-kv[1], kv[0]))
        total = sum(n for _, n in ranked)
        if total == 0:
            raise ValueError(f"no training node has a {kind!r} label; cannot fit a vocabulary")
        keep = len(ranked) if top_k is None else min(int(top_k), len(ranked))
        names = [name for name, _ in ranked[:keep]]
        kept = [n for _, n in ranked[:keep]]
        other_count = total - sum(kept)
        if OTHER_LABEL in names:  # a literal "<other>" label joins the other class
            at = names.index(OTHER_LABEL)
            other_count += kept.pop(at)
            names.pop(at)
        logger.debug(
            "fitted %s vocabulary: %d of %d classes kept, %d of %d training labels in %r",
            kind, len(names), len(ranked), other_count, total, OTHER_LABEL,
        )
        return cls(
            kind=kind,
            classes=(*names, OTHER_LABEL),
            counts=(*kept, other_count),
            top_k=None if top_k is None else int(top_k),
        )

    @property
    def other_index(self) -> int:
        """The index of :data:`OTHER_LABEL`, always the last class."""
        return len(self.classes) - 1

    @property
    def num_classes(self) -> int:
        """The number of classes, :data:`OTHER_LABEL` included."""
        return len(self.classes)

    def __len__(self) -> int:
        return len(self.classes)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(kind={self.kind!r}, num_classes={self.num_classes}, "
            f"top_k={self.top_k})"
        )

    def encode(self, values: StringArrayLike) -> np.ndarray:
        """Class index of each node's label.

        Args:
            values (StringArrayLike): Raw briefs or actors, one per node.

        Returns:
            numpy.ndarray: ``int64`` of shape ``(N,)``: the class index,
            :attr:`other_index` for a label outside the vocabulary and ``-1``
            for no label.

        Raises:
            TypeError: If :obj:`values` are not strings.

        Examples:
            >>> vocab = LabelVocabulary(kind="verb", classes=("cut", "<other>"), counts=(2, 1))
            >>> vocab.encode(["Cutting bread", "Fold towel", "N/A"])
            array([ 0,  1, -1])
        """
        return self.encode_labels(extract_labels(values, self.kind))

    def encode_labels(self, labels: StringArrayLike) -> np.ndarray:
        """Class index of labels already extracted by :func:`extract_labels`; see :meth:`encode`.

        Examples:
            >>> vocab = LabelVocabulary(kind="verb", classes=("cut", "<other>"), counts=(2, 1))
            >>> vocab.encode_labels(["cut", "fold", None])
            array([ 0,  1, -1])
        """
        labels = as_string_array(labels, "labels")
        kept = pa.array(self.classes[:-1], type=labels.type)
        index = pc.fill_null(pc.index_in(labels, value_set=kept), self.other_index)
        has_label = pc.is_valid(labels).to_numpy(zero_copy_only=False)
        return np.where(has_label, index.to_numpy(zero_copy_only=False), -1).astype(np.int64)

    def decode(self, indices: Any) -> pa.Array:
        """Class names of class indices; ``-1`` gives null.

        Args:
            indices (numpy.ndarray): Integer class indices, ``-1`` for none.

        Returns:
            pyarrow.Array: A string array of the same length.

        Raises:
            TypeError: If :obj:`indices` are not integers.
            ValueError: If an index is below ``-1`` or not a class.

        Examples:
            >>> vocab = LabelVocabulary(kind="verb", classes=("cut", "<other>"), counts=(2, 1))
            >>> vocab.decode([1, 0, -1]).to_pylist()
            ['<other>', 'cut', None]
        """
        index = np.asarray(indices)
        if index.size == 0:
            index = index.astype(np.int64)
        if not np.issubdtype(index.dtype, np.integer):
            raise TypeError(f"indices must be integers, got dtype {index.dtype}")
        index = index.reshape(-1).astype(np.int64)
        bad = (index < -1) | (index >= len(self.classes))
        if bad.any():
            raise ValueError(
                f"class index {int(index[bad][0])} out of range; "
                f"expected -1 to {len(self.classes) - 1}"
            )
        return pa.array(self.classes, type=pa.string()).take(pa.array(index, mask=index < 0))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable description, the inverse of :meth:`from_dict`.

        Examples:
            >>> vocab = LabelVocabulary(kind="actor", classes=("a man", "<other>"), counts=(3, 1))
            >>> data = vocab.to_dict()
            >>> data["classes"], data["counts"], data["top_k"]
            (['a man', '<other>'], [3, 1], None)
        """
        return {
            "version": _SERIAL_VERSION,
            "kind": self.kind,
            "classes": list(self.classes),
            "counts": list(self.counts),
            "top_k": self.top_k,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LabelVocabulary:
        """Rebuild a vocabulary saved with :meth:`to_dict`.

        Args:
            data (Mapping[str, Any]): The saved description.

        Returns:
            LabelVocabulary: An equal vocabulary.

        Raises:
            ValueError: If :obj:`data` lacks a key, has an unknown version or
                is inconsistent.

        Examples:
            >>> vocab = LabelVocabulary(kind="brief", classes=("cut", "<other>"), counts=(1, 0))
            >>> LabelVocabulary.from_dict(vocab.to_dict()) == vocab
            True
        """
        missing = sorted({"version", "kind", "classes", "counts"} - set(data))
        if missing:
            raise ValueError(f"saved label vocabulary lacks keys {missing}")
        if data["version"] != _SERIAL_VERSION:
            raise ValueError(
                f"saved label vocabulary has version {data['version']!r}; "
                f"this graphkit reads version {_SERIAL_VERSION}"
            )
        return cls(
            kind=data["kind"],
            classes=tuple(data["classes"]),
            counts=tuple(data["counts"]),
            top_k=data.get("top_k"),
        )


def label_mask(labels: Any) -> np.ndarray:
    """Which nodes have a label.

    Args:
        labels (numpy.ndarray): Encoded labels from
            :meth:`LabelVocabulary.encode` (``-1`` for no label).

    Returns:
        numpy.ndarray: ``bool`` of the same shape, true where ``labels >= 0``.

    Raises:
        TypeError: If :obj:`labels` are not integers.

    Examples:
        >>> label_mask(np.array([3, -1, 0]))
        array([ True, False,  True])
    """
    array = np.asarray(labels)
    if not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"labels must be integer class indices, got dtype {array.dtype}")
    return array >= 0
