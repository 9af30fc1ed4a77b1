"""The job queue on PostgreSQL: many claimers at once, and the policies that let them claim.

Claimers run on separate engines (as workers on separate machines do), each unit of
work on its own connection. SKIP LOCKED is what lets a claimer pass a row another one
holds: with it, claims overlap and never wait; every job is still taken exactly once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tenantrag.adapters.postgres import PostgresUnitOfWorkFactory, open_postgres
from tenantrag.adapters.postgres.binding import bind, load_key
from tenantrag.adapters.sql.unit_of_work import SqlSystemUnitOfWork
from tenantrag.domain.model.job import Job, JobStatus
from tests.contract.factories import DIMENSION, Seeded, at, make_job, seed_tenant
from tests.postgres.conftest import ROLE

pytestmark = pytest.mark.postgres

ENGINES = 4
CLAIMERS_PER_ENGINE = 3
JOBS = 60
NOW, LEASE_UNTIL = at(1000), at(10_000)


@pytest.fixture
async def factories(url: str) -> AsyncIterator[list[PostgresUnitOfWorkFactory]]:
    async with AsyncExitStack() as stack:
        opened = []
        for _ in range(ENGINES):
            factory = await open_postgres(url, DIMENSION, migrate=False)
            stack.push_async_callback(factory.dispose)
            opened.append(factory)
        yield opened


async def add_jobs(factory: PostgresUnitOfWorkFactory, tenants: list[Seeded], count: int) -> list[Job]:
    jobs = [make_job(tenants[i % len(tenants)].tenant.id, created_at=at(i)) for i in range(count)]
    for tenant in tenants:
        async with factory.tenant(tenant.tenant.id) as uow:
            for job in jobs:
                if job.tenant_id == tenant.tenant.id:
                    await uow.jobs.add(job)
            await uow.commit()
    return jobs


async def test_concurrent_claimers_take_every_job_exactly_once_without_waiting_for_each_other(
    factories: list[PostgresUnitOfWorkFactory],
) -> None:
    tenants = [await seed_tenant(factories[0]) for _ in range(3)]
    jobs = await add_jobs(factories[0], tenants, JOBS)
    taken: list[Job] = []
    holding = 0
    most_held = 0

    async def claimer(factory: PostgresUnitOfWorkFactory) -> None:
        nonlocal holding, most_held
        while True:
            async with factory.system() as uow:
                job = await uow.job_queue.claim(now=NOW, lease_until=LEASE_UNTIL)
                if job is None:
                    return
                # Hold the claimed row's lock a moment, so that other claimers meet it.
                holding += 1
                most_held = max(most_held, holding)
                await asyncio.sleep(0.01)
                holding -= 1
                await uow.commit()
            taken.append(job)

    async with asyncio.timeout(60):
        await asyncio.gather(*(claimer(factory) for factory in factories for _ in range(CLAIMERS_PER_ENGINE)))

    ids = [job.id for job in taken]
    assert len(ids) == len(set(ids)) == JOBS
    assert set(ids) == {job.id for job in jobs}
    # Claims overlapped: a claimer found the next row while others held theirs.
    assert most_held > 1
    for tenant in tenants:
        async with factories[0].tenant(tenant.tenant.id) as uow:
            for job in jobs:
                if job.tenant_id == tenant.tenant.id:
                    stored = await uow.jobs.get(job.id)
                    assert stored is not None
                    assert (stored.status, stored.attempts) == (JobStatus.RUNNING, 1)


async def test_a_claimer_skips_a_row_another_holds_rather_than_wait_for_it(
    factories: list[PostgresUnitOfWorkFactory],
) -> None:
    tenant = await seed_tenant(factories[0])
    first, second = await add_jobs(factories[0], [tenant], 2)

    async with factories[0].system() as holder:
        held = await holder.job_queue.claim(now=NOW, lease_until=LEASE_UNTIL)
        assert held is not None
        assert held.id == first.id
        # Not committed: `first` is locked, and still queued for everyone else.
        async with asyncio.timeout(5):
            async with factories[1].system() as other:
                skipped_to = await other.job_queue.claim(now=NOW, lease_until=LEASE_UNTIL)
                await other.commit()
            async with factories[2].system() as third:
                assert await third.job_queue.claim(now=NOW, lease_until=LEASE_UNTIL) is None
        await holder.rollback()

    assert skipped_to is not None
    assert skipped_to.id == second.id
    # The holder rolled back: its job is claimable again.
    async with factories[3].system() as uow:
        again = await uow.job_queue.claim(now=NOW, lease_until=LEASE_UNTIL)
    assert again is not None
    assert (again.id, again.attempts) == (first.id, 1)


async def test_the_queue_switch_is_off_again_once_the_claim_is_over(
    factories: list[PostgresUnitOfWorkFactory],
) -> None:
    tenant = await seed_tenant(factories[0])
    await add_jobs(factories[0], [tenant], 2)

    async with factories[0].system() as uow:
        assert isinstance(uow, SqlSystemUnitOfWork)
        assert await uow.job_queue.claim(now=NOW, lease_until=LEASE_UNTIL) is not None
        # The unit of work's own connection, right after the claim.
        connection = uow._session.connection()
        setting = await connection.execute(text("SELECT current_setting('app.job_queue', true)"))
        assert setting.scalar_one() == ""
        assert (await connection.execute(text("SELECT count(*) FROM jobs"))).scalar_one() == 0


# --- the policies, attacked in raw SQL as the runtime role ----------------------------------


@pytest.fixture
async def queue_on(raw: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction as the runtime role, bound to no tenant, with the queue switch on."""
    async with raw.connect() as connection:
        await connection.begin()
        key = await load_key(connection)
        await connection.execute(text("SELECT set_config('role', :role, true)"), {"role": ROLE})
        await bind(connection, key, job_queue="on")  # signed, as the queue binds it
        yield connection
        await connection.rollback()


async def test_the_queue_switch_opens_jobs_to_reading_and_updating_only(
    factories: list[PostgresUnitOfWorkFactory], queue_on: AsyncConnection
) -> None:
    tenant = await seed_tenant(factories[0])
    [job] = await add_jobs(factories[0], [tenant], 1)
    connection = queue_on

    async def count(sql: str, **params: object) -> int:
        return int((await connection.execute(text(sql), params)).scalar_one())

    assert await count("SELECT count(*) FROM jobs") == 1
    updated = await connection.execute(text("UPDATE jobs SET progress = 5 WHERE id = :id"), {"id": job.id})
    assert updated.rowcount == 1
    deleted = await connection.execute(text("DELETE FROM jobs WHERE id = :id"), {"id": job.id})
    assert deleted.rowcount == 0
    # Every other tenant table stays shut.
    assert await count("SELECT count(*) FROM memberships") == 0
    assert await count("SELECT count(*) FROM documents") == 0
    with pytest.raises(Exception, match="row-level security"):
        async with connection.begin_nested():
            await connection.execute(
                text(
                    "INSERT INTO jobs (tenant_id, id, kind, payload, status, progress, summary, attempts,"
                    " created_at, updated_at) VALUES (:tenant, :id, 'ingest', '{}', 'queued', 0, '', 0,"
                    " now(), now())"
                ),
                {"tenant": tenant.tenant.id, "id": uuid.uuid4()},
            )
