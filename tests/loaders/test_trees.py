from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from graphkit.errors import InvariantError, SourceError
from graphkit.loaders.trees import iter_tree_batches, read_trees
from graphkit.validation import ValidationConfig, ValidationReport
from tests import factories as f


@pytest.fixture
def files(tmp_path):
    rows = f.rows(5)
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    pq.write_table(f.table(rows[:3]), first)
    pq.write_table(f.table(rows[2:]), second)  # video000002 again
    return first, second


def test_batches_are_bounded_and_fields_projected(files):
    batches = list(iter_tree_batches(files[0], batch_size=2, node_fields=("plm_caption",)))
    assert [b.num_videos for b in batches] == [2, 1]
    assert set(batches[0].text) == {"plm_caption"}


def test_duplicate_video_across_files_raises_or_is_reported(files):
    with pytest.raises(InvariantError, match="video 'video000002': duplicate_video_uid"):
        list(iter_tree_batches(list(files)))
    report = ValidationReport()
    kept = list(iter_tree_batches(list(files), validation=ValidationConfig(errors="skip"), report=report))
    assert [uid for b in kept for uid in b.video_uid.to_pylist()] == [f"video{i:06d}" for i in range(5)]
    assert [(v.video_uid, v.rule) for v in report.skipped] == [("video000002", "duplicate_video_uid")]
    assert report.videos_kept == 5 and report.nodes_kept == 35


def test_unreadable_file_raises_or_is_reported(files, tmp_path):
    bad = tmp_path / "c.parquet"
    bad.write_bytes(b"nope")
    with pytest.raises(SourceError, match="c.parquet"):
        list(iter_tree_batches([files[0], bad]))
    report = ValidationReport()
    list(iter_tree_batches([files[0], bad], validation=ValidationConfig(errors="skip"), report=report))
    assert [v.rule for v in report.skipped] == ["unreadable_source"]
    assert "c.parquet" in report.skipped[0].message
    assert report.summary().endswith("1 skipped (unreadable_source: 1)")


def test_read_trees_concatenates(files):
    trees = read_trees(files[0], batch_size=1)
    assert trees.num_videos == 3 and trees.parent[7] == -1 and trees.parent[8] == 7


def test_read_ahead_matches_plain_reading_and_raises_in_order(files, tmp_path):
    plain = [b.video_uid.to_pylist() for b in iter_tree_batches(files[0], batch_size=1, prefetch=0)]
    ahead = [b.video_uid.to_pylist() for b in iter_tree_batches(files[0], batch_size=1, prefetch=2)]
    assert plain == ahead == [["video000000"], ["video000001"], ["video000002"]]
    bad = tmp_path / "z.parquet"
    bad.write_bytes(b"nope")
    seen = []
    with pytest.raises(SourceError, match="z.parquet"):
        for batch in iter_tree_batches([files[0], bad], batch_size=1):
            seen.append(batch.num_videos)
    assert seen == [1, 1, 1]  # everything before the bad file arrived first


def test_stopping_early_stops_the_reader(files):
    import threading

    stream = iter_tree_batches(files[0], batch_size=1, prefetch=1)
    next(stream)
    stream.close()
    assert not any(t.name == "graphkit-read-ahead" for t in threading.enumerate())
