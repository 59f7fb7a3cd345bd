from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from graphkit.errors import GraphkitError
from graphkit.nx import from_networkx, to_networkx
from graphkit.tree import TreeBatch
from tests import factories as f


@pytest.fixture
def trees() -> TreeBatch:
    return TreeBatch.from_arrow(f.table(f.rows(2)))


def test_typed_nodes_and_edges(trees):
    graph = to_networkx(trees)
    assert graph.number_of_nodes() == 2 + 14
    kinds = nx.get_node_attributes(graph, "type")
    assert sorted(set(kinds.values())) == ["Segment", "Video"]
    edge_types = sorted(k for _, _, k in graph.edges(keys=True))
    assert edge_types.count("PARENT_OF") == 12 and edge_types.count("HAS_ROOT") == 2
    parent, child = ("video000000", "video000000-n0"), ("video000000", "video000000-n01")
    assert graph[parent][child]["PARENT_OF"] == {"type": "PARENT_OF", "order": 1}
    assert graph.nodes["video000000"]["title"] == "How to video000000"
    assert graph.nodes["video000000"]["transcript_text"] == ["hello"]
    seg = graph.nodes[parent]
    assert seg["action_brief"] == "Cut paper" and seg["level"] == 1 and seg["video_uid"] == "video000000"
    assert seg["node_id"] == "video000000-n0"


def test_parallel_next_and_next_leaf_edges_are_both_kept(trees):
    graph = to_networkx(trees)
    # 010 -> 011 are consecutive leaves of the same level: NEXT and NEXT_LEAF.
    assert set(graph["video000000", "video000000-n010"]["video000000", "video000000-n011"]) == {"NEXT", "NEXT_LEAF"}


def test_round_trip_is_exact(trees):
    back = from_networkx(to_networkx(trees))
    for name in ("node_offsets", "parent", "level", "start", "end"):
        assert np.array_equal(getattr(back, name), getattr(trees, name)), name
    assert back.node_id.equals(trees.node_id)
    assert set(back.text) == set(trees.text)
    for name, column in trees.text.items():
        assert back.text[name].equals(column), name
    assert back.metadata.equals(trees.metadata)
    assert nx.utils.graphs_equal(to_networkx(back), to_networkx(trees))


def test_select_videos(trees):
    graph = to_networkx(trees, videos=[1])
    assert {n for n, d in graph.nodes(data=True) if d["type"] == "Video"} == {"video000001"}


def test_bad_graphs_raise(trees):
    graph = to_networkx(trees)
    graph.add_node("stray", type="Thing")
    with pytest.raises(GraphkitError, match="node 'stray' has type 'Thing'"):
        from_networkx(graph)
    graph = to_networkx(trees)
    graph.remove_node("video000001")
    with pytest.raises(GraphkitError, match="segments refer to video 'video000001'"):
        from_networkx(graph)


# -- transcript lines (issue 13, item 4) ---------------------------------------
def test_transcript_round_trip_is_exact():
    from graphkit.nx import transcript_table
    from graphkit.synth import generate_batch
    from graphkit.transcript import align_transcript

    source = TreeBatch.from_arrow(generate_batch(6, seed=11))
    graph = to_networkx(source, transcript=True)
    expected = align_transcript(source).to_table(source)
    assert expected.num_rows > 20
    assert transcript_table(graph).equals(expected)
    # The trees come back as they were, with the lines in the graph.
    back = from_networkx(graph)
    assert back.node_id.equals(source.node_id) and back.metadata.equals(source.metadata)
    assert transcript_table(to_networkx(back, transcript=True)).equals(expected)
    assert nx.utils.graphs_equal(to_networkx(back, transcript=True), graph)


def test_transcript_nodes_and_edges():
    from graphkit.synth import generate_batch
    from graphkit.transcript import align_transcript

    source = TreeBatch.from_arrow(generate_batch(3, seed=2))
    graph = to_networkx(source, transcript=True)
    lines = align_transcript(source)
    kinds = nx.get_node_attributes(graph, "type")
    assert sum(kind == "Transcript" for kind in kinds.values()) == lines.num_lines
    uid = source.video_uid[0].as_py()
    first = graph.nodes[uid, 0]
    assert first["type"] == "Transcript" and first["index"] == 0 and first["video_uid"] == uid
    assert first["time"] == float(str(np.float32(first["time"])))  # the float32's shortest decimal
    assert list(graph[uid, 0][uid]) == ["IN_VIDEO"]
    during = [k for _, _, k in graph.edges(keys=True) if k == "DURING"]
    assert len(during) == len(lines.during_line)
    assert not any(k in ("IN_VIDEO", "DURING") for _, _, k in to_networkx(source).edges(keys=True))
