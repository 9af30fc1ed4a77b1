"""The SQLite vector cache: answers equal to searching without it (within tolerance), never
stale after another connection or process writes, and filters."""

from __future__ import annotations

import asyncio
import math
import random
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest
from sqlalchemy import event

from tenantrag.adapters.sqlite import SqliteUnitOfWorkFactory, open_sqlite
from tenantrag.adapters.sqlite.vector_cache import MIB
from tenantrag.domain.filtering import parse_filter
from tenantrag.domain.search import (
    HybridQuery,
    SearchFilter,
    VectorQuery,
)
from tests.contract.factories import make_chunk, make_document, seed_tenant
from tests.search_reference import assert_same_hits, exact_top_k, legacy
from tests.sqlite.conftest import DIMENSION
from tests.sqlite.vector_cache_world import check, search, store, vector

pytestmark = pytest.mark.sqlite


@pytest.fixture
def statements(factory: SqliteUnitOfWorkFactory) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(factory.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(factory.engine.sync_engine, "before_cursor_execute", record)


# --- answers ---------------------------------------------------------------------------------


async def test_a_cached_search_answers_as_a_fresh_one(
    factory: SqliteUnitOfWorkFactory, uncached: SqliteUnitOfWorkFactory
) -> None:
    rng = random.Random(1)
    seeded = await seed_tenant(factory)
    tenant_id = seeded.tenant.id
    rows = await store(factory, tenant_id, 300, rng)
    cache = factory.vector_cache
    for k in (1, 10, 50, 300, 400):
        query = VectorQuery(embedding=vector(rng), k=k)
        first = await check(factory, uncached, tenant_id, query, rows)
        again = await check(factory, uncached, tenant_id, query, rows)
        assert first == again
    assert tenant_id in cache
    assert cache.misses == 1  # loaded once, every later search a hit
    assert cache.hits >= 9
    assert not uncached.vector_cache.enabled
    assert len(uncached.vector_cache) == 0


async def test_a_cached_search_sends_one_statement(
    factory: SqliteUnitOfWorkFactory, statements: list[str]
) -> None:
    rng = random.Random(2)
    seeded = await seed_tenant(factory)
    await store(factory, seeded.tenant.id, 50, rng)
    await search(factory, seeded.tenant.id, VectorQuery(embedding=vector(rng)))  # loads
    statements.clear()
    await search(factory, seeded.tenant.id, VectorQuery(embedding=vector(rng)))
    assert len(statements) == 1
    assert "chunk_generations" in statements[0]  # the token comes with the candidates


async def test_near_ties_and_zero_vectors_rank_within_tolerance(
    factory: SqliteUnitOfWorkFactory, uncached: SqliteUnitOfWorkFactory
) -> None:
    seeded = await seed_tenant(factory)
    tenant_id = seeded.tenant.id
    document = make_document(tenant_id)
    base = [1.0, 2.0, 0.0, -1.0, 3.0, 0.5, 0.25, 1.0]
    embeddings = [
        base,
        [2 * x for x in base],  # the same direction: an exact tie, broken by chunk id
        [x * 3.0 for x in base],
        [math.nextafter(base[0], 2.0), *base[1:]],  # one ulp away
        [0.0] * DIMENSION,  # cosine 0
        [-x for x in base],
        *([1.0, 2.0, 0.0, -1.0, 3.0, 0.5, 0.25, 1.0 + i * 1e-7] for i in range(1, 20)),
    ]
    chunks = [make_chunk(document, i, e) for i, e in enumerate(embeddings)]
    async with factory.tenant(tenant_id) as uow:
        await uow.documents.add(document)
        await uow.chunks.add_many(chunks)
        await uow.commit()
    rows = [(chunk, document) for chunk in chunks]
    for k in (1, 2, 3, 5, 10, 25):
        for embedding in (base, [1.0] * DIMENSION, [-x for x in base]):
            await check(factory, uncached, tenant_id, VectorQuery(embedding=embedding, k=k), rows)
    assert factory.vector_cache.hits > 0


async def test_a_tenant_larger_than_the_cache_is_searched_without_it(url: str) -> None:
    rng = random.Random(3)
    small = await open_sqlite(url, DIMENSION, migrate=False, vector_cache_mb=1000 / MIB)
    try:
        seeded = await seed_tenant(small)
        rows = await store(small, seeded.tenant.id, 40, rng)  # 40 * 64 bytes + overhead > 1000
        query = VectorQuery(embedding=vector(rng), k=5)
        assert_same_hits(await search(small, seeded.tenant.id, query), exact_top_k(query, rows))
        assert len(small.vector_cache) == 0
    finally:
        await small.dispose()


# --- other writers ---------------------------------------------------------------------------


async def test_writes_through_another_factory_are_seen_at_once(
    factory: SqliteUnitOfWorkFactory, other: SqliteUnitOfWorkFactory, uncached: SqliteUnitOfWorkFactory
) -> None:
    rng = random.Random(4)
    seeded = await seed_tenant(factory)
    tenant_id = seeded.tenant.id
    rows = await store(other, tenant_id, 30, rng)
    target = vector(rng)
    query = VectorQuery(embedding=target, k=5)
    await check(factory, uncached, tenant_id, query, rows)
    assert tenant_id in factory.vector_cache

    # Insert: the other factory adds the query's own direction, which must come first.
    added = await store(other, tenant_id, 1, rng)
    best = attrs.evolve(added[0][0], id=uuid.uuid4(), ordinal=1, embedding=tuple(target))
    async with other.tenant(tenant_id) as uow:
        await uow.chunks.add_many([best])
        await uow.commit()
    rows += [*added, (best, added[0][1])]
    hits = await check(factory, uncached, tenant_id, query, rows)
    assert hits[0].chunk_id == best.id

    # Delete a document: its chunks go with it (the foreign key's cascade).
    async with other.tenant(tenant_id) as uow:
        await uow.documents.delete(added[0][1].id)
        await uow.commit()
    rows = [row for row in rows if row[1].id != added[0][1].id]
    hits = await check(factory, uncached, tenant_id, query, rows)
    assert best.id not in {h.chunk_id for h in hits}

    # Re-ingest a document: its chunks replaced by new ones with other embeddings.
    document = rows[0][1]
    replaced = [make_chunk(document, i, vector(rng)) for i in range(12)]
    async with other.tenant(tenant_id) as uow:
        await uow.chunks.delete_for_document(document.id)
        await uow.chunks.add_many(replaced)
        await uow.commit()
    rows = [(chunk, document) for chunk in replaced]
    for _ in range(3):
        await check(factory, uncached, tenant_id, VectorQuery(embedding=vector(rng), k=5), rows)


async def test_a_write_by_another_process_is_seen(
    factory: SqliteUnitOfWorkFactory, uncached: SqliteUnitOfWorkFactory, database: Path
) -> None:
    """A plain sqlite3 connection in another process changes an embedding in place (same
    chunk ids, same count): only the token can tell."""
    rng = random.Random(5)
    seeded = await seed_tenant(factory)
    tenant_id = seeded.tenant.id
    rows = await store(factory, tenant_id, 20, rng)
    target = [1.0, -1.0, 0.5, 0.0, 2.0, 0.0, 0.0, 1.0]
    query = VectorQuery(embedding=target, k=3)
    hits = await check(factory, uncached, tenant_id, query, rows)
    chunk, document = next(row for row in rows if row[0].id not in {h.chunk_id for h in hits})
    blob = np.asarray(target, dtype="<f4").tobytes()
    script = (
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], timeout=10)\n"
        "blob = bytes.fromhex(sys.argv[2])\n"
        "c.execute('UPDATE chunks SET embedding = ? WHERE id = ?', (blob, sys.argv[3]))\n"
        "c.commit()\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, str(database), blob.hex(), chunk.id.hex
    )
    assert await process.wait() == 0
    moved = attrs.evolve(chunk, embedding=tuple(target))
    rows = [(moved, document) if c.id == chunk.id else (c, d) for c, d in rows]
    hits = await check(factory, uncached, tenant_id, query, rows)
    assert hits[0].chunk_id == chunk.id


async def test_a_write_in_the_searching_unit_of_work_is_seen_and_not_kept(
    factory: SqliteUnitOfWorkFactory, uncached: SqliteUnitOfWorkFactory
) -> None:
    rng = random.Random(6)
    seeded = await seed_tenant(factory)
    tenant_id = seeded.tenant.id
    rows = await store(factory, tenant_id, 10, rng)
    target = vector(rng)
    query = VectorQuery(embedding=target, k=3)
    await check(factory, uncached, tenant_id, query, rows)
    committed = factory.vector_cache.peek(tenant_id)
    assert committed is not None
    document = rows[0][1]
    extra = make_chunk(document, 99, target)
    async with factory.tenant(tenant_id) as uow:
        await uow.chunks.add_many([extra])
        hits = await uow.chunks.search(query)
        assert hits[0].chunk_id == extra.id  # its own uncommitted chunk
        await uow.rollback()
    assert factory.vector_cache.peek(tenant_id) is committed  # the uncommitted state not kept
    await check(factory, uncached, tenant_id, query, rows)  # rolled back: as before
    assert factory.vector_cache.peek(tenant_id) is committed


async def test_tenants_are_kept_apart(
    factory: SqliteUnitOfWorkFactory, uncached: SqliteUnitOfWorkFactory
) -> None:
    rng = random.Random(7)
    first, second = await seed_tenant(factory), await seed_tenant(factory)
    rows_first = await store(factory, first.tenant.id, 15, rng)
    rows_second = await store(factory, second.tenant.id, 15, rng)
    query = VectorQuery(embedding=vector(rng), k=20)
    for _ in range(2):
        await check(factory, uncached, first.tenant.id, query, rows_first)
        await check(factory, uncached, second.tenant.id, query, rows_second)
    await store(factory, second.tenant.id, 5, rng)  # invalidates the second tenant only
    assert factory.vector_cache.peek(first.tenant.id) is not None
    hits = await search(factory, first.tenant.id, query)
    assert {h.chunk_id for h in hits} <= {c.id for c, _ in rows_first}


# --- filters ---------------------------------------------------------------------------------


async def test_filtered_searches_use_the_cache_and_stay_exact(
    factory: SqliteUnitOfWorkFactory, other: SqliteUnitOfWorkFactory, uncached: SqliteUnitOfWorkFactory
) -> None:
    rng = random.Random(8)
    seeded = await seed_tenant(factory)
    tenant_id = seeded.tenant.id
    rows = await store(factory, tenant_id, 40, rng, tags=("a",), metadata={"lang": "en", "n": 1})
    rows += await store(factory, tenant_id, 40, rng, tags=("b",), metadata={"lang": "de", "n": 2.0})
    rows += await store(factory, tenant_id, 40, rng, tags=("a", "b"), metadata={"lang": "en", "n": True})
    filters = [
        legacy(document_ids=[rows[0][1].id]),
        legacy(document_ids=[rows[0][1].id, rows[50][1].id], tags_any=["b"]),
        legacy(tags_any=["b"]),
        legacy(tags_all=["a", "b"]),
        legacy(metadata={"n": 1}),  # JSON equality: not the document whose n is true
        legacy(metadata={"lang": "en"}),
        SearchFilter(where=parse_filter({"metadata.lang": {"$eq": "de"}})),
        SearchFilter(where=parse_filter({"metadata.n": {"$gte": 2}, "tags": {"$any": ["b"]}})),
        legacy(tags_any=["missing"]),
    ]
    for k in (1, 10, 45):
        for wanted in filters:
            query = VectorQuery(embedding=vector(rng), k=k, filter=wanted)
            await check(factory, uncached, tenant_id, query, rows)
    loaded = factory.vector_cache.hits
    assert loaded > 0

    # Another writer adds a matching document: the next filtered search has it.
    rows += await store(other, tenant_id, 10, rng, tags=("b",), metadata={"lang": "de", "n": 2.0})
    for wanted in filters:
        await check(
            factory, uncached, tenant_id, VectorQuery(embedding=vector(rng), k=10, filter=wanted), rows
        )


async def test_hybrid_search_fuses_the_cached_vector_part(
    factory: SqliteUnitOfWorkFactory, uncached: SqliteUnitOfWorkFactory
) -> None:
    rng = random.Random(9)
    seeded = await seed_tenant(factory)
    await store(factory, seeded.tenant.id, 30, rng)
    query = HybridQuery(text="chunk", embedding=vector(rng), k=7)
    for _ in range(2):
        # Relative score fusion carries the cosines' float noise: equal within tolerance.
        cached = await search(factory, seeded.tenant.id, query)
        assert_same_hits(cached, await search(uncached, seeded.tenant.id, query))
        assert all(hit.text_rank for hit in cached[:1])
    assert factory.vector_cache.hits > 0
