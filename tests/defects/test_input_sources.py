"""Every public function that takes sources accepts a single path, and refuses what is not a source.

A path given as a bare string (or :class:`pathlib.Path`) is one source: it
must never be taken apart into its characters (which made ``/`` a source
and scanned the whole disk). Bytes, a number, ``None`` or an empty list are
refused at once with an error that names the argument and the value.
"""

from __future__ import annotations

import pathlib

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from graphkit.loaders.fragments import plan_fragments
from graphkit.loaders.ondisk import build_shards
from graphkit.loaders.pyg_dataset import Action100MDataset, Action100MOnDiskDataset, build_dataset
from graphkit.loaders.shards import Shard
from graphkit.loaders.sources import iter_record_batches, read_table, source_list
from graphkit.loaders.trees import iter_tree_batches, read_trees
from graphkit.models.config import TrainConfig
from graphkit.tasks import NodeTask
from tests import factories as f

UIDS = [f"video{v:06d}" for v in range(3)]


@pytest.fixture
def path(tmp_path) -> str:
    target = tmp_path / "videos.parquet"
    pq.write_table(f.table(f.rows(3)), target)
    return str(target)


def _uids_of_dataset(dataset) -> list[str]:
    return list(dataset.video_uids) if hasattr(dataset, "video_uids") else dataset.videos.video_uid.to_pylist()


# id -> what the function gives for a single source, as the video ids it read
FUNCTIONS = {
    "iter_record_batches": lambda src, tmp: [u for b in iter_record_batches(src) for u in b["video_uid"].to_pylist()],
    "read_table": lambda src, tmp: read_table(src)["video_uid"].to_pylist(),
    "iter_tree_batches": lambda src, tmp: [u for t in iter_tree_batches(src) for u in t.video_uid.to_pylist()],
    "read_trees": lambda src, tmp: read_trees(src).video_uid.to_pylist(),
    "plan_fragments": lambda src, tmp: [u for frag in plan_fragments(src) for u in read_table(frag)["video_uid"]
                                        .to_pylist()],
    "build_shards": lambda src, tmp: [u for shard in build_shards(src, tmp / "shards", NodeTask())["shards"]
                                      for u in Shard(tmp / "shards" / shard["name"]).video_uid.to_pylist()],
    "build_dataset": lambda src, tmp: _uids_of_dataset(build_dataset(src, tmp / "ds")),
    "Action100MDataset": lambda src, tmp: _uids_of_dataset(Action100MDataset(str(tmp / "ds"), src, log=False)),
    "Action100MOnDiskDataset": lambda src, tmp: _uids_of_dataset(
        Action100MOnDiskDataset(str(tmp / "ds"), src, log=False)),
    "TrainConfig": lambda src, tmp: [u for t in iter_tree_batches(TrainConfig(sources=src).sources)
                                     for u in t.video_uid.to_pylist()],
}


@pytest.mark.parametrize("kind", ["str", "Path"])
@pytest.mark.parametrize("function", list(FUNCTIONS))
def test_a_single_path_is_one_source(path, tmp_path, function, kind):
    source = path if kind == "str" else pathlib.Path(path)
    assert FUNCTIONS[function](source, tmp_path) == UIDS


REFUSERS = {
    "source_list": lambda bad: source_list(bad),
    "iter_record_batches": lambda bad: iter_record_batches(bad),
    "iter_tree_batches": lambda bad: list(iter_tree_batches(bad)),
    "plan_fragments": lambda bad: plan_fragments(bad),
    "build_shards": lambda bad: build_shards(bad, "/nonexistent/out", NodeTask()),
    "build_dataset": lambda bad: build_dataset(bad, "/nonexistent/out"),
}


@pytest.mark.parametrize(
    "bad, error, match",
    [
        (b"videos.parquet", TypeError, r"unsupported source b'videos\.parquet' of type bytes"),
        (42, TypeError, r"unsupported source 42 of type int"),
        ([pathlib.Path("a.parquet"), 3.5], TypeError, r"unsupported source 3\.5 of type float"),
        (None, ValueError, r"no source given"),
        ([], ValueError, r"no source given"),
    ],
    ids=["bytes", "number", "number-in-a-list", "None", "empty-list"],
)
@pytest.mark.parametrize("function", list(REFUSERS))
def test_what_is_not_a_source_is_refused_at_once(function, bad, error, match):
    with pytest.raises(error, match=match):
        REFUSERS[function](bad)


def test_train_config_refuses_bytes_and_keeps_a_path_whole():
    assert TrainConfig(sources=pathlib.Path("/data/videos.parquet")).sources == ("/data/videos.parquet",)
    with pytest.raises(TypeError, match="sources must be a path or a list of paths, got bytes"):
        TrainConfig(sources=b"/data/videos.parquet")


def test_an_arrow_table_is_one_source_too(path):
    table = pa.Table.from_batches(list(iter_record_batches(path)))
    assert source_list(table) == [table]
    assert read_trees(table).video_uid.to_pylist() == UIDS
