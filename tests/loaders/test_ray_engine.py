"""The Ray engine on a real local 2-CPU cluster: the same dataset, byte for byte, as one process.

Ray is never mocked and never skipped: CI installs it (the ``dev`` extra), so a
missing ray or a cluster that cannot start fails these tests.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import ray

from graphkit.errors import EngineError, InvariantError
from graphkit.features import FeatureConfig
from graphkit.loaders.ondisk import build_shards
from graphkit.loaders.parquet import ParquetFragment
from graphkit.loaders.ray_engine import fragment_row, ray_runner, row_fragment
from graphkit.tasks import NodeTask
from graphkit.validation import ValidationConfig

TASK = NodeTask(features=FeatureConfig(dim=64), top_k=10)

# One cluster for the module (Ray starts slowly): one xdist worker runs them all.
pytestmark = pytest.mark.xdist_group("ray")


@pytest.fixture(scope="module")
def runner():
    assert not ray.is_initialized()
    run = ray_runner(num_cpus=2)
    yield run
    ray.shutdown()


def _files(directory):
    return {path.relative_to(directory).as_posix(): path.read_bytes()
            for path in sorted(directory.rglob("*")) if path.is_file() and path.name != "manifest.json"}


def test_ray_writes_the_same_dataset_as_one_process(tmp_path, source, runner):
    arrived = []
    local = build_shards([source], tmp_path / "local", TASK, videos_per_shard=16)
    distributed = build_shards([source], tmp_path / "ray", TASK, videos_per_shard=16, run=runner,
                               on_fragment=lambda result: arrived.append(result.index))
    assert ray.cluster_resources()["CPU"] == 2
    assert sorted(arrived) == list(range(4)) and len(local["shards"]) == 4  # 60 videos in 4 fragments
    for key in ("checksum", "videos", "segments", "bytes", "shards", "vocabulary", "excluded", "skipped"):
        assert distributed[key] == local[key], key
    assert distributed == local
    assert _files(tmp_path / "ray") == _files(tmp_path / "local")


def test_skipped_videos_are_the_same_under_ray(tmp_path, source, runner):
    table = pq.read_table(source)
    # Video 20 has no uid (skipped in its fragment's task), video 41 repeats video 3's (on the driver).
    uids = table.column("video_uid").to_pylist()
    uids[20], uids[41] = None, uids[3]
    table = table.set_column(table.schema.get_field_index("video_uid"), "video_uid", pa.array(uids))
    broken = str(tmp_path / "broken.parquet")
    pq.write_table(table, broken, row_group_size=8)
    skip = ValidationConfig(errors="skip")
    local = build_shards([broken], tmp_path / "local", TASK, validation=skip, videos_per_shard=16)
    distributed = build_shards([broken], tmp_path / "ray", TASK, validation=skip, videos_per_shard=16, run=runner)
    assert {entry["rule"] for entry in local["skipped"]} == {"null_video_uid", "duplicate_video_uid"}
    assert distributed == local
    assert _files(tmp_path / "ray") == _files(tmp_path / "local")
    with pytest.raises(InvariantError, match="null_video_uid"):  # raised in a task, rebuilt here
        build_shards([broken], tmp_path / "strict", TASK, videos_per_shard=16, run=runner)


def test_fragments_travel_as_plain_rows():
    fragment = ParquetFragment("/data/a.parquet", (3, 4), 16)
    assert row_fragment(fragment_row(0, fragment)) == fragment
    assert row_fragment(fragment_row(1, "/data/v.jsonl")) == "/data/v.jsonl"
    with pytest.raises(EngineError, match="reads files"):
        fragment_row(0, pa.table({"a": [1]}))


def test_an_unreachable_cluster_is_one_clear_error(tmp_path, source):
    with pytest.raises(EngineError, match="cannot connect to the Ray cluster at 127.0.0.1:1"):
        build_shards([source], tmp_path / "out", TASK, run=ray_runner("127.0.0.1:1"))
    with pytest.raises(ValueError, match="num_cpus"):
        ray_runner("127.0.0.1:1", num_cpus=2)
