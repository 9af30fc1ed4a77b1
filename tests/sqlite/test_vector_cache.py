"""The SQLite vector cache: answers equal to searching without it, never stale after another
connection or process writes, filters, the byte-bounded LRU, its settings, and what the
triggers behind its tokens keep."""

from __future__ import annotations

import asyncio
import math
import random
import sqlite3
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import strategies as st
from sqlalchemy import event

from tenantrag.adapters.sqlite import SqliteUnitOfWorkFactory, open_sqlite
from tenantrag.adapters.sqlite.vector_cache import MIB, TenantVectors, VectorCache, unit_rows
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.filtering import parse_filter
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document
from tenantrag.domain.search import (
    HybridQuery,
    SearchFilter,
    SearchHit,
    VectorQuery,
)
from tenantrag.entrypoints.settings import Settings, SettingsError
from tests.contract.factories import make_chunk, make_document, seed_tenant
from tests.search_reference import assert_same_hits, exact_top_k, legacy
from tests.sqlite.conftest import DIMENSION

pytestmark = pytest.mark.sqlite

Rows = list[tuple[Chunk, Document]]


def vector(rng: random.Random) -> list[float]:
    return [rng.uniform(-1.0, 1.0) for _ in range(DIMENSION)]


@pytest.fixture
async def other(url: str) -> AsyncIterator[SqliteUnitOfWorkFactory]:
    """A second factory on the same file: its own engine, pool and cache (another process's view)."""
    opened = await open_sqlite(url, DIMENSION, migrate=False)
    try:
        yield opened
    finally:
        await opened.dispose()


@pytest.fixture
async def uncached(url: str) -> AsyncIterator[SqliteUnitOfWorkFactory]:
    opened = await open_sqlite(url, DIMENSION, migrate=False, vector_cache_mb=0)
    try:
        yield opened
    finally:
        await opened.dispose()


async def store(
    factory: SqliteUnitOfWorkFactory,
    tenant_id: uuid.UUID,
    count: int,
    rng: random.Random,
    *,
    tags: tuple[str, ...] = (),
    metadata: dict[str, Any] | None = None,
) -> Rows:
    document = make_document(tenant_id, tags=tags)
    chunks = [make_chunk(document, i, vector(rng), metadata=metadata) for i in range(count)]
    async with factory.tenant(tenant_id) as uow:
        await uow.documents.add(document)
        await uow.chunks.add_many(chunks)
        await uow.commit()
    return [(chunk, document) for chunk in chunks]


async def search(
    factory: SqliteUnitOfWorkFactory, tenant_id: uuid.UUID, query: Any, *, read_only: bool = True
) -> list[SearchHit]:
    async with factory.tenant(tenant_id, read_only=read_only) as uow:
        return list(await uow.chunks.search(query))


async def check(
    factory: SqliteUnitOfWorkFactory,
    uncached: SqliteUnitOfWorkFactory,
    tenant_id: uuid.UUID,
    query: Any,
    rows: Rows,
) -> list[SearchHit]:
    """The cached answer is an exact cosine's within tolerance, and the uncached one's."""
    hits = await search(factory, tenant_id, query)
    assert_same_hits(hits, exact_top_k(query, rows))
    assert_same_hits(hits, await search(uncached, tenant_id, query))
    return hits


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
        assert await search(factory, seeded.tenant.id, query) == await search(
            uncached, seeded.tenant.id, query
        )
    assert factory.vector_cache.hits > 0


# --- exact scores ----------------------------------------------------------------------------

float32s = st.floats(width=32, allow_nan=False, allow_infinity=False)


# --- the LRU ---------------------------------------------------------------------------------


def entry(rows: int, token: bytes = b"t") -> TenantVectors:
    ids = [uuid.UUID(int=i).hex for i in range(rows)]
    return TenantVectors.build(token, ids, unit_rows(np.ones((rows, DIMENSION), dtype=np.float32)))


def test_the_lru_evicts_the_least_recently_used_by_bytes() -> None:
    size = entry(10).nbytes
    cache = VectorCache(max_bytes=3 * size)
    a, b, c, d = (uuid.uuid4() for _ in range(4))
    for tenant in (a, b, c):
        assert cache.put(tenant, entry(10))
    assert cache.nbytes == 3 * size
    assert cache.get(a, b"t") is not None  # a is now the most recently used
    assert cache.put(d, entry(10))
    assert b not in cache  # the least recently used went
    assert {a, c, d} == {t for t in (a, b, c, d) if t in cache}
    assert cache.evictions == 1
    # A bigger entry evicts as many as it needs, oldest first (c, then a), and no more.
    assert entry(25).nbytes + size <= 3 * size < entry(25).nbytes + 2 * size
    assert cache.put(b, entry(25))
    assert cache.nbytes == entry(25).nbytes + size <= cache.max_bytes
    assert [t for t in (a, b, c, d) if t in cache] == [b, d]
    assert cache.evictions == 3
    # One that cannot fit at all is refused and evicts nothing.
    assert entry(60).nbytes > cache.max_bytes
    assert not cache.put(c, entry(60))
    assert b in cache
    assert c not in cache


def test_a_stale_token_is_a_miss_and_drops_the_entry() -> None:
    cache = VectorCache(max_bytes=MIB)
    tenant = uuid.uuid4()
    cache.put(tenant, entry(3, token=b"old"))
    assert cache.get(tenant, b"new") is None
    assert tenant not in cache
    assert cache.nbytes == 0
    assert (cache.hits, cache.misses) == (0, 1)


def test_a_cache_of_zero_bytes_keeps_nothing() -> None:
    cache = VectorCache(max_bytes=0)
    assert not cache.enabled
    assert not cache.put(uuid.uuid4(), entry(1))
    assert len(cache) == 0


async def test_a_small_cache_keeps_only_the_recent_tenants(url: str) -> None:
    rng = random.Random(10)
    per_tenant = entry(20).nbytes
    small = await open_sqlite(url, DIMENSION, migrate=False, vector_cache_mb=2.5 * per_tenant / MIB)
    try:
        tenants = [await seed_tenant(small) for _ in range(3)]
        for seeded in tenants:
            await store(small, seeded.tenant.id, 20, rng)
            await search(small, seeded.tenant.id, VectorQuery(embedding=vector(rng)))
        assert [seeded.tenant.id in small.vector_cache for seeded in tenants] == [False, True, True]
        assert small.vector_cache.nbytes <= small.vector_cache.max_bytes
        assert small.vector_cache.evictions == 1
    finally:
        await small.dispose()


# --- settings --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [-1, -0.5, float("nan"), float("inf"), "64", True, None])
async def test_bad_cache_sizes_are_refused(url: str, value: Any) -> None:
    with pytest.raises(InvalidInput) as raised:
        await open_sqlite(url, DIMENSION, migrate=False, vector_cache_mb=value)
    assert raised.value.field == "vector_cache_mb"
    with pytest.raises(InvalidInput):
        VectorCache(max_bytes=value)


def test_the_setting_is_read_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SQLITE_VECTOR_CACHE_MB", "0")
    assert Settings(_env_file=None).sqlite_vector_cache_mb == 0
    monkeypatch.delenv("SQLITE_VECTOR_CACHE_MB")
    assert Settings(_env_file=None).sqlite_vector_cache_mb == 256
    for bad in ("-1", "lots", "1.5"):
        monkeypatch.setenv("SQLITE_VECTOR_CACHE_MB", bad)
        with pytest.raises(SettingsError, match="SQLITE_VECTOR_CACHE_MB"):
            Settings(_env_file=None)


async def test_the_backend_takes_the_setting(tmp_path: Path) -> None:
    from tenantrag.entrypoints.backends import close_backend, open_backend

    settings_ = Settings(
        _env_file=None,
        database_url=f"sqlite:///{tmp_path / 'app.db'}",
        sqlite_vector_cache_mb=3,
        auto_migrate=True,
    )
    factory = await open_backend(settings_)
    try:
        assert isinstance(factory, SqliteUnitOfWorkFactory)
        assert factory.vector_cache.max_bytes == 3 * MIB
    finally:
        await close_backend(factory)


# --- the triggers ----------------------------------------------------------------------------


def generation(database: Path, tenant_id: uuid.UUID) -> tuple[bytes, int] | None:
    connection = sqlite3.connect(database)
    try:
        row = connection.execute(
            "SELECT token, chunk_count FROM chunk_generations WHERE tenant_id = ?", (tenant_id.hex,)
        ).fetchone()
    finally:
        connection.close()
    return None if row is None else (bytes(row[0]), int(row[1]))


async def test_the_triggers_keep_the_token_and_count(
    factory: SqliteUnitOfWorkFactory, database: Path
) -> None:
    rng = random.Random(11)
    seeded = await seed_tenant(factory)
    tenant_id = seeded.tenant.id
    assert generation(database, tenant_id) is None
    rows = await store(factory, tenant_id, 5, rng)
    first = generation(database, tenant_id)
    assert first is not None
    assert first[1] == 5
    assert len(first[0]) == 16

    # Changes elsewhere leave it alone: the document, another tenant.
    other = await seed_tenant(factory)
    await store(factory, other.tenant.id, 2, rng)
    async with factory.tenant(tenant_id) as uow:
        await uow.documents.update(attrs.evolve(rows[0][1], title="Renamed"))
        await uow.commit()
    assert generation(database, tenant_id) == first

    connection = sqlite3.connect(database)
    try:
        connection.execute("UPDATE chunks SET content = 'x' WHERE id = ?", (rows[0][0].id.hex,))
        connection.commit()
        assert generation(database, tenant_id) == first  # content is not what the cache holds
        connection.execute("UPDATE chunks SET embedding = embedding WHERE id = ?", (rows[0][0].id.hex,))
        connection.commit()
    finally:
        connection.close()
    second = generation(database, tenant_id)
    assert second is not None
    assert second[0] != first[0]
    assert second[1] == 5

    async with factory.tenant(tenant_id) as uow:
        await uow.chunks.delete_for_document(rows[0][1].id)
        await uow.commit()
    third = generation(database, tenant_id)
    assert third is not None
    assert third[1] == 0
    assert third[0] not in (first[0], second[0])

    async with factory.tenant(other.tenant.id) as uow:  # the tenant goes, and its row with it
        await uow.tenant.delete()
        await uow.commit()
    assert generation(database, other.tenant.id) is None


async def test_a_rolled_back_write_leaves_the_token(factory: SqliteUnitOfWorkFactory, database: Path) -> None:
    rng = random.Random(12)
    seeded = await seed_tenant(factory)
    rows = await store(factory, seeded.tenant.id, 3, rng)
    before = generation(database, seeded.tenant.id)
    async with factory.tenant(seeded.tenant.id) as uow:
        await uow.chunks.add_many([make_chunk(rows[0][1], 7, vector(rng))])
        await uow.rollback()
    assert generation(database, seeded.tenant.id) == before


async def test_the_migration_gives_existing_chunks_a_token(
    factory: SqliteUnitOfWorkFactory, url: str, database: Path
) -> None:
    from tenantrag.adapters.sql import migrations

    rng = random.Random(13)
    seeded = await seed_tenant(factory)
    rows = await store(factory, seeded.tenant.id, 4, rng)
    await factory.dispose()
    await migrations.downgrade_async(url, "b3d8e5f1a2c4")
    connection = sqlite3.connect(database)
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    finally:
        connection.close()
    assert "chunk_generations" not in tables
    assert not any(name.startswith("chunk_generations_") for name in tables)
    await migrations.upgrade_async(url, embedding_dimension=DIMENSION)
    found = generation(database, seeded.tenant.id)
    assert found is not None
    assert found[1] == len(rows)
    reopened = await open_sqlite(url, DIMENSION, migrate=False)
    try:
        query = VectorQuery(embedding=vector(rng), k=2)
        for _ in range(2):
            assert_same_hits(await search(reopened, seeded.tenant.id, query), exact_top_k(query, rows))
        assert reopened.vector_cache.hits == 1
    finally:
        await reopened.dispose()
