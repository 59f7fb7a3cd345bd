"""The truth a sink is held to, computed without graphkit, and each sink read without graphkit.

:func:`expected_graph` derives the typed graph of Action100M rows in plain
Python from the rows as pyarrow gives them (``table.to_pylist()``): nodes
keyed by identity (a video by ``video_uid``, a segment by ``(video_uid,
node_id)``), their properties as a sink stores them (null = absent, the gpt
struct flattened, float32 times as the shortest decimal ``str(np.float32(x))``
prints, parsed as a float), and every ``PARENT_OF``, ``NEXT``, ``NEXT_LEAF``
and ``HAS_ROOT`` relationship with its properties. It shares no code with
graphkit's columnar path (no ``TreeBatch``, no edge builder).

The readers turn a sink into the same shape: :func:`neo4j_graph` with plain
Cypher over the driver (not graphkit's read-back), :func:`networkx_graph`
from the graph's own nodes and edges, and :func:`pyg_videos` /
:func:`expected_pyg_videos` for the PyG datasets (which hold positions and
tensors, not ids). A graph is ``(nodes, relationships)``: two sorted lists,
so a duplicate or a missing entry shows in the diff.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import numpy as np
import pyarrow as pa

__all__ = ["Graph", "decimal", "expected_graph", "expected_transcript", "transcript_counts",
           "expected_pyg_videos", "mixed_rows", "neo4j_graph",
           "networkx_graph", "pyg_videos", "renamed_ids", "shared_id_pair", "subgraph", "write_rows"]

Graph = tuple[list, list]

_SCALARS = ("title", "description", "view_count", "like_count", "duration", "upload_date")
_TEXTS = ("plm_action", "plm_caption", "llama3_caption")
_GPT = {"summary_brief": ("summary", "brief"), "summary_detailed": ("summary", "detailed"),
        "action_brief": ("action", "brief"), "action_detailed": ("action", "detailed"),
        "actor": ("action", "actor")}


def decimal(value: float) -> float:
    """The shortest decimal of a float32, as a Python float (numpy's own shortest repr)."""
    return float(str(np.float32(value)))


def _freeze(value: Any) -> Any:
    return tuple(_freeze(v) for v in value) if isinstance(value, (list, tuple)) else value


def _props(mapping: dict) -> tuple:
    return tuple(sorted((k, _freeze(v)) for k, v in mapping.items() if v is not None))


def _verb(brief: str | None) -> str | None:
    """The dataset's verb label: by definition :mod:`graphkit.labels`' (the function training labels use)."""
    from graphkit.labels import extract_labels

    return None if brief is None else extract_labels(pa.array([brief]), "verb")[0].as_py()


def _f32(value: float) -> np.float32:
    return np.float32(value)


def _video_tree(row: dict) -> tuple[dict, list[dict], list[tuple]]:
    """(video properties, segment property maps, relationships) of one source row."""
    uid = row["video_uid"]
    meta = row["metadata"] or {}
    video = {"video_uid": uid, **{k: meta.get(k) for k in _SCALARS}}
    transcript = meta.get("transcript")
    if transcript is not None:
        video["transcript_time"] = [t["time"] for t in transcript]
        video["transcript_text"] = [t["text"] for t in transcript]
    nodes = row["nodes"]
    children: dict[str, list[dict]] = defaultdict(list)
    for node in nodes:
        if node["parent_id"] is not None:
            children[node["parent_id"]].append(node)
    segments, rels = [], []
    for node in nodes:
        start, end = _f32(node["start"]), _f32(node["end"])
        props = {
            "node_id": node["node_id"], "video_uid": uid, "level": node["level"],
            "start": decimal(start), "end": decimal(end), "duration": decimal(np.float32(end - start)),
            "is_leaf": not children[node["node_id"]],
            **{k: node.get(k) for k in _TEXTS},
        }
        gpt = node.get("gpt") or {}
        for name, (group, leaf) in _GPT.items():
            props[name] = (gpt.get(group) or {}).get(leaf)
        props["verb"] = _verb(props["action_brief"])
        segments.append(props)
    key = {node["node_id"]: ("Segment", uid, node["node_id"]) for node in nodes}
    for node in nodes:
        kids = sorted(children[node["node_id"]], key=lambda n: _f32(n["start"]))
        for order, kid in enumerate(kids):
            rels.append(("PARENT_OF", key[node["node_id"]], key[kid["node_id"]], (("order", order),)))
        if node["parent_id"] is None:
            rels.append(("HAS_ROOT", ("Video", uid), key[node["node_id"]], ()))
    by_level: dict[int, list[dict]] = defaultdict(list)
    for node in nodes:
        by_level[node["level"]].append(node)
    for level_nodes in by_level.values():
        ordered = sorted(level_nodes, key=lambda n: _f32(n["start"]))
        for a, b in zip(ordered, ordered[1:]):
            gap = decimal(np.float32(_f32(b["start"]) - _f32(a["end"])))
            rels.append(("NEXT", key[a["node_id"]], key[b["node_id"]], (("gap", gap),)))
    leaves = sorted((n for n in nodes if not children[n["node_id"]]), key=lambda n: _f32(n["start"]))
    for a, b in zip(leaves, leaves[1:]):
        rels.append(("NEXT_LEAF", key[a["node_id"]], key[b["node_id"]], ()))
    return video, segments, rels


def expected_graph(rows: list[dict] | pa.Table, *, empty_lists: bool = True) -> Graph:
    """The graph a sink must hold for these source rows.

    Args:
        rows: Rows as pyarrow gives them (a table is turned into them).
        empty_lists (bool): Whether an empty transcript is stored as two empty
            lists (Bolt, networkx) or as absent (Neo4j's importer cannot write
            an empty array).
    """
    if isinstance(rows, pa.Table):
        rows = rows.to_pylist()
    nodes, rels = [], []
    for row in rows:
        video, segments, edges = _video_tree(row)
        if not empty_lists and not video.get("transcript_time"):
            video.pop("transcript_time", None)
            video.pop("transcript_text", None)
        nodes.append((("Video", row["video_uid"]), _props(video)))
        nodes += [(("Segment", s["video_uid"], s["node_id"]), _props(s)) for s in segments]
        rels += edges
    return sorted(nodes), sorted(rels)


def subgraph(graph: Graph, uids) -> Graph:
    """The nodes and relationships of some videos only (by the video of their identity)."""
    uids = set(uids)
    nodes, rels = graph
    return [n for n in nodes if n[0][1] in uids], [r for r in rels if r[1][1] in uids or r[2][1] in uids]


def neo4j_graph(driver, database: str = "neo4j") -> Graph:
    """Every node and relationship of a Neo4j database, read with plain Cypher."""
    records, _, _ = driver.execute_query(
        "MATCH (n) RETURN labels(n) AS labels, properties(n) AS props", database_=database)
    nodes = []
    for record in records:
        (label,) = record["labels"]
        props = record["props"]
        identity = ("Video", props["video_uid"]) if label == "Video" else (label, props.get("video_uid"),
                                                                            props.get("node_id"))
        nodes.append((identity, _props(props)))
    records, _, _ = driver.execute_query(
        "MATCH (a)-[r]->(b) RETURN type(r) AS type, labels(a)[0] AS a, a.video_uid AS a_video, "
        "a.node_id AS a_node, b.video_uid AS b_video, b.node_id AS b_node, properties(r) AS props",
        database_=database)
    rels = []
    for r in records:
        source = ("Video", r["a_video"]) if r["a"] == "Video" else ("Segment", r["a_video"], r["a_node"])
        rels.append((r["type"], source, ("Segment", r["b_video"], r["b_node"]), _props(r["props"])))
    return sorted(nodes), sorted(rels)


def networkx_graph(graph) -> Graph:
    """A graph made by :func:`graphkit.nx.to_networkx`, in the same shape (keys checked against properties)."""
    nodes = []
    identity_of = {}
    for key, attrs in graph.nodes(data=True):
        props = {k: v for k, v in attrs.items() if k != "type"}
        if attrs["type"] == "Video":
            assert key == props["video_uid"], key
            identity = ("Video", key)
        else:
            assert key == (props["video_uid"], props["node_id"]), key
            identity = ("Segment", *key)
        identity_of[key] = identity
        nodes.append((identity, _props(props)))
    rels = []
    for a, b, kind, attrs in graph.edges(keys=True, data=True):
        assert attrs["type"] == kind
        rels.append((kind, identity_of[a], identity_of[b], _props({k: v for k, v in attrs.items() if k != "type"})))
    return sorted(nodes), sorted(rels)


def expected_pyg_videos(rows: list[dict] | pa.Table) -> dict[str, dict]:
    """Per video: the segment columns and edges by position (source order) that a PyG graph must hold."""
    if isinstance(rows, pa.Table):
        rows = rows.to_pylist()
    out = {}
    for row in rows:
        _, segments, rels = _video_tree(row)
        position = {("Segment", s["video_uid"], s["node_id"]): i for i, s in enumerate(segments)}
        position[("Video", row["video_uid"])] = 0
        edges: dict[str, list] = defaultdict(list)
        for kind, a, b, props in rels:
            values = tuple((k, float(np.float32(v)) if k == "gap" else v) for k, v in props)
            edges[kind.lower()].append((position[a], position[b], values))
        out[row["video_uid"]] = {
            "level": [s["level"] for s in segments],
            "start": [float(_f32(n["start"])) for n in row["nodes"]],
            "end": [float(_f32(n["end"])) for n in row["nodes"]],
            "is_leaf": [s["is_leaf"] for s in segments],
            "video_x": [float(next(_f32(n["end"]) for n in row["nodes"] if n["parent_id"] is None)),
                        float(len(segments))],
            "edges": {kind: sorted(pairs) for kind, pairs in edges.items()},
        }
    return out


def pyg_videos(dataset) -> dict[str, dict]:
    """Each graph of a graphkit PyG dataset in the shape of :func:`expected_pyg_videos`."""
    out = {}
    for index, uid in enumerate(dataset.video_uids):
        graph = dataset[index]
        seg = graph["segment"]
        edges: dict[str, list] = {}
        for edge_type in graph.edge_types:
            source, relation, target = edge_type
            if relation.startswith("rev_"):
                continue
            store = graph[edge_type]
            attrs = [name for name in ("order", "gap") if name in store]
            pairs = store.edge_index.t().tolist()
            values = [store[name].tolist() for name in attrs]
            edges[relation] = sorted(
                (s, t, tuple(zip(attrs, [int(v[k]) if a == "order" else float(v[k]) for a, v in zip(attrs, values)])))
                for k, (s, t) in enumerate(pairs)
            )
        out[uid] = {
            "level": seg.level.tolist(), "start": seg.start.tolist(), "end": seg.end.tolist(),
            "is_leaf": [bool(v) for v in seg.is_leaf.tolist()], "video_x": graph["video"].x.flatten().tolist(),
            "edges": {kind: pairs for kind, pairs in edges.items() if pairs},
        }
    return out


def write_rows(path, rows: list[dict]) -> None:
    """Rows as a parquet file in the published schema."""
    import pyarrow.parquet as pq

    from graphkit.schema import SOURCE_SCHEMA

    pq.write_table(pa.Table.from_pylist(rows, schema=SOURCE_SCHEMA), path)


def renamed_ids(row: dict, prefix: str) -> dict:
    """A copy of a :func:`tests.factories.video_row` row whose node ids start with ``prefix`` instead of its uid."""
    import copy

    row = copy.deepcopy(row)
    old = row["video_uid"]
    for node in row["nodes"]:
        node["node_id"] = prefix + node["node_id"].removeprefix(old)
        if node["parent_id"] is not None:
            node["parent_id"] = prefix + node["parent_id"].removeprefix(old)
    return row


def shared_id_pair(first: str = "vidShareA01", second: str = "vidShareB02") -> list[dict]:
    """Two different videos (other splits, captions, titles) that use exactly the same node ids."""
    from tests.factories import video_row

    a = video_row(first)
    # The same tree shape (so the same node ids), other times, captions and title.
    b = renamed_ids(video_row(second, splits={"": 5.0, "0": 2.0, "01": 3.5}, duration=12.0), first)
    for node in b["nodes"]:
        node["plm_caption"] = f"second video: {node['plm_caption']}"
    assert sorted(n["node_id"] for n in a["nodes"]) == sorted(n["node_id"] for n in b["nodes"])
    return [a, b]


def mixed_rows(synthetic: int = 8, *, seed: int = 7, sample=None) -> list[dict]:
    """Source rows with every shape a sink must keep apart and exact.

    Synthetic videos, the tricky-caption video, two videos sharing node ids,
    a video with an empty transcript and one without metadata, and, when
    ``sample`` names a file that exists, the real sample's videos.
    """
    import copy

    import pyarrow.parquet as pq

    from graphkit.synth import generate_batch
    from tests.factories import tricky_rows, video_row

    rows = generate_batch(synthetic, seed=seed).to_pylist() + tricky_rows().to_pylist() + shared_id_pair()
    empty = video_row("vidEmptyTr1", splits={"": 3.25})
    empty["metadata"]["transcript"] = []
    bare = copy.deepcopy(video_row("vidNoMeta01", splits={"": 1.75, "1": 2.5}, duration=4.0))
    bare["metadata"] = None
    rows += [empty, bare]
    if sample is not None and sample.is_file():
        rows += pq.read_table(sample).to_pylist()
    return rows


# -- transcript lines (issue 13, item 4), in plain Python -------------------------
_DECIMAL = re.compile(r"[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?")


def expected_transcript(rows: list[dict] | pa.Table) -> list[dict]:
    """The Transcript lines a sink must hold: one dict per line with a valid time, in source order.

    ``{"video_uid", "index", "time", "text", "segments"}``: the time a
    decimal (no nan/inf/spaces), non-negative and finite as a float32, stored
    as its shortest decimal; ``segments`` the node ids of every leaf with
    ``start <= time < end`` (float32), by start time. Shares no code with
    :mod:`graphkit.transcript`.
    """
    if isinstance(rows, pa.Table):
        rows = rows.to_pylist()
    lines = []
    for row in rows:
        transcript = (row["metadata"] or {}).get("transcript") or []
        parents = {node["parent_id"] for node in row["nodes"]}
        leaves = sorted((n for n in row["nodes"] if n["node_id"] not in parents), key=lambda n: _f32(n["start"]))
        for index, line in enumerate(transcript):
            if line["time"] is None or not _DECIMAL.fullmatch(line["time"]):
                continue
            with np.errstate(over="ignore"):
                t = np.float32(float(line["time"]))
            if not np.isfinite(t) or t < 0:
                continue
            segments = [n["node_id"] for n in leaves if _f32(n["start"]) <= t < _f32(n["end"])]
            lines.append({"video_uid": row["video_uid"], "index": index, "time": decimal(t),
                          "text": line["text"], "segments": segments})
    return lines


def transcript_counts(rows: list[dict] | pa.Table) -> dict[str, int]:
    """Transcript nodes, DURING and IN_VIDEO relationships and lines in no leaf, from :func:`expected_transcript`."""
    lines = expected_transcript(rows)
    return {"Transcript": len(lines), "DURING": sum(len(line["segments"]) for line in lines),
            "IN_VIDEO": len(lines), "outside": sum(not line["segments"] for line in lines)}
