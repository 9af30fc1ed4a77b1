"""The full-text query language of the SQL backends (PostgreSQL's ``websearch_to_tsquery``
syntax): the expected trees below are what PostgreSQL 18 gives for the same text with the
``simple`` configuration. The contract suite checks that both backends match alike."""

from __future__ import annotations

import pytest

from tenantrag.adapters.sql.fulltext_query import STOP_WORDS, Expression, parse, split_words
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.search import TextQuery


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
    assert parse("the and").searchable().is_empty  # matches nothing, as on PostgreSQL
    assert "the" in STOP_WORDS


def test_words_are_runs_of_letters_digits_and_marks() -> None:
    assert split_words("Crème brûlée, 3.14 x_y") == ["Crème", "brûlée", "3", "14", "x", "y"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "must not be empty"),
        ("   \t", "must not be empty"),
        ("x" * 1001, "at most 1000 characters"),
        ("cat\x00", "NUL"),
        ("cat \ud800", "lone surrogate"),
    ],
)
def test_the_domain_refuses_text_no_backend_could_search(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as raised:
        TextQuery(text=text)
    assert raised.value.field == "text"
