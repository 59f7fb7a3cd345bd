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
