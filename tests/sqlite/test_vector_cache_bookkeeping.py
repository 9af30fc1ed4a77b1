"""The SQLite vector cache's bookkeeping: the byte-bounded LRU, its settings, and what the
triggers behind its tokens keep."""

from __future__ import annotations

import random
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest

from tenantrag.adapters.sqlite import SqliteUnitOfWorkFactory, open_sqlite
from tenantrag.adapters.sqlite.engine import register_functions
from tenantrag.adapters.sqlite.vector_cache import MIB, TenantVectors, VectorCache, unit_rows
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.search import (
    VectorQuery,
)
from tenantrag.entrypoints.settings import Settings, SettingsError
from tests.contract.factories import make_chunk, seed_tenant
from tests.search_reference import assert_same_hits, exact_top_k
from tests.sqlite.conftest import DIMENSION
from tests.sqlite.vector_cache_world import search, store, vector

pytestmark = pytest.mark.sqlite


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
    register_functions(connection)  # the full-text trigger indexes the new content
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
