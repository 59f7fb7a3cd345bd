"""Text encoders: anything that embeds one text per node as a row of a float matrix.

:class:`TextEncoder` is the protocol; :class:`HashingEncoder` is the
model-free default (:func:`~graphkit.features.hashed_bag_of_words`) and
:class:`SentenceTransformerEncoder` wraps a locally installed
sentence-transformers model.

Every encoder has a ``name``, a ``dim`` and a ``version``: two encoders with
the same name and version give the same vector for the same text, so a cache
of vectors (:mod:`graphkit.loaders.embedding_cache`) is keyed by them. A
model's version (:func:`model_fingerprint`) changes with its weights, its
configuration and its tokenizer files, and with the sentence-transformers
release that runs them.

Examples:
    >>> encoder = HashingEncoder(dim=8)
    >>> isinstance(encoder, TextEncoder), encoder.name, encoder.version
    (True, 'hashing', 'bow1-dim8-seed0')
"""

from __future__ import annotations

import hashlib
import logging
from importlib import metadata
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit.arrays import as_string_array, check_positive_int, seed_key
from graphkit.errors import GraphkitError
from graphkit.features.bag_of_words import hashed_bag_of_words
from graphkit.typing import StringArrayLike

__all__ = ["TextEncoder", "HashingEncoder", "SentenceTransformerEncoder", "model_fingerprint", "default_device"]

logger = logging.getLogger(__name__)


@runtime_checkable
class TextEncoder(Protocol):
    """Anything that embeds texts as rows of a float matrix.

    ``encode`` takes one text (or :obj:`None`) per node and returns an array of
    shape ``(N, dim)``; a missing or empty text must give a zero row. An
    encoder whose vectors may be cached also has ``name`` (str), ``version``
    (str, changing whenever a text's vector may) and ``dim`` (int).
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

    #: Registry name (:func:`graphkit.features.text_encoder`).
    name: str = "hashing"

    def __init__(self, dim: int = 256, *, seed: int = 0) -> None:
        self.dim = check_positive_int(dim, "dim")
        seed_key(seed)
        self.seed = int(seed)

    @property
    def version(self) -> str:
        """The tokenization's version and the options that change a vector."""
        return f"bow1-dim{self.dim}-seed{self.seed}"

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
        device (str, optional): Torch device; :obj:`None` picks CUDA when
            present, else the CPU (:func:`default_device`). (default: :obj:`None`)
        batch_size (int, optional): Texts per forward pass.
            (default: :obj:`64`)
        normalize (bool, optional): L2-normalize the embeddings.
            (default: :obj:`True`)
        name (str, optional): The encoder's name (cache key).
            (default: the model directory's name)
        version_tag (str, optional): Prefixed to :attr:`version`, e.g. the
            version of the package that ships the weights. (default: :obj:`""`)

    Raises:
        GraphkitError: If sentence-transformers is not installed, or the model
            cannot be loaded from local files.
    """

    def __init__(
        self,
        model_name_or_path: str,
        *,
        device: str | None = None,
        batch_size: int = 64,
        normalize: bool = True,
        name: str | None = None,
        version_tag: str = "",
    ) -> None:
        self.model_name_or_path = str(model_name_or_path)
        self.device = default_device() if device is None else device
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.normalize = bool(normalize)
        self.name = name or Path(self.model_name_or_path).name
        tag = f"{version_tag}-" if version_tag else ""
        self.version = f"{tag}{model_fingerprint(self.model_name_or_path)}-norm{int(self.normalize)}"
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
                self.model_name_or_path, device=self.device, local_files_only=True
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
            "loaded sentence-transformers model %r (dim %d) on %s", self.model_name_or_path, self.dim, self.device
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


def default_device() -> str:
    """``"cuda"`` when torch sees a GPU, else ``"cpu"``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


#: Files at most this large are hashed whole; larger ones (the weights) by size, head and tail.
_WHOLE_FILE_BYTES = 4 << 20
_EDGE_BYTES = 1 << 20


def model_fingerprint(model_name_or_path: str | Path) -> str:
    """A short hash that changes whenever a local model may embed a text differently.

    It covers the sentence-transformers release and, for a model directory,
    every file's relative path and size, the bytes of every file up to
    4 MiB (configuration, tokenizer, vocabulary) and the first and last MiB
    of larger ones (the weights). A hub name (a model in the local Hugging
    Face cache) is covered by its name only.

    Args:
        model_name_or_path (str or Path): A model directory or a hub name.

    Returns:
        str: 16 hex digits.

    Examples:
        >>> import tempfile
        >>> directory = Path(tempfile.mkdtemp())
        >>> _ = (directory / "config.json").write_text("{}")
        >>> before = model_fingerprint(directory)
        >>> _ = (directory / "config.json").write_text('{"hidden_size": 8}')
        >>> before == model_fingerprint(directory), len(before)
        (False, 16)
    """
    try:
        runtime = metadata.version("sentence-transformers")
    except metadata.PackageNotFoundError:
        runtime = "absent"
    digest = hashlib.sha256(f"sentence-transformers {runtime}\n".encode())
    path = Path(model_name_or_path)
    if not path.is_dir():
        digest.update(f"hub {model_name_or_path}\n".encode())
        return digest.hexdigest()[:16]
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        size = file.stat().st_size
        digest.update(f"{file.relative_to(path).as_posix()} {size}\n".encode())
        with open(file, "rb") as handle:
            if size <= _WHOLE_FILE_BYTES:
                digest.update(handle.read())
            else:
                digest.update(handle.read(_EDGE_BYTES))
                handle.seek(size - _EDGE_BYTES)
                digest.update(handle.read(_EDGE_BYTES))
    return digest.hexdigest()[:16]
