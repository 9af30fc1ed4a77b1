"""Chunks and vector search: the backend's search must equal an exact cosine top-k, computed
here with NumPy, within tolerance: scores within 1e-6, the same ranking except between
near-ties (scores within 1e-6 of each other, which may swap or trade places at the k-th)."""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Sequence
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenantrag.domain.errors import Conflict, InvalidInput, NotFound
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tenantrag.domain.search import SearchFilter, VectorQuery
from tests.contract.factories import (
    DIMENSION,
    Seeded,
    basis,
    make_chunk,
    make_document,
    seed_tenant,
)
from tests.search_reference import assert_same_hits, exact_top_k, legacy


async def _add_document(backend: UnitOfWorkFactory, document: Document, chunks: Sequence[Chunk] = ()) -> None:
    async with backend.tenant(document.tenant_id) as uow:
        await uow.documents.add(document)
        await uow.chunks.add_many(chunks)
        await uow.commit()


async def test_chunks_are_listed_by_ordinal_and_counted(backend: UnitOfWorkFactory, tenant_a: Seeded) -> None:
    document, other = make_document(tenant_a.tenant.id), make_document(tenant_a.tenant.id)
    chunks = [make_chunk(document, ordinal) for ordinal in range(5)]
    shuffled = random.Random(7).sample(chunks, len(chunks))
    await _add_document(backend, document, shuffled)
    await _add_document(backend, other, [make_chunk(other, 0)])
    async with backend.tenant(tenant_a.tenant.id) as uow:
        assert list(await uow.chunks.list_for_document(document.id)) == chunks
        assert list(await uow.chunks.list_for_document(uuid.uuid4())) == []
        assert await uow.chunks.count() == 6


async def test_delete_for_document_removes_only_that_documents_chunks(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    document, other = make_document(tenant_a.tenant.id), make_document(tenant_a.tenant.id)
    await _add_document(backend, document, [make_chunk(document, i) for i in range(3)])
    await _add_document(backend, other, [make_chunk(other, 0)])
    async with backend.tenant(tenant_a.tenant.id) as uow:
        assert await uow.chunks.delete_for_document(document.id) == 3
        assert await uow.chunks.delete_for_document(uuid.uuid4()) == 0
        await uow.commit()
    async with backend.tenant(tenant_a.tenant.id) as uow:
        assert list(await uow.chunks.list_for_document(document.id)) == []
        assert len(await uow.chunks.list_for_document(other.id)) == 1
        assert await uow.documents.get(document.id) is not None  # the document itself stays
        # The ordinals are free again.
        await uow.chunks.add_many([make_chunk(document, 0)])


async def test_an_ordinal_is_unique_per_document(backend: UnitOfWorkFactory, tenant_a: Seeded) -> None:
    document, other = make_document(tenant_a.tenant.id), make_document(tenant_a.tenant.id)
    await _add_document(backend, document, [make_chunk(document, 0)])
    await _add_document(backend, other, [make_chunk(other, 0)])  # same ordinal, other document
    async with backend.tenant(tenant_a.tenant.id) as uow:
        with pytest.raises(Conflict, match="ordinal 0") as caught:
            await uow.chunks.add_many([make_chunk(document, 0)])
        assert caught.value.details["rule"] == "chunks.document_ordinal"


async def test_add_many_is_all_or_nothing(backend: UnitOfWorkFactory, tenant_a: Seeded) -> None:
    document = make_document(tenant_a.tenant.id)
    await _add_document(backend, document)
    async with backend.tenant(tenant_a.tenant.id) as uow:
        with pytest.raises(Conflict):
            await uow.chunks.add_many(
                [make_chunk(document, 0), make_chunk(document, 1), make_chunk(document, 1)]
            )
        with pytest.raises(InvalidInput):
            await uow.chunks.add_many([make_chunk(document, 0), make_chunk(document, 1, [1.0, 2.0])])
        assert await uow.chunks.count() == 0
        # The unit of work is still usable after a failed statement.
        await uow.chunks.add_many([make_chunk(document, 0)])
        await uow.commit()
    async with backend.tenant(tenant_a.tenant.id) as uow:
        assert [c.ordinal for c in await uow.chunks.list_for_document(document.id)] == [0]


async def test_a_chunk_needs_an_existing_document(backend: UnitOfWorkFactory, tenant_a: Seeded) -> None:
    unsaved = make_document(tenant_a.tenant.id)
    async with backend.tenant(tenant_a.tenant.id) as uow:
        with pytest.raises(NotFound, match="document"):
            await uow.chunks.add_many([make_chunk(unsaved, 0)])
        # Pending in this unit of work is enough.
        await uow.documents.add(unsaved)
        await uow.chunks.add_many([make_chunk(unsaved, 0)])
        assert await uow.chunks.count() == 1


async def test_adding_an_existing_chunk_id_is_a_conflict(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    document = make_document(tenant_a.tenant.id)
    chunk = make_chunk(document, 0)
    await _add_document(backend, document, [chunk])
    async with backend.tenant(tenant_a.tenant.id) as uow:
        with pytest.raises(Conflict):
            await uow.chunks.add_many([attrs.evolve(chunk, ordinal=1)])


async def test_embeddings_of_the_wrong_dimension_are_rejected(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    assert backend.dimension == DIMENSION
    document = make_document(tenant_a.tenant.id)
    await _add_document(backend, document)
    async with backend.tenant(tenant_a.tenant.id) as uow:
        with pytest.raises(InvalidInput) as caught:
            await uow.chunks.add_many([make_chunk(document, 0, [1.0] * (DIMENSION + 1))])
        assert caught.value.field == "embedding"
        with pytest.raises(InvalidInput) as caught:
            await uow.chunks.search(VectorQuery(embedding=[1.0] * (DIMENSION - 1)))
        assert caught.value.field == "embedding"


async def test_search_ranks_by_cosine_and_breaks_ties_by_chunk_id(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    document = make_document(tenant_a.tenant.id)
    exact = make_chunk(document, 0, basis(0, scale=3.0))  # length does not matter to cosine
    near = make_chunk(document, 1, [1.0, 1.0] + [0.0] * (DIMENSION - 2))
    tied = [make_chunk(document, 2 + i, basis(1)) for i in range(3)]  # all cosine 0
    opposite = make_chunk(document, 5, basis(0, scale=-1.0))
    await _add_document(backend, document, [opposite, *tied, near, exact])
    async with backend.tenant(tenant_a.tenant.id) as uow:
        hits = await uow.chunks.search(VectorQuery(embedding=basis(0), k=10))
        top2 = await uow.chunks.search(VectorQuery(embedding=basis(0), k=2))
    expected_ids = [exact.id, near.id, *sorted((c.id for c in tied), key=str), opposite.id]
    assert [h.chunk_id for h in hits] == expected_ids
    assert [h.score for h in hits] == pytest.approx([1.0, 1 / math.sqrt(2), 0.0, 0.0, 0.0, -1.0])
    assert [h.chunk_id for h in top2] == expected_ids[:2]
    assert hits[0].document_id == document.id
    assert hits[0].document_version == document.version
    assert hits[0].ordinal == 0
    assert hits[0].content == exact.content


async def test_search_applies_every_filter(backend: UnitOfWorkFactory, tenant_a: Seeded) -> None:
    tenant_id = tenant_a.tenant.id
    red = make_document(tenant_id, tags=["red", "warm"])
    blue = make_document(tenant_id, tags=["blue"])
    red_chunks = [make_chunk(red, 0, metadata={"lang": "en"}), make_chunk(red, 1, metadata={"lang": "fr"})]
    blue_chunks = [make_chunk(blue, 0, metadata={"lang": "en"})]
    await _add_document(backend, red, red_chunks)
    await _add_document(backend, blue, blue_chunks)
    query = [1.0] * DIMENSION

    async with backend.tenant(tenant_id) as uow:

        async def found(search_filter: SearchFilter) -> set[uuid.UUID]:
            return {
                h.chunk_id
                for h in await uow.chunks.search(VectorQuery(embedding=query, filter=search_filter))
            }

        assert await found(SearchFilter()) == {c.id for c in red_chunks + blue_chunks}
        assert await found(legacy(document_ids=[blue.id])) == {blue_chunks[0].id}
        assert await found(legacy(document_ids=[])) == set()
        assert await found(legacy(tags_any=["blue", "warm"])) == {c.id for c in red_chunks + blue_chunks}
        assert await found(legacy(tags_any=["warm"])) == {c.id for c in red_chunks}
        assert await found(legacy(tags_all=["red", "warm"])) == {c.id for c in red_chunks}
        assert await found(legacy(tags_all=["red", "blue"])) == set()
        assert await found(legacy(metadata={"lang": "en"})) == {red_chunks[0].id, blue_chunks[0].id}
        assert await found(legacy(metadata={"lang": "en"}, tags_any=["red"])) == {red_chunks[0].id}
        assert await found(legacy(metadata={"missing": 1})) == set()


async def test_metadata_equality_is_json_equality(backend: UnitOfWorkFactory, tenant_a: Seeded) -> None:
    """true is not 1 (nor false 0) on every backend, in both filter forms; 1 is 1.0."""
    document = make_document(tenant_a.tenant.id)
    values: list[Any] = [True, 1, 1.0, False, 0, "1", None]
    chunks = [make_chunk(document, i, metadata={"v": value}) for i, value in enumerate(values)]
    await _add_document(backend, document, chunks)
    by_value = {i: chunk.id for i, chunk in enumerate(chunks)}
    expected: list[tuple[Any, set[int]]] = [(True, {0}), (1, {1, 2}), (1.0, {1, 2}), (False, {3}), (0, {4})]
    expected += [("1", {5}), (None, {6})]
    async with backend.tenant(tenant_a.tenant.id) as uow:
        for value, indexes in expected:
            for search_filter in (
                legacy(metadata={"v": value}),
                SearchFilter.from_json({"metadata.v": value}),
            ):
                query = VectorQuery(embedding=[1.0] * DIMENSION, k=20, filter=search_filter)
                found = {hit.chunk_id for hit in await uow.chunks.search(query)}
                assert found == {by_value[i] for i in indexes}, (value, search_filter)


async def test_returned_chunks_and_hits_share_no_state_with_the_store(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    document = make_document(tenant_a.tenant.id)
    await _add_document(backend, document, [make_chunk(document, 0, basis(0), metadata={"page": 1})])
    async with backend.tenant(tenant_a.tenant.id) as uow:
        (chunk,) = await uow.chunks.list_for_document(document.id)
        chunk.metadata["page"] = 2
        (hit,) = await uow.chunks.search(VectorQuery(embedding=basis(0)))
        assert hit.metadata == {"page": 1}
        hit.metadata["page"] = 3  # type: ignore[index]
        (again,) = await uow.chunks.search(VectorQuery(embedding=basis(0)))
        assert again.metadata == {"page": 1}
        assert (await uow.chunks.list_for_document(document.id))[0].metadata == {"page": 1}


async def test_search_of_an_empty_tenant_finds_nothing(backend: UnitOfWorkFactory, tenant_a: Seeded) -> None:
    async with backend.tenant(tenant_a.tenant.id) as uow:
        assert list(await uow.chunks.search(VectorQuery(embedding=basis(0)))) == []


# --- search equals an exact cosine ---------------------------------------------------------

TAGS = ("a", "b", "c")
small_vectors = st.lists(st.integers(-2, 2).map(float), min_size=DIMENSION, max_size=DIMENSION)
tag_sets = st.lists(st.sampled_from(TAGS), unique=True, max_size=3)
chunk_metadata = st.sampled_from([{}, {"lang": "en"}, {"lang": "fr"}, {"lang": "en", "page": 1}])
documents_spec = st.lists(
    st.tuples(tag_sets, st.lists(st.tuples(small_vectors, chunk_metadata), max_size=6)),
    min_size=1,
    max_size=3,
)
filters_spec = st.tuples(
    st.one_of(st.none(), st.lists(st.integers(0, 3), max_size=3)),  # indexes into the documents (3: unknown)
    st.one_of(st.none(), tag_sets),
    st.one_of(st.none(), tag_sets),
    st.sampled_from([{}, {"lang": "en"}, {"page": 1}]),
)


@settings(
    max_examples=60,
    deadline=None,
    # Each example seeds its own tenant, so sharing the backend between examples is sound.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    documents=documents_spec,
    query_vector=small_vectors.filter(any),
    filters=filters_spec,
    k=st.integers(1, 12),
)
async def test_search_equals_an_exact_cosine(
    backend: UnitOfWorkFactory,
    documents: list[tuple[list[str], list[tuple[list[float], dict[str, Any]]]]],
    query_vector: list[float],
    filters: tuple[list[int] | None, list[str] | None, list[str] | None, dict[str, Any]],
    k: int,
) -> None:
    seeded = await seed_tenant(backend)
    rows: list[tuple[Chunk, Document]] = []
    document_ids: list[uuid.UUID] = []
    for tags, chunk_specs in documents:
        document = make_document(seeded.tenant.id, tags=tags)
        chunks = [
            make_chunk(document, i, vector, metadata=meta) for i, (vector, meta) in enumerate(chunk_specs)
        ]
        await _add_document(backend, document, chunks)
        rows.extend((chunk, document) for chunk in chunks)
        document_ids.append(document.id)
    picks, tags_any, tags_all, metadata = filters
    search_filter = legacy(
        document_ids=None if picks is None else [_pick(document_ids, i) for i in picks],
        tags_any=tags_any,
        tags_all=tags_all,
        metadata=metadata,
    )
    query = VectorQuery(embedding=query_vector, k=k, filter=search_filter)
    async with backend.tenant(seeded.tenant.id) as uow:
        hits = await uow.chunks.search(query)
    assert_same_hits(hits, exact_top_k(query, rows))


def _pick(ids: list[uuid.UUID], index: int) -> uuid.UUID:
    return ids[index] if index < len(ids) else uuid.uuid4()
