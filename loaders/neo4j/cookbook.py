"""The Cypher cookbook: ready-made research queries over the Action100M graph.

The package's ``queries/`` directory holds one query per ``.cypher``
file (a video's path from root to leaf, the step sequence at a level, the
actions that follow an action, annotation coverage per level, ...). Each file
starts with a comment header: a one-line title, what the query answers, and
its parameters, one per line as ``//   $name  (type)  meaning``. Every value
travels as a ``$parameter``; labels, relationship types and property names are
those of :mod:`graphkit.schema`.

This module finds and reads them, so the tests and users run exactly the
files that are documented::

    import neo4j
    from graphkit.loaders.neo4j.cookbook import load_query

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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphkit.errors import GraphkitError

if TYPE_CHECKING:
    import neo4j

__all__ = [
    "CookbookQuery",
    "cookbook_dir",
    "describe_query",
    "list_queries",
    "load_query",
    "parse_parameters",
    "run_query",
]

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
    """The directory of the cookbook's ``.cypher`` files, shipped in the package.

    Raises:
        GraphkitError: If the installation lacks it (a broken install).

    Examples:
        >>> cookbook_dir().name
        'queries'
    """
    directory = Path(__file__).resolve().parent / "queries"
    if not directory.is_dir():
        raise GraphkitError(f"{directory} not found: this graphkit installation is incomplete")
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


_CONVERTERS = {"string": str, "integer": int, "float": float}


def parse_parameters(name: str, assignments: Iterable[str]) -> dict[str, Any]:
    """A cookbook query's parameters from ``KEY=VALUE`` strings, typed as its header declares.

    ``(integer)`` and ``(float)`` values are converted; a parameter declared
    ``(... or null)`` that is not given is :obj:`None`.

    Args:
        name (str): A name from :func:`list_queries`.
        assignments (Iterable[str]): ``KEY=VALUE`` strings, e.g. from ``--param``.

    Returns:
        dict[str, Any]: Every parameter of the query, ready to send.

    Raises:
        ValueError: If an assignment is malformed, names no parameter of the
            query, cannot be converted, or a required parameter is missing.

    Examples:
        >>> parse_parameters("step_sequence", ["video_uid=M0rjA-DMkvU", "level=3"])
        {'video_uid': 'M0rjA-DMkvU', 'level': 3}
        >>> parse_parameters("level_histogram", [])
        {'video_uid': None}
        >>> parse_parameters("step_sequence", ["level=three"])
        Traceback (most recent call last):
        ...
        ValueError: step_sequence: --param level='three' is not an integer
    """
    query = describe_query(name)
    declared = {key: meaning.split(")", 1)[0].lstrip("(") for key, meaning in query.parameters.items()}
    values: dict[str, Any] = {}
    for assignment in assignments:
        key, equals, text = assignment.partition("=")
        if not equals or not key:
            raise ValueError(f"{query.name}: --param {assignment!r} is not KEY=VALUE")
        if key not in declared:
            raise ValueError(f"{query.name} has no parameter {key!r}; it takes {', '.join(declared) or 'none'}")
        kind = declared[key].split(" or ", 1)[0]
        try:
            values[key] = _CONVERTERS.get(kind, str)(text)
        except ValueError:
            article = "an" if kind[0] in "aeiou" else "a"
            raise ValueError(f"{query.name}: --param {key}={text!r} is not {article} {kind}") from None
    for key, kind in declared.items():
        if key not in values:
            if not kind.endswith("or null"):
                raise ValueError(f"{query.name} needs --param {key}=... {query.parameters[key]}")
            values[key] = None
    return {key: values[key] for key in declared}


def run_query(
    driver: neo4j.Driver, name: str, parameters: Mapping[str, Any], *, database: str = "neo4j"
) -> list[dict[str, Any]]:
    """Runs a cookbook query; every value travels as a parameter.

    Args:
        driver (neo4j.Driver): The driver; it is not closed.
        name (str): A name from :func:`list_queries`.
        parameters (Mapping[str, Any]): The query's parameters
            (:func:`parse_parameters` gives them from strings).
        database (str, optional): The database. (default: :obj:`"neo4j"`)

    Returns:
        list[dict[str, Any]]: The rows, one dict per record.

    Raises:
        Neo4jLoadError: If the server cannot be reached or refuses the query.
    """
    from graphkit.loaders.neo4j.connection import neo4j_errors

    text = load_query(name)
    with neo4j_errors(database):
        driver.verify_connectivity()  # fail at once, not after the driver's retries
        records, _, _ = driver.execute_query(text, dict(parameters), database_=database)
    return [record.data() for record in records]
