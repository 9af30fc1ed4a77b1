"""Document-level results (a domain rule): chunks grouped by document, and hybrid fusion
per document, with hypothesis properties over random chunk rankings."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.fusion import Fusion
from tenantrag.domain.grouping import (
    DocumentHit,
    ResultUnit,
    document_order,
    fuse_documents,
    group_by_document,
)
from tenantrag.domain.search import SearchHit, hit_order

DOCUMENTS = [uuid.UUID(int=n) for n in range(1, 7)]


def hit(document: uuid.UUID, score: float, ordinal: int = 0) -> SearchHit:
    return SearchHit(
        chunk_id=uuid.uuid4(), document_id=document, document_version=2, ordinal=ordinal, content="",
        metadata={}, score=score,
    )  # fmt: skip


@st.composite
def rankings(draw: st.DrawFn) -> list[SearchHit]:
    """A best-first chunk list over a few documents, with ties in scores."""
    scores = draw(st.lists(st.sampled_from([0.1, 0.25, 0.5, 0.75, 1.0]), max_size=25))
    hits = [hit(draw(st.sampled_from(DOCUMENTS)), score, n) for n, score in enumerate(scores)]
    return sorted(hits, key=hit_order)


def ids(documents: Sequence[DocumentHit]) -> list[uuid.UUID]:
    return [document.document_id for document in documents]


def test_a_document_ranks_at_its_best_chunk_and_carries_its_other_chunks() -> None:
    a, b = DOCUMENTS[:2]
    hits = sorted([hit(a, 0.9), hit(b, 0.8), hit(a, 0.7), hit(b, 0.2), hit(a, 0.1)], key=hit_order)
    grouped = group_by_document(hits)
    assert ids(grouped) == [a, b]
    first = grouped[0]
    assert (first.score, first.document_version, first.best) == (0.9, 2, hits[0])
    assert [chunk.score for chunk in first.chunks] == [0.9, 0.7, 0.1]
    assert (first.vector_rank, first.text_rank) == (None, None)
    assert ids(group_by_document(hits, k=1)) == [a]
    assert group_by_document([]) == []


@given(rankings(), st.integers(min_value=1, max_value=8))
def test_grouping_gives_k_distinct_documents_each_once_in_order(hits: list[SearchHit], k: int) -> None:
    grouped = group_by_document(hits, k)
    assert len(grouped) == min(k, len({h.document_id for h in hits}))
    assert len(set(ids(grouped))) == len(grouped)
    assert grouped == sorted(grouped, key=document_order)
    for document in grouped:
        assert all(chunk.document_id == document.document_id for chunk in document.chunks)
        assert list(document.chunks) == sorted(document.chunks, key=hit_order)
        assert document.best == document.chunks[0]
        assert document.score == max(h.score for h in hits if h.document_id == document.document_id)
    # Every chunk of a returned document is kept.
    everything = group_by_document(hits)
    assert sum(len(d.chunks) for d in everything) == len(hits)


def test_documents_are_fused_by_their_places_in_the_two_document_rankings() -> None:
    a, b, c = DOCUMENTS[:3]
    fusion = Fusion(method="rrf", rrf_k=10, vector_weight=2.0, text_weight=0.5)
    vector = [hit(a, 0.9, 0), hit(b, 0.8), hit(a, 0.7, 1)]
    # a is second in the text ranking through another chunk than its best vector chunk.
    text = [hit(c, 5.0), hit(a, 4.0, 2), hit(c, 3.0, 1)]
    fused = fuse_documents(vector, text, fusion, k=3)
    by_id = {d.document_id: d for d in fused}
    assert (by_id[a].score, by_id[a].vector_rank, by_id[a].text_rank) == (2.0 / 11 + 0.5 / 12, 1, 2)
    assert (by_id[b].score, by_id[b].vector_rank, by_id[b].text_rank) == (2.0 / 12, 2, None)
    assert (by_id[c].score, by_id[c].vector_rank, by_id[c].text_rank) == (0.5 / 11, None, 1)
    assert ids(fused) == [a, b, c]
    # a's chunks come from both lists, best fused chunk first, with their chunk-level ranks.
    assert {chunk.ordinal for chunk in by_id[a].chunks} == {0, 1, 2}
    assert by_id[a].best.chunk_id == vector[0].chunk_id
    assert (by_id[a].best.vector_rank, by_id[a].best.text_rank) == (1, None)
    assert by_id[a].chunks == tuple(sorted(by_id[a].chunks, key=hit_order))
    assert ids(fuse_documents(vector, text, fusion, k=2)) == [a, b]


@given(rankings(), rankings(), st.integers(min_value=1, max_value=8))
def test_fused_documents_are_distinct_ordered_and_hold_their_own_chunks(
    vector: list[SearchHit], text: list[SearchHit], k: int
) -> None:
    fused = fuse_documents(vector, text, Fusion(), k)
    assert len(fused) == min(k, len({h.document_id for h in (*vector, *text)}))
    assert len(set(ids(fused))) == len(fused)
    assert fused == sorted(fused, key=document_order)
    for document in fused:
        assert document.chunks
        assert document.best == document.chunks[0]
        assert all(chunk.document_id == document.document_id for chunk in document.chunks)


@given(rankings(), st.integers(min_value=1, max_value=8))
def test_fusing_with_an_empty_list_keeps_the_other_list_s_document_order(
    hits: list[SearchHit], k: int
) -> None:
    alone = ids(group_by_document(hits, k))
    assert ids(fuse_documents(hits, [], Fusion(), k)) == alone
    assert ids(fuse_documents([], hits, Fusion(), k)) == alone
    assert [d.vector_rank for d in fuse_documents(hits, [], Fusion(), k)] == list(range(1, len(alone) + 1))


def test_the_result_unit_is_parsed_naming_the_field() -> None:
    assert ResultUnit.parse("documents") is ResultUnit.DOCUMENTS
    assert ResultUnit.parse(ResultUnit.CHUNKS) is ResultUnit.CHUNKS
    with pytest.raises(InvalidInput) as raised:
        ResultUnit.parse("pages")
    assert raised.value.field == "group"
