"""Sources and sinks for graphkit: readers, PyG datasets, Neo4j.

The modules are imported by name (``graphkit.loaders.sources``,
``graphkit.loaders.config``, ...); the package itself exports nothing.
"""

from __future__ import annotations

__all__: list[str] = []
