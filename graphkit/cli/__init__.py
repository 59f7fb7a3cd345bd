"""The ``graphkit`` command line: one app, one console, one error policy.

:mod:`graphkit.cli.app` holds the app, its console, its conventions and how
errors become one line; the commands live by what they touch:
:mod:`graphkit.cli.data` (``synth``, ``stats``, ``convert``, ``show``),
:mod:`graphkit.cli.models` (``train``, ``evaluate``, ``benchmark-models``)
and :mod:`graphkit.cli.neo4j` (the ``neo4j`` group). This package is the one
place where ``graphkit`` is wired to ``graphkit.loaders`` and
``graphkit.models``.
"""

from __future__ import annotations

from graphkit.cli.app import app, main

# Importing the command modules registers their commands on `app`, in this order.
from graphkit.cli import data, models, neo4j, transcript  # noqa: E402, F401  isort: skip

__all__ = ["app", "main"]
