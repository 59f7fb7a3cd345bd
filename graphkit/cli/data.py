"""The data commands: ``synth``, ``stats``, ``convert`` and ``show``.

``synth`` writes synthetic Action100M parquet; ``stats`` prints counts,
coverage and labels (``--json``: the stable contract of :mod:`graphkit.stats`);
``convert`` builds a cached PyG dataset directory (``--on-disk --engine ray``:
on a Ray cluster); ``show`` prints a video's tree, draws its timeline (PNG) and writes an
interactive viewer (one self-contained HTML file).
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from graphkit.cli.app import (
    BatchSize,
    EmbeddingCache,
    NonStrict,
    SkipInvalid,
    Sources,
    TextEncoderName,
    TranscriptDim,
    app,
    check_out_dir,
    check_out_file,
    check_sources,
    console,
    emit,
    emit_json,
    fail,
    progress_bar,
    report_skips,
    run,
    use_arrow_pool,
    use_embedding_cache,
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
    use_arrow_pool("jemalloc")
    from graphkit.loaders.synth import write_parquet
    from graphkit.synth import SynthConfig

    def body() -> None:
        config = SynthConfig() if mean_duration is None else SynthConfig(mean_video_duration=mean_duration)
        check_out_file(out)
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
    use_arrow_pool("jemalloc")
    from graphkit.loaders.trees import iter_tree_batches
    from graphkit.schema import STRUCTURE_FIELDS
    from graphkit.stats import StatsAccumulator, iter_stats_json
    from graphkit.validation import ValidationReport

    def body() -> None:
        fields = (*STRUCTURE_FIELDS, "plm_action", "plm_caption", "llama3_caption", "gpt")
        accumulator, report = StatsAccumulator(), ValidationReport()
        batches = iter_tree_batches(sources, node_fields=fields, batch_size=batch_size,
                                    validation=validation_config(skip_invalid, non_strict), report=report)
        if as_json:
            # Streamed batch by batch (the videos list is never held whole) into a spool that reaches
            # stdout only once complete: an error midway leaves stdout empty, not half a JSON object.
            with tempfile.SpooledTemporaryFile(max_size=8 << 20, mode="w+", encoding="utf-8") as spool:
                for chunk in iter_stats_json(batches, accumulator):
                    spool.write(chunk)
                spool.seek(0)
                shutil.copyfileobj(spool, sys.stdout)
            sys.stdout.write("\n")
        else:
            for trees in batches:
                accumulator.add(trees)
            emit(accumulator.report())
        report_skips(report)

    run(body)


@app.command()
def convert(
    sources: Sources,
    out: Annotated[Path, typer.Option("--out", "-o", help="Dataset directory to write.")],
    label: Annotated[str, typer.Option(help="Label kind: verb, brief or actor.")] = "verb",
    top_k: Annotated[int, typer.Option(help="Label classes kept; the rest become <other>.")] = 50,
    on_disk: Annotated[bool, typer.Option(
        "--on-disk", help="Compact memory-mapped shards (preview and full scale) instead of one in-memory file."
    )] = False,
    videos_per_shard: Annotated[int, typer.Option(help="Videos per shard (with --on-disk).", min=1)] = 1024,
    engine: Annotated[str, typer.Option(
        help="Who processes the shards (with --on-disk): local (this process) or ray (Ray Data tasks)."
    )] = "local",
    address: Annotated[Optional[str], typer.Option(
        help="Ray cluster to join, HEAD:6379 (with --engine ray; default: start a local one)."
    )] = None,
    skip_invalid: SkipInvalid = False,
    non_strict: NonStrict = False,
    batch_size: BatchSize = 256,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print one JSON object: videos, segments, bytes, seconds, checksum, ..."
    )] = False,
    text_encoder: TextEncoderName = "hashing",
    transcript_dim: TranscriptDim = 0,
    embedding_cache: EmbeddingCache = None,
) -> None:
    """Convert SOURCEs into a PyG dataset directory (features, labels, splits)."""
    use_arrow_pool("system")
    from graphkit.features import FeatureConfig
    from graphkit.tasks import NodeTask

    if engine not in ("local", "ray"):
        fail(f"--engine must be local or ray, not {engine!r}")
    if engine == "ray" and not on_disk:
        fail("--engine ray writes the sharded dataset: add --on-disk")
    if address is not None and engine != "ray":
        fail("--address is the Ray cluster's: use it with --engine ray")

    def body() -> None:
        check_out_dir(out)
        check_sources(sources)
        use_embedding_cache(embedding_cache)
        task = NodeTask(label=label, top_k=top_k, features=FeatureConfig(text_encoder=text_encoder,
                                                                         transcript_dim=transcript_dim))
        validation = validation_config(skip_invalid, non_strict)
        started = time.perf_counter()
        if on_disk:
            runner = None
            if engine == "ray":
                from graphkit.loaders.ray_engine import ray_runner

                runner = ray_runner(address)
            summary = _convert_on_disk(sources, out, task, validation, batch_size, videos_per_shard, runner)
        else:
            from graphkit.loaders.pyg_dataset import build_dataset
            from graphkit.validation import ValidationReport

            dataset = build_dataset(sources, out, task=task, validation=validation, batch_size=batch_size)
            report_skips(ValidationReport(skipped=list(dataset.violations)))
            files = [Path(path) for path in dataset.processed_paths]
            summary = {"videos": len(dataset), "segments": dataset.num_segments, "skipped": len(dataset.violations),
                       "bytes": sum(path.stat().st_size for path in files),
                       "checksum": _file_checksum(files[0])}
        summary["seconds"] = round(time.perf_counter() - started, 3)
        if task.features.embedded:
            summary["text_encoder"] = _embedding_summary(task)
        if as_json:
            emit_json(summary)
        else:
            console.print(f"wrote {summary['videos']} video graphs ({summary['segments']} segments, "
                          f"{summary['bytes']} bytes) to {out}")

    run(body)


def _convert_on_disk(sources: list[str], out: Path, task, validation, batch_size: int,
                     videos_per_shard: int, runner=None) -> dict:
    from graphkit.loaders.ondisk import build_shards

    with progress_bar("convert", unit="videos") as (bar, task_id):
        manifest = build_shards(
            sources, out / "processed", task, validation=validation, batch_size=batch_size,
            videos_per_shard=videos_per_shard, run=runner, on_plan=lambda total: bar.update(task_id, total=total),
            on_fragment=lambda result: bar.advance(task_id, result.rows),
        )
    from graphkit.validation import ValidationReport, Violation

    skipped = manifest["skipped"]
    report_skips(ValidationReport(skipped=[Violation(**entry) for entry in skipped]))
    return {key: manifest[key] for key in ("videos", "segments", "bytes", "checksum")} | {
        "shards": len(manifest["shards"]), "skipped": len(skipped),
        "bytes_per_segment": round(manifest["bytes"] / max(1, manifest["segments"]), 2),
    }


def _embedding_summary(task) -> dict:
    """The encoder and this process's cache hits and misses (distinct texts; a Ray run's are in its workers)."""
    from graphkit.loaders.embedding_cache import cached_text_encoder

    encoder = cached_text_encoder(task.features.text_encoder)
    asked = encoder.hits + encoder.misses
    return {"name": encoder.name, "version": encoder.version, "dim": encoder.dim, "cache": str(encoder.cache.path),
            "hits": encoder.hits, "misses": encoder.misses,
            "hit_rate": round(encoder.hits / asked, 4) if asked else None}


def _file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@app.command()
def show(
    sources: Sources,
    video: Annotated[Optional[str], typer.Option(help="video_uid to show (default: the first).")] = None,
    png: Annotated[Optional[Path], typer.Option(help="Also draw the timeline to this PNG.")] = None,
    html: Annotated[Optional[Path], typer.Option(
        help="Also write an interactive page (icicle, tree, details, search) to this self-contained HTML file."
    )] = None,
    max_level: Annotated[Optional[int], typer.Option(
        help="Deepest level printed, drawn (--png) and shown (--html).", min=0)] = None,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace an existing --png or --html file (default: refuse it).")] = False,
    non_strict: NonStrict = False,
) -> None:
    """Print a video's tree; draw its timeline (--png) or write an interactive viewer (--html)."""
    from graphkit.errors import OutputExistsError
    from graphkit.loaders.trees import iter_tree_batches
    from graphkit.schema import STRUCTURE_FIELDS
    from graphkit.show import format_tree

    def body() -> None:
        outputs = [(option, path) for option, path in (("--png", png), ("--html", html)) if path is not None]
        for option, path in outputs:
            check_out_file(path, option)
            if path.exists() and not overwrite:
                raise OutputExistsError(f"{option} {path} exists; give a new path, or --overwrite to replace it")
        if png is not None and html is not None and png.absolute() == html.absolute():
            raise ValueError(f"--png and --html are the same file ({png}); give each its own")
        fields = (*STRUCTURE_FIELDS, "plm_action", "gpt")
        if html is not None:
            fields = (*fields, "plm_caption", "llama3_caption")
        found = None
        # Over a large source the video may lie far in: a progress bar (on a terminal) counts the videos read.
        with progress_bar("show: looking for the video", unit="videos") as (bar, task_id):
            for trees in iter_tree_batches(sources, node_fields=fields, metadata=html is not None,
                                           validation=validation_config(False, non_strict)):
                bar.advance(task_id, trees.num_videos)
                uids = trees.video_uid.to_pylist()
                if video is None or video in uids:
                    found = trees.select([0 if video is None else uids.index(video)])
                    break
        if found is None:
            fail(f"no video {video!r} in {', '.join(sources)}")
        emit(format_tree(found, 0, max_level=max_level))
        if png is not None:
            from graphkit.show import plot_timeline

            png.parent.mkdir(parents=True, exist_ok=True)
            plot_timeline(found, 0, max_level=max_level).savefig(png, dpi=120)
            console.print(f"timeline written to {png}")
        if html is not None:
            from graphkit.viewer import render_html

            html.parent.mkdir(parents=True, exist_ok=True)
            html.write_text(render_html(found, 0, max_level=max_level), encoding="utf-8")
            console.print(f"viewer written to {html}")

    run(body)
