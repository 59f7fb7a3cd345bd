from __future__ import annotations

import json
import math
import statistics

import pytest

from graphkit.models.benchmark import benchmark_models, format_mean_std, mean_std


def test_benchmark_models_prints_a_markdown_table(source, tmp_path):
    table = benchmark_models([str(source)], ["mlp", "tree_lstm"], seeds=[0, 1], out=tmp_path, epochs=1,
                             hidden=8, feature_dim=32, batch_size=8, device="cpu")
    lines = table.splitlines()
    assert lines[0].startswith("| model | test top-1 (%)") and len(lines) == 4
    assert lines[2].startswith("| mlp | ") and lines[3].startswith("| tree_lstm | ")
    assert " ± " in lines[2]
    assert (tmp_path / "benchmark.md").read_text().strip() == table
    assert set(json.loads((tmp_path / "benchmark.json").read_text())) == {"mlp", "tree_lstm"}


@pytest.mark.parametrize("task, first_column", [("anticipation", "test top-1 (%)"), ("parent", "test top-1 (%)"),
                                                 ("retrieval", "test recall@1 (%)")])
def test_every_task_is_benchmarked_with_its_own_metrics(source, tmp_path, task, first_column):
    table = benchmark_models([str(source)], ["mlp", "hier"], seeds=[0, 1], out=tmp_path, epochs=1, hidden=8,
                             feature_dim=32, batch_size=8, device="cpu", task_name=task)
    lines = table.splitlines()
    assert lines[0].startswith(f"| model | {first_column} |") and len(lines) == 4
    assert lines[1].count("---") == lines[0].count("|") - 1
    runs = json.loads((tmp_path / "benchmark.json").read_text())
    assert set(runs) == {"mlp", "hier"}
    for results in runs.values():
        assert [result["task"] for result in results] == [task, task]
        metrics = [result["test"] for result in results]
        key = "recall@1" if task == "retrieval" else "top1"
        assert all(0.0 <= m[key] <= 1.0 for m in metrics)
    if task == "retrieval":
        mean_rank = statistics.fmean(result["test"]["mean_rank"] for result in runs["hier"])
        assert lines[3].split(" | ")[4].startswith(f"{mean_rank:.2f} ± ")  # a rank, not a percentage


def test_mean_std_is_the_sample_std_without_nan():
    values = [0.9218, 0.9265, 0.9171]
    assert mean_std(values) == (statistics.fmean(values), statistics.stdev(values))
    assert mean_std([*values, math.nan]) == mean_std(values)
    assert mean_std(iter([0.5])) == (0.5, 0.0)
    assert all(math.isnan(v) for v in mean_std([])) and all(math.isnan(v) for v in mean_std([math.nan]))


@pytest.mark.parametrize("values,kwargs,expected", [
    ([0.5, 0.7], {}, "60.00 ± 14.14"),
    ([0.25], {}, "25.00 ± 0.00"),
    ([0.5, 0.7, math.nan], {}, "60.00 ± 14.14"),
    ([1234.5, 1240.5], {"scale": 1.0, "digits": 0}, "1238 ± 4"),
    ([], {}, "n/a"),
    ([math.nan], {}, "n/a"),
])
def test_format_mean_std(values, kwargs, expected):
    assert format_mean_std(values, **kwargs) == expected
