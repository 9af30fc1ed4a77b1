"""Search on SQLite against brute force, on data made to trip it up: near-ties that only
exactly rounded sums order right, zero vectors, metadata values that Python compares
across types (1 == 1.0 == True), keys the SQL prefilter must leave to Python, unicode
tags, and more document ids than are bound in SQL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenantrag.adapters.sqlite import SqliteUnitOfWorkFactory
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document
from tenantrag.domain.search import VectorQuery
from tests.contract.factories import make_chunk, make_document, seed_tenant
from tests.search_reference import assert_same_hits, exact_top_k, legacy
from tests.sqlite.conftest import DIMENSION

pytestmark = pytest.mark.sqlite

TAGS = ("café", "b", "naïve")
METADATA = [
    {},
    {"n": 1},
    {"n": 1.0},
    {"n": True},
    {"n": "1"},
    {"n": [1]},
    {"n": None},
    {'odd "key"': "x", "n": 2},
    {"lang": "en", "nested": {"a": 1}},
    {"lang": "ü"},
]
FILTERS = [
    {},
    {"n": 1},
    {"n": True},
    {"n": 1.0},
    {"n": "1"},
    {"n": None},
    {"n": False},
    {'odd "key"': "x"},
    {"lang": "ü"},
]  # arrays, objects and numbers past 2**53 are refused by the translation (tests/unit)
# Small integer coordinates give many exact ties and near-ties between scaled copies.
vectors = st.lists(
    st.sampled_from([-3.0, -1.0, 0.0, 0.0, 1.0, 2.0, 3.0]), min_size=DIMENSION, max_size=DIMENSION
)


async def _store(
    factory: SqliteUnitOfWorkFactory, tenant_id: uuid.UUID, spec: list[tuple[list[str], list[Any]]]
) -> list[tuple[Chunk, Document]]:
    rows: list[tuple[Chunk, Document]] = []
    async with factory.tenant(tenant_id) as uow:
        for tags, chunk_specs in spec:
            document = make_document(tenant_id, tags=tags)
            chunks = [make_chunk(document, i, v, metadata=m) for i, (v, m) in enumerate(chunk_specs)]
            await uow.documents.add(document)
            await uow.chunks.add_many(chunks)
            rows.extend((chunk, document) for chunk in chunks)
        await uow.commit()
    return rows


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    spec=st.lists(
        st.tuples(
            st.lists(st.sampled_from(TAGS), unique=True, max_size=3),
            st.lists(st.tuples(vectors, st.sampled_from(METADATA)), max_size=8),
        ),
        min_size=1,
        max_size=4,
    ),
    query_vector=vectors.filter(any),
    filters=st.tuples(
        st.sampled_from(FILTERS),
        st.none() | st.lists(st.sampled_from(TAGS), max_size=2),
        st.none() | st.lists(st.sampled_from(TAGS), max_size=2),
        st.booleans(),
    ),
    k=st.integers(1, 15),
)
async def test_search_equals_an_exact_cosine_on_awkward_data(
    factory: SqliteUnitOfWorkFactory,
    spec: list[tuple[list[str], list[Any]]],
    query_vector: list[float],
    filters: tuple[dict[str, Any], list[str] | None, list[str] | None, bool],
    k: int,
) -> None:
    metadata, tags_any, tags_all, by_document = filters
    seeded = await seed_tenant(factory)
    rows = await _store(factory, seeded.tenant.id, spec)
    document_ids = [rows[0][1].id] if by_document and rows else None
    query = VectorQuery(
        embedding=query_vector,
        k=k,
        filter=legacy(document_ids=document_ids, tags_any=tags_any, tags_all=tags_all, metadata=metadata),
    )
    async with factory.tenant(seeded.tenant.id) as uow:
        hits = await uow.chunks.search(query)
    assert_same_hits(hits, exact_top_k(query, rows))


async def test_many_document_ids_are_filtered_too(factory: SqliteUnitOfWorkFactory) -> None:
    seeded = await seed_tenant(factory)
    rows = await _store(
        factory, seeded.tenant.id, [([], [([1.0] + [0.0] * (DIMENSION - 1), {})]) for _ in range(3)]
    )
    wanted = [rows[0][1].id, rows[2][1].id, *(uuid.uuid4() for _ in range(1500))]
    query = VectorQuery(embedding=[1.0] * DIMENSION, filter=legacy(document_ids=wanted))
    async with factory.tenant(seeded.tenant.id) as uow:
        hits = await uow.chunks.search(query)
    assert_same_hits(hits, exact_top_k(query, rows))
    assert {h.document_id for h in hits} == {rows[0][1].id, rows[2][1].id}


async def test_search_keeps_the_best_across_batches(factory: SqliteUnitOfWorkFactory) -> None:
    """More chunks than one streamed batch, the best of them in the last batch."""
    from tenantrag.adapters.sqlite import vector_search as search

    seeded = await seed_tenant(factory)
    count = search.BATCH + 50
    vectors_ = [[1.0, float(i % 97 + 1)] + [0.0] * (DIMENSION - 2) for i in range(count)]
    vectors_[-1] = [1.0] + [0.0] * (DIMENSION - 1)
    rows = await _store(factory, seeded.tenant.id, [([], [(v, {}) for v in vectors_])])
    query = VectorQuery(embedding=[1.0] + [0.0] * (DIMENSION - 1), k=5)
    async with factory.tenant(seeded.tenant.id) as uow:
        hits = await uow.chunks.search(query)
    assert_same_hits(hits, exact_top_k(query, rows))
    assert hits[0].chunk_id == rows[-1][0].id
