from __future__ import annotations

import re
from collections import Counter, defaultdict

import neo4j
import numpy as np
import pytest

from graphkit import schema
from graphkit.labels import extract_labels
from graphkit.loaders.neo4j.cookbook import CookbookQuery, cookbook_dir, describe_query, list_queries, load_query
from graphkit.loaders.trees import read_trees
from graphkit.synth import generate_batch
from graphkit.tree import TreeBatch
from tests.paths import SAMPLE

NA = schema.NOT_APPLICABLE


# --- the files themselves (no server) -----------------------------------------


def test_at_least_ten_documented_queries_and_a_readme():
    names = list_queries()
    assert len(names) >= 10
    readme = (cookbook_dir() / "README.md").read_text(encoding="utf-8")
    for name in names:
        assert f"{name}.cypher" in readme


@pytest.mark.parametrize("name", list_queries())
def test_every_value_is_a_documented_parameter(name):
    query = describe_query(name)
    body = "\n".join(line for line in query.text.splitlines() if not line.startswith("//"))
    assert query.title and query.description.startswith("Answers:")
    assert set(re.findall(r"\$(\w+)", body)) == set(query.parameters)
    # No literal values: the only quoted text is the ' ' that splits off a verb.
    assert set(re.findall(r"'[^']*'|\"[^\"]*\"", body)) <= {"' '"}
    assert not re.search(r"(?<![\w$.\[])\d+\.\d+", body)  # no numeric literals other than 0/1 counters
    labels = set(re.findall(r"\(\w*:(\w+)", body))
    assert labels <= {spec.label for spec in schema.NODE_TYPES}
    types = set(re.findall(r"\[\w*:([A-Z_|]+)", body))
    assert {t for group in types for t in group.split("|")} <= {spec.name for spec in schema.EDGE_TYPES}


def test_unknown_query_lists_the_choices():
    with pytest.raises(ValueError, match=r"unknown cookbook query 'nope'; expected one of .*step_sequence"):
        load_query("nope")
    assert load_query("step_sequence.cypher") == load_query("step_sequence")
    assert isinstance(describe_query("next_gaps"), CookbookQuery)


# --- against the real server --------------------------------------------------


def _load(driver: neo4j.Driver, trees: TreeBatch) -> None:
    """A minimal test-only loader: UNWIND ... CREATE, names from the schema, values as parameters."""
    driver.execute_query("MATCH (n) DETACH DELETE n", database_="neo4j")
    titles = [m["title"] for m in trees.metadata.to_pylist()]
    videos = [{"video_uid": uid, "title": title} for uid, title in zip(trees.video_uid.to_pylist(), titles)]
    uids = np.asarray(trees.video_uid.to_pylist(), dtype=object)[trees.video_index]
    texts = {name: column.to_pylist() for name, column in trees.text.items()}
    texts["verb"] = extract_labels(trees.text["action_brief"], "verb").to_pylist()  # as every loader stores it
    segments = [
        {
            "node_id": node_id, "video_uid": uids[i], "level": int(trees.level[i]),
            "start": float(trees.start[i]), "end": float(trees.end[i]),
            "duration": float(trees.duration[i]), "is_leaf": bool(trees.is_leaf[i]),
            **{name: values[i] for name, values in texts.items()},
        }
        for i, node_id in enumerate(trees.node_id.to_pylist())
    ]
    element = {}
    for spec, rows in ((schema.VIDEO, videos), (schema.SEGMENT, segments)):
        for chunk in range(0, len(rows), 5000):
            records, _, _ = driver.execute_query(
                f"UNWIND $rows AS row CREATE (n:{spec.label}) SET n = row "
                f"RETURN row.{spec.key} AS key, elementId(n) AS id",
                rows=rows[chunk : chunk + 5000], database_="neo4j",
            )
            element.update({(spec.label, r["key"]): r["id"] for r in records})
    ids = trees.node_id.to_pylist()
    video_ids = trees.video_uid.to_pylist()
    for spec in schema.EDGE_TYPES:
        edges = trees.edges(spec)
        sources = video_ids if spec.source is schema.VIDEO else ids
        rows = [
            {
                "a": element[(spec.source.label, sources[s])],
                "b": element[(spec.target.label, ids[t])],
                "props": {name: edges.attrs[name][k].item() for name in edges.attrs},
            }
            for k, (s, t) in enumerate(zip(edges.source.tolist(), edges.target.tolist()))
        ]
        for chunk in range(0, len(rows), 5000):
            driver.execute_query(
                "UNWIND $rows AS row MATCH (a) WHERE elementId(a) = row.a "
                f"MATCH (b) WHERE elementId(b) = row.b CREATE (a)-[r:{spec.name}]->(b) SET r = row.props",
                rows=rows[chunk : chunk + 5000], database_="neo4j",
            )


class Reference:
    """The loaded trees as plain Python rows, for answers computed without Neo4j."""

    def __init__(self, trees: TreeBatch) -> None:
        self.trees = trees
        uids = np.asarray(trees.video_uid.to_pylist(), dtype=object)[trees.video_index]
        texts = {name: column.to_pylist() for name, column in trees.text.items()}
        texts["verb"] = extract_labels(trees.text["action_brief"], "verb").to_pylist()
        self.rows = [
            {
                "i": i, "node_id": node_id, "video_uid": uids[i], "level": int(trees.level[i]),
                "start": float(trees.start[i]), "end": float(trees.end[i]),
                "duration": float(trees.duration[i]), "is_leaf": bool(trees.is_leaf[i]),
                "parent": int(trees.parent[i]), **{name: values[i] for name, values in texts.items()},
            }
            for i, node_id in enumerate(trees.node_id.to_pylist())
        ]
        self.by_id = {row["node_id"]: row for row in self.rows}
        self.children = defaultdict(list)
        for row in self.rows:
            if row["parent"] >= 0:
                self.children[row["parent"]].append(row["i"])
        self.leaves = defaultdict(list)
        for row in sorted(self.rows, key=lambda r: r["start"]):
            if row["is_leaf"]:
                self.leaves[row["video_uid"]].append(row)

    def edges(self, spec: schema.EdgeTypeSpec) -> list[tuple[dict, dict, dict]]:
        edges = self.trees.edges(spec)
        return [
            (self.rows[s], self.rows[t], {n: float(v[k]) for n, v in edges.attrs.items()})
            for k, (s, t) in enumerate(zip(edges.source.tolist(), edges.target.tolist()))
        ]


def _verb(brief: str) -> str:
    """The first word, lower-cased (not a lemma)."""
    return brief.strip().split(" ")[0].lower()


def _lemma(brief: str) -> str:
    """The dataset's verb label: graphkit.labels, what training labels use."""
    return extract_labels([brief], "verb")[0].as_py()


def _has_action(brief: str | None) -> bool:
    return brief is not None and brief.lower() != NA


@pytest.fixture(scope="module")
def loaded(neo4j_server):  # noqa: F811
    parts = [TreeBatch.from_arrow(generate_batch(8, seed=5))]
    if SAMPLE.is_file():
        parts.append(read_trees(SAMPLE, node_fields=None, metadata=True))
    trees = TreeBatch.concat(parts)
    with neo4j.GraphDatabase.driver(neo4j_server.uri, auth=neo4j_server.auth) as driver:
        _load(driver, trees)
        yield driver, Reference(trees)


def _run(driver: neo4j.Driver, name: str, **params) -> list[dict]:
    records, _, _ = driver.execute_query(load_query(name), params, database_="neo4j")
    return [record.data() for record in records]


def _levels(ref: Reference, uid: str | None) -> list[tuple[int, list[dict]]]:
    """(level, its segment rows) in level order, for one video or (``None``) all."""
    rows = [r for r in ref.rows if uid is None or r["video_uid"] == uid]
    return [(level, [r for r in rows if r["level"] == level]) for level in sorted({r["level"] for r in rows})]


def _videos(ref: Reference) -> list[str]:
    """A synthetic video and, when present, a real one."""
    uids = ref.trees.video_uid.to_pylist()
    return [uids[0]] + ([uids[-1]] if SAMPLE.is_file() else [])


@pytest.mark.neo4j
def test_path_to_segment(loaded):
    driver, ref = loaded
    for uid in _videos(ref):
        leaf = max((r for r in ref.rows if r["video_uid"] == uid), key=lambda r: (r["level"], r["start"]))
        path, row = [], leaf
        while True:
            path.append(row["node_id"])
            if row["parent"] < 0:
                break
            row = ref.rows[row["parent"]]
        got = _run(driver, "path_to_segment", video_uid=uid, node_id=leaf["node_id"])
        assert [r["node_id"] for r in got] == path[::-1]
        assert [r["level"] for r in got] == list(range(leaf["level"] + 1))
        assert {r["video_uid"] for r in got} == {uid}


@pytest.mark.neo4j
@pytest.mark.parametrize("level", [1, 3])
def test_step_sequence(loaded, level):
    driver, ref = loaded
    for uid in _videos(ref):
        expected = sorted((r for r in ref.rows if r["video_uid"] == uid and r["level"] == level), key=lambda r: r["start"])
        got = _run(driver, "step_sequence", video_uid=uid, level=level)
        assert [(r["node_id"], r["start"], r["action_brief"]) for r in got] == [
            (r["node_id"], r["start"], r["action_brief"]) for r in expected
        ]
        assert got


def _most_common_action(ref: Reference) -> str:
    counts = Counter(r["action_brief"].lower() for r in ref.rows if _has_action(r["action_brief"]))
    return counts.most_common(1)[0][0]


@pytest.mark.neo4j
@pytest.mark.parametrize("spec", [schema.NEXT, schema.NEXT_LEAF], ids=lambda s: s.name)
def test_actions_following(loaded, spec):
    driver, ref = loaded
    action = _most_common_action(ref)
    counts = Counter(
        b["action_brief"].lower()
        for a, b, _ in ref.edges(spec)
        if (a["action_brief"] or "").lower() == action
        and _has_action(b["action_brief"])
        and b["action_brief"].lower() != action
    )
    expected = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    got = _run(driver, "actions_following", action=action.upper(), relationship=spec.name,
               not_applicable=NA, limit=5)
    assert [(r["next_action"], r["times"]) for r in got] == expected
    if spec is schema.NEXT:
        assert expected  # the synthetic scripts make this non-trivial


@pytest.mark.neo4j
def test_action_followed_by_within(loaded):
    driver, ref = loaded
    action_a = _most_common_action(ref)
    followers = _run(driver, "actions_following", action=action_a, relationship="NEXT", not_applicable=NA, limit=1)
    action_b, max_seconds = followers[0]["next_action"], 5.0
    expected = {}
    for a in ref.rows:
        if (a["action_brief"] or "").lower() != action_a:
            continue
        for b in ref.rows:
            wait = b["start"] - a["end"]
            if b["video_uid"] == a["video_uid"] and (b["action_brief"] or "").lower() == action_b and 0 <= wait <= max_seconds:
                pairs, shortest = expected.get(a["video_uid"], (0, float("inf")))
                expected[a["video_uid"]] = (pairs + 1, min(shortest, wait))
    got = _run(driver, "action_followed_by_within", action_a=action_a, action_b=action_b.upper(), max_seconds=max_seconds)
    assert [(r["video_uid"], r["pairs"], r["shortest_wait"]) for r in got] == [
        (uid, pairs, pytest.approx(shortest, abs=1e-9)) for uid, (pairs, shortest) in sorted(expected.items())
    ]
    assert expected


@pytest.mark.neo4j
def test_same_verb_as_parent(loaded):
    driver, ref = loaded
    expected = []
    for parent, child, _ in ref.edges(schema.PARENT_OF):
        if _has_action(parent["action_brief"]) and _has_action(child["action_brief"]):
            if _lemma(parent["action_brief"]) == _lemma(child["action_brief"]):
                expected.append(child)
    expected.sort(key=lambda r: (r["video_uid"], r["level"], r["start"]))
    got = _run(driver, "same_verb_as_parent", limit=100_000)
    assert [(r["node_id"], r["verb"]) for r in got] == [(r["node_id"], _lemma(r["action_brief"])) for r in expected]
    assert expected and len(_run(driver, "same_verb_as_parent", limit=3)) == 3
    # The verb is the lemma: inflected forms count as one verb.
    assert any(_verb(p["action_brief"]) != _verb(c["action_brief"]) for p, c, _ in ref.edges(schema.PARENT_OF)
               if c in expected and p["verb"] == c["verb"])


def _coverage_columns(at: list[dict]) -> dict:
    """annotation_coverage_by_level's columns for the rows of one level."""
    counts = {name: sum(r[name] is not None for r in at) for name in
              ("action_brief", "summary_brief", "plm_caption", "llama3_caption")}
    return {**counts, "action_brief_coverage": pytest.approx(counts["action_brief"] / len(at)),
            "llama3_caption_coverage": pytest.approx(counts["llama3_caption"] / len(at))}


def _histogram_columns(at: list[dict]) -> dict:
    """level_histogram's columns for the rows of one level."""
    return {"leaves": sum(r["is_leaf"] for r in at),
            "mean_duration": pytest.approx(sum(r["duration"] for r in at) / len(at))}


#: The per-level queries: a row per level holds level, segments and the columns these functions compute.
PER_LEVEL = {"annotation_coverage_by_level": _coverage_columns, "level_histogram": _histogram_columns}


@pytest.mark.neo4j
@pytest.mark.parametrize("one_video", [False, True])
@pytest.mark.parametrize("name", sorted(PER_LEVEL))
def test_per_level_query(loaded, name, one_video):
    driver, ref = loaded
    uid = _videos(ref)[-1] if one_video else None
    expected = [{"level": level, "segments": len(at), **PER_LEVEL[name](at)} for level, at in _levels(ref, uid)]
    assert _run(driver, name, video_uid=uid) == expected


@pytest.mark.neo4j
def test_longest_actor_run(loaded):
    driver, ref = loaded
    runs = []
    for uid, leaves in ref.leaves.items():
        current: list[dict] = []
        for leaf in [*leaves, None]:
            same = leaf is not None and current and leaf["actor"] == current[0]["actor"]
            if same:
                current.append(leaf)
                continue
            if current:
                runs.append((len(current), uid, current[0]["start"], current[0]["actor"], current[-1]["end"]))
            current = [leaf] if leaf is not None and _has_action(leaf["actor"]) else []
    runs.sort(key=lambda run: (-run[0], run[1], run[2]))
    got = _run(driver, "longest_actor_run", video_uid=None, not_applicable=NA, limit=5)
    assert [(r["leaves"], r["video_uid"], r["start"], r["actor"], r["end"]) for r in got] == runs[:5]
    assert runs[0][0] >= 2
    uid = _videos(ref)[-1]
    got = _run(driver, "longest_actor_run", video_uid=uid, not_applicable=NA, limit=1)
    assert [(r["leaves"], r["video_uid"]) for r in got] == [(run[0], run[1]) for run in runs if run[1] == uid][:1]


@pytest.mark.neo4j
def test_subtree_captions(loaded):
    driver, ref = loaded
    for uid in _videos(ref):
        top = min((r for r in ref.rows if r["video_uid"] == uid and r["level"] == 2), key=lambda r: r["start"])
        below, stack = [], [top["i"]]
        while stack:
            node = stack.pop()
            below.append(ref.rows[node])
            stack.extend(ref.children[node])
        below.sort(key=lambda r: (r["start"], r["level"]))
        got = _run(driver, "subtree_captions", video_uid=uid, node_id=top["node_id"])
        assert [(r["node_id"], r["plm_caption"], r["llama3_caption"]) for r in got] == [
            (r["node_id"], r["plm_caption"], r["llama3_caption"]) for r in below
        ]
        assert got[0]["node_id"] == top["node_id"] and len(got) > 1


@pytest.mark.neo4j
def test_deepest_videos(loaded):
    driver, ref = loaded
    stats = []
    for v, uid in enumerate(ref.trees.video_uid.to_pylist()):
        rows = [r for r in ref.rows if r["video_uid"] == uid]
        stats.append((max(r["level"] for r in rows), len(rows), uid, sum(r["is_leaf"] for r in rows)))
    stats.sort(key=lambda s: (-s[0], -s[1], s[2]))
    got = _run(driver, "deepest_videos", limit=4)
    assert [(r["depth"], r["segments"], r["video_uid"], r["leaves"]) for r in got] == stats[:4]


@pytest.mark.neo4j
def test_next_gaps(loaded):
    driver, ref = loaded
    expected = []
    for a, b, attrs in ref.edges(schema.NEXT):
        if attrs["gap"] > 0.0:
            between = [
                leaf["node_id"] for leaf in ref.leaves[a["video_uid"]]
                if leaf["level"] < a["level"] and leaf["start"] >= a["end"] and leaf["end"] <= b["start"]
            ]
            expected.append((attrs["gap"], a["video_uid"], a["node_id"], b["node_id"], between))
    expected.sort(key=lambda e: (-e[0], e[1], e[2]))
    got = _run(driver, "next_gaps", min_gap=0.0, limit=100_000)
    assert [(r["gap"], r["video_uid"], r["before"], r["after"], r["leaves_between"]) for r in got] == expected
    assert expected and all(e[4] for e in expected)  # every gap holds a shallower leaf


@pytest.mark.neo4j
def test_top_verbs_per_level(loaded):
    driver, ref = loaded
    per_level: dict[int, Counter] = defaultdict(Counter)
    for r in ref.rows:
        if _has_action(r["action_brief"]):
            per_level[r["level"]][_lemma(r["action_brief"])] += 1
    expected = [
        {"level": level, "top_verbs": [{"verb": v, "times": n} for v, n in
                                       sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]]}
        for level, counts in sorted(per_level.items())
    ]
    assert _run(driver, "top_verbs_per_level", top=3) == expected


@pytest.mark.neo4j
def test_leaf_timeline(loaded):
    driver, ref = loaded
    for uid in _videos(ref):
        leaves = ref.leaves[uid]
        got = _run(driver, "leaf_timeline", video_uid=uid)
        assert [r["node_id"] for r in got] == [leaf["node_id"] for leaf in leaves]
        assert [r["position"] for r in got] == list(range(len(leaves)))
        assert got[0]["start"] == 0.0 and got[-1]["end"] == max(leaf["end"] for leaf in leaves)
