"""The on-disk embedding cache: keys, exact hits, concurrent writers, bounded memory."""

from __future__ import annotations

import multiprocessing
import sqlite3
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from graphkit.errors import DatasetError
from graphkit.features import HashingEncoder
from graphkit.loaders.embedding_cache import (
    DATABASE,
    CachedEncoder,
    EmbeddingCache,
    cached_text_encoder,
    default_cache_dir,
    text_hashes,
)


class CountingEncoder:
    """A deterministic encoder that records every text it is asked to embed."""

    def __init__(self, name: str = "counting", version: str = "1", dim: int = 6) -> None:
        self.name, self.version, self.dim = name, version, dim
        self.seen: list[str] = []

    def encode(self, texts):
        texts = [t for t in (texts.to_pylist() if hasattr(texts, "to_pylist") else texts)]
        self.seen += texts
        seeds = [int.from_bytes(h[:4], "little") for h in text_hashes(texts)]
        out = np.stack([np.random.default_rng(s).standard_normal(self.dim) for s in seeds]).astype(np.float32)
        out += float(self.version) if self.version.isdigit() else 0.0
        return out


def test_each_distinct_text_is_encoded_once_and_a_hit_is_the_stored_vector(tmp_path):
    inner = CountingEncoder()
    encoder = CachedEncoder(inner, tmp_path)
    texts = ["cut paper", "fold paper", "cut paper", None, "", "fold paper"]
    first = encoder.encode(texts)
    assert sorted(inner.seen) == ["cut paper", "fold paper"]  # deduplicated; null and empty never encoded
    assert encoder.misses == 2 and encoder.hits == 0
    np.testing.assert_array_equal(first[[3, 4]], 0)
    np.testing.assert_array_equal(first[0], first[2])

    again = CachedEncoder(CountingEncoder(), tmp_path)  # another run, same cache
    second = again.encode(texts)
    assert again.encoder.seen == [] and again.hits == 2 and again.misses == 0
    assert second.tobytes() == first.tobytes()  # exactly the stored vectors
    stored, hit = EmbeddingCache(tmp_path).lookup("counting", "1", text_hashes(["cut paper"]), 6)
    assert hit.all() and stored[0].tobytes() == first[0].tobytes()
    assert repr(again) == f"CachedEncoder('counting', version='1', dim=6, cache=EmbeddingCache({str(tmp_path)!r}))"


def test_a_changed_text_misses(tmp_path):
    encoder = CachedEncoder(CountingEncoder(), tmp_path)
    encoder.encode(["cut paper"])
    encoder.encode(["cut  paper", "Cut paper", "cut paper."])
    assert encoder.misses == 4 and encoder.hits == 0
    assert encoder.encoder.seen == ["cut paper", "cut  paper", "Cut paper", "cut paper."]


@pytest.mark.parametrize("other", [{"name": "other"}, {"version": "2"}])
def test_a_changed_encoder_name_or_version_misses(tmp_path, other):
    base = CachedEncoder(CountingEncoder(), tmp_path)
    x = base.encode(["cut paper", "fold paper"])
    changed = CachedEncoder(CountingEncoder(**other), tmp_path)
    y = changed.encode(["cut paper", "fold paper"])
    assert changed.hits == 0 and changed.misses == 2 and changed.encoder.seen == ["cut paper", "fold paper"]
    if "version" in other:
        assert not np.array_equal(x, y)  # a stale vector would have been returned on a hit
    cache = EmbeddingCache(tmp_path)
    assert cache.count("counting", "1") == 2 and cache.count() == 4


def test_the_hashing_encoders_version_carries_its_options(tmp_path):
    assert HashingEncoder(dim=8).version != HashingEncoder(dim=16).version != HashingEncoder(dim=16, seed=1).version
    a = CachedEncoder(HashingEncoder(dim=8), tmp_path)
    b = CachedEncoder(HashingEncoder(dim=8, seed=3), tmp_path)
    a.encode(["cut paper"])
    b.encode(["cut paper"])
    assert b.misses == 1
    np.testing.assert_array_equal(b.encode(["cut paper"]), HashingEncoder(dim=8, seed=3).encode(["cut paper"]))


def test_a_lazy_encoder_is_made_only_on_a_miss(tmp_path):
    made = []

    def make():
        made.append(1)
        return CountingEncoder()

    warm = CachedEncoder(CountingEncoder(), tmp_path)
    warm.encode(["cut paper"])
    lazy = CachedEncoder(make, tmp_path, name="counting", version="1", dim=6)
    lazy.encode(["cut paper", None])
    assert made == []
    lazy.encode(["new text"])
    assert made == [1]
    with pytest.raises(ValueError, match="the encoder made is counting 1 .*not counting 9"):
        CachedEncoder(make, tmp_path, name="counting", version="9", dim=6).encode(["third"])


def test_shared_encoders_follow_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHKIT_EMBEDDING_CACHE", str(tmp_path / "here"))
    assert default_cache_dir() == tmp_path / "here"
    encoder = cached_text_encoder("hashing")
    assert encoder is cached_text_encoder("hashing") and encoder.cache.directory == tmp_path / "here"
    monkeypatch.delenv("GRAPHKIT_EMBEDDING_CACHE")
    monkeypatch.setenv("GRAPHKIT_CACHE_DIR", str(tmp_path / "graphkit"))
    assert default_cache_dir() == tmp_path / "graphkit" / "embeddings"


def test_a_corrupt_or_misplaced_cache_is_one_clear_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file"):
        CachedEncoder(CountingEncoder(), tmp_path / "file").encode(["a"])
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / DATABASE).write_bytes(b"not a database, " * 100)
    with pytest.raises(DatasetError, match="unusable.*delete it"):
        CachedEncoder(CountingEncoder(), tmp_path / "bad").encode(["a"])
    wide = CachedEncoder(CountingEncoder(dim=6), tmp_path / "dims")
    wide.encode(["a"])
    with pytest.raises(DatasetError, match="not 4 wide"):
        CachedEncoder(CountingEncoder(dim=4), tmp_path / "dims").encode(["a"])


def _writer(directory: str, start: int, queue) -> None:
    encoder = CachedEncoder(CountingEncoder(), directory)
    texts = [f"text {i}" for i in range(start, start + 3000)]
    for begin in range(0, len(texts), 100):  # many small transactions, interleaving with the other process
        encoder.encode(texts[begin:begin + 100])
    queue.put(encoder.misses)


def test_two_processes_writing_the_same_cache_do_not_corrupt_it(tmp_path):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    writers = [context.Process(target=_writer, args=(str(tmp_path), start, queue)) for start in (0, 1500)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=240)
        assert process.exitcode == 0
    misses = [queue.get(timeout=5), queue.get(timeout=5)]
    assert sum(misses) >= 4500  # the overlap may be encoded by both; it is stored once
    connection = sqlite3.connect(tmp_path / DATABASE)
    assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert connection.execute("SELECT COUNT(*) FROM vectors").fetchone()[0] == 4500
    texts = [f"text {i}" for i in range(4500)]
    stored, hit = EmbeddingCache(tmp_path).lookup("counting", "1", text_hashes(texts), 6)
    assert hit.all()
    np.testing.assert_array_equal(stored, CountingEncoder().encode(texts))


_MEMORY_PROBE = textwrap.dedent("""
    import resource, sys
    import numpy as np
    from graphkit.loaders.embedding_cache import EmbeddingCache, text_hashes
    cache = EmbeddingCache(sys.argv[1])
    hashes = text_hashes([f"text {i}" for i in range(0, 60000, 600)])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(20):
        vectors, hit = cache.lookup("big", "1", hashes, 384)
    assert hit.all(), hit.sum()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
""")


def test_a_cache_much_larger_than_a_batch_is_never_loaded_whole(tmp_path):
    cache = EmbeddingCache(tmp_path)
    rng = np.random.default_rng(0)
    for start in range(0, 60000, 10000):  # 60,000 vectors of 384 floats: 92 MB on disk
        texts = [f"text {i}" for i in range(start, start + 10000)]
        cache.store("big", "1", text_hashes(texts), rng.standard_normal((10000, 384), dtype=np.float32))
    cache.close()
    assert (tmp_path / DATABASE).stat().st_size > 90e6
    probe = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, str(tmp_path)], capture_output=True, text=True,
                           timeout=120)
    assert probe.returncode == 0, probe.stderr
    grown_kib = int(probe.stdout.strip())
    assert grown_kib < 32 * 1024, f"looking up 100 vectors grew the peak RSS by {grown_kib} KiB"
