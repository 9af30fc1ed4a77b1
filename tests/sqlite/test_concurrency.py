"""Writers on one SQLite file: they queue on the write lock, never corrupt the file, and
a writer that waits too long gets a Conflict naming the lock, never a raw sqlite3 error.

Two factories (two engines, two connection pools) on one file stand for two processes.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from tenantrag.adapters.sqlite import SqliteUnitOfWorkFactory, open_sqlite
from tenantrag.domain.errors import Conflict
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.ports.unit_of_work import UnitOfWorkNotActive
from tests.contract.factories import make_chunk, make_document, make_tenant, seed_tenant
from tests.sqlite.conftest import DIMENSION, dump

pytestmark = pytest.mark.sqlite


def integrity(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


async def test_concurrent_writers_from_two_engines_all_commit_and_the_file_stays_whole(
    factory: SqliteUnitOfWorkFactory, url: str, database: Path
) -> None:
    other = await open_sqlite(url, DIMENSION, migrate=False)
    try:
        seeded = await seed_tenant(factory)

        async def writer(backend: SqliteUnitOfWorkFactory, rounds: int) -> None:
            for _ in range(rounds):
                document = make_document(seeded.tenant.id)
                async with backend.tenant(seeded.tenant.id) as uow:
                    await uow.documents.add(document)
                    await asyncio.sleep(0)  # let the other writers queue up on the lock
                    await uow.chunks.add_many([make_chunk(document, i) for i in range(3)])
                    await uow.commit()

        await asyncio.gather(*(writer(backend, 10) for backend in (factory, other) for _ in range(3)))
        async with other.tenant(seeded.tenant.id) as uow:
            assert len((await uow.documents.list(PageRequest(limit=1000))).items) == 60
            assert await uow.chunks.count() == 180
    finally:
        await other.dispose()
    assert integrity(database) == "ok"


async def test_the_second_writer_waits_for_the_first(factory: SqliteUnitOfWorkFactory, url: str) -> None:
    other = await open_sqlite(url, DIMENSION, migrate=False)
    first_tenant, second_tenant = make_tenant(), make_tenant()
    try:
        async with factory.system() as first:
            await first.tenants.add(first_tenant)  # takes the write lock

            async def second_writer() -> float:
                async with other.system() as second:
                    await second.tenants.add(second_tenant)
                    await second.commit()
                return time.monotonic()

            task = asyncio.create_task(second_writer())
            await asyncio.sleep(0.3)
            assert not task.done(), "the second writer should be waiting for the lock"
            released = time.monotonic()
            await first.commit()
        finished = await asyncio.wait_for(task, timeout=5)
        assert finished >= released
        async with factory.system() as uow:
            assert await uow.tenants.get(first_tenant.id) == first_tenant
            assert await uow.tenants.get(second_tenant.id) == second_tenant
    finally:
        await other.dispose()


async def test_a_writer_that_waits_longer_than_the_busy_timeout_gets_a_conflict(
    factory: SqliteUnitOfWorkFactory, url: str, database: Path
) -> None:
    impatient = await open_sqlite(url, DIMENSION, migrate=False, busy_timeout=0.2)
    try:
        async with factory.system() as holder:
            await holder.tenants.add(make_tenant())
            before = dump(database)  # the holder has not committed: nothing of it shows
            async with impatient.system() as waiter:
                with pytest.raises(Conflict, match="database is locked") as caught:
                    await waiter.tenants.add(make_tenant())
                assert caught.value.details["rule"] == "database.locked"
                assert not isinstance(caught.value.__cause__, Conflict)
                # The transaction could not start, so the unit of work is over.
                with pytest.raises(UnitOfWorkNotActive):
                    await waiter.tenants.add(make_tenant())
            assert dump(database) == before
            await holder.commit()
        async with impatient.system() as uow:  # the lock is free again
            await uow.tenants.add(make_tenant())
            await uow.commit()
    finally:
        await impatient.dispose()
    assert integrity(database) == "ok"


async def test_a_constraint_broken_by_a_concurrent_commit_fails_that_write_alone(
    factory: SqliteUnitOfWorkFactory,
) -> None:
    """READ COMMITTED, as on PostgreSQL: the write sees the latest commit and fails alone."""
    taken = make_tenant(slug="taken")
    async with factory.system() as late:
        assert await late.tenants.get_by_slug("taken") is None  # reads: the slug looks free
        async with factory.system() as early:
            await early.tenants.add(taken)
            await early.commit()
        with pytest.raises(Conflict, match="slug 'taken'"):
            await late.tenants.add(make_tenant(slug="taken"))
        assert await late.tenants.get_by_slug("taken") == taken


async def test_a_constraint_broken_without_concurrency_leaves_the_unit_of_work_usable(
    factory: SqliteUnitOfWorkFactory,
) -> None:
    await seed_tenant(factory, slug="taken")
    async with factory.system() as uow:
        assert await uow.tenants.get_by_slug("taken") is not None
        with pytest.raises(Conflict):
            await uow.tenants.add(make_tenant(slug="taken"))
        kept = make_tenant()
        await uow.tenants.add(kept)
        await uow.commit()
    async with factory.system() as uow:
        assert await uow.tenants.get(kept.id) == kept
