"""The ``graphkit neo4j`` commands: a local Neo4j server and the Bolt loader.

``serve`` starts the project's dev server (:class:`loaders.neo4j_server.DevServer`,
a real Neo4j 5.26 built from Maven Central artifacts, for users without
Docker): it prints the line ``bolt://127.0.0.1:PORT`` once the server accepts
connections and runs until interrupted (Ctrl-C), then stops it cleanly.

``load`` streams sources (parquet/JSON files, directories, globs, URLs)
through :func:`loaders.trees.iter_tree_batches` into
:func:`loaders.neo4j_writer.load_trees`, with a progress bar and a one-line
report. Credentials come from ``--uri``/``--user``/``--password`` or from
``NEO4J_URI``/``NEO4J_USERNAME``/``NEO4J_PASSWORD``, and are never printed.

Every error is one line on stderr and exit status 2, never a traceback.
Heavy imports happen inside the commands. The main CLI mounts this sub-app
with ``app.add_typer(neo4j_app, name="neo4j")``.
"""

from __future__ import annotations

import shlex
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from graphkit.errors import GraphkitError

__all__ = ["neo4j_app"]

neo4j_app = typer.Typer(
    name="neo4j",
    help="Run a local Neo4j 5 server and load video trees into Neo4j.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_console = Console(stderr=True, soft_wrap=True)


def _fail(message: str) -> None:
    _console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(2)


@neo4j_app.command()
def serve(
    port: Annotated[int, typer.Option(help="Bolt port to listen on (127.0.0.1).", min=0, max=65535)] = 7687,
    data_dir: Annotated[
        Optional[Path], typer.Option(help="Neo4j home kept between runs (default: a temporary one).")
    ] = None,
    password: Annotated[
        str,
        typer.Option(envvar="NEO4J_PASSWORD", show_default=False, help="Password of user neo4j "
                     "(default: NEO4J_PASSWORD, else 'graphkit-dev')."),
    ] = "graphkit-dev",
    page_cache: Annotated[str, typer.Option(help="Neo4j page cache size.")] = "512m",
    heap: Annotated[str, typer.Option(help="JVM maximum heap.")] = "1g",
) -> None:
    """Start a local Neo4j 5 server; print its Bolt URI once ready; stop on Ctrl-C."""
    from loaders.neo4j_server import DevServer

    try:
        server = DevServer(data_dir, password=password, bolt_port=port, page_cache=page_cache, heap=heap)
        uri = server.start()
    except (GraphkitError, ValueError) as err:
        _fail(str(err))
        return
    print(uri, flush=True)
    try:
        while server.running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    try:
        server.stop()
    except GraphkitError as err:
        _fail(str(err))


@neo4j_app.command()
def load(
    sources: Annotated[list[str], typer.Argument(help="Parquet/JSON/JSONL files, directories, globs or URLs.")],
    uri: Annotated[
        Optional[str], typer.Option(help="Bolt URI (default: NEO4J_URI, else bolt://127.0.0.1:7687).")
    ] = None,
    user: Annotated[Optional[str], typer.Option(help="User (default: NEO4J_USERNAME, else neo4j).")] = None,
    password: Annotated[
        Optional[str], typer.Option(help="Password (default: NEO4J_PASSWORD).", show_default=False)
    ] = None,
    database: Annotated[str, typer.Option(help="Database to load into.")] = "neo4j",
    batch_size: Annotated[int, typer.Option(help="Rows per UNWIND transaction.", min=1)] = 10_000,
    workers: Annotated[int, typer.Option(help="Concurrent writer sessions (disjoint videos).", min=1)] = 2,
    read_batch_size: Annotated[int, typer.Option(help="Videos read per record batch.", min=1)] = 512,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Skip videos that break an invariant and report them.")
    ] = False,
) -> None:
    """Load video trees into Neo4j (idempotent: rerun to resume an interrupted load)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from graphkit.validation import ValidationConfig, ValidationReport
    from loaders.neo4j_writer import LoadReport, connect, load_trees
    from loaders.trees import iter_tree_batches

    validation = ValidationConfig(errors="skip" if skip_invalid else "raise")
    validation_report = ValidationReport()
    columns = (
        SpinnerColumn(),
        TextColumn("{task.fields[videos]:,} videos, {task.fields[entities]:,} nodes+relationships"),
        TextColumn("({task.fields[rate]:,.0f}/s)"),
        TimeElapsedColumn(),
    )
    try:
        with connect(uri, user, password) as driver, Progress(
            *columns, console=_console, transient=True, disable=not _console.is_terminal
        ) as bar:
            task = bar.add_task("load", videos=0, entities=0, rate=0.0)

            def show(report: LoadReport) -> None:
                bar.update(task, videos=report.videos, entities=report.entities, rate=report.entities_per_s)

            batches = iter_tree_batches(
                sources, node_fields=None, metadata=True, batch_size=read_batch_size,
                validation=validation, report=validation_report,
            )
            report = load_trees(driver, batches, database=database, batch_size=batch_size,
                                workers=workers, progress=show)
    except (GraphkitError, FileNotFoundError, PermissionError, IsADirectoryError) as err:
        _fail(str(err))
        return
    print(report.summary())
    if validation_report.skipped:
        _console.print(f"skipped {validation_report.videos_skipped} invalid videos:")
        for violation in validation_report.skipped[:20]:
            _console.print(f"  {violation}", highlight=False, markup=False)


@neo4j_app.command("export-csv")
def export_csv_command(
    sources: Annotated[list[str], typer.Argument(help="Parquet/JSON/JSONL files, directories, globs or URLs.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for the CSV files.")],
    compress: Annotated[bool, typer.Option("--gzip", help="Write .csv.gz files.")] = False,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Skip videos that break an invariant and report them.")
    ] = False,
) -> None:
    """Write node and relationship CSVs for `neo4j-admin database import full`; print its arguments."""
    from graphkit.validation import ValidationConfig, ValidationReport
    from loaders.neo4j_csv import export_csv
    from loaders.trees import iter_tree_batches

    validation_report = ValidationReport()
    try:
        batches = iter_tree_batches(
            sources, node_fields=None, metadata=True,
            validation=ValidationConfig(errors="skip" if skip_invalid else "raise"), report=validation_report,
        )
        export = export_csv(batches, out, compress=compress)
    except (GraphkitError, FileNotFoundError, PermissionError, IsADirectoryError) as err:
        _fail(str(err))
        return
    _console.print(
        f"wrote {export.nodes:,} nodes and {export.relationships:,} relationships to {out} "
        f"in {export.seconds:.2f} s ({export.rows_per_s:,.0f} rows/s)", highlight=False,
    )
    print("neo4j-admin " + shlex.join(export.import_args()))
    if validation_report.skipped:
        _console.print(f"skipped {validation_report.videos_skipped} invalid videos")
