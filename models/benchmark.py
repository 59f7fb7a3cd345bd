"""Benchmarking the baselines over seeds: :func:`benchmark_models`, and mean ± std over seeds.

:func:`benchmark_models` trains every baseline over several seeds on one
processed dataset (hence one split) and returns a markdown table of test
metrics, mean ± sample standard deviation in percent. :func:`mean_std` and
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
from graphkit.models.train import TrainResult, train
from graphkit.redact import redact

__all__ = ["mean_std", "format_mean_std", "benchmark_models"]

logger = logging.getLogger(__name__)


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
        **overrides: Other :class:`TrainConfig` fields (``epochs``, ``hidden``, ...).

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
    runs: dict[str, list[TrainResult]] = {}
    for name in names:
        for seed in seeds:
            config = TrainConfig(model=name, sources=sources, out=str(out / name / f"seed{seed}"),
                                 seed=seed, dataset_root=str(out / "dataset"), **overrides)
            result = train(config, overwrite=overwrite)
            logger.info("%s seed %d: test %s", name, seed, {k: result.test[k] for k in ("top1", "macro_f1")})
            runs.setdefault(name, []).append(result)
    lines = [
        "| model | test top-1 (%) | test top-5 (%) | test macro-F1 (%) | train segments/s | epochs |",
        "|---|---|---|---|---|---|",
    ]
    for name, results in runs.items():
        lines.append(
            f"| {name} | {format_mean_std([r.test['top1'] for r in results])} "
            f"| {format_mean_std([r.test['top5'] for r in results])} "
            f"| {format_mean_std([r.test['macro_f1'] for r in results])} "
            f"| {statistics.fmean(r.segments_per_s for r in results):.0f} "
            f"| {statistics.fmean(r.epochs_run for r in results):.1f} |"
        )
    table = "\n".join(lines)
    out.mkdir(parents=True, exist_ok=True)
    (out / "benchmark.md").write_text(table + "\n", encoding="utf-8")
    (out / "benchmark.json").write_text(
        redact(json.dumps({name: [r.to_dict() for r in results] for name, results in runs.items()}, indent=2)),
        encoding="utf-8")
    return table
