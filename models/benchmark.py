"""Benchmarking the baselines over seeds: :func:`benchmark_models`, and mean ± std over seeds.

:func:`benchmark_models` trains every baseline over several seeds on one
processed dataset (hence one split), for any task of :mod:`graphkit.tasks`
(``task_name``), and returns a markdown table of test metrics, mean ± sample
standard deviation in percent: top-1, top-5 and macro-F1 for the
classification tasks, recall@1/5/10 and the mean rank for ``retrieval``. :func:`mean_std` and
:func:`format_mean_std` are that summary on their own, for any per-seed
figures (``examples/contrastive_pretrain.py`` uses them too).
"""

from __future__ import annotations

import json
import logging
import math
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from graphkit.models.config import TrainConfig
from graphkit.models.registry import MODELS
from graphkit.models.retrieval_train import train_retrieval
from graphkit.models.train import TrainResult, train
from graphkit.redact import redact

__all__ = ["TABLE_COLUMNS", "mean_std", "format_mean_std", "benchmark_models"]

logger = logging.getLogger(__name__)

#: The test metrics of the table, by task: ``(result key, column, scale)``; ``segment``'s for any other task.
TABLE_COLUMNS: dict[str, tuple[tuple[str, str, float], ...]] = {
    "segment": (("top1", "test top-1 (%)", 100.0), ("top5", "test top-5 (%)", 100.0),
                ("macro_f1", "test macro-F1 (%)", 100.0)),
    "retrieval": (("recall@1", "test recall@1 (%)", 100.0), ("recall@5", "test recall@5 (%)", 100.0),
                  ("recall@10", "test recall@10 (%)", 100.0), ("mean_rank", "test mean rank", 1.0)),
}


def mean_std(values: Iterable[float]) -> tuple[float, float]:
    """Mean and sample standard deviation of ``values``, leaving ``nan`` out.

    One value has a standard deviation of 0.

    Args:
        values (Iterable[float]): E.g. one metric over seeds.

    Returns:
        tuple[float, float]: ``(mean, std)``; ``(nan, nan)`` if no value is a number.

    Examples:
        >>> mean_std([0.5, 0.7, float("nan")])
        (0.6, 0.14142135623730948)
        >>> mean_std([0.25])
        (0.25, 0.0)
    """
    kept = [float(v) for v in values if not math.isnan(v)]
    if not kept:
        return math.nan, math.nan
    return statistics.fmean(kept), statistics.stdev(kept) if len(kept) > 1 else 0.0


def format_mean_std(values: Iterable[float], scale: float = 100.0, digits: int = 2) -> str:
    """``"mean ± std"`` of :func:`mean_std`, scaled (to percent by default).

    Args:
        values (Iterable[float]): E.g. one metric over seeds, as fractions.
        scale (float, optional): Factor applied to mean and std. (default: :obj:`100.0`)
        digits (int, optional): Decimals. (default: :obj:`2`)

    Returns:
        str: E.g. ``"60.00 ± 14.14"``; ``"n/a"`` if no value is a number.

    Examples:
        >>> format_mean_std([0.5, 0.7])
        '60.00 ± 14.14'
        >>> format_mean_std([float("nan")])
        'n/a'
    """
    mean, std = mean_std(values)
    if math.isnan(mean):
        return "n/a"
    return f"{scale * mean:.{digits}f} ± {scale * std:.{digits}f}"


def benchmark_models(sources: Sequence[str], models: Sequence[str] | None = None,
                     seeds: Sequence[int] = (0, 1, 2), out: str | Path = "runs/benchmark",
                     overwrite: bool = False, **overrides: Any) -> str:
    """Train every model over every seed; a markdown table of test metrics.

    All runs share one processed dataset (``out/dataset``) and hence one split;
    run ``(model, seed)`` writes to ``out/<model>/seed<seed>``. The table (also
    written to ``out/benchmark.md``, the raw results to ``out/benchmark.json``)
    gives mean ± sample standard deviation over seeds, in percent.

    Args:
        sources (str or Sequence[str]): The data: one path or a list (as
            :class:`~graphkit.models.config.TrainConfig` takes them).
        models (Sequence[str], optional): Names of :data:`models.MODELS`;
            :obj:`None` runs them all. (default: :obj:`None`)
        seeds (Sequence[int], optional): Seeds. (default: :obj:`(0, 1, 2)`)
        out (str or Path, optional): Output directory. (default: :obj:`"runs/benchmark"`)
        overwrite (bool, optional): Replace runs of other settings found in
            ``out`` instead of refusing them
            (:func:`~graphkit.models.train.train`). (default: :obj:`False`)
        **overrides: Other :class:`TrainConfig` fields (``epochs``, ``hidden``,
            ``task_name``, ...).

    Returns:
        str: The markdown table.

    Raises:
        ValueError: If a model name is unknown or no seed is given.
        OutputExistsError: If ``out`` holds a run of other settings and
            ``overwrite`` is false.
    """
    names = list(models) if models is not None else list(MODELS)
    unknown = [name for name in names if name not in MODELS]
    if unknown:
        raise ValueError(f"unknown models {unknown}; expected some of {sorted(MODELS)}")
    if not seeds:
        raise ValueError("seeds is empty; give at least one seed")
    out = Path(out)
    task_name = overrides.get("task_name", "segment")
    run_one = train_retrieval if task_name == "retrieval" else train
    columns = TABLE_COLUMNS.get(task_name, TABLE_COLUMNS["segment"])
    runs: dict[str, list[TrainResult]] = {}
    for name in names:
        for seed in seeds:
            config = TrainConfig(model=name, sources=sources, out=str(out / name / f"seed{seed}"),
                                 seed=seed, dataset_root=str(out / "dataset"), **overrides)
            result = run_one(config, overwrite=overwrite)
            logger.info("%s seed %d: test %s", name, seed, {key: result.test[key] for key, _, _ in columns})
            runs.setdefault(name, []).append(result)
    lines = [
        "| model | " + " | ".join(title for _, title, _ in columns) + " | train segments/s | epochs |",
        "|---|" + "---|" * (len(columns) + 2),
    ]
    for name, results in runs.items():
        cells = [format_mean_std([r.test[key] for r in results], scale=scale) for key, _, scale in columns]
        lines.append(
            f"| {name} | " + " | ".join(cells)
            + f" | {statistics.fmean(r.segments_per_s for r in results):.0f}"
            f" | {statistics.fmean(r.epochs_run for r in results):.1f} |"
        )
    table = "\n".join(lines)
    out.mkdir(parents=True, exist_ok=True)
    (out / "benchmark.md").write_text(table + "\n", encoding="utf-8")
    (out / "benchmark.json").write_text(
        redact(json.dumps({name: [r.to_dict() for r in results] for name, results in runs.items()}, indent=2)),
        encoding="utf-8")
    return table
