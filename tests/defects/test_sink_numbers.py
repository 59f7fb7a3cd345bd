"""Numbers: a float32 time is stored as the same float64 on every path -- its shortest decimal.

The CSV import stored ``70.67`` where the Bolt load stored ``70.66999816894531``
for the same float32 ``end``. Now every path that stores Python or Neo4j floats
(Bolt with either method, the CSV export through the real importer, networkx)
stores the float64 of the shortest decimal that round-trips the float32
(:func:`graphkit.arrays.shortest_decimal`). Each case id is one kind of value
on one path: the stored ``start``/``end``/``duration`` of every segment and the
``gap`` of every ``NEXT`` relationship equal the truth derived with numpy
(``float(str(np.float32(x)))``), read back with plain Cypher, and cast back
to float32 they are the source's bits.
"""

from __future__ import annotations

import copy
import secrets

import neo4j
import numpy as np
import pyarrow as pa
import pytest

from graphkit.arrays import shortest_decimal
from graphkit.loaders.neo4j.admin_import import run_import
from graphkit.loaders.neo4j.csv import export_csv
from graphkit.loaders.neo4j.server import DevServer
from graphkit.loaders.neo4j.writer import load_trees
from graphkit.nx import to_networkx
from graphkit.schema import SOURCE_SCHEMA
from graphkit.tree import TreeBatch
from tests.factories import video_row
from tests.neo4j_fixtures import FAST_START, clear_database
from tests.sink_truth import decimal, expected_graph, neo4j_graph, networkx_graph, subgraph

#: kind -> (video, the value to find stored exactly, as text)
VALUES = {
    "two-decimals": (video_row("vidNum00001", splits={"": 70.67}, duration=141.3), "70.67"),
    "one-tenth": (video_row("vidNum00002", splits={"": 0.1, "1": 0.2}, duration=0.3), "0.1"),
    "eight-digits": (video_row("vidNum00003", splits={"": 3.7000008}, duration=7.4000015), "3.7000008"),
    "whole-seconds": (video_row("vidNum00004", splits={"": 4.0, "0": 2.0}, duration=8.0), "4.0"),
    "a-day-long": (video_row("vidNum00005", splits={"": 86399.99}, duration=172799.98), "86399.99"),
    "milliseconds": (video_row("vidNum00006", splits={"": 0.001, "1": 0.004}, duration=0.007), "0.001"),
    "next-gap-over-a-shallower-leaf": (
        video_row("vidNum00007", splits={"": 5.3, "0": 2.1, "01": 3.35, "1": 7.7, "11": 9.05}, duration=10.6),
        "2.3999996",  # gap = float32(7.7) - float32(5.3), computed in float32
    ),
}
PATHS = ("bolt-create", "bolt-merge", "csv-import", "networkx")


def _trees(rows: list[dict]) -> TreeBatch:
    return TreeBatch.from_arrow(pa.Table.from_pylist(copy.deepcopy(rows), schema=SOURCE_SCHEMA))


@pytest.fixture(scope="module")
def stored(neo4j_server, tmp_path_factory) -> dict:  # noqa: F811
    """Every VALUES video as each path stores it, read back without graphkit."""
    rows = [row for row, _ in VALUES.values()]
    graphs = {"networkx": networkx_graph(to_networkx(_trees(rows)))}
    with neo4j.GraphDatabase.driver(neo4j_server.uri, auth=neo4j_server.auth) as driver:
        for method in ("create", "merge"):
            clear_database(driver)
            load_trees(driver, _trees(rows), method=method)
            graphs[f"bolt-{method}"] = neo4j_graph(driver)
        clear_database(driver)
    root = tmp_path_factory.mktemp("numbers-import")
    run_import(export_csv(_trees(rows), root / "csv"), root / "home")
    server = DevServer(root / "home", password=secrets.token_urlsafe(12), jvm_options=FAST_START)
    server.start(timeout=300.0)
    try:
        with neo4j.GraphDatabase.driver(server.uri, auth=server.auth) as driver:
            graphs["csv-import"] = neo4j_graph(driver)
            types, _, _ = driver.execute_query(
                "MATCH (s:Segment) RETURN DISTINCT valueType(s.start) AS t UNION "
                "MATCH ()-[r:NEXT]->() RETURN DISTINCT valueType(r.gap) AS t", database_="neo4j")
            graphs["csv-import-types"] = {r["t"] for r in types}
    finally:
        server.stop()
    return graphs


def _floats(graph, uid: str) -> dict:
    """``{(identity, property): value}`` of every float a video's nodes and relationships hold."""
    nodes, rels = subgraph(graph, [uid])
    found = {}
    for identity, props in nodes:
        if identity[0] == "Segment":  # a video's duration is the metadata's integer seconds
            found.update({(identity, k): v for k, v in props if k in ("start", "end", "duration")})
    for kind, a, b, props in rels:
        found.update({((kind, a, b), k): v for k, v in props if k == "gap"})
    return found


@pytest.mark.neo4j
@pytest.mark.slow
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("kind", list(VALUES))
def test_every_float_is_the_shortest_decimal_of_its_float32(stored, kind, path):
    row, text = VALUES[kind]
    uid = row["video_uid"]
    got = _floats(stored[path], uid)
    expected = _floats(expected_graph([row]), uid)
    assert got == expected
    assert all(type(v) is float for v in got.values())
    assert text in {repr(v) for v in got.values()}, sorted(set(map(repr, got.values())))
    # Back to float32: the source's bits.
    times = np.array([n[k] for n in row["nodes"] for k in ("start", "end")], dtype=np.float32)
    assert set(times.tolist()) <= {float(np.float32(v)) for v in got.values()}
    # The whole video, not only its numbers, is the same on every path.
    assert subgraph(stored[path], [uid]) == subgraph(stored["bolt-create"], [uid])


@pytest.mark.neo4j
@pytest.mark.slow
def test_the_importer_stores_the_times_as_floats_of_64_bits(stored):
    assert stored["csv-import-types"] == {"FLOAT NOT NULL"}


def test_shortest_decimal_agrees_with_numpy_on_every_float32_kind():
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2**32, 200_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    values = np.concatenate([bits[np.isfinite(bits)], (np.arange(100_000) / 100).astype(np.float32),
                             np.float32(2.0) ** np.arange(-149, 128, dtype=np.float32)])
    got = shortest_decimal(values)
    assert np.array_equal(got.astype(np.float32), values)
    sample = values[:: max(1, len(values) // 20_000)]
    assert got[:: max(1, len(values) // 20_000)].tolist() == [decimal(v) for v in sample]
