"""Every cookbook query uses the indexes, and ``graphkit neo4j query`` runs each one: on the real sample.

The sample is loaded with the real loader (which creates the keys and the
cookbook's indexes) and a trained run's predictions are written onto it; then
each query runs under ``PROFILE`` with example parameters taken from the
graph. A plan fails when a label scan (``NodeByLabelScan``, ``AllNodesScan``,
a relationship-type or all-relationships scan) *reads rows*: an operator that
a parameter keeps from running (the all-videos branch of a query given one
video) reads none. A query whose nature is a scan is allowed explicitly in
:data:`SCANS`, with the reason.
"""

from __future__ import annotations

import json

import neo4j
import pytest
from typer.testing import CliRunner

from graphkit.cli import app
from graphkit.loaders.neo4j.cookbook import describe_query, list_queries, load_query, run_query
from graphkit.loaders.neo4j.predictions import write_predictions
from graphkit.loaders.neo4j.writer import load_trees
from graphkit.loaders.trees import read_trees
from graphkit.models.predictions import SegmentPredictor
from tests.loaders.neo4j.labelled_graph import sample_source, train_run
from tests.neo4j_fixtures import clear_database

runner = CliRunner()

#: Operators that read every node of a label (or every relationship of a type).
SCAN_OPERATORS = ("NodeByLabelScan", "AllNodesScan", "RelationshipTypeScan", "AllRelationshipsScan")

#: (query, whether $video_uid is null) -> why a label scan is its nature.
SCANS = {
    ("deepest_videos", False): "ranks every video: its answer has a row per :Video, so it reads them all",
    ("level_histogram", True): "a histogram over every segment of every video",
    ("annotation_coverage_by_level", True): "coverage counted over every segment of every video",
}


@pytest.fixture(scope="module")
def graph(neo4j_server, tmp_path_factory):
    """(driver, example parameters by query): the sample loaded, a run's predictions written."""
    source = sample_source(tmp_path_factory.mktemp("plans"))
    trees = read_trees(source, node_fields=None, metadata=True)
    run_dir = train_run(source, tmp_path_factory.mktemp("plans-run") / "mlp")
    with neo4j.GraphDatabase.driver(neo4j_server.uri, auth=neo4j_server.auth) as driver:
        clear_database(driver)
        load_trees(driver, trees)
        predictor = SegmentPredictor(run_dir, device="cpu")
        write_predictions(driver, predictor.iter_batches(), label=predictor.label, run=predictor.run_id)
        yield driver, _examples(driver, predictor.run_id)


def _one(driver: neo4j.Driver, query: str) -> dict:
    records, _, _ = driver.execute_query(query, database_="neo4j")
    assert records, query
    return records[0].data()


def _examples(driver: neo4j.Driver, run: str) -> dict[str, dict]:
    """Parameters for every query that make it answer something on this graph."""
    leaf = _one(driver, "MATCH (s:Segment {is_leaf: true}) WHERE s.level > 2 "
                        "RETURN s.video_uid AS video_uid, s.node_id AS node_id ORDER BY s.level DESC LIMIT 1")
    pair = _one(driver, "MATCH (a:Segment)-[:NEXT]->(b:Segment) WHERE a.action_brief IS NOT NULL "
                        "AND b.action_brief IS NOT NULL AND toLower(a.action_brief) <> toLower(b.action_brief) "
                        "RETURN a.action_brief AS a, b.action_brief AS b, b.start - a.end + 1.0 AS wait LIMIT 1")
    uid = leaf["video_uid"]
    return {
        "path_to_segment": leaf, "subtree_captions": leaf, "leaf_timeline": {"video_uid": uid},
        "step_sequence": {"video_uid": uid, "level": 3},
        "actions_following": {"action": pair["a"], "relationship": "NEXT", "not_applicable": "n/a", "limit": 10},
        "action_followed_by_within": {"action_a": pair["a"], "action_b": pair["b"], "max_seconds": pair["wait"]},
        "same_verb_as_parent": {"limit": 10}, "top_verbs_per_level": {"top": 3},
        "annotation_coverage_by_level": {"video_uid": uid}, "level_histogram": {"video_uid": uid},
        "longest_actor_run": {"video_uid": uid, "not_applicable": "n/a", "limit": 5},
        "deepest_videos": {"limit": 3}, "next_gaps": {"min_gap": 0.0, "limit": 10},
        "prediction_disagreements_by_level": {"split": None, "run": run},
    }


def _variants(examples: dict[str, dict]) -> list[tuple[str, bool, dict]]:
    """(query, $video_uid is null, parameters): each query, and the all-videos form of those that have one."""
    variants = []
    for name in list_queries():
        params = examples[name]
        variants.append((name, False, params))
        if "video_uid" in params and describe_query(name).parameters["video_uid"].startswith("(string or null)"):
            variants.append((name, True, {**params, "video_uid": None}))
    return variants


def _scans(plan: dict) -> list[tuple[str, int]]:
    """(operator, rows) of every scan operator of a profiled plan that read rows."""
    found = []
    operator = plan["operatorType"].split("@")[0]
    if operator.endswith(SCAN_OPERATORS) and plan.get("rows", 0) > 0:
        found.append((operator, plan["rows"]))
    for child in plan.get("children", []):
        found += _scans(child)
    return found


def _profile(driver: neo4j.Driver, query: str, params: dict) -> dict:
    with driver.session(database="neo4j") as session:
        result = session.run("PROFILE " + query, params)
        result.data()  # every row, so the profile counts them
        summary = result.consume()
    assert summary.profile is not None
    return summary.profile


@pytest.mark.neo4j
def test_the_check_catches_a_label_scan(graph):
    driver, _ = graph
    plan = _profile(driver, "MATCH (s:Segment) WHERE toLower(s.plm_action) = $x RETURN s", {"x": "cut"})
    assert _scans(plan) and _scans(plan)[0][0] == "NodeByLabelScan"
    assert not _scans(_profile(driver, "MATCH (s:Segment) WHERE s.verb = $x RETURN s", {"x": "cut"}))


@pytest.mark.neo4j
def test_no_cookbook_query_scans_a_label_where_an_index_applies(graph):
    driver, examples = graph
    failures, answered = [], 0
    for name, all_videos, params in _variants(examples):
        plan = _profile(driver, load_query(name), params)
        answered += bool(run_query(driver, name, params))
        scans = _scans(plan)
        if scans and (name, all_videos) not in SCANS:
            failures.append(f"{name} (video_uid {'null' if all_videos else 'given'}): {scans}")
    assert not failures, "label scans where an index applies:\n" + "\n".join(failures)
    assert answered >= len(list_queries())  # the examples make the queries answer something
    # Every allowed scan is a real variant of a query (the list cannot hide a renamed query).
    assert set(SCANS) <= {(name, all_videos) for name, all_videos, _ in _variants(examples)}


@pytest.mark.neo4j
def test_neo4j_query_runs_every_cookbook_query_through_the_cli(graph, neo4j_server):
    driver, examples = graph
    credentials = ["--uri", neo4j_server.uri, "--user", neo4j_server.user, "--password", neo4j_server.password]
    listing = runner.invoke(app, ["neo4j", "query"])
    assert listing.exit_code == 0, listing.output
    for name in list_queries():
        assert f"{name}: {describe_query(name).title}" in listing.stdout
        params = [f"--param={key}={value}" for key, value in examples[name].items() if value is not None]
        result = runner.invoke(app, ["neo4j", "query", name, *params, "--json", *credentials])
        assert result.exit_code == 0, (name, result.output)
        answer = json.loads(result.stdout)
        assert answer["query"] == name
        assert answer["rows"] == json.loads(json.dumps(run_query(driver, name, answer["parameters"]), default=str))
        tabular = runner.invoke(app, ["neo4j", "query", name, *params, *credentials])
        assert tabular.exit_code == 0, (name, tabular.output)
