"""The full-text language, the analysis that mirrors SQLite FTS5, BM25, and hybrid fusion.

The parser follows PostgreSQL's ``websearch_to_tsquery`` (the expected trees below are what
PostgreSQL 18 gives for the same text with the ``simple`` configuration); the analysis and
BM25 are checked against SQLite's own FTS5 (the stdlib's sqlite3), which the memory backend
has to agree with.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.fulltext import Bm25, Expression, Term, parse
from tenantrag.domain.search import Fusion, HybridQuery, SearchHit, TextQuery, fuse
from tenantrag.domain.text_analysis import STOP_WORDS, stem, terms


def shape(expression: Expression) -> list[list[str]]:
    """Alternatives of terms, each term its words joined by '<->', '!' when excluded."""
    return [
        [("!" if term.negated else "") + "<->".join(w.lower() for w in term.words) for term in alternative]
        for alternative in expression.alternatives
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x y or z", [["x", "y"], ["z"]]),  # PostgreSQL: 'x' & 'y' | 'z'
        ("x or y z", [["x"], ["y", "z"]]),
        ('"sad cat" or "fat rat"', [["sad<->cat"], ["fat<->rat"]]),
        ('signal -"segmentation fault"', [["signal", "!segmentation<->fault"]]),
        ("x -y or z", [["x", "!y"], ["z"]]),
        ("x OR OR y", [["x"], ["or", "y"]]),  # the second OR is a word
        ("or or x", [["or"], ["x"]]),
        ("x or", [["x", "or"]]),
        ("cat,dog", [["cat<->dog"]]),
        ("don't stop", [["don<->t", "stop"]]),
        ("x(y)z", [["x", "y", "z"]]),  # parentheses are spaces
        ("x:* y & z | w ! v", [["x", "y", "z", "w", "v"]]),
        ('x "y z"w', [["x", "y<->z", "w"]]),
        ('x -"y z', [["x", "!y<->z"]]),  # an unclosed quote runs to the end
        ('x "-y" z', [["x", "y", "z"]]),
        ('x "or" y', [["x", "or", "y"]]),
        ('x or "y"', [["x"], ["y"]]),
        ('x OR "" y', [["x"], ["y"]]),
        ("x -, y", [["x", "y"]]),
        ("x --y", [["x", "y"]]),
        ("x or, y", [["x"], ["y"]]),
    ],
)
def test_the_syntax_is_websearch_to_tsquery_s(text: str, expected: list[list[str]]) -> None:
    assert shape(parse(text)) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "must not be empty"),
        ("   \t", "must not be empty"),
        ("x" * 1001, "at most 1000 characters"),
        ("cat\x00", "NUL"),
        ("cat \ud800", "lone surrogate"),
        ('!!! " " -', "no words"),
        ("-cat", "not excluded"),
        ("cat or -dog", "not excluded"),
        ("the -cat", "not excluded"),  # 'the' is a stop word: only the exclusion is left
        (" ".join(["w"] * 65), "at most 64 terms"),
    ],
)
def test_queries_that_say_nothing_usable_are_refused_naming_the_field(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as raised:
        parse(text, field="q")
    assert raised.value.field == "q"


def test_stop_words_leave_queries_but_stay_inside_phrases() -> None:
    searchable = parse('the cats or "cat on the mat" or the').searchable()
    assert shape(searchable) == [["cats"], ["cat<->on<->the<->mat"]]
    with pytest.raises(InvalidInput, match="only stop words") as raised:
        TextQuery(text="the and or")
    assert raised.value.field == "text"
    # Hybrid search keeps its vector list when the text has nothing to look for.
    assert HybridQuery(embedding=[1.0, 0.0], text="the and").text_part() is None
    assert "the" in STOP_WORDS


def test_phrases_and_exclusions_match_index_terms() -> None:
    expression = parse('"purring cats" -dog or rocket').searchable()
    assert expression.matches(terms("Two purring cats sleep"))
    assert not expression.matches(terms("Cats purring"))  # not in order
    assert not expression.matches(terms("purring cats chase a dog"))
    assert expression.matches(terms("Rockets, and a dog"))
    assert Term(("cat", "cat")).occurrences(terms("cat cat cat")) == 2


@pytest.fixture(scope="module")
def fts5() -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(":memory:")
    connection.execute(
        "CREATE VIRTUAL TABLE t USING fts5(content, tokenize='porter unicode61 remove_diacritics 2')"
    )
    connection.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, instance)")
    yield connection
    connection.close()


def fts5_terms(connection: sqlite3.Connection, text: str) -> list[str]:
    connection.execute("DELETE FROM t")
    connection.execute("INSERT INTO t(rowid, content) VALUES (1, ?)", (text,))
    return [term for (term,) in connection.execute("SELECT term FROM v ORDER BY offset")]


VOCABULARY = """cats purring running connected generalization happiness agreed sky skies ponies
caresses feed plastered motoring sing conflated troubled sized hopping tanned falling hissing fizzed
failing filing happy relational conditional rational digitizer operator hopeful goodness formality
sensitivity electrical adjustable dependent adoption homologou Café Naïve résumé ÉCOLE Straße ключ
日本 x y ab abc e\u0301cole"""
WORDS = st.sampled_from(VOCABULARY.split())
SEPARATORS = st.sampled_from([" ", ", ", "-", "'", ". ", "\n", "(", ")", '"', "/", "3.14 "])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(WORDS, SEPARATORS), max_size=12))
def test_analysis_equals_sqlite_fts5_s_porter_unicode61_tokenizer(
    fts5: sqlite3.Connection, parts: list[tuple[str, str]]
) -> None:
    text = "".join(word + separator for word, separator in parts)
    assert terms(text) == fts5_terms(fts5, text)


def test_porter_steps() -> None:
    for word, expected in {
        "caresses": "caress",
        "ponies": "poni",
        "agreed": "agre",
        "hopping": "hop",
        "filing": "file",
        "happy": "happi",
        "relational": "relat",
        "generalization": "gener",
        "ab": "ab",  # too short to stem
    }.items():
        assert stem(word) == expected, word


def test_bm25_is_fts5_s_bm25_over_the_same_rows(fts5: sqlite3.Connection) -> None:
    texts = [
        "cats purr when they are content",
        "a cat and a cat and a cat",
        "dogs bark at cats",
        "rockets fly to space",
        "the purring of a content cat is a sound",
    ]
    fts5.execute("DELETE FROM t")
    fts5.executemany("INSERT INTO t(rowid, content) VALUES (?, ?)", list(enumerate(texts)))
    for query, fts5_query in (
        ("cat", '"cat"'),
        ("cat purr", '"cat" AND "purr"'),
        ('"content cat"', '"content cat"'),
    ):
        expression = parse(query).searchable()
        scorer = Bm25(expression, [terms(text) for text in texts])
        expected = dict(
            fts5.execute("SELECT rowid, -bm25(t) FROM t WHERE t MATCH ?", (fts5_query,)).fetchall()
        )
        found = {
            i: scorer.score(terms(text)) for i, text in enumerate(texts) if expression.matches(terms(text))
        }
        assert found == pytest.approx(expected, rel=1e-9), query


def hit(score: float = 0.0) -> SearchHit:
    return SearchHit(
        chunk_id=uuid.uuid4(), document_id=uuid.uuid4(), document_version=1, ordinal=0, content="",
        metadata={}, score=score,
    )  # fmt: skip


def test_reciprocal_rank_fusion() -> None:
    a, b, c = hit(), hit(), hit()
    fusion = Fusion(rrf_k=10, vector_weight=2.0, text_weight=0.5)
    fused = fuse([a, b], [c, a], fusion, k=3)
    scores = {h.chunk_id: (h.score, h.vector_rank, h.text_rank) for h in fused}
    assert scores[a.chunk_id] == (2.0 / 11 + 0.5 / 12, 1, 2)
    assert scores[b.chunk_id] == (2.0 / 12, 2, None)
    assert scores[c.chunk_id] == (0.5 / 11, None, 1)
    assert [h.chunk_id for h in fused] == [a.chunk_id, b.chunk_id, c.chunk_id]
    assert len(fuse([a, b], [c], fusion, k=2)) == 2
    # Equal scores fall back on chunk id order.
    tied = fuse([a], [b], Fusion(), k=2)
    assert [h.chunk_id for h in tied] == sorted([a.chunk_id, b.chunk_id], key=str)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"rrf_k": 0}, "hybrid.rrf_k"),
        ({"rrf_k": True}, "hybrid.rrf_k"),
        ({"vector_weight": -1.0}, "hybrid.vector_weight"),
        ({"text_weight": float("nan")}, "hybrid.text_weight"),
        ({"vector_weight": 0.0, "text_weight": 0.0}, "hybrid"),
        ({"candidates": 0}, "hybrid.candidates"),
    ],
)
def test_fusion_parameters_are_checked(options: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        Fusion(**options)  # type: ignore[arg-type]
    assert raised.value.field == field


def test_candidates_grow_with_k_and_never_fall_below_it() -> None:
    assert Fusion().depth(5) == 50
    assert Fusion().depth(30) == 120
    assert Fusion(candidates=10).depth(20) == 20
