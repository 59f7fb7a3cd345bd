from __future__ import annotations

import secrets

import neo4j
import numpy as np
import pytest

from graphkit import schema
from graphkit.errors import Neo4jImportError
from graphkit.labels import extract_labels
from graphkit.loaders.neo4j.admin_import import ImportReport, admin_command, run_import
from graphkit.loaders.neo4j.csv import export_csv
from graphkit.loaders.neo4j.server import DevServer
from graphkit.loaders.trees import read_trees
from graphkit.synth import generate_batch
from graphkit.testing import example_rows
from graphkit.tree import TreeBatch
from tests.factories import TRICKY, tricky_rows
from tests.neo4j_fixtures import FAST_START
from tests.paths import SAMPLE


def _source_trees() -> TreeBatch:
    """Synthetic videos, the tricky-caption video and, when present, the real sample."""
    parts = [TreeBatch.from_arrow(generate_batch(12, seed=11)), TreeBatch.from_arrow(tricky_rows())]
    if SAMPLE.is_file():
        parts.append(read_trees(SAMPLE, node_fields=None, metadata=True))
    return TreeBatch.concat(parts)


@pytest.fixture(scope="module", params=["csv", "gzip-shards"])
def imported(tmp_path_factory, request):
    """The source trees, exported (one plain file per type, or three gzip shards per type written in
    parallel), imported by the real neo4j-admin, served by a dev server."""
    trees = _source_trees()
    root = tmp_path_factory.mktemp("neo4j-import")
    batches = [trees.select(slice(i, i + 3)) for i in range(0, trees.num_videos, 3)]
    if request.param == "csv":
        export = export_csv(batches, root / "csv")
    else:
        export = export_csv(batches, root / "csv", compress=True, shards=3)
        assert all(len(paths) == 3 and all(p.name.endswith(".csv.gz") for p in paths)
                   for paths in export.shard_files.values())
    report = run_import(export, root / "home")
    server = DevServer(root / "home", password=secrets.token_urlsafe(12), jvm_options=FAST_START)
    server.start(timeout=300.0)
    try:
        with neo4j.GraphDatabase.driver(server.uri, auth=server.auth) as driver:
            yield trees, export, report, driver
    finally:
        server.stop()


def _query(driver, cypher: str, **params) -> list[dict]:
    records, _, _ = driver.execute_query(cypher, params, database_="neo4j")
    return [record.data() for record in records]


def _stored_properties(driver, spec: schema.NodeTypeSpec) -> dict:
    """The properties of every stored node of one type, by its key."""
    rows = _query(driver, f"MATCH (n:{spec.label}) RETURN properties(n) AS p")
    return {r["p"][spec.key]: r["p"] for r in rows}


@pytest.mark.neo4j
@pytest.mark.slow
def test_importer_reports_every_row(imported):
    trees, export, report, _ = imported
    assert isinstance(report, ImportReport)
    assert report.nodes == trees.num_videos + trees.num_nodes == export.nodes
    assert report.relationships == sum(len(trees.edges(s)) for s in schema.EDGE_TYPES)
    assert report.seconds > 0 and report.rows_per_s > 0


@pytest.mark.neo4j
@pytest.mark.slow
def test_counts_per_label_and_type(imported):
    trees, _, _, driver = imported
    labels = _query(driver, "MATCH (n) RETURN labels(n) AS labels, count(*) AS n")
    assert {tuple(r["labels"]): r["n"] for r in labels} == {
        ("Video",): trees.num_videos,
        ("Segment",): trees.num_nodes,
    }
    types = _query(driver, "MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS n")
    assert {r["type"]: r["n"] for r in types} == {s.name: len(trees.edges(s)) for s in schema.EDGE_TYPES}


@pytest.mark.neo4j
@pytest.mark.slow
def test_segment_properties_equal_the_source(imported):
    trees, _, _, driver = imported
    got = _stored_properties(driver, schema.SEGMENT)
    ids = trees.node_id.to_pylist()
    uids = np.asarray(trees.video_uid.to_pylist(), dtype=object)[trees.video_index]
    texts = {name: column.to_pylist() for name, column in trees.text.items()}
    texts["verb"] = extract_labels(trees.text["action_brief"], "verb").to_pylist()  # the dataset's label, as Bolt
    for i, node_id in enumerate(ids):
        props = got[node_id]
        expected = {
            "node_id": node_id,
            "video_uid": uids[i],
            "level": int(trees.level[i]),
            "is_leaf": bool(trees.is_leaf[i]),
            **{name: values[i] for name, values in texts.items() if values[i] is not None},
        }
        floats = {name: props.pop(name) for name in ("start", "end", "duration")}
        assert props == expected, node_id
        # Stored as float32 by the importer: the same float32 values come back.
        assert np.float32(floats["start"]) == trees.start[i]
        assert np.float32(floats["end"]) == trees.end[i]
        assert np.float32(floats["duration"]) == trees.duration[i]


@pytest.mark.neo4j
@pytest.mark.slow
def test_tricky_captions_are_stored_verbatim(imported):
    _, _, _, driver = imported
    rows = _query(
        driver,
        "MATCH (s:Segment {video_uid: $uid}) RETURN s.node_id AS id, s.plm_action AS plm_action, "
        "s.plm_caption AS plm_caption, s.llama3_caption AS llama3_caption, s.summary_brief AS summary_brief, "
        "s.summary_detailed AS summary_detailed, s.action_detailed AS action_detailed, s.actor AS actor "
        "ORDER BY id",
        uid="trickyVID01",
    )
    assert rows[0] == {
        "id": "trickyVID01-0", "plm_action": TRICKY[3], "plm_caption": "", "llama3_caption": None,
        "summary_brief": TRICKY[0], "summary_detailed": TRICKY[1], "action_detailed": TRICKY[2],
        "actor": TRICKY[4],
    }
    assert (rows[1]["plm_action"], rows[1]["plm_caption"], rows[1]["llama3_caption"]) == (
        None, TRICKY[7], TRICKY[8])
    assert (rows[2]["plm_action"], rows[2]["plm_caption"], rows[2]["llama3_caption"]) == ("", TRICKY[9], TRICKY[1])
    assert _query(driver, "MATCH (s:Segment) RETURN count(s) > 0 AS alive")[0]["alive"]


@pytest.mark.neo4j
@pytest.mark.slow
def test_video_properties_equal_the_source(imported):
    trees, _, _, driver = imported
    got = _stored_properties(driver, schema.VIDEO)
    for uid, meta in zip(trees.video_uid.to_pylist(), trees.metadata.to_pylist()):
        scalars = {k: meta[k] for k in ("title", "description", "view_count", "like_count", "duration", "upload_date")}
        expected = {"video_uid": uid, **{k: v for k, v in scalars.items() if v is not None}}
        if meta["transcript"]:  # Neo4j's importer stores an empty list as absent
            expected["transcript_time"] = [t["time"] for t in meta["transcript"]]
            expected["transcript_text"] = [t["text"] for t in meta["transcript"]]
        assert got[uid] == expected, uid


@pytest.mark.neo4j
@pytest.mark.slow
@pytest.mark.parametrize("spec", schema.EDGE_TYPES, ids=lambda s: s.name)
def test_relationships_equal_the_source(imported, spec):
    trees, _, _, driver = imported
    source_key = spec.source.key
    names = [p.name for p in spec.properties]
    returned = "".join(f", r.{name} AS {name}" for name in names)
    rows = _query(
        driver,
        f"MATCH (a:{spec.source.label})-[r:{spec.name}]->(b:{spec.target.label}) "
        f"RETURN a.{source_key} AS a, b.node_id AS b{returned}",
    )
    # Floats come back as the float32 the file holds (the importer widens them
    # by value of their shortest decimal, e.g. 3.7000008), so compare as float32.
    got = {(r["a"], r["b"], *(np.float32(r[n]) if n == "gap" else r[n] for n in names)) for r in rows}
    edges = trees.edges(spec)
    sources = (trees.video_uid if spec.source is schema.VIDEO else trees.node_id).to_pylist()
    ids = trees.node_id.to_pylist()
    attrs = [list(edges.attrs[n]) for n in names]
    expected = {(sources[s], ids[t], *a) for s, t, *a in zip(edges.source.tolist(), edges.target.tolist(), *attrs)}
    assert len(rows) == len(edges)
    assert got == expected


@pytest.mark.neo4j
@pytest.mark.slow
def test_real_sample_was_imported(imported):
    if not SAMPLE.is_file():
        pytest.skip(f"{SAMPLE} is not present")
    trees, _, _, driver = imported
    sample = read_trees(SAMPLE, node_fields=("gpt",), metadata=False)
    rows = _query(
        driver,
        "MATCH (v:Video)-[:HAS_ROOT]->(:Segment)-[:PARENT_OF*0..]->(s:Segment) WHERE v.video_uid IN $uids "
        "RETURN count(s) AS segments, count(s.action_brief) AS briefs, max(s.level) AS depth",
        uids=sample.video_uid.to_pylist(),
    )
    assert rows == [{
        "segments": sample.num_nodes,
        "briefs": len(sample.text["action_brief"]) - sample.text["action_brief"].null_count,
        "depth": int(sample.level.max()),
    }]


@pytest.mark.neo4j
def test_duplicate_nodes_fail_with_the_importers_own_words(tmp_path):
    # export_csv refuses a video twice itself (tests/defects/test_sink_identity.py); a file
    # changed by hand is what reaches the importer with a duplicate id.
    export = export_csv(TreeBatch.from_arrow(example_rows(1)), tmp_path / "csv")
    videos = export.files["Video"]
    videos.write_text(videos.read_text() + videos.read_text().splitlines(keepends=True)[1], encoding="utf-8")
    # The importer names the repeated import id (the video's row, 0) and its group.
    with pytest.raises(Neo4jImportError,
                       match=r"failed with exit status \d+: .*Id '0' is defined more than once in group 'Video'") as info:
        run_import(export, tmp_path / "home")
    assert info.value.lines and not any(line.lstrip().startswith("at ") for line in info.value.lines)
    assert info.value.log == tmp_path.resolve() / "home" / "logs" / "neo4j-admin-import.log"


def test_existing_database_is_refused_before_running(tmp_path):
    export = export_csv(TreeBatch.from_arrow(example_rows(1)), tmp_path / "csv")
    store = tmp_path / "home" / "data" / "databases" / "neo4j"
    store.mkdir(parents=True)
    (store / "neostore").write_text("x")
    with pytest.raises(Neo4jImportError, match="database 'neo4j' already exists in .*fresh home"):
        run_import(export, tmp_path / "home")


def test_rejects_other_exports(tmp_path):
    with pytest.raises(TypeError, match="must be a CsvExport from export_csv, got str"):
        run_import("csv/", tmp_path)


def test_admin_command_uses_the_entry_class():
    command = admin_command(["database", "import", "full", "neo4j"], java="java", heap="2g", jar="a.jar")
    assert command == ["java", "-Xmx2g", "-cp", "a.jar", "org.neo4j.cli.AdminTool", "database", "import", "full", "neo4j"]
