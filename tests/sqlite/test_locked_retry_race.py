"""On SQLite a writer held past the busy timeout ("database is locked") no longer fails an ingest
or a membership change: the unit of work runs again (domain/usecases/retrying.py), a bounded
number of times."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from tenantrag.adapters.blobs import MemoryBlobStore
from tenantrag.adapters.hashing_embedder import HashingEmbedder
from tenantrag.adapters.passwords import PwdlibPasswordHasher
from tenantrag.adapters.sqlite import SqliteUnitOfWorkFactory, open_sqlite
from tenantrag.domain.errors import Conflict
from tenantrag.domain.model.document import DocumentStatus
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.bootstrap import bootstrap
from tests.contract.factories import make_tenant
from tests.sqlite.conftest import DIMENSION

pytestmark = pytest.mark.sqlite

BUSY_TIMEOUT = 0.2  # seconds: the impatient side gives up on the lock this fast


async def _hold_the_write_lock(
    factory: SqliteUnitOfWorkFactory, seconds: float, taken: asyncio.Event
) -> None:
    async with factory.system() as holder:
        await holder.tenants.add(make_tenant())  # BEGIN IMMEDIATE: the write lock is ours
        taken.set()
        await asyncio.sleep(seconds)
        await holder.commit()


async def _impatient(url: str) -> tuple[TenantRag, SqliteUnitOfWorkFactory]:
    factory = await open_sqlite(url, DIMENSION, migrate=False, busy_timeout=BUSY_TIMEOUT)
    hasher = PwdlibPasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    rag = bootstrap(uow=factory, embedder=HashingEmbedder(DIMENSION), hasher=hasher, blobs=MemoryBlobStore())
    return rag, factory


async def test_an_ingest_that_meets_a_held_lock_runs_again_and_succeeds(
    factory: SqliteUnitOfWorkFactory, url: str, database: Path
) -> None:
    rag, impatient = await _impatient(url)
    try:
        owner = await rag.users.register(email="owner@example.com", password="correct horse battery")
        tenant = await rag.tenants.create(Principal.user(owner.id), name="Busy")
        taken = asyncio.Event()
        holding = asyncio.create_task(_hold_the_write_lock(factory, BUSY_TIMEOUT * 2.5, taken))
        await taken.wait()

        document = await rag.ingestion.add_text(
            Principal.user(owner.id),
            tenant.id,
            filename="busy.txt",
            text="Written while another writer waited.",
        )

        await holding
        assert document.status is DocumentStatus.COMPLETED
        assert document.chunk_count == 1
        assert len(await rag.ingestion.blobs.entries(tenant.id)) == 1, "the failed runs left no blob"
    finally:
        await impatient.dispose()


async def test_a_lock_held_longer_than_every_retry_still_ends_in_a_conflict(
    factory: SqliteUnitOfWorkFactory, url: str
) -> None:
    rag, impatient = await _impatient(url)
    try:
        owner = await rag.users.register(email="owner@example.com", password="correct horse battery")
        other = await rag.users.register(email="other@example.com", password="correct horse battery")
        tenant = await rag.tenants.create(Principal.user(owner.id), name="Busy")
        taken = asyncio.Event()
        holding = asyncio.create_task(_hold_the_write_lock(factory, 4.0, taken))
        await taken.wait()

        with pytest.raises(Conflict, match="database is locked") as caught:
            await rag.members.add(Principal.user(owner.id), tenant.id, user_id=other.id, role=Role.MEMBER)

        assert caught.value.details["rule"] == "database.locked"
        holding.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await holding
    finally:
        await impatient.dispose()
