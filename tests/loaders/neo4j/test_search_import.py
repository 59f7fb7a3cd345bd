"""The bulk path keeps search working: ``export-csv --embed --import-into --wait-for-indexes`` on the real sample,
real neo4j-admin."""

from __future__ import annotations

import secrets

import neo4j
import numpy as np
import pytest

from graphkit.loaders.neo4j.embeddings import SegmentEmbedder
from graphkit.loaders.neo4j.search import graph_encoder, search_segments
from graphkit.loaders.neo4j.server import DevServer
from graphkit.loaders.trees import iter_tree_batches
from tests.graphkit.cli.runner import graphkit
from tests.neo4j_fixtures import FAST_START
from tests.paths import SAMPLE

pytestmark = pytest.mark.neo4j


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """The sample exported with MiniLM embeddings and imported by the CLI; a server on that home."""
    root = tmp_path_factory.mktemp("search-import")
    result = graphkit("neo4j", "export-csv", str(SAMPLE), "--out", str(root / "csv"), "--embed", "minilm",
                      "--import-into", str(root / "home"), "--wait-for-indexes", timeout=1200)
    assert result.returncode == 0, result.stderr
    assert "created the constraints and search indexes; every index is online" in result.stderr
    assert "embedding:float[]" in (root / "csv" / "segments.csv").read_text(encoding="utf-8").splitlines()[0]
    server = DevServer(root / "home", password=secrets.token_urlsafe(12), jvm_options=FAST_START)
    uri = server.start(timeout=300.0)
    try:
        with neo4j.GraphDatabase.driver(uri, auth=server.auth) as driver:
            yield driver
    finally:
        server.stop()


@pytest.fixture(scope="module")
def sample():
    return next(iter(iter_tree_batches(SAMPLE, node_fields=None, metadata=True)))


def test_the_schema_and_both_search_indexes_are_online(imported):
    records, _, _ = imported.execute_query("SHOW INDEXES YIELD name, type, state RETURN name, type, state",
                                           database_="neo4j")
    indexes = {r["name"]: (r["type"], r["state"]) for r in records}
    assert indexes["segment_text"] == ("FULLTEXT", "ONLINE")
    assert indexes["segment_embedding_minilm"] == ("VECTOR", "ONLINE")
    assert indexes["segment_video_uid_node_id_unique"][1] == "ONLINE"
    assert graph_encoder(imported) == ("minilm", 384)


def test_embeddings_survive_the_export_and_the_import_as_float32(imported, sample):
    positions, vectors = SegmentEmbedder.from_name("minilm").embed(sample)
    records, _, _ = imported.execute_query(
        "MATCH (s:Segment) WHERE s.embedding IS NOT NULL RETURN s.node_id AS node_id, s.embedding AS e",
        database_="neo4j")
    stored = {r["node_id"]: np.asarray(r["e"]) for r in records}
    ids = sample.node_id.to_pylist()
    assert set(stored) == {ids[i] for i in positions}
    for position, vector in zip(positions, vectors):
        value = stored[ids[position]]
        assert np.array_equal(value, value.astype(np.float32).astype(np.float64))
        np.testing.assert_allclose(value, vector, atol=1e-5)


def test_vector_and_fulltext_search_work_on_the_imported_graph(imported, sample):
    briefs = sample.text["action_brief"].to_pylist()
    ids = sample.node_id.to_pylist()
    unique = [i for i, b in enumerate(briefs) if b and b.lower() != "n/a" and briefs.count(b) == 1]
    for position in unique[:10]:
        hits = search_segments(imported, briefs[position], vector=True, k=3)
        assert ids[position] in [h.node_id for h in hits], briefs[position]
    assert search_segments(imported, briefs[unique[0]], k=3)
