"""Text encoders: anything that embeds one text per node as a row of a float matrix.

:class:`TextEncoder` is the protocol; :class:`HashingEncoder` is the
model-free default (:func:`~graphkit.features.hashed_bag_of_words`) and
:class:`SentenceTransformerEncoder` wraps a locally installed
sentence-transformers model.

Examples:
    >>> isinstance(HashingEncoder(dim=8), TextEncoder)
    True
"""

from __future__ import annotations

import logging
from typing import Protocol, runtime_checkable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphkit.arrays import as_string_array, check_positive_int, seed_key
from graphkit.errors import GraphkitError
from graphkit.features.bag_of_words import hashed_bag_of_words
from graphkit.typing import StringArrayLike

__all__ = ["TextEncoder", "HashingEncoder", "SentenceTransformerEncoder"]

logger = logging.getLogger(__name__)


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
        self.dim = check_positive_int(dim, "dim")
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
        self.batch_size = check_positive_int(batch_size, "batch_size")
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
