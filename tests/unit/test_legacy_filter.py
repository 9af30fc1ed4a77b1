"""The earlier filter form, translated into the filter language (``filtering.from_legacy``),
and what a SearchFilter says before any row is read."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.filtering import from_legacy, is_legacy, parse_filter
from tenantrag.domain.search import SearchFilter
from tests.unit.test_filters import row

A, B = uuid.UUID(int=10), uuid.UUID(int=11)


def legacy(**given: Any) -> SearchFilter:
    return SearchFilter(where=from_legacy(given))


def test_each_key_becomes_its_filter_language_condition() -> None:
    assert from_legacy({"document_ids": [str(A)]}) == parse_filter({"document_id": {"$in": [str(A)]}})
    assert from_legacy({"tags_any": ["b", "a"]}) == parse_filter({"tags": {"$any": ["a", "b"]}})
    assert from_legacy({"tags_all": ["a"]}) == parse_filter({"tags": {"$all": ["a"]}})
    assert from_legacy({"metadata": {"lang": "en", "n": 1}}) == parse_filter(
        {"metadata.lang": {"$eq": "en"}, "metadata.n": {"$eq": 1}}
    )
    assert from_legacy({}) is None
    assert from_legacy({"tags_all": [], "metadata": {}}) is None
    assert is_legacy({"tags_any": []})
    assert not is_legacy({})
    assert not is_legacy({"tags": "a"})


def test_the_translation_keeps_the_meaning_with_json_equality() -> None:
    chunk, document = row({"lang": "en", "flag": True, "n": 1}, tags=("red",))
    assert legacy(tags_any=["red", "blue"], metadata={"lang": "en"}).matches(chunk, document)
    assert not legacy(tags_all=["red", "blue"]).matches(chunk, document)
    assert legacy(metadata={"flag": True, "n": 1.0}).matches(chunk, document)
    assert not legacy(metadata={"flag": 1}).matches(chunk, document)  # true is not 1
    assert not legacy(metadata={"n": True}).matches(chunk, document)
    assert not legacy(metadata={"missing": None}).matches(chunk, document)
    assert legacy(document_ids=[chunk.document_id]).matches(chunk, document)


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"metadata": {"a": [1]}}, "filter.metadata.a"),
        ({"metadata": {"a": {"b": 1}}}, "filter.metadata.a"),
        ({"metadata": {"a.b": 1}}, "filter.metadata.a.b"),
        ({"metadata": 3}, "filter.metadata"),
        ({"tags_any": [""]}, "filter.tags_any[0]"),
        ({"tags_all": "red"}, "filter.tags_all"),
        ({"document_ids": ["nope"]}, "filter.document_ids[0]"),
        ({"colour": "red"}, "filter.colour"),
    ],
)
def test_bad_input_names_the_field(given: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        from_legacy(given)
    assert caught.value.field == field


def test_long_id_lists_are_still_taken() -> None:
    ids = [uuid.UUID(int=i) for i in range(2500)]
    assert legacy(document_ids=ids).document_ids == frozenset(ids)


def test_a_filter_says_whether_it_is_empty_or_can_match_nothing() -> None:
    assert SearchFilter().is_empty
    assert SearchFilter.from_json({}).is_empty
    assert legacy(tags_all=[]).is_empty  # holds always: no condition at all
    assert not legacy(metadata={"lang": "en"}).is_empty
    assert legacy(document_ids=[]).matches_nothing
    assert legacy(tags_any=[]).matches_nothing
    nothing: dict[str, Any] = {"$or": [{"tags": {"$any": []}}, {"metadata.a": {"$in": []}}]}
    assert SearchFilter.from_json(nothing).matches_nothing
    assert not SearchFilter.from_json({"$or": [{"tags": {"$any": []}}, {"metadata.a": 1}]}).matches_nothing
    assert not SearchFilter.from_json({"$not": {"tags": {"$any": []}}}).matches_nothing
    assert not legacy(tags_all=[]).matches_nothing
    assert not SearchFilter().matches_nothing


def test_a_filter_names_the_documents_it_confines_hits_to() -> None:
    assert SearchFilter().document_ids is None
    assert legacy(document_ids=[A, B], tags_any=["x"]).document_ids == frozenset({A, B})
    pinned = {"$and": [{"document_id": {"$in": [str(A), str(B)]}}, {"document_id": str(A)}]}
    assert SearchFilter.from_json(pinned).document_ids == frozenset({A})
    either = {"$or": [{"document_id": str(A)}, {"document_id": str(B)}]}
    assert SearchFilter.from_json(either).document_ids == frozenset({A, B})
    loose = {"$or": [{"document_id": str(A)}, {"tags": "x"}]}
    assert SearchFilter.from_json(loose).document_ids is None
    assert SearchFilter.from_json({"document_id": {"$nin": [str(A)]}}).document_ids is None
    assert SearchFilter.from_json({"$not": {"document_id": str(A)}}).document_ids is None


def test_a_search_filter_takes_only_a_parsed_filter() -> None:
    assert SearchFilter().where is None
    assert SearchFilter().to_json() == {}
    where = parse_filter({"metadata.year": 2020})
    assert SearchFilter(where=where).to_json() == {"where": where.to_json()}
    with pytest.raises(TypeError):
        SearchFilter(where={"metadata.year": 1})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        SearchFilter(tags_any=["red"])  # type: ignore[call-arg]
