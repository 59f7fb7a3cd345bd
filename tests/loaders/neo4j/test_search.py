"""Segment search against the real Neo4j, on the real sample: full text and MiniLM vectors over Bolt."""

from __future__ import annotations

import re

import neo4j
import numpy as np
import pyarrow as pa
import pytest

from graphkit import schema
from graphkit.errors import Neo4jLoadError, Neo4jSearchError
from graphkit.loaders.neo4j.embeddings import SegmentEmbedder
from graphkit.loaders.neo4j.search import create_search_indexes, graph_encoder, require_online, search_segments
from graphkit.loaders.neo4j.search_cypher import FULLTEXT_INDEX, await_indexes_query
from graphkit.loaders.neo4j.writer import load_trees
from graphkit.loaders.trees import iter_tree_batches
from graphkit.tree import TreeBatch
from tests.neo4j_fixtures import clear_database
from tests.paths import SAMPLE
from tests.search_fixtures import drop_search_indexes, paraphrase

pytestmark = pytest.mark.neo4j

_WORD = re.compile(r"[a-z0-9]+")
_PLAIN = re.compile(r"^[A-Za-z]+$")


@pytest.fixture(scope="module")
def sample() -> TreeBatch:
    batches = list(iter_tree_batches(SAMPLE, node_fields=None, metadata=True))
    assert len(batches) == 1
    return batches[0]


@pytest.fixture(scope="module")
def minilm() -> SegmentEmbedder:
    return SegmentEmbedder.from_name("minilm")


@pytest.fixture(scope="module")
def driver(neo4j_server, sample, minilm):
    """The sample loaded over Bolt with MiniLM embeddings (module-wide); the indexes dropped afterwards."""
    with neo4j.GraphDatabase.driver(neo4j_server.uri, auth=neo4j_server.auth) as driver:
        clear_database(driver)
        drop_search_indexes(driver)
        load_trees(driver, sample, embed=minilm, batch_size=2_000)
        yield driver
        clear_database(driver)
        drop_search_indexes(driver)


def _segments(trees: TreeBatch) -> list[dict]:
    video = trees.video_uid.take(pa.array(trees.video_index)).to_pylist()
    columns = {name: trees.text[name].to_pylist() for name in schema.FULLTEXT_PROPERTIES}
    return [
        {"video_uid": video[i], "node_id": trees.node_id[i].as_py(),
         **{name: columns[name][i] for name in schema.FULLTEXT_PROPERTIES}}
        for i in range(trees.num_nodes)
    ]


def _normal(text: str | None) -> str:
    return " ".join(_WORD.findall((text or "").lower()))


def _caption_phrases(trees: TreeBatch, count: int) -> list[tuple[dict, str]]:
    """``count`` segments, each with six words of its caption that no other segment's text holds."""
    segments = _segments(trees)
    corpus = [" | ".join(_normal(s[name]) for name in schema.FULLTEXT_PROPERTIES) for s in segments]
    chosen = []
    for position in np.random.default_rng(0).permutation(len(segments)):
        segment = segments[position]
        words = (segment["plm_caption"] or segment["llama3_caption"] or "").split()
        # six plain words in a row (no apostrophe, hyphen or punctuation: the words as Lucene cuts them)
        windows = [words[i:i + 6] for i in range(3, len(words) - 5)]
        plain = [w for w in windows if all(_PLAIN.match(word) for word in w)]
        if not plain:
            continue
        phrase = " ".join(plain[0])
        if sum(_normal(phrase) in text for text in corpus) == 1:
            chosen.append((segment, phrase))
        if len(chosen) == count:
            break
    assert len(chosen) == count
    return chosen


def _unique_briefs(trees: TreeBatch, count: int) -> list[tuple[dict, str]]:
    """``count`` segments whose action brief (of two words or more) no other segment has."""
    briefs = trees.text["action_brief"].to_pylist()
    normal = [_normal(b) for b in briefs]
    counts: dict[str, int] = {}
    for text in normal:
        counts[text] = counts.get(text, 0) + 1
    segments = _segments(trees)
    chosen = []
    for position in np.random.default_rng(1).permutation(len(briefs)):
        brief = briefs[position]
        if brief and brief.lower() != "n/a" and len(normal[position].split()) >= 2 and counts[normal[position]] == 1:
            chosen.append((segments[position], brief))
        if len(chosen) == count:
            break
    assert len(chosen) == count
    return chosen


def _key(hit) -> tuple[str, str]:
    return hit.video_uid, hit.node_id


def test_a_phrase_of_a_caption_finds_its_segment_first(driver, sample):
    for segment, phrase in _caption_phrases(sample, 25):
        hits = search_segments(driver, phrase, k=5)
        assert hits, phrase
        assert _key(hits[0]) == (segment["video_uid"], segment["node_id"]), (phrase, hits[0])


@pytest.mark.parametrize("decorate", [
    lambda p: f'"{p}"', lambda p: p.replace(" ", ": ", 1), lambda p: f"({p}", lambda p: p.replace(" ", " - ", 2),
    lambda p: f"{p} &&", lambda p: f"[{p}}}", lambda p: f"{p}~ ^ *?", lambda p: f"\\{p}/", lambda p: f"!{p} ||",
    lambda p: f"+{p}:",
], ids=["quotes", "colon", "paren", "dashes", "and", "brackets", "fuzzy-boost-wildcard", "slashes", "bang-or", "plus"])
def test_lucene_special_characters_are_plain_text(driver, sample, decorate):
    segment, phrase = _caption_phrases(sample, 1)[0]
    hits = search_segments(driver, decorate(phrase), k=3)
    assert _key(hits[0]) == (segment["video_uid"], segment["node_id"])


@pytest.mark.parametrize("text", ['"', "(", ")", ":", "-", "---", "\\", "AND", "NOT OR", "*", "~", "/", "}{", "&&"])
def test_a_phrase_of_operators_only_is_no_parse_error(driver, text):
    assert isinstance(search_segments(driver, text, k=3), list)


def test_hits_carry_time_level_and_the_briefs_up_to_the_root(driver, sample):
    segment, phrase = _caption_phrases(sample, 1)[0]
    hit = search_segments(driver, phrase, k=1)[0]
    position = sample.node_id.to_pylist().index(hit.node_id)
    assert (hit.start, hit.end, hit.level) == pytest.approx(
        (float(sample.start[position]), float(sample.end[position]), int(sample.level[position])))
    levels = [step["level"] for step in hit.path]
    assert levels == list(range(hit.level, -1, -1))  # the segment, its parent, ..., the root
    assert hit.path[0]["node_id"] == hit.node_id
    # every step is the parent of the one before
    parents = dict(zip(sample.node_id.to_pylist(), [None if p < 0 else sample.node_id[p].as_py()
                                                      for p in sample.parent.tolist()]))
    for child, parent in zip(hit.path, hit.path[1:]):
        assert parents[child["node_id"]] == parent["node_id"]
    briefs = dict(zip(sample.node_id.to_pylist(), sample.text["action_brief"].to_pylist()))
    assert [step["action_brief"] for step in hit.path] == [briefs[step["node_id"]] for step in hit.path]


def test_k_bounds_the_hits_and_an_unknown_word_finds_nothing(driver):
    assert len(search_segments(driver, "bread", k=3)) == 3
    assert search_segments(driver, "xylophonequux", k=10) == []
    with pytest.raises(ValueError, match="k must be a positive integer"):
        search_segments(driver, "bread", k=0)
    with pytest.raises(ValueError, match="the search text is empty"):
        search_segments(driver, "  \n ")


def test_embeddings_are_float32_action_briefs_of_every_annotated_segment(driver, sample, minilm):
    positions, vectors = minilm.embed(sample)
    briefs = sample.text["action_brief"].to_pylist()
    annotated = [i for i, b in enumerate(briefs) if b and b.strip() and b.strip().lower() != "n/a"]
    assert positions.tolist() == annotated
    records, _, _ = driver.execute_query(
        "MATCH (s:Segment) WHERE s.embedding IS NOT NULL RETURN s.node_id AS node_id, s.embedding AS e",
        database_="neo4j")
    stored = {r["node_id"]: np.asarray(r["e"], dtype=np.float64) for r in records}
    ids = sample.node_id.to_pylist()
    assert set(stored) == {ids[i] for i in annotated}
    for position, vector in zip(positions, vectors):
        value = stored[ids[position]]
        assert np.array_equal(value, value.astype(np.float32).astype(np.float64))  # stored as float32
        # MiniLM's floats depend slightly on the texts batched with them (padding)
        np.testing.assert_allclose(value, vector, atol=1e-5)
    assert graph_encoder(driver) == ("minilm", 384)


def test_vector_search_finds_the_segment_of_a_paraphrased_brief(driver, sample, minilm):
    cases = _unique_briefs(sample, 50)
    hits = 0
    misses = []
    for i, (segment, brief) in enumerate(cases):
        text = paraphrase(brief, i)
        assert _normal(text) != _normal(brief)
        found = [_key(h) for h in search_segments(driver, text, vector=True, k=10, embedder=minilm)]
        if (segment["video_uid"], segment["node_id"]) in found:
            hits += 1
        else:
            misses.append((brief, text))
    rate = hits / len(cases)
    print(f"minilm paraphrase top-10 hit rate: {hits}/{len(cases)} = {rate:.0%}; misses: {misses}")
    assert rate >= 0.8, misses


def test_vector_search_takes_the_graphs_encoder_by_default_and_refuses_another(driver, sample):
    brief = _unique_briefs(sample, 1)[0][1]
    assert search_segments(driver, brief, vector=True, k=1)[0].action_brief == brief
    with pytest.raises(Neo4jSearchError, match="come from the 'minilm' encoder, not 'hashing'"):
        search_segments(driver, brief, vector=True, embedder="hashing")
    with pytest.raises(Neo4jSearchError, match=r"'minilm' encoder \(384 dimensions\), not 'hashing' \(256\)"):
        search_segments(driver, brief, vector=True, embedder=SegmentEmbedder.from_name("hashing"))


def test_a_load_with_another_encoder_is_refused_before_writing(driver, sample):
    before = driver.execute_query("MATCH (s:Segment) RETURN count(s) AS n", database_="neo4j").records[0]["n"]
    with pytest.raises(Neo4jSearchError, match="load with --embed minilm, or into a fresh database"):
        load_trees(driver, sample, embed="hashing")
    after = driver.execute_query("MATCH (s:Segment) RETURN count(s) AS n", database_="neo4j").records[0]["n"]
    assert before == after


def test_a_reload_without_embed_removes_the_embeddings_of_its_videos(neo4j_server, sample):
    with neo4j.GraphDatabase.driver(neo4j_server.uri, auth=neo4j_server.auth) as driver:
        clear_database(driver)
        drop_search_indexes(driver)
        for method in ("merge", "create"):
            load_trees(driver, sample, embed="hashing", method=method)
            count = "MATCH (s:Segment) WHERE s.embedding IS NOT NULL RETURN count(s) AS n"
            assert driver.execute_query(count, database_="neo4j").records[0]["n"] > 0
            load_trees(driver, sample, method=method)  # the source has no embeddings: a reload is exact
            assert driver.execute_query(count, database_="neo4j").records[0]["n"] == 0
        clear_database(driver)
        drop_search_indexes(driver)


def test_a_graph_without_embeddings_refuses_vector_search_in_one_line(neo4j_server, sample):
    with neo4j.GraphDatabase.driver(neo4j_server.uri, auth=neo4j_server.auth) as driver:
        clear_database(driver)
        drop_search_indexes(driver)
        with pytest.raises(Neo4jSearchError, match="the graph has no 'segment_text' index"):
            search_segments(driver, "bread")
        load_trees(driver, sample)
        assert graph_encoder(driver) is None
        with pytest.raises(Neo4jSearchError, match="the graph has no segment embeddings: load it with --embed"):
            search_segments(driver, "bread", vector=True)
        assert search_segments(driver, "bread", k=1)
        clear_database(driver)
        drop_search_indexes(driver)


def test_a_search_before_its_index_is_populated_says_how_far_it_is(neo4j_server):
    """200,000 segments take the dev server seconds to index; the search comes milliseconds after the CREATE."""
    with neo4j.GraphDatabase.driver(neo4j_server.uri, auth=neo4j_server.auth) as driver:
        clear_database(driver)
        drop_search_indexes(driver)
        driver.execute_query("UNWIND range(1, $n) AS i CREATE (:Segment {video_uid: 'v' + toString(i % 1000), "
                             "node_id: toString(i), action_brief: 'cut the cucumber into slice ' + toString(i), "
                             "llama3_caption: 'a person slices vegetables on a board, step ' + toString(i)})",
                             {"n": 200_000}, database_="neo4j")
        create_search_indexes(driver)
        with pytest.raises(Neo4jSearchError, match=r"'segment_text' index is still being populated "
                                                   r"\(\d+\.\d% done\): search again once it is ONLINE"):
            search_segments(driver, "cucumber")
        driver.execute_query(await_indexes_query(), {"seconds": 300}, database_="neo4j")
        require_online(driver, FULLTEXT_INDEX)
        assert [hit.node_id for hit in search_segments(driver, "slice 77", k=1)] == ["77"]
        clear_database(driver)
        drop_search_indexes(driver)


def test_an_unreachable_server_is_a_load_error():
    with neo4j.GraphDatabase.driver("bolt://127.0.0.1:1", auth=("neo4j", "x")) as driver:
        with pytest.raises(Neo4jLoadError, match="cannot reach the Neo4j server"):
            search_segments(driver, "bread")
