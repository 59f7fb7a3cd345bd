"""The model commands: ``train``, ``evaluate`` and ``benchmark-models``.

Heavy imports (torch, PyG, the models) happen inside the commands.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from graphkit.cli.app import (
    EmbeddingCache,
    Sources,
    TextEncoderName,
    TranscriptDim,
    app,
    check_out_dir,
    check_sources,
    emit,
    emit_json,
    run,
    use_embedding_cache,
)

__all__ = ["benchmark_models", "evaluate", "train"]


@app.command()
def train(
    sources: Annotated[Optional[list[str]], typer.Argument(
        help="Parquet/JSON/JSONL files, directories, globs or URLs (none: train on --dataset-root as it is).",
        metavar="SOURCE",
        show_default=False)] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output directory (model.pt, config.json, ...).")
    ] = Path("runs/model"),
    model: Annotated[str, typer.Option(help="mlp, gcn, sage, gat, hier or tree_lstm.")] = "hier",
    label: Annotated[str, typer.Option(help="Label kind: verb, brief or actor.")] = "verb",
    epochs: Annotated[int, typer.Option(help="Most epochs.", min=1)] = 20,
    lr: Annotated[float, typer.Option(help="Adam learning rate.")] = 0.005,
    hidden: Annotated[int, typer.Option(help="Hidden width.", min=1)] = 64,
    layers: Annotated[Optional[int], typer.Option(help="Layers (default: the model's own).", min=1)] = None,
    dropout: Annotated[float, typer.Option(help="Dropout.")] = 0.2,
    batch_size: Annotated[int, typer.Option(help="Videos per mini-batch.", min=1)] = 32,
    seed: Annotated[int, typer.Option(help="Seed of weights, dropout and shuffling.")] = 0,
    patience: Annotated[int, typer.Option(help="Early-stopping patience, in epochs.", min=1)] = 5,
    device: Annotated[str, typer.Option(help="auto (CUDA when present), cpu or cuda.")] = "auto",
    dataset_root: Annotated[
        Optional[Path], typer.Option(help="Processed dataset cache (default: OUT/dataset).")
    ] = None,
    top_k: Annotated[int, typer.Option(help="Label classes kept; the rest become <other>.", min=1)] = 50,
    feature_dim: Annotated[int, typer.Option(help="Hash buckets of the caption features.", min=1)] = 256,
    label_fraction: Annotated[
        float, typer.Option(help="Share of the training videos whose labels are used (a label budget).")
    ] = 1.0,
    init_weights: Annotated[
        Optional[Path], typer.Option(help="Start from this state dict (e.g. a pretrained encoder), not random weights.")
    ] = None,
    on_disk: Annotated[bool, typer.Option(
        "--on-disk", help="Train from compact on-disk shards (what convert --on-disk writes), memory bounded by a batch."
    )] = False,
    threads: Annotated[Optional[int], typer.Option(
        help="CPU threads of torch (default: the fastest of 1, 2, 4, ... timed on a training step).", min=1
    )] = None,
    workers: Annotated[int, typer.Option(help="DataLoader worker processes building batches.", min=0)] = 0,
    task: Annotated[str, typer.Option(
        "--task", help="What to predict: segment (every segment's label), anticipation (the next step's, from "
                       "what has ended), parent (a parent's, from its subtree alone) or retrieval (rank a "
                       "video's segments for a brief).")] = "segment",
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace the run of other settings that --out holds (default: refuse it).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the training result as one JSON object.")] = False,
    text_encoder: TextEncoderName = "hashing",
    transcript_dim: TranscriptDim = 0,
    embedding_cache: EmbeddingCache = None,
) -> None:
    """Train a baseline on SOURCEs; print its test metrics (early stopping on validation macro-F1)."""

    def body() -> None:
        from graphkit.models.config import TrainConfig
        from graphkit.models.train import train as run_training

        config = TrainConfig(
            model=model, sources=tuple(sources or ()), out=str(out), label=label, epochs=epochs, lr=lr,
            hidden=hidden, layers=layers, dropout=dropout, batch_size=batch_size, seed=seed, patience=patience,
            device=device, dataset_root=None if dataset_root is None else str(dataset_root), top_k=top_k,
            feature_dim=feature_dim, label_fraction=label_fraction,
            init_weights=None if init_weights is None else str(init_weights), progress=not as_json,
            on_disk=on_disk, threads=threads, workers=workers, text_encoder=text_encoder,
            transcript_dim=transcript_dim, task_name=task,
        )
        use_embedding_cache(embedding_cache)
        check_out_dir(out)
        if dataset_root is not None:
            check_out_dir(dataset_root, "--dataset-root")
        check_sources(sources or [])
        if task == "retrieval":
            from graphkit.models.retrieval_train import train_retrieval as run_training
        result = run_training(config, overwrite=overwrite)
        if os.environ.get("RANK", "0") != "0":
            return  # under torchrun, rank 0 reports for all
        if as_json:
            emit_json(result.to_dict())
            return
        if task == "retrieval":
            test = result.test
            emit(f"{result.model} (retrieval): best epoch {result.best_epoch}/{result.epochs_run}; test "
                 f"R@1 {test['recall@1']:.4f}, R@5 {test['recall@5']:.4f}, R@10 {test['recall@10']:.4f}, "
                 f"mean rank {test['mean_rank']:.2f} on {test['num_queries']} queries; saved to {result.out}")
            return
        test = result.test
        emit(f"{result.model}: best epoch {result.best_epoch}/{result.epochs_run}, "
              f"valid macro-F1 {result.best_valid_macro_f1:.4f}; test top-1 {test['top1']:.4f}, "
              f"top-5 {test['top5']:.4f}, macro-F1 {test['macro_f1']:.4f} on {test['num_nodes']} segments; "
              f"{result.segments_per_s:.0f} segments/s on {result.device} ({result.threads} threads); "
              f"saved to {result.out}")

    run(body)


@app.command()
def evaluate(
    out_dir: Annotated[Path, typer.Argument(help="A training output directory.")],
    sources: Annotated[Optional[list[str]], typer.Argument(
        help="Sources to score (default: the run's own training sources).", metavar="SOURCE",
        show_default=False)] = None,
    split: Annotated[str, typer.Option(help="train, valid, test or all.")] = "test",
    device: Annotated[str, typer.Option(help="auto (CUDA when present), cpu or cuda.")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Score the model trained in OUT_DIR on SOURCEs (default: its training sources)."""

    def body() -> None:
        from graphkit.models.evaluate import evaluate as run_evaluation

        if out_dir.exists() and not out_dir.is_dir():
            raise NotADirectoryError(f"{out_dir} is a file; evaluate reads a training output directory")
        check_sources(sources or [])
        result = run_evaluation(out_dir, sources or None, split=split, device=device)
        if as_json:
            emit_json(result)
            return

        def fmt(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.4f}"

        if "mean_rank" in result:  # a retrieval run
            emit(f"{result['model']} (retrieval), {split} split: R@1 {fmt(result['recall@1'])}, "
                 f"R@5 {fmt(result['recall@5'])}, R@10 {fmt(result['recall@10'])}, "
                 f"mean rank {fmt(result['mean_rank'])} on {result['num_queries']} queries")
            return

        emit(f"{result['model']} ({result['label']}), {split} split: top-1 {fmt(result['top1'])}, "
              f"top-5 {fmt(result['top5'])}, macro-F1 {fmt(result['macro_f1'])} "
              f"on {result['num_nodes']} segments")
        for level, metrics in result["per_level"].items():
            emit(f"  level {level:>2}: top-1 {fmt(metrics['top1'])}  macro-F1 {fmt(metrics['macro_f1'])}  "
                  f"({metrics['num_nodes']} segments)")

    run(body)


@app.command("benchmark-models")
def benchmark_models(
    sources: Sources,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")] = Path("runs/benchmark"),
    models: Annotated[
        Optional[list[str]], typer.Option("--model", "-m", help="Model (repeatable; default: all).")
    ] = None,
    seeds: Annotated[int, typer.Option(help="Seeds 0..N-1 per model.")] = 3,
    epochs: Annotated[int, typer.Option(help="Most epochs per run.", min=1)] = 20,
    hidden: Annotated[int, typer.Option(help="Hidden width.", min=1)] = 64,
    batch_size: Annotated[int, typer.Option(help="Videos per mini-batch.", min=1)] = 32,
    label: Annotated[str, typer.Option(help="Label kind: verb, brief or actor.")] = "verb",
    device: Annotated[str, typer.Option(help="auto (CUDA when present), cpu or cuda.")] = "auto",
    on_disk: Annotated[bool, typer.Option("--on-disk", help="Train from compact on-disk shards.")] = False,
    threads: Annotated[Optional[int], typer.Option(help="CPU threads of torch (default: timed).", min=1)] = None,
    task: Annotated[str, typer.Option(
        "--task", help="segment, anticipation, parent or retrieval (see `graphkit train --help`).")] = "segment",
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace runs of other settings that --out holds (default: refuse them).")] = False,
    transcript_dim: TranscriptDim = 0,
) -> None:
    """Train every baseline over N seeds on one task; print a markdown table (mean ± std)."""

    def body() -> None:
        from graphkit.models.benchmark import benchmark_models as run_benchmark

        if seeds < 1:
            raise ValueError(f"seeds={seeds} must be >= 1")
        check_out_dir(out)
        emit(run_benchmark(sources, models or None, seeds=range(seeds), out=out, overwrite=overwrite, epochs=epochs,
                           hidden=hidden, batch_size=batch_size, label=label, device=device, on_disk=on_disk,
                           threads=threads, task_name=task, transcript_dim=transcript_dim))

    run(body)

