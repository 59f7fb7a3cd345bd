"""graphkit's per-user cache directory, shared by the caches that outlive a run.

The Neo4j dev server's jar (:mod:`graphkit.loaders.neo4j.build`) and the text
embeddings (:mod:`graphkit.loaders.embedding_cache`) live under it.

Examples:
    >>> cache_dir().name == "graphkit" or "GRAPHKIT_CACHE_DIR" in os.environ
    True
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir"]


def cache_dir() -> Path:
    """graphkit's per-user cache directory (it may not exist yet).

    Returns:
        pathlib.Path: ``$GRAPHKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/graphkit``,
        else ``~/.cache/graphkit``.
    """
    explicit = os.environ.get("GRAPHKIT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "graphkit"
