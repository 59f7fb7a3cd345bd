"""Two gloo processes under torchrun train as one process does on the same global batches."""

from __future__ import annotations

import json
import subprocess
import sys

from graphkit.loaders.synth import write_parquet
from graphkit.models.distributed import Distributed
from tests.graphkit.cli.runner import graphkit
from tests.paths import ROOT


def test_each_rank_keeps_its_share_of_a_global_batch():
    batch = list(range(10, 17))
    shares = [Distributed(world_size=3, rank=r).split_batch(batch) for r in range(3)]
    assert sorted(sum(shares, [])) == batch and all(shares)


def test_two_gloo_ranks_follow_the_loss_curve_of_one_process(tmp_path):
    data = tmp_path / "v.parquet"
    write_parquet(data, 60, seed=4, videos_per_row_group=16)
    converted = graphkit("convert", str(data), "--out", str(tmp_path / "ds"), "--on-disk", "--videos-per-shard", "16")
    assert converted.returncode == 0, converted.stderr
    common = ["train", str(data), "--dataset-root", str(tmp_path / "ds"), "--on-disk", "--epochs", "2",
              "--model", "hier", "--batch-size", "6", "--dropout", "0", "--threads", "1", "--json"]
    one = graphkit(*common, "--out", str(tmp_path / "one"))
    assert one.returncode == 0, one.stderr
    two = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                          "-m", "graphkit.cli", *common, "--out", str(tmp_path / "two")],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert two.returncode == 0, two.stderr
    single, parallel = json.loads(one.stdout), json.loads(two.stdout)  # rank 0 alone prints
    assert single["world_size"] == 1 and parallel["world_size"] == 2
    assert [r["segments"] for r in parallel["history"]] == [r["segments"] for r in single["history"]]
    for a, b in zip(single["history"], parallel["history"]):
        assert abs(a["loss"] - b["loss"]) <= 1e-5 * abs(a["loss"])
    assert abs(single["test"]["macro_f1"] - parallel["test"]["macro_f1"]) <= 1e-3
