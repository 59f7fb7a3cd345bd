"""Finding the Java 17+ runtime that the Neo4j dev server and ``neo4j-admin`` run on.

One lookup for every JVM graphkit starts: an explicit executable wins, then
``$JAVA_HOME/bin/java``, then ``java`` on ``PATH``.

Examples:
    >>> find_java("/opt/jdk/bin/java")
    '/opt/jdk/bin/java'
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from graphkit.errors import JavaNotFoundError

__all__ = ["find_java"]


def find_java(java: str | None = None) -> str:
    """The ``java`` executable to run.

    Args:
        java (str, optional): An explicit executable, returned as it is.
            (default: :obj:`None`)

    Returns:
        str: ``java``, else ``$JAVA_HOME/bin/java`` (or ``java.exe``) when it
        exists, else ``java`` found on ``PATH``.

    Raises:
        JavaNotFoundError: If none of them is there.
    """
    if java is not None:
        return java
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        for path in (candidate, candidate.with_suffix(".exe")):
            if path.is_file():
                return str(path)
    found = shutil.which("java")
    if found is None:
        raise JavaNotFoundError("Java is not on PATH (nor in JAVA_HOME); Neo4j needs Java 17 or newer")
    return found
