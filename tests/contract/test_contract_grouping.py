"""Document-level search on every backend: the use case's grouping (``search_execution.find``)
over each backend's chunk search, held to the domain's grouping and document fusion of an
exact cosine ranking and the backend's own text ranking; and why a search found nothing.

Text queries are single words (any-word and every-word matching read them alike), and text
scores are only compared with the backend's own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest

from tenantrag.domain.fusion import Fusion
from tenantrag.domain.grouping import ResultUnit, fuse_documents, group_by_document
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tenantrag.domain.search import EmptyCode, HybridQuery, SearchFilter, TextQuery, VectorQuery
from tenantrag.domain.usecases.search_execution import find
from tests.contract.factories import DIMENSION, Seeded, basis
from tests.contract.test_contract_search_modes import Stored, store
from tests.search_reference import exact_top_k

# Three chunks to a document: documents 0 and 1 say "otter" in two chunks, document 2 in one.
TEXTS = (
    "otter swims",  # 0 (document 0)
    "otter dives deep",  # 1
    "rocks and sand",  # 2
    "a river otter",  # 3 (document 1)
    "otter pups play",  # 4
    "moss grows",  # 5
    "cold water",  # 6 (document 2)
    "otter fur",  # 7
    "pebbles",  # 8
)


def spread(i: int) -> tuple[float, ...]:
    """Distinct cosines to ``near()``: chunk i at angle i/10 from the first axis."""
    angle = i / 10
    return (math.cos(angle), math.sin(angle)) + (0.0,) * (DIMENSION - 2)


EMBEDDINGS = [spread(i) for i in range(len(TEXTS))]
QUERY = basis(0)


async def stored_otters(backend: UnitOfWorkFactory, seeded: Seeded) -> Stored:
    return await store(backend, seeded, TEXTS, embeddings=EMBEDDINGS, per_document=3)


def document_ids(stored: Stored, order: Sequence[int]) -> list[object]:
    """The ids of documents by their index (0, 1, 2: chunks 0-2, 3-5, 6-8)."""
    return [stored.rows[3 * n][1].id for n in order]


@pytest.mark.parametrize("k", [1, 2, 3, 5])
async def test_vector_documents_are_the_grouping_of_the_exact_ranking(
    backend: UnitOfWorkFactory, tenant_a: Seeded, k: int
) -> None:
    stored = await stored_otters(backend, tenant_a)
    query = VectorQuery(embedding=QUERY, k=k)
    async with backend.tenant(stored.tenant_id, read_only=True) as uow:
        found = await find(uow, query, ResultUnit.DOCUMENTS, DIMENSION)
    expected = group_by_document(exact_top_k(VectorQuery(embedding=QUERY, k=len(TEXTS)), stored.rows), k)
    assert [d.document_id for d in found.documents] == [d.document_id for d in expected]
    assert [d.document_id for d in found.documents] == document_ids(stored, [0, 1, 2])[:k]
    for got, want in zip(found.documents, expected, strict=True):
        assert got.best.chunk_id == want.best.chunk_id
        assert got.score == pytest.approx(want.score, abs=1e-6)
        # Grouping widened until k documents came back, so each carries all its chunks fetched.
        assert {c.document_id for c in got.chunks} == {got.document_id}
    assert found.hits == tuple(d.best for d in found.documents)


async def test_text_documents_each_once_with_their_matching_chunks(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    stored = await stored_otters(backend, tenant_a)
    async with backend.tenant(stored.tenant_id, read_only=True) as uow:
        found = await find(uow, TextQuery(text="otter", k=3), ResultUnit.DOCUMENTS, DIMENSION)
        chunks = list(await uow.chunks.search(TextQuery(text="otter", k=20)))
    assert [d.document_id for d in found.documents] == [d.document_id for d in group_by_document(chunks)]
    assert sorted(len(d.chunks) for d in found.documents) == [1, 2, 2]
    assert set(stored.ordinals([c for d in found.documents for c in d.chunks])) == {0, 1, 3, 4, 7}


@pytest.mark.parametrize("fusion", [Fusion(), Fusion(rrf_k=1, vector_weight=0.5, text_weight=2.0)])
async def test_hybrid_documents_are_the_domain_s_document_fusion(
    backend: UnitOfWorkFactory, tenant_a: Seeded, fusion: Fusion
) -> None:
    stored = await stored_otters(backend, tenant_a)
    query = HybridQuery(embedding=spread(8), text="otter", k=3, fusion=fusion)
    async with backend.tenant(stored.tenant_id, read_only=True) as uow:
        found = await find(uow, query, ResultUnit.DOCUMENTS, DIMENSION)
        texts = list(await uow.chunks.search(TextQuery(text="otter", k=20)))
    vector = exact_top_k(VectorQuery(embedding=spread(8), k=len(TEXTS)), stored.rows)
    expected = fuse_documents(vector, texts, fusion, 3)
    assert [(d.document_id, d.vector_rank, d.text_rank) for d in found.documents] == [
        (d.document_id, d.vector_rank, d.text_rank) for d in expected
    ]
    assert [d.score for d in found.documents] == pytest.approx(
        [d.score for d in expected], abs=1e-6
    )  # cosines agree within 1e-6
    assert found.text_empty is None


async def test_why_nothing_was_found(backend: UnitOfWorkFactory, tenant_a: Seeded, tenant_b: Seeded) -> None:
    # Another tenant's chunks do not count: tenant a has none.
    await stored_otters(backend, tenant_b)
    async with backend.tenant(tenant_a.tenant.id, read_only=True) as uow:
        for query in (
            VectorQuery(embedding=QUERY),
            TextQuery(text="otter"),
            HybridQuery(embedding=QUERY, text="otter"),
        ):
            for group in ResultUnit:
                found = await find(uow, query, group, DIMENSION)
                assert found.empty_reason is not None
                assert (found.hits, found.empty_reason.code) == ((), EmptyCode.NO_CHUNKS)
    stored = await stored_otters(backend, tenant_a)
    missing = SearchFilter.from_json({"tags": "missing"})
    async with backend.tenant(stored.tenant_id, read_only=True) as uow:
        for query in (
            VectorQuery(embedding=QUERY, filter=missing),
            TextQuery(text="otter", filter=missing),
            HybridQuery(embedding=QUERY, text="otter", filter=missing),
        ):
            found = await find(uow, query, ResultUnit.DOCUMENTS, DIMENSION)
            assert found.empty_reason is not None
            assert found.empty_reason.code is EmptyCode.FILTER_EXCLUDES_ALL
        unmatched = await find(uow, TextQuery(text="zebra"), ResultUnit.CHUNKS, DIMENSION)
        assert unmatched.empty_reason is not None
        assert unmatched.empty_reason.code is EmptyCode.NO_MATCHING_WORDS
        # A filter that admits chunks, none of which hold the word: the words are the reason.
        pebbles = SearchFilter.from_json({"metadata.n": 8})
        filtered = await find(uow, TextQuery(text="otter", filter=pebbles), ResultUnit.CHUNKS, DIMENSION)
        assert filtered.empty_reason is not None
        assert filtered.empty_reason.code is EmptyCode.NO_MATCHING_WORDS
        hybrid = await find(uow, HybridQuery(embedding=QUERY, text="zebra"), ResultUnit.DOCUMENTS, DIMENSION)
        assert len(hybrid.documents) == 3
        assert hybrid.text_empty is not None
        assert hybrid.text_empty.code is EmptyCode.NO_MATCHING_WORDS
