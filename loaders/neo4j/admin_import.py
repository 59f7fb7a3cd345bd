"""Running Neo4j's offline importer on the files of :func:`graphkit.loaders.neo4j.csv.export_csv`.

``neo4j-admin database import full`` builds a database's store files directly
from CSV, without transactions: the fastest way to load the preview or the
full dataset, but only into a database that does not exist yet, and only
while no server uses the Neo4j home. Neo4j's import tool ships as Maven
Central artifacts (``org.neo4j:neo4j-import-tool``, entry class
``org.neo4j.cli.AdminTool``), and the project's dev server
(:mod:`graphkit.loaders.neo4j.build`) already carries them on
its classpath, so :func:`run_import` needs only Java 17 and that jar: no
Neo4j installation.

A Neo4j home is a directory; the importer writes ``data/databases/<database>``
and ``data/transactions/<database>`` under it. Afterwards a server started on
that home (``DevServer(neo4j_home)``, or a Neo4j installation whose
``NEO4J_HOME`` it is) serves the imported graph.

Typical use (not run here: it starts a JVM)::

    from graphkit.loaders.neo4j.csv import export_csv
    from graphkit.loaders.neo4j.admin_import import run_import
    from graphkit.loaders.trees import iter_tree_batches

    export = export_csv(iter_tree_batches("preview/", node_fields=None, metadata=True), "csv/")
    report = run_import(export, "neo4j-home")
    print(report)  # ImportReport(nodes=..., relationships=..., seconds=..., rows_per_s=...)

Examples:
    >>> ImportReport(database="neo4j", nodes=3, relationships=2, properties=9, seconds=0.5,
    ...              importer_seconds=0.25)
    ImportReport(database='neo4j', nodes=3, relationships=2, seconds=0.50, rows_per_s=10)
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from graphkit.errors import Neo4jImportError
from graphkit.loaders.neo4j.build import build_dev_server, dev_server_jar
from graphkit.loaders.neo4j.csv import CsvExport
from graphkit.loaders.neo4j.java import find_java

__all__ = ["ADMIN_TOOL", "IMPORT_OFF_HEAP", "ImportReport", "admin_command", "import_heap", "run_import"]

logger = logging.getLogger(__name__)

ADMIN_TOOL = "org.neo4j.cli.AdminTool"
"""The entry class of ``neo4j-admin`` in ``org.neo4j:neo4j-import-tool``'s classpath."""


IMPORT_OFF_HEAP = "1g"
"""The importer's default ``--max-off-heap-memory`` (its own default is 90% of free memory), so
an import of the whole preview stays within 3 GiB of RAM, heap included."""

_IMPORTED = re.compile(r"^\s*(\d+) (nodes|relationships|properties)\s*$")
_DONE = re.compile(r"IMPORT DONE in (?:(\d+)m )?(?:(\d+)s )?(\d+)ms")
# Lines of the importer's --verbose output that say what went wrong, best first.
_CAUSES = (re.compile(r"original error: (.*)"), re.compile(r"Caused by: [\w.$]+: (.*)"))
_LOG_NAME = "neo4j-admin-import.log"


@dataclass(frozen=True)
class ImportReport:
    """What :func:`run_import` imported, and how fast.

    Args:
        database (str): The database imported into.
        nodes (int): Nodes the importer reports.
        relationships (int): Relationships the importer reports.
        properties (int): Properties the importer reports.
        seconds (float): Wall time of the whole command, JVM start included.
        importer_seconds (float): The time the importer itself reports.
    """

    database: str
    nodes: int
    relationships: int
    properties: int
    seconds: float
    importer_seconds: float

    @property
    def rows(self) -> int:
        """Nodes plus relationships."""
        return self.nodes + self.relationships

    @property
    def rows_per_s(self) -> float:
        """:attr:`rows` per second of wall time (:attr:`seconds`)."""
        return self.rows / self.seconds if self.seconds > 0 else float("inf")

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(database={self.database!r}, nodes={self.nodes}, "
            f"relationships={self.relationships}, seconds={self.seconds:.2f}, "
            f"rows_per_s={self.rows_per_s:.0f})"
        )


def admin_command(
    args: Sequence[str],
    *,
    java: str | None = None,
    heap: str | None = None,
    jvm_options: Sequence[str] = (),
    jar: str | os.PathLike[str] | None = None,
) -> list[str]:
    """The command line that runs ``neo4j-admin ARGS`` from the dev-server jar's classpath.

    Args:
        args (Sequence[str]): Arguments after ``neo4j-admin``.
        java (str, optional): The ``java`` executable; by default
            ``$JAVA_HOME/bin/java`` or ``java`` on ``PATH``. (default: :obj:`None`)
        heap (str, optional): The JVM's maximum heap (``"2g"``); by default
            the JVM's own choice. (default: :obj:`None`)
        jvm_options (Sequence[str], optional): More JVM options. (default: :obj:`()`)
        jar (str or os.PathLike, optional): The jar whose classpath holds the
            import tool; by default :func:`~graphkit.loaders.neo4j.server.dev_server_jar`.
            (default: :obj:`None`)

    Examples:
        >>> admin_command(["database", "import", "full", "--help"], java="java", jar="x.jar")
        ['java', '-cp', 'x.jar', 'org.neo4j.cli.AdminTool', 'database', 'import', 'full', '--help']
    """
    command = [find_java(java)]
    if heap is not None:
        command.append(f"-Xmx{heap}")
    command += [*jvm_options, "-cp", str(jar if jar is not None else dev_server_jar()), ADMIN_TOOL]
    return command + list(args)


def import_heap(nodes: int) -> str:
    """The JVM heap an import of ``nodes`` nodes gets by default: 80 bytes a node plus 256 MiB, at least 1 GiB.

    The importer asks for about 1 GiB of heap whatever the size (it warns
    below 1.001 GiB at 10% of the preview) and its id mapper about 70 bytes
    a node more at most; left to itself the JVM takes a quarter of the machine.

    Examples:
        >>> import_heap(1_000), import_heap(15_301_552)
        ('1024m', '1423m')
    """
    return f"{max(1024, (80 * nodes >> 20) + 256)}m"


def run_import(
    csv_export: CsvExport,
    neo4j_home: str | os.PathLike[str],
    *,
    database: str = "neo4j",
    java: str | None = None,
    heap: str | None = None,
    off_heap: str | None = IMPORT_OFF_HEAP,
    jvm_options: Sequence[str] = (),
    timeout: float | None = None,
) -> ImportReport:
    """Imports an export into a fresh database with the real ``neo4j-admin``.

    The server must not be running on ``neo4j_home``. Builds the dev-server
    jar first if needed (:func:`~graphkit.loaders.neo4j.server.build_dev_server`). The
    importer's full output goes to ``<neo4j_home>/logs/neo4j-admin-import.log``
    and its report of bad entries to ``<neo4j_home>/logs/import.report``.

    Args:
        csv_export (CsvExport): What :func:`~graphkit.loaders.neo4j.csv.export_csv` returned.
        neo4j_home (str or os.PathLike): The Neo4j home (created if missing);
            ``data/databases/<database>`` must not exist in it yet.
        database (str, optional): The database name. (default: :obj:`"neo4j"`)
        java (str, optional): The ``java`` executable (17 or newer).
            (default: :obj:`None`)
        heap (str, optional): The importer's maximum JVM heap, such as ``"2g"``.
            (default: :obj:`None`, :func:`import_heap` of the export's node count)
        off_heap (str, optional): The importer's ``--max-off-heap-memory``, such
            as ``"2g"`` or ``"50%"``; :obj:`None` leaves the importer's default
            (90% of free memory). (default: :data:`IMPORT_OFF_HEAP`)
        jvm_options (Sequence[str], optional): More JVM options. (default: :obj:`()`)
        timeout (float, optional): Seconds before the importer is killed.
            (default: :obj:`None`, no limit)

    Returns:
        ImportReport: Counts the importer reports, seconds and rows/s.

    Raises:
        Neo4jImportError: If the database already exists, Java is missing, the
            importer fails (the message quotes its own error lines) or times
            out, or it imports other counts than the export holds.
        TypeError: If ``csv_export`` is not a :class:`~graphkit.loaders.neo4j.csv.CsvExport`.
    """
    if not isinstance(csv_export, CsvExport):
        raise TypeError(f"csv_export must be a CsvExport from export_csv, got {type(csv_export).__name__}")
    home = Path(neo4j_home).resolve()
    store = home / "data" / "databases" / database
    if store.exists() and any(store.iterdir()):
        raise Neo4jImportError(f"database {database!r} already exists in {home}; import needs a fresh home")
    # --verbose makes a failure print its cause, not just "Error importing csv file."
    args = [*csv_export.import_args(database, report_file=home / "logs" / "import.report"), "--verbose"]
    if off_heap is not None:
        args.insert(-1, f"--max-off-heap-memory={off_heap}")
    (home / "logs").mkdir(parents=True, exist_ok=True)
    heap = import_heap(csv_export.nodes) if heap is None else heap
    command = admin_command(args, java=java, heap=heap, jvm_options=jvm_options, jar=build_dev_server())
    log = home / "logs" / _LOG_NAME
    logger.info("importing %d rows into %s: %s", csv_export.rows, store, " ".join(command))
    started = time.perf_counter()
    try:
        finished = subprocess.run(
            command,
            env={**os.environ, "NEO4J_HOME": str(home)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        output = err.output if isinstance(err.output, str) else (err.output or b"").decode("utf-8", "replace")
        log.write_text(output, encoding="utf-8")
        raise Neo4jImportError(f"neo4j-admin import did not finish within {timeout:g} s", log=log) from err
    except OSError as err:
        raise Neo4jImportError(f"cannot run {command[0]!r}: {err}") from err
    seconds = time.perf_counter() - started
    output = finished.stdout
    log.write_text(output, encoding="utf-8")
    if finished.returncode != 0 or "IMPORT DONE" not in output:
        raise Neo4jImportError(
            f"neo4j-admin import into {store} failed with exit status {finished.returncode}",
            _error_lines(output),
            log,
        )
    report = _parse_report(output, database, seconds)
    if (report.nodes, report.relationships) != (csv_export.nodes, csv_export.relationships):
        raise Neo4jImportError(
            f"neo4j-admin imported {report.nodes} nodes and {report.relationships} relationships, "
            f"but the files hold {csv_export.nodes} and {csv_export.relationships}",
            log=log,
        )
    logger.info("%r", report)
    return report


def _parse_report(output: str, database: str, seconds: float) -> ImportReport:
    counts = {"nodes": 0, "relationships": 0, "properties": 0}
    for line in output.splitlines():
        match = _IMPORTED.match(line)
        if match:
            counts[match.group(2)] = int(match.group(1))
    done = _DONE.search(output)
    importer_seconds = seconds
    if done:
        minutes, secs, millis = (int(g) if g else 0 for g in done.groups())
        importer_seconds = minutes * 60 + secs + millis / 1000
    return ImportReport(database=database, seconds=seconds, importer_seconds=importer_seconds, **counts)


def _error_lines(output: str) -> list[str]:
    """The importer's own explanation of a failure, without the Java stack trace.

    Examples:
        >>> _error_lines("x\\nCaused by: a.B: no file\\n  at c.D\\n")
        ['no file']
        >>> _error_lines("IMPORT FAILED in 3ms.\\nError in input data\\n")
        ['IMPORT FAILED in 3ms.', 'Error in input data']
    """
    lines = output.splitlines()
    for pattern in _CAUSES:
        found = list(dict.fromkeys(m.group(1).strip() for line in lines if (m := pattern.search(line))))
        if found:
            return found
    kept = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("at ")]
    return kept[-3:]

