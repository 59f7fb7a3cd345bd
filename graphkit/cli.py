"""The ``graphkit`` command line.

Commands: ``synth`` (write synthetic Action100M parquet), ``stats`` (counts,
coverage and labels; ``--json`` prints the stable contract of
:mod:`graphkit.stats`), ``convert`` (a source to a cached PyG dataset
directory), ``show`` (a video's tree as text and its timeline as a PNG),
``train``/``evaluate``/``benchmark-models`` (:mod:`graphkit.cli_models`) and
the ``neo4j`` group (:mod:`graphkit.cli_neo4j`).

This is the one module that wires ``graphkit`` to ``loaders``. Heavy imports
(torch, PyG, matplotlib) happen inside the commands, so ``graphkit --help``
stays fast. Every graphkit error becomes one clear line on stderr and a
non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
import warnings
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from graphkit.errors import GraphkitError

__all__ = ["app", "main"]

app = typer.Typer(
    name="graphkit",
    help="Typed graphs from the Action100M Tree-of-Captions: stats, PyG datasets, Neo4j.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True, soft_wrap=True)

Sources = Annotated[list[str], typer.Argument(help="Parquet/JSON/JSONL files, directories, globs or URLs.")]
SkipInvalid = Annotated[
    bool, typer.Option("--skip-invalid", help="Skip videos that break an invariant and report them.")
]
NonStrict = Annotated[
    bool, typer.Option("--non-strict", help="Accept n-ary trees whose children need not tile their parent.")
]
BatchSize = Annotated[int, typer.Option(help="Videos per record batch.", min=1)]


def _fail(message: str, code: int = 2) -> None:
    console.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


def _validation(skip_invalid: bool, non_strict: bool):
    from graphkit.validation import ValidationConfig

    return ValidationConfig(strict=not non_strict, errors="skip" if skip_invalid else "raise")


def _report_skips(report) -> None:
    if report.skipped:
        console.print(f"skipped {report.videos_skipped} invalid videos:")
        for violation in report.skipped[:20]:
            console.print(f"  {violation}", highlight=False, markup=False)
        if report.videos_skipped > 20:
            console.print(f"  ... and {report.videos_skipped - 20} more")


@app.command()
def synth(
    out: Annotated[Path, typer.Argument(help="Parquet file to write.")],
    videos: Annotated[int, typer.Option(help="Number of videos.", min=1)] = 100,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    mean_duration: Annotated[Optional[float], typer.Option(
        help="Mean video length in seconds (default: the real sample's; 90 gives preview-like ~126 segments).",
    )] = None,
) -> None:
    """Write synthetic Action100M data (the real parquet schema) to OUT."""
    from graphkit.synth import SynthConfig, write_parquet

    try:
        config = SynthConfig() if mean_duration is None else SynthConfig(mean_video_duration=mean_duration)
    except ValueError as err:
        _fail(str(err))
    write_parquet(out, videos, seed=seed, config=config)
    console.print(f"wrote {videos} synthetic videos to {out}")


@app.command()
def stats(
    sources: Sources,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object (the stats contract).")] = False,
    skip_invalid: SkipInvalid = False,
    non_strict: NonStrict = False,
    batch_size: BatchSize = 256,
) -> None:
    """Per-level counts, depth, edges, annotation coverage and label distribution."""
    from graphkit.schema import STRUCTURE_FIELDS
    from graphkit.stats import StatsAccumulator
    from graphkit.validation import ValidationReport
    from loaders.trees import iter_tree_batches

    fields = (*STRUCTURE_FIELDS, "plm_action", "plm_caption", "llama3_caption", "gpt")
    accumulator, report = StatsAccumulator(), ValidationReport()
    for trees in iter_tree_batches(sources, node_fields=fields, batch_size=batch_size,
                                   validation=_validation(skip_invalid, non_strict), report=report):
        accumulator.add(trees)
    if as_json:
        print(json.dumps(accumulator.to_json()))
    else:
        print(accumulator.report())
    _report_skips(report)


@app.command()
def convert(
    sources: Sources,
    out: Annotated[Path, typer.Option("--out", "-o", help="Dataset directory to write.")],
    label: Annotated[str, typer.Option(help="Label kind: verb, brief or actor.")] = "verb",
    top_k: Annotated[int, typer.Option(help="Label classes kept; the rest become <other>.")] = 50,
    on_disk: Annotated[bool, typer.Option("--on-disk", help="OnDiskDataset (for preview scale).")] = False,
    skip_invalid: SkipInvalid = False,
    non_strict: NonStrict = False,
    batch_size: BatchSize = 256,
) -> None:
    """Convert sources into a PyG dataset directory (features, labels, splits)."""
    from graphkit.tasks import NodeTask
    from loaders.pyg_dataset import build_dataset

    dataset = build_dataset(
        sources, out, task=NodeTask(label=label, top_k=top_k), on_disk=on_disk,
        validation=_validation(skip_invalid, non_strict), batch_size=batch_size,
    )
    console.print(f"wrote {len(dataset)} video graphs to {out}")


@app.command()
def show(
    sources: Sources,
    video: Annotated[Optional[str], typer.Option(help="video_uid to show (default: the first).")] = None,
    png: Annotated[Optional[Path], typer.Option(help="Also draw the timeline to this PNG.")] = None,
    max_level: Annotated[Optional[int], typer.Option(help="Deepest level printed.")] = None,
    non_strict: NonStrict = False,
) -> None:
    """Print a video's tree and draw its timeline."""
    from graphkit.schema import STRUCTURE_FIELDS
    from graphkit.show import format_tree, plot_timeline
    from loaders.trees import iter_tree_batches

    fields = (*STRUCTURE_FIELDS, "plm_action", "gpt")
    for trees in iter_tree_batches(sources, node_fields=fields, validation=_validation(False, non_strict)):
        uids = trees.video_uid.to_pylist()
        if video is None or video in uids:
            position = 0 if video is None else uids.index(video)
            print(format_tree(trees, position, max_level=max_level))
            if png is not None:
                plot_timeline(trees, position, png)
                console.print(f"timeline written to {png}")
            return
    _fail(f"no video {video!r} in {', '.join(sources)}")


# Mounted last so `graphkit --help` lists the data commands first.
from graphkit.cli_models import models_app  # noqa: E402  (commands import lazily)
from graphkit.cli_neo4j import neo4j_app  # noqa: E402

# train, evaluate and benchmark-models are top-level commands: `graphkit train ...`.
app.registered_commands += models_app.registered_commands
app.add_typer(neo4j_app, name="neo4j")


def main() -> None:
    """Entry point of the ``graphkit`` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)
    try:
        app()
    except GraphkitError as err:
        console.print(f"[bold red]error:[/] {err}", highlight=False)
        sys.exit(2)
    except (FileNotFoundError, PermissionError, IsADirectoryError) as err:
        console.print(f"[bold red]error:[/] {err}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
