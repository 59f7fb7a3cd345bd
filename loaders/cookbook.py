"""The Cypher cookbook: ready-made research queries over the Action100M graph.

``examples/cypher/`` in the source checkout holds one query per ``.cypher``
file (a video's path from root to leaf, the step sequence at a level, the
actions that follow an action, annotation coverage per level, ...). Each file
starts with a comment header: a one-line title, what the query answers, and
its parameters, one per line as ``//   $name  (type)  meaning``. Every value
travels as a ``$parameter``; labels, relationship types and property names are
those of :mod:`graphkit.schema`.

This module finds and reads them, so the tests and users run exactly the
files that are documented::

    import neo4j
    from loaders.cookbook import load_query

    with neo4j.GraphDatabase.driver(uri, auth=auth) as driver:
        records, _, _ = driver.execute_query(
            load_query("step_sequence"), {"video_uid": "M0rjA-DMkvU", "level": 3}, database_="neo4j")

Examples:
    >>> "path_to_segment" in list_queries()
    True
    >>> query = describe_query("step_sequence")
    >>> query.title
    'The step sequence of a video at one level of its tree, in time order.'
    >>> sorted(query.parameters)
    ['level', 'video_uid']
    >>> load_query("step_sequence").splitlines()[0]
    '// The step sequence of a video at one level of its tree, in time order.'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from graphkit.errors import GraphkitError

__all__ = ["CookbookQuery", "cookbook_dir", "describe_query", "list_queries", "load_query"]

_PARAMETER = re.compile(r"^//\s+\$(\w+)\s+\(([^)]*)\)\s+(.*)$")


@dataclass(frozen=True)
class CookbookQuery:
    """One documented query of the cookbook.

    Args:
        name (str): The file name without ``.cypher``.
        title (str): The header's first line.
        description (str): The rest of the header's prose.
        parameters (dict[str, str]): Parameter name -> ``"(type) meaning"``.
        text (str): The whole file, comments included (Neo4j ignores them).
    """

    name: str
    title: str
    description: str
    parameters: dict[str, str] = field(default_factory=dict)
    text: str = field(default="", repr=False)


def cookbook_dir() -> Path:
    """The ``examples/cypher`` directory of this graphkit checkout.

    Raises:
        GraphkitError: If graphkit does not run from a source checkout.

    Examples:
        >>> cookbook_dir().name
        'cypher'
    """
    directory = Path(__file__).resolve().parent.parent / "examples" / "cypher"
    if not directory.is_dir():
        raise GraphkitError(f"{directory} not found: the Cypher cookbook ships with the graphkit source checkout")
    return directory


def list_queries() -> list[str]:
    """The names of the cookbook's queries, sorted.

    Examples:
        >>> len(list_queries()) >= 10
        True
    """
    return sorted(path.stem for path in cookbook_dir().glob("*.cypher"))


def load_query(name: str) -> str:
    """The Cypher text of a cookbook query.

    Args:
        name (str): A name from :func:`list_queries` (``".cypher"`` may be added).

    Returns:
        str: The file's text, header comments included.

    Raises:
        ValueError: If there is no such query (the message lists them).
    """
    return describe_query(name).text


def describe_query(name: str) -> CookbookQuery:
    """A cookbook query with its documented title, description and parameters.

    Args:
        name (str): A name from :func:`list_queries`.

    Raises:
        ValueError: If there is no such query (the message lists them).
    """
    stem = name.removesuffix(".cypher") if isinstance(name, str) else name
    names = list_queries()
    if stem not in names:
        raise ValueError(f"unknown cookbook query {name!r}; expected one of {', '.join(names)}")
    text = (cookbook_dir() / f"{stem}.cypher").read_text(encoding="utf-8")
    header = []
    for line in text.splitlines():
        if not line.startswith("//"):
            break
        header.append(line)
    parameters: dict[str, str] = {}
    prose: list[str] = []
    for line in header:
        match = _PARAMETER.match(line)
        if match:
            parameters[match.group(1)] = f"({match.group(2)}) {match.group(3).strip()}"
        elif line.strip() != "// Parameters:":
            prose.append(line.removeprefix("//").strip())
    title = prose[0] if prose else stem
    description = " ".join(part for part in prose[1:] if part)
    return CookbookQuery(stem, title, description, parameters, text)
