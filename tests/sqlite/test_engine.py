"""The engine: pragmas on every connection, URLs, and who takes the write lock when."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from tenantrag.adapters.sqlite import SqliteUnitOfWorkFactory, create_sqlite_engine, open_sqlite
from tenantrag.adapters.sqlite.engine import DEFAULT_BUSY_TIMEOUT, sqlite_url
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.pagination import PageRequest
from tests.contract.factories import make_tenant
from tests.sqlite.conftest import DIMENSION

pytestmark = pytest.mark.sqlite

PRAGMAS = ("foreign_keys", "journal_mode", "busy_timeout", "synchronous")


async def test_every_connection_gets_the_pragmas(url: str) -> None:
    engine = create_sqlite_engine(url)
    try:
        # Several connections at once, so the pool has to open more than one.
        connections = [await engine.connect() for _ in range(4)]
        try:
            seen = [
                {name: (await c.execute(text(f"PRAGMA {name}"))).scalar_one() for name in PRAGMAS}
                for c in connections
            ]
        finally:
            for connection in connections:
                await connection.close()
    finally:
        await engine.dispose()
    assert len({id(c) for c in connections}) == 4
    for pragmas in seen:
        assert pragmas["foreign_keys"] == 1
        assert pragmas["journal_mode"] == "wal"
        assert pragmas["busy_timeout"] == DEFAULT_BUSY_TIMEOUT * 1000
        assert pragmas["busy_timeout"] >= 5000
        assert pragmas["synchronous"] == 1  # NORMAL


async def test_units_of_work_run_on_connections_with_the_pragmas(factory: SqliteUnitOfWorkFactory) -> None:
    async with factory.system() as first, factory.system() as second:
        for uow in (first, second):
            connection = uow._session.connection()
            assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
            assert (await connection.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"


def test_urls_are_normalised_to_aiosqlite_and_memory_databases_refused(tmp_path: Path) -> None:
    assert sqlite_url(f"sqlite:///{tmp_path}/a.db") == f"sqlite+aiosqlite:///{tmp_path}/a.db"
    assert sqlite_url(f"sqlite+aiosqlite:///{tmp_path}/a.db") == f"sqlite+aiosqlite:///{tmp_path}/a.db"
    for memory in (
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite+aiosqlite:///file::memory:?cache=shared&uri=true",
    ):
        with pytest.raises(InvalidInput) as caught:
            sqlite_url(memory)
        assert caught.value.field == "url"
    with pytest.raises(InvalidInput):
        sqlite_url("postgresql://localhost/tenantrag")


async def test_open_sqlite_migrates_a_new_file(tmp_path: Path) -> None:
    factory = await open_sqlite(f"sqlite:///{tmp_path}/new.db", DIMENSION)
    try:
        tenant = make_tenant()
        async with factory.system() as uow:
            await uow.tenants.add(tenant)
            await uow.commit()
        async with factory.system() as uow:
            assert await uow.tenants.get(tenant.id) == tenant
    finally:
        await factory.dispose()
    assert factory.dimension == DIMENSION


async def test_a_reader_is_not_blocked_by_a_writer(factory: SqliteUnitOfWorkFactory) -> None:
    """Readers begin deferred transactions: WAL lets them read while another connection writes."""
    async with factory.system() as writer:
        await writer.tenants.add(make_tenant())  # holds the write lock from here to the end
        async with factory.system() as reader:
            listed = await asyncio.wait_for(reader.tenants.list(PageRequest()), timeout=1.0)
        assert list(listed.items) == []
        await writer.commit()


async def test_a_unit_of_work_that_only_reads_never_takes_the_write_lock(
    factory: SqliteUnitOfWorkFactory,
) -> None:
    tenant = make_tenant()
    async with factory.system() as reader:
        await reader.tenants.list(PageRequest())
        async with factory.system() as writer:  # would wait for the lock if the reader held it
            await asyncio.wait_for(writer.tenants.add(tenant), timeout=1.0)
            await writer.commit()
    async with factory.system() as check:
        assert await check.tenants.get(tenant.id) == tenant
