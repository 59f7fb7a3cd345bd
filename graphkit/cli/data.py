"""The data commands: ``synth``, ``stats``, ``convert`` and ``show``.

``synth`` writes synthetic Action100M parquet; ``stats`` prints counts,
coverage and labels (``--json``: the stable contract of :mod:`graphkit.stats`);
``convert`` builds a cached PyG dataset directory; ``show`` prints a video's
tree and draws its timeline.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from graphkit.cli.app import (
    BatchSize,
    NonStrict,
    SkipInvalid,
    Sources,
    app,
    console,
    fail,
    report_skips,
    run,
    validation_config,
)

__all__ = ["convert", "show", "stats", "synth"]


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", "-o", help="Parquet file to write.")],
    videos: Annotated[int, typer.Option(help="Number of videos.", min=1)] = 100,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    mean_duration: Annotated[Optional[float], typer.Option(
        help="Mean video length in seconds (default: the real sample's; 90 gives preview-like ~126 segments).",
    )] = None,
) -> None:
    """Write synthetic Action100M data (the real parquet schema) to --out."""
    from graphkit.loaders.synth import write_parquet
    from graphkit.synth import SynthConfig

    def body() -> None:
        config = SynthConfig() if mean_duration is None else SynthConfig(mean_video_duration=mean_duration)
        write_parquet(out, videos, seed=seed, config=config)
        console.print(f"wrote {videos} synthetic videos to {out}")

    run(body)


@app.command()
def stats(
    sources: Sources,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object (the stats contract).")] = False,
    skip_invalid: SkipInvalid = False,
    non_strict: NonStrict = False,
    batch_size: BatchSize = 256,
) -> None:
    """Per-level counts, depth, edges, annotation coverage and label distribution."""
    from graphkit.loaders.trees import iter_tree_batches
    from graphkit.schema import STRUCTURE_FIELDS
    from graphkit.stats import StatsAccumulator, iter_stats_json
    from graphkit.validation import ValidationReport

    def body() -> None:
        fields = (*STRUCTURE_FIELDS, "plm_action", "plm_caption", "llama3_caption", "gpt")
        accumulator, report = StatsAccumulator(), ValidationReport()
        batches = iter_tree_batches(sources, node_fields=fields, batch_size=batch_size,
                                    validation=validation_config(skip_invalid, non_strict), report=report)
        if as_json:  # streamed batch by batch: the videos list is never held whole
            for chunk in iter_stats_json(batches, accumulator):
                sys.stdout.write(chunk)
            sys.stdout.write("\n")
        else:
            for trees in batches:
                accumulator.add(trees)
            print(accumulator.report())
        report_skips(report)

    run(body)


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
    """Convert SOURCEs into a PyG dataset directory (features, labels, splits)."""
    from graphkit.loaders.pyg_dataset import build_dataset
    from graphkit.tasks import NodeTask

    def body() -> None:
        dataset = build_dataset(
            sources, out, task=NodeTask(label=label, top_k=top_k), on_disk=on_disk,
            validation=validation_config(skip_invalid, non_strict), batch_size=batch_size,
        )
        console.print(f"wrote {len(dataset)} video graphs to {out}")

    run(body)


@app.command()
def show(
    sources: Sources,
    video: Annotated[Optional[str], typer.Option(help="video_uid to show (default: the first).")] = None,
    png: Annotated[Optional[Path], typer.Option(help="Also draw the timeline to this PNG.")] = None,
    max_level: Annotated[Optional[int], typer.Option(help="Deepest level printed.")] = None,
    non_strict: NonStrict = False,
) -> None:
    """Print a video's tree and draw its timeline."""
    from graphkit.loaders.trees import iter_tree_batches
    from graphkit.schema import STRUCTURE_FIELDS
    from graphkit.show import format_tree

    def body() -> None:
        fields = (*STRUCTURE_FIELDS, "plm_action", "gpt")
        for trees in iter_tree_batches(sources, node_fields=fields, validation=validation_config(False, non_strict)):
            uids = trees.video_uid.to_pylist()
            if video is None or video in uids:
                position = 0 if video is None else uids.index(video)
                print(format_tree(trees, position, max_level=max_level))
                if png is not None:
                    from graphkit.show import plot_timeline

                    plot_timeline(trees, position).savefig(png, dpi=120)
                    console.print(f"timeline written to {png}")
                return
        fail(f"no video {video!r} in {', '.join(sources)}")

    run(body)
