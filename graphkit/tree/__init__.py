"""A columnar batch of video trees: the framework-neutral core of graphkit.

A :class:`TreeBatch` holds many videos' Tree-of-Captions as flat arrays, one
entry per node (``N`` nodes) or per video (``V`` videos): the nodes of video
``v`` are ``node_offsets[v]:node_offsets[v + 1]``, in source order, and every
index (``parent``, edge endpoints) is a position in that flat order. Nothing
holds a Python object per node: structure lives in numpy arrays, text in Arrow
arrays.

It is built from an Arrow record batch in the published schema
(:data:`graphkit.schema.SOURCE_SCHEMA`, possibly projected to fewer fields) by
:meth:`TreeBatch.from_arrow`, which resolves ``parent_id`` to indices with
Arrow's hash kernels and checks every invariant
(:mod:`graphkit.validation`). Derived structure (leaves, child order, height,
the typed edges of :mod:`graphkit.schema`) is computed on first use with
numpy sorting and indexing.

Examples:
    >>> import pyarrow as pa
    >>> from graphkit.schema import SOURCE_SCHEMA
    >>> nodes = [
    ...     {"node_id": "r", "parent_id": None, "level": 0, "start": 0.0, "end": 4.0},
    ...     {"node_id": "a", "parent_id": "r", "level": 1, "start": 0.0, "end": 1.5},
    ...     {"node_id": "b", "parent_id": "r", "level": 1, "start": 1.5, "end": 4.0},
    ... ]
    >>> rows = pa.Table.from_pylist([{"video_uid": "vid00000001", "nodes": nodes}],
    ...                             schema=SOURCE_SCHEMA)
    >>> trees = TreeBatch.from_arrow(rows)
    >>> trees
    TreeBatch(videos=1, nodes=3, leaves=2, max_level=1)
    >>> trees.parent.tolist(), trees.is_leaf.tolist()
    ([-1, 0, 0], [False, True, True])
    >>> edges = trees.edges("NEXT")
    >>> edges.source.tolist(), edges.target.tolist(), edges.attrs["gap"].tolist()
    ([1], [2], [0.0])
"""

from graphkit.tree.batch import TreeBatch
from graphkit.tree.edges import EdgeIndex

__all__ = ["TreeBatch", "EdgeIndex"]
