"""The ``graphkit neo4j`` commands: a local Neo4j server and the Bolt loader.

``serve`` starts the project's dev server (:class:`graphkit.loaders.neo4j.server.DevServer`,
a real Neo4j 5.26 built from Maven Central artifacts, for users without
Docker): it prints the line ``bolt://127.0.0.1:PORT`` once the server accepts
connections and runs until interrupted (Ctrl-C), then stops it cleanly.

``load`` streams sources (parquet/JSON files, directories, globs, URLs)
through :func:`graphkit.loaders.trees.iter_tree_batches` into
:func:`graphkit.loaders.neo4j.writer.load_trees`, with a progress bar and a one-line
report. Credentials come from ``--uri``/``--user``/``--password`` or from
``NEO4J_URI``/``NEO4J_USERNAME``/``NEO4J_PASSWORD``, and are never printed
(every line goes through :func:`graphkit.redact.redact`, which also knows the
password once given). The sources and the URI are checked before anything is
connected to or written.

``export-csv`` writes the files of ``neo4j-admin database import``; ``query``
runs a query of the Cypher cookbook by name (and lists them without one).
``search`` finds segments through the full-text index, or with ``--vector``
through the vector index over the action-brief embeddings that ``load
--embed`` / ``export-csv --embed`` store (:mod:`graphkit.loaders.neo4j.search`).
``write-predictions`` writes a trained run's predictions onto the segments
(:mod:`graphkit.loaders.neo4j.predictions`).

A ``load`` stopped by Ctrl-C or SIGTERM ends within about a second with one
line saying how many videos were committed (exit status 130); a server that
goes away mid-load is one ``error:`` line with the cause and the videos
committed (exit status 2), without the driver's retry warnings. Either way,
running the same command again finishes the load.

Heavy imports happen inside the commands.
"""

from __future__ import annotations

import shlex
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from graphkit.cli.app import (
    TYPER_SETTINGS,
    SkipInvalid,
    Sources,
    app,
    check_out_dir,
    check_sources,
    console,
    emit,
    emit_json,
    fail,
    report_skips,
    run,
    use_arrow_pool,
    validation_config,
)
from graphkit.cli.transcript import quiet_transcript_log, report_transcript

__all__ = ["neo4j_app"]

neo4j_app = typer.Typer(
    name="neo4j", help="Run a local Neo4j 5 server, load video trees into Neo4j, query them.", **TYPER_SETTINGS
)
app.add_typer(neo4j_app, name="neo4j")

Uri = Annotated[Optional[str], typer.Option(help="Bolt URI (default: NEO4J_URI, else bolt://127.0.0.1:7687).")]
User = Annotated[Optional[str], typer.Option(help="User (default: NEO4J_USERNAME, else neo4j).")]
Password = Annotated[Optional[str], typer.Option(help="Password (default: NEO4J_PASSWORD).", show_default=False)]
Embed = Annotated[Optional[str], typer.Option(
    help="Also store each segment's action-brief embedding by this encoder (hashing, minilm) and a vector "
         "index over them, for `neo4j search --vector`.", show_default=False)]


def _check_encoder_name(name: Optional[str], option: str = "--embed") -> None:
    from graphkit.features import TEXT_ENCODERS

    if name is not None and name not in TEXT_ENCODERS:
        fail(f"{option}: unknown encoder {name!r}; expected one of {', '.join(TEXT_ENCODERS)}")


WithTranscript = Annotated[bool, typer.Option(
    "--transcript", help="Also write each video's ASR lines as Transcript nodes (IN_VIDEO, DURING the leaves "
    "they fall in); lines outside every leaf or with a bad time are reported.")]


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
    page_cache: Annotated[Optional[str], typer.Option(
        help="Neo4j page cache size, such as 2g (default: an eighth of the memory, 256m to 16g).")] = None,
    heap: Annotated[Optional[str], typer.Option(
        help="JVM maximum heap, such as 2g (default: an eighth of the memory, 512m to 8g).")] = None,
) -> None:
    """Start a local Neo4j 5 server; print its Bolt URI once ready; stop on Ctrl-C."""
    from graphkit.loaders.neo4j.server import DevServer
    from graphkit.redact import register_secret

    register_secret(password)
    if data_dir is not None:
        run(lambda: check_out_dir(data_dir, "--data-dir"))
    server = run(lambda: DevServer(data_dir, password=password, bolt_port=port, page_cache=page_cache, heap=heap))
    # An interrupt may land at any point, even between the start and the wait:
    # the server and its temporary home go either way.
    try:
        print(run(server.start), flush=True)
        while server.running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        run(server.stop)


@neo4j_app.command()
def load(
    sources: Sources,
    uri: Uri = None,
    user: User = None,
    password: Password = None,
    database: Annotated[str, typer.Option(help="Database to load into.")] = "neo4j",
    batch_size: Annotated[int, typer.Option(help="Rows per UNWIND transaction.", min=1)] = 10_000,
    workers: Annotated[int, typer.Option(help="Concurrent writer sessions (disjoint videos).", min=1)] = 2,
    method: Annotated[str, typer.Option(
        help="create: CREATE whole videos, replacing those already loaded (fast); merge: MERGE them, removing "
             "what the source no longer has (nodes that stay keep their Neo4j identity). Either way a reload "
             "leaves exactly the new source, one transaction per chunk of whole videos.")] = "create",
    read_batch_size: Annotated[int, typer.Option(help="Videos read per record batch.", min=1)] = 512,
    skip_invalid: SkipInvalid = False,
    embed: Embed = None,
    transcript: WithTranscript = False,
) -> None:
    """Load video trees into Neo4j (idempotent: rerun to resume an interrupted load)."""
    import logging

    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from graphkit.errors import LoadInterrupted
    from graphkit.loaders.neo4j.connection import connect
    from graphkit.loaders.neo4j.writer import LoadReport, load_trees
    from graphkit.loaders.trees import iter_tree_batches
    from graphkit.validation import ValidationReport

    # The driver logs each retry of a lost server as a warning; the outcome is our one line.
    logging.getLogger("neo4j").setLevel(logging.CRITICAL)
    _check_encoder_name(embed)
    validation_report = ValidationReport()
    columns = (
        SpinnerColumn(),
        TextColumn("{task.fields[videos]:,} videos, {task.fields[entities]:,} nodes+relationships"),
        TextColumn("({task.fields[rate]:,.0f}/s)"),
        TimeElapsedColumn(),
    )

    def body() -> LoadReport:
        check_sources(sources)
        with connect(uri, user, password) as driver, Progress(
            *columns, console=console, transient=True, disable=not console.is_terminal
        ) as bar:
            task = bar.add_task("load", videos=0, entities=0, rate=0.0)

            def show(report: LoadReport) -> None:
                bar.update(task, videos=report.videos, entities=report.entities, rate=report.entities_per_s)

            batches = iter_tree_batches(
                sources, node_fields=None, metadata=True, batch_size=read_batch_size,
                validation=validation_config(skip_invalid), report=validation_report,
            )
            try:
                return load_trees(driver, batches, database=database, batch_size=batch_size,
                                  workers=workers, method=method, progress=show, embed=embed,
                                  transcript=transcript)
            except LoadInterrupted as stopped:  # Ctrl-C or SIGTERM: what is committed, and how to finish
                console.print(str(stopped), highlight=False, markup=False)
                raise typer.Exit(130) from None

    if transcript:
        quiet_transcript_log()
    report = run(body)
    emit(report.summary())
    report_skips(validation_report)
    if report.transcript is not None:
        report_transcript(report.transcript)


@neo4j_app.command("export-csv")
def export_csv_command(
    sources: Sources,
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for the CSV files.")],
    compress: Annotated[bool, typer.Option("--gzip", help="Write .csv.gz files (about 4x smaller).")] = False,
    shards: Annotated[Optional[int], typer.Option(
        help="Files per type, written in parallel (default: one per core, at most 8, with --gzip; else 1).",
        min=1)] = None,
    compression_level: Annotated[int, typer.Option(help="gzip level, 1 (fastest) to 9.", min=1, max=9)] = 1,
    import_into: Annotated[Optional[Path], typer.Option(
        help="Then import them with the real neo4j-admin into a fresh database in this Neo4j home "
             "(what `neo4j serve --data-dir` serves), and create its constraints and search indexes.")] = None,
    wait_for_indexes: Annotated[bool, typer.Option(
        help="With --import-into: wait until every index is populated (by default they populate in the "
             "background the next time a server runs on the home).")] = False,
    skip_invalid: SkipInvalid = False,
    embed: Embed = None,
    transcript: WithTranscript = False,
) -> None:
    """Write node and relationship CSVs for `neo4j-admin database import full`; print its arguments.

    With --gzip the files are written as several gzip shards per type at once (one per core).
    """
    use_arrow_pool("jemalloc")
    from graphkit.loaders.neo4j.csv import export_csv
    from graphkit.loaders.trees import iter_tree_batches
    from graphkit.validation import ValidationReport

    validation_report = ValidationReport()
    _check_encoder_name(embed)
    run(lambda: check_out_dir(out))
    if import_into is not None:
        run(lambda: check_out_dir(import_into, "--import-into"))
    if wait_for_indexes and import_into is None:
        fail("--wait-for-indexes needs --import-into (there is nothing to wait for without an import)")
    if import_into is not None and (import_into / "data" / "databases" / "neo4j").exists():
        fail(f"database 'neo4j' already exists in {import_into}; import needs a fresh home")

    def body():
        check_sources(sources)
        batches = iter_tree_batches(sources, node_fields=None, metadata=True,
                                    validation=validation_config(skip_invalid), report=validation_report)
        return export_csv(batches, out, compress=compress, shards=shards, compression_level=compression_level,
                          embed=embed, transcript=transcript)

    if transcript:
        quiet_transcript_log()
    export = run(body)
    console.print(
        f"wrote {export.nodes:,} nodes and {export.relationships:,} relationships to {out} "
        f"in {export.seconds:.2f} s ({export.rows_per_s:,.0f} rows/s)", highlight=False,
    )
    emit("neo4j-admin " + shlex.join(export.import_args()))
    report_skips(validation_report)
    if export.transcript is not None:
        report_transcript(export.transcript)
    if import_into is not None:
        from graphkit.loaders.neo4j.admin_import import run_import

        imported = run(lambda: run_import(export, import_into))
        console.print(f"imported {imported.nodes:,} nodes and {imported.relationships:,} relationships into "
                      f"{import_into} in {imported.seconds:.1f} s", highlight=False)
        from graphkit.loaders.neo4j.import_schema import create_imported_schema

        with console.status("creating constraints and search indexes"
                            + (" and waiting for them" if wait_for_indexes else "")):
            run(lambda: create_imported_schema(export, import_into, wait_for_indexes=wait_for_indexes))
        if wait_for_indexes:
            console.print("created the constraints and search indexes; every index is online", highlight=False)
        else:
            console.print("created the constraints and search indexes; the indexes are populated in the "
                          "background while a server runs on the home (SHOW INDEXES shows their "
                          "progress; until then a search on one says how far it is)", highlight=False)


@neo4j_app.command()
def query(
    name: Annotated[Optional[str], typer.Argument(help="A cookbook query (omit to list them).")] = None,
    param: Annotated[Optional[list[str]], typer.Option(
        "--param", "-p", help="KEY=VALUE, converted by the query's declared type (repeatable).")] = None,
    uri: Uri = None,
    user: User = None,
    password: Password = None,
    database: Annotated[str, typer.Option(help="Database to query.")] = "neo4j",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object: {query, parameters, rows}.")] = False,
) -> None:
    """Run a query of the Cypher cookbook by NAME (every value a parameter); list them without one."""
    from graphkit.loaders.neo4j.connection import connect
    from graphkit.loaders.neo4j.cookbook import describe_query, list_queries, parse_parameters, run_query

    if name is None:
        for query_name in list_queries():
            described = describe_query(query_name)
            emit(f"{query_name}: {described.title}")
            for key, meaning in described.parameters.items():
                emit(f"    --param {key}=...  {meaning}")
        return

    import logging

    # A cookbook query on a graph without some property (no predictions written yet) draws the server's
    # "property key does not exist" notification, which the driver logs as a multi-line warning; the
    # answer (no rows) says it.
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)

    def body() -> tuple[dict, list[dict]]:
        parameters = parse_parameters(name, param or ())
        with connect(uri, user, password) as driver:
            return parameters, run_query(driver, name, parameters, database=database)

    parameters, rows = run(body)
    if as_json:
        emit_json({"query": name, "parameters": parameters, "rows": rows}, default=str)
        return
    if not rows:
        console.print("no rows")
        return
    columns = list(rows[0])
    emit("\t".join(columns))
    for row in rows:
        emit("\t".join(str(row[column]) for column in columns))


@neo4j_app.command()
def search(
    text: Annotated[str, typer.Argument(metavar="TEXT", help="What to look for: a phrase, or words.")],
    vector: Annotated[bool, typer.Option(
        "--vector", help="Vector search over the action briefs' embeddings (needs a load with --embed).")] = False,
    k: Annotated[int, typer.Option("--k", help="How many segments at most.", min=1, max=10_000)] = 10,
    embed_model: Annotated[Optional[str], typer.Option(
        help="The encoder of --vector (default: the one the graph was loaded with; another is refused).",
        show_default=False)] = None,
    uri: Uri = None,
    user: User = None,
    password: Password = None,
    database: Annotated[str, typer.Option(help="Database to search.")] = "neo4j",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object: {text, mode, k, hits}.")] = False,
) -> None:
    """Find segments by their captions and actions (full text), or by meaning (--vector).

    Prints each hit: score, video, node, time span, level and the action briefs up to its root.
    """
    from graphkit.loaders.neo4j.connection import connect
    from graphkit.loaders.neo4j.search import search_segments

    if embed_model is not None and not vector:
        fail("--embed-model needs --vector")
    _check_encoder_name(embed_model, "--embed-model")

    def body():
        with connect(uri, user, password) as driver:
            return search_segments(driver, text, vector=vector, k=k, embedder=embed_model, database=database)

    hits = run(body)
    if as_json:
        emit_json({"text": text, "mode": "vector" if vector else "fulltext", "k": k,
                   "hits": [hit.to_dict() for hit in hits]})
        return
    if not hits:
        console.print("no matching segments", highlight=False)
        return
    for hit in hits:
        emit(hit.summary())


# --- write-predictions (issue 12): a trained run's predictions onto the graph ---


@neo4j_app.command("write-predictions")
def write_predictions_command(
    run_dir: Annotated[Path, typer.Argument(help="A training run: what `graphkit train --out RUN_DIR` wrote.")],
    source: Annotated[Optional[list[str]], typer.Option(
        "--source", help="Predict these sources' videos instead of the run's own (repeatable).")] = None,
    uri: Uri = None,
    user: User = None,
    password: Password = None,
    database: Annotated[str, typer.Option(help="Database to write into.")] = "neo4j",
    batch_size: Annotated[int, typer.Option(help="Segments per UNWIND transaction.", min=1)] = 10_000,
    read_batch_size: Annotated[Optional[int], typer.Option(
        help="Videos per prediction batch (default: the run's training batch size).", min=1)] = None,
    device: Annotated[str, typer.Option(help="auto (CUDA when present), cpu or cuda.")] = "auto",
) -> None:
    """Predict every segment of a run's videos; write predicted_<label>, confidence, run and split onto them.

    Idempotent: running it again leaves the same graph. Videos of the run that the graph lacks are reported.
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from graphkit.loaders.neo4j.connection import connect
    from graphkit.loaders.neo4j.predictions import PredictionReport, write_predictions
    from graphkit.models.predictions import SegmentPredictor

    def body() -> PredictionReport:
        predictor = SegmentPredictor(run_dir, device)
        sources = predictor.sources(source or None)
        check_sources(sources)
        with connect(uri, user, password) as driver, Progress(
            SpinnerColumn(), TextColumn("{task.fields[segments]:,} segments"), TimeElapsedColumn(),
            console=console, transient=True, disable=not console.is_terminal,
        ) as bar:
            task = bar.add_task("predict", segments=0)
            return write_predictions(
                driver, predictor.iter_batches(sources, batch_size=read_batch_size), label=predictor.label,
                run=predictor.run_id, database=database, batch_size=batch_size,
                progress=lambda report: bar.update(task, segments=report.segments),
            )

    emit(run(body).summary())
