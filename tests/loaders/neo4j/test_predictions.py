"""The dataset's labels and a model's predictions in the graph, against the real Neo4j on the real sample.

* every loader path writes ``verb`` exactly as :mod:`graphkit.labels` computes
  the training labels (absent where a segment has no gpt action);
* ``write_predictions`` sets ``predicted_verb``, ``prediction_confidence``,
  ``prediction_run`` and ``split`` on every segment, changes nothing else, and
  a second run leaves the same graph (every property of every node and
  relationship compared);
* videos of the run that the graph lacks are reported, not an error.
"""

from __future__ import annotations

import json
import math

import neo4j
import numpy as np
import pytest
from typer.testing import CliRunner

from graphkit import schema
from graphkit.cli import app
from graphkit.labels import extract_labels
from graphkit.loaders.neo4j.predictions import PredictionReport, write_predictions
from graphkit.loaders.neo4j.writer import load_trees
from graphkit.loaders.trees import read_trees
from graphkit.models.predictions import SegmentPredictor
from graphkit.splits import SPLIT_NAMES
from graphkit.tree import TreeBatch
from tests.loaders.neo4j.labelled_graph import sample_source, train_run
from tests.sink_truth import neo4j_graph

PREDICTION_PROPERTIES = {"predicted_verb", schema.PREDICTION_CONFIDENCE, schema.PREDICTION_RUN,
                         schema.SPLIT_PROPERTY}
runner = CliRunner()


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple:
    """(source path, its trees)."""
    path = sample_source(tmp_path_factory.mktemp("sample"))
    return path, read_trees(path, node_fields=None, metadata=True)


@pytest.fixture(scope="module")
def run_dir(sample, tmp_path_factory):
    return train_run(sample[0], tmp_path_factory.mktemp("labels-run") / "mlp")


def _verbs(driver: neo4j.Driver) -> dict[tuple[str, str], str | None]:
    records, _, _ = driver.execute_query(
        "MATCH (s:Segment) RETURN s.video_uid AS v, s.node_id AS n, s.verb AS verb, 'verb' IN keys(s) AS has",
        database_="neo4j")
    assert all(r["has"] == (r["verb"] is not None) for r in records)
    return {(r["v"], r["n"]): r["verb"] for r in records}


def _expected_verbs(trees: TreeBatch) -> dict[tuple[str, str], str | None]:
    uids = np.asarray(trees.video_uid.to_pylist(), dtype=object)[trees.video_index]
    verbs = extract_labels(trees.text["action_brief"], "verb").to_pylist()
    return dict(zip(zip(uids.tolist(), trees.node_id.to_pylist()), verbs))


@pytest.mark.neo4j
@pytest.mark.parametrize("method", ["create", "merge"])
def test_the_graph_verb_is_the_training_label_of_every_segment(neo4j_driver, sample, method):
    _, trees = sample
    load_trees(neo4j_driver, trees, method=method)
    expected = _expected_verbs(trees)
    assert _verbs(neo4j_driver) == expected
    values = list(expected.values())
    assert any(v is None for v in values) and sum(v is not None for v in values) > len(values) // 10
    # The lemma, not the first word: some segment's verb differs from its brief's lower-cased first word.
    briefs = trees.text["action_brief"].to_pylist()
    assert any(v is not None and b.split()[0].lower() != v for v, b in zip(values, briefs))


def _graph_of(driver):
    nodes, rels = neo4j_graph(driver)
    return sorted(nodes), sorted(rels)


def _without_predictions(graph):
    nodes, rels = graph
    return sorted((key, tuple(p for p in props if p[0] not in PREDICTION_PROPERTIES)) for key, props in nodes), rels


@pytest.mark.neo4j
def test_write_predictions_twice_leaves_the_same_graph(neo4j_driver, sample, run_dir):
    _, trees = sample
    load_trees(neo4j_driver, trees)
    loaded = _graph_of(neo4j_driver)
    predictor = SegmentPredictor(run_dir, device="cpu")
    first = write_predictions(neo4j_driver, predictor.iter_batches(), label=predictor.label, run=predictor.run_id,
                              batch_size=500)
    once = _graph_of(neo4j_driver)
    second = write_predictions(neo4j_driver, predictor.iter_batches(), label=predictor.label,
                               run=predictor.run_id, batch_size=333)
    assert _graph_of(neo4j_driver) == once  # every property of every node and relationship
    assert first == PredictionReport(run=predictor.run_id, property="predicted_verb", videos=trees.num_videos,
                                     segments=trees.num_nodes, seconds=first.seconds)
    assert second.segments == trees.num_nodes and second.missing_videos == 0
    # Nothing but the four properties changed, and every segment has them.
    assert _without_predictions(once) == loaded
    records, _, _ = neo4j_driver.execute_query(
        "MATCH (s:Segment) RETURN s.video_uid AS v, s.predicted_verb AS p, s.prediction_confidence AS c, "
        "s.prediction_run AS r, s.split AS split", database_="neo4j")
    assert len(records) == trees.num_nodes
    classes = set(predictor.vocabulary.classes)
    splits = dict(zip(trees.video_uid.to_pylist(), predictor.task.split(trees).tolist()))
    for record in records:
        assert record["p"] in classes and 0.0 < record["c"] <= 1.0 and not math.isnan(record["c"])
        assert record["r"] == predictor.run_id and record["split"] == SPLIT_NAMES[splits[record["v"]]]
    assert len({r["split"] for r in records}) > 1


@pytest.mark.neo4j
def test_videos_of_the_run_missing_from_the_graph_are_reported(neo4j_driver, sample, run_dir):
    _, trees = sample
    load_trees(neo4j_driver, trees)
    gone = trees.video_uid[0].as_py()
    neo4j_driver.execute_query("MATCH (n {video_uid: $uid}) DETACH DELETE n", uid=gone, database_="neo4j")
    predictor = SegmentPredictor(run_dir, device="cpu")
    report = write_predictions(neo4j_driver, predictor.iter_batches(), label="verb", run=predictor.run_id)
    gone_segments = int(trees.nodes_per_video[0])
    assert (report.videos, report.segments) == (trees.num_videos - 1, trees.num_nodes - gone_segments)
    assert report.missing_videos == 1 and report.missing_examples == (gone,)
    assert f"1 video predicted is not in the graph ({gone!r}): not written" in report.summary()
    records, _, _ = neo4j_driver.execute_query("MATCH (n {video_uid: $uid}) RETURN count(n) AS n", uid=gone,
                                               database_="neo4j")
    assert records[0]["n"] == 0  # nothing was created for it


@pytest.mark.neo4j
def test_the_command_writes_predictions_and_says_what_it_wrote(neo4j_server, neo4j_driver, sample, run_dir):
    _, trees = sample
    load_trees(neo4j_driver, trees)
    credentials = ["--uri", neo4j_server.uri, "--user", neo4j_server.user, "--password", neo4j_server.password]
    before = runner.invoke(app, ["neo4j", "query", "prediction_disagreements_by_level", *credentials])
    # One line, "no rows" (on the console's stream), and no driver warning about the absent property.
    assert before.exit_code == 0 and before.output == "no rows\n", before.output
    outputs = []
    for _ in range(2):
        result = runner.invoke(app, ["neo4j", "write-predictions", str(run_dir), "--device", "cpu", *credentials])
        assert result.exit_code == 0, result.output
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1] and outputs[0].count("\n") == 1
    assert f"on {trees.num_nodes:,} segments of {trees.num_videos:,} videos" in outputs[0]
    assert neo4j_server.password not in outputs[0]
    after = runner.invoke(app, ["neo4j", "query", "prediction_disagreements_by_level", "--json", *credentials])
    rows = json.loads(after.stdout)["rows"]
    assert sum(row["segments"] for row in rows) == sum(v is not None for v in _expected_verbs(trees).values())
    assert all(0.0 <= row["disagreement_rate"] <= 1.0 for row in rows)


def test_the_command_refuses_a_directory_that_is_no_run_in_one_line(tmp_path):
    result = runner.invoke(app, ["neo4j", "write-predictions", str(tmp_path), "--password", "x"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "model.pt does not exist" in result.stderr
