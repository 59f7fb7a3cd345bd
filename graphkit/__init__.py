"""graphkit: typed graphs from the Action100M Tree-of-Captions."""

from __future__ import annotations

from graphkit.errors import GraphkitError, InvariantError, SchemaError, SourceError

__version__ = "0.1.0"

__all__ = ["GraphkitError", "InvariantError", "SchemaError", "SourceError", "__version__"]
