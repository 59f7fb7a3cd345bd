from __future__ import annotations

import re

import pytest

from graphkit import schema
from graphkit.loaders.neo4j import search_cypher as sc

QUERIES = [sc.fulltext_index_query(), sc.vector_index_query(), sc.vector_indexes_query(), sc.set_embeddings_query(),
           sc.search_query(), sc.search_query(vector=True), sc.await_indexes_query()]


@pytest.mark.parametrize("query", QUERIES)
def test_queries_hold_no_literal_values(query):
    assert "'" not in query and '"' not in query
    assert not re.search(r"[=:,(]\s*\d", query.replace("*0..", ""))
    labels = set(re.findall(r"\(\w*:(\w+)", query)) | set(re.findall(r"\[:(\w+)", query))
    assert labels <= {schema.SEGMENT.label, schema.PARENT_OF.name}, labels


def test_the_fulltext_index_covers_every_caption_and_action_text():
    query = sc.fulltext_index_query()
    for name in schema.FULLTEXT_PROPERTIES:
        assert f"n.{name}" in query
    assert set(schema.FULLTEXT_PROPERTIES) == set(schema.TEXT_PROPERTIES) | set(schema.GPT_PROPERTIES) - {"actor"}


def test_the_search_query_takes_every_value_as_a_parameter():
    assert "$index, $query, {limit: $k}" in sc.search_query()
    assert "$index, $k, $vector" in sc.search_query(vector=True)
    assert "ORDER BY score DESC" in sc.search_query()


@pytest.mark.parametrize("text, expected", [
    ("cut the cucumber", '"cut the cucumber"^4 cut the cucumber'),
    ('say "hi"', '"say \\"hi\\""^4 say \\"hi\\"'),
    ("a:b (c) -d +e", '"a:b (c) -d +e"^4 a\\:b \\(c\\) \\-d \\+e'),
    ("x && y || !z", '"x && y || !z"^4 x \\&\\& y \\|\\| \\!z'),
    ("[a TO b] {c}", '"[a TO b] {c}"^4 \\[a to b\\] \\{c\\}'),
    ("a^2 b~ c* d? e/f g\\h", '"a^2 b~ c* d? e/f g\\\\h"^4 a\\^2 b\\~ c\\* d\\? e\\/f g\\\\h'),
    ("NOT this AND that OR", '"NOT this AND that OR"^4 not this and that or'),
    ("  spaced \n out\t", '"spaced out"^4 spaced out'),
])
def test_lucene_query_escapes_every_operator(text, expected):
    assert sc.lucene_query(text) == expected


def test_lucene_query_leaves_no_unescaped_operator():
    text = 'AND OR NOT TO + - && || ! ( ) { } [ ] ^ " ~ * ? : \\ /'
    terms = sc.lucene_query(text).split("^4 ", 1)[1]
    unescaped = re.sub(r"\\.", "", terms)
    assert not re.search(r'[+\-&|!(){}\[\]^"~*?:\\/]', unescaped)
    assert not re.search(r"\b(AND|OR|NOT|TO)\b", unescaped)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_an_empty_text_is_refused(text):
    with pytest.raises(ValueError, match="the search text is empty"):
        sc.lucene_query(text)


def test_a_text_that_is_not_a_string_is_refused():
    with pytest.raises(TypeError, match="must be a string"):
        sc.lucene_query(None)
