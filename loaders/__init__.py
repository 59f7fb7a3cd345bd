"""graphkit.loaders: everything that touches files, servers or caches.

Readers stream Action100M sources as bounded Arrow record batches
(:mod:`~graphkit.loaders.sources` expands files, directories, globs and URLs;
:mod:`~graphkit.loaders.parquet`, :mod:`~graphkit.loaders.json` and
:mod:`~graphkit.loaders.hf` read them; :mod:`~graphkit.loaders.conform` checks
their types) and :mod:`~graphkit.loaders.trees` turns them into validated
:class:`~graphkit.tree.TreeBatch` es. Sinks write them out:
:mod:`~graphkit.loaders.pyg_dataset` (PyG datasets on disk),
:mod:`~graphkit.loaders.synth` (synthetic parquet) and
:mod:`graphkit.loaders.neo4j` (Bolt, CSV bulk import, the dev server, the
Cypher cookbook).

Import what you use from its module; this package re-exports nothing, so
``import graphkit.loaders`` stays cheap.
"""

from __future__ import annotations

__all__: list[str] = []
