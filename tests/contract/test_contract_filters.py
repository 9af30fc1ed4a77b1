"""The filter language through ``chunks.search``: every backend, every mode, the same chunks.

The corpus of ``tests/filter_strategies.py`` (values where backends could disagree: booleans
next to 0 and 1, nulls next to missing keys, arrays, nested objects, odd keys, code-point
orders, numbers near 2**53) is stored once per backend and test; then hand-picked and
hypothesis-generated filters run through vector, text and hybrid search, and each must
return exactly the chunks ``Filter.matches`` admits (the language's meaning; in vector mode,
an exact cosine top-k within tolerance). Every chunk's content holds the word "chunk", so a
text search for it admits the whole corpus before the filter. The earlier filter form goes
through the one translation the HTTP API and the CLI use (``filtering.from_legacy``).
"""

from __future__ import annotations

import uuid
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings

from tenantrag.domain.filtering import from_legacy
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document, DocumentStatus
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tenantrag.domain.search import HybridQuery, SearchFilter, TextQuery, VectorQuery
from tests.contract.factories import basis, make_chunk, make_document, seed_tenant
from tests.filter_strategies import CORPUS, CORPUS_IDS, filters
from tests.search_reference import assert_same_hits, exact_top_k

K = 100  # more than the corpus holds: every admitted chunk comes back


@attrs.frozen
class Stored:
    tenant_id: uuid.UUID
    rows: tuple[tuple[Chunk, Document], ...]

    def admitted(self, search_filter: SearchFilter) -> set[uuid.UUID]:
        return {chunk.id for chunk, document in self.rows if search_filter.matches(chunk, document)}


@pytest.fixture
async def stored(backend: UnitOfWorkFactory) -> Stored:
    """The corpus in a tenant of ``backend``, beside a copy in another tenant (never returned)."""
    found = []
    for copy in range(2):
        tenant_id = (await seed_tenant(backend)).tenant.id
        rows = []
        for spec in CORPUS:
            document = make_document(
                tenant_id, tags=spec.tags, status=DocumentStatus(spec.status), created_at=spec.created_at
            )
            if copy == 0:  # the corpus's ids, which its document_id filters name
                document = attrs.evolve(document, id=spec.id)
            rows += [(make_chunk(document, i, metadata=meta), document) for i, meta in enumerate(spec.chunks)]
        async with backend.tenant(tenant_id) as uow:
            for document in {document.id: document for _, document in rows}.values():
                await uow.documents.add(document)
            await uow.chunks.add_many([chunk for chunk, _ in rows])
            await uow.commit()
        found.append(Stored(tenant_id, tuple(rows)))
    return found[0]


async def check_every_mode(backend: UnitOfWorkFactory, stored: Stored, filter_json: dict[str, Any]) -> None:
    await check_filter(backend, stored, SearchFilter.from_json(filter_json))


async def check_filter(backend: UnitOfWorkFactory, stored: Stored, search_filter: SearchFilter) -> None:
    filter_json = search_filter.to_json()
    expected = stored.admitted(search_filter)
    vector = VectorQuery(embedding=basis(0), k=K, filter=search_filter)
    async with backend.tenant(stored.tenant_id, read_only=True) as uow:
        vector_hits = await uow.chunks.search(vector)
        text_hits = await uow.chunks.search(TextQuery(text="chunk", k=K, filter=search_filter))
        hybrid_hits = await uow.chunks.search(
            HybridQuery(embedding=basis(1), text="chunks", k=K, filter=search_filter)
        )
    # Metadata aside: PostgreSQL reads 1e300 back as an integer, which is not the filter's business.
    assert_same_hits(vector_hits, exact_top_k(vector, stored.rows), metadata=False)
    assert {h.chunk_id for h in text_hits} == expected, filter_json
    assert {h.chunk_id for h in hybrid_hits} == expected, filter_json


CASES: list[dict[str, Any]] = [
    {},
    {"$not": {}},
    {"metadata.flag": True},
    {"metadata.flag": 1},
    {"metadata.year": None},
    {"metadata.year": {"$ne": None}},
    {"metadata.list": 1},
    {"metadata.nested.k": {"$exists": False}},
    {"metadata.title": {"$gte": "e", "$lt": "f"}},
    {"metadata.year": {"$gt": 0, "$lt": 1}},
    {'metadata.we"ird': {"$gte": 1}},
    {"metadata.ключ": "ключ"},
    {"tags": {"$all": ["red", "blue"]}},
    {"tags": {"$any": []}},
    {"tags": "red", "status": {"$in": ["pending", "failed"]}},
    {"document_id": {"$nin": list(CORPUS_IDS[:3])}},
    {"created_at": {"$lt": "2025-01-01T17:00:00+05:00"}},
    {"$or": [{"metadata.absent": 1}, {"$not": {"metadata.absent": {"$lt": 1}}}]},
]


@pytest.mark.parametrize("filter_json", CASES, ids=[str(i) for i in range(len(CASES))])
async def test_hand_written_filters_return_what_matches_admits(
    backend: UnitOfWorkFactory, stored: Stored, filter_json: dict[str, Any]
) -> None:
    await check_every_mode(backend, stored, filter_json)


LEGACY_CASES: list[dict[str, Any]] = [
    {"metadata": {"flag": True}},
    {"metadata": {"flag": 1}},
    {"metadata": {"year": None}},
    {"metadata": {"flag": False, "year": 0}},
    {"metadata": {"ключ": "ключ"}},
    {"tags_any": ["red", "blue"], "tags_all": ["red"]},
    {"tags_any": []},
    {"document_ids": list(CORPUS_IDS[:3]), "tags_all": []},
    {"document_ids": []},
]


@pytest.mark.parametrize("legacy", LEGACY_CASES, ids=[str(i) for i in range(len(LEGACY_CASES))])
async def test_the_earlier_form_returns_what_its_translation_admits(
    backend: UnitOfWorkFactory, stored: Stored, legacy: dict[str, Any]
) -> None:
    await check_filter(backend, stored, SearchFilter(where=from_legacy(legacy)))


@settings(
    max_examples=40,
    deadline=None,
    # The corpus is stored once for the test; examples only read it.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(filter_json=filters())
async def test_generated_filters_return_what_matches_admits(
    backend: UnitOfWorkFactory, stored: Stored, filter_json: dict[str, Any]
) -> None:
    await check_every_mode(backend, stored, filter_json)
