"""The worker's test world: an in-memory SQLite store, scripted handlers and a clock that
moves when told. Heartbeats run on real time (every third of the lease), so the tests that
need one use a lease of a fraction of a second; the others use a lease long enough that
none fires."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import attrs
import pytest

from tenantrag.adapters.clock import ManualClock
from tenantrag.adapters.sqlite import open_memory_sqlite_async
from tenantrag.domain.model.job import Job, JobStatus
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tenantrag.domain.usecases.worker import Worker
from tests.contract.factories import DIMENSION, make_job, seed_tenant

LONG = timedelta(minutes=5)
SHORT = timedelta(milliseconds=300)

# What a scripted handler does on one run: finish the job, raise, or run a step first.
Step = Callable[[Job], Awaitable[None]]
Action = str | BaseException | Step


@attrs.define
class ScriptedHandler:
    """Runs each job by the next action of its script (then "finish" once the script is out)."""

    uow: UnitOfWorkFactory
    clock: ManualClock
    script: list[Action] = attrs.field(factory=list)
    runs: list[Job] = attrs.field(factory=list)
    given_up: list[tuple[uuid.UUID, str]] = attrs.field(factory=list)
    cancelled: list[uuid.UUID] = attrs.field(factory=list)
    give_up_error: Exception | None = None

    async def run(self, job: Job) -> None:
        self.runs.append(job)
        action: Action = self.script.pop(0) if self.script else "finish"
        try:
            if isinstance(action, BaseException):
                raise action
            if callable(action):
                await action(job)
            if action == "return":
                return  # without finishing the job: a handler bug
            await finish(self.uow, self.clock, job)
        except asyncio.CancelledError:
            self.cancelled.append(job.id)
            raise

    async def give_up(self, job: Job, error: str) -> None:
        self.given_up.append((job.id, error))
        if self.give_up_error is not None:
            raise self.give_up_error


async def finish(uow: UnitOfWorkFactory, clock: ManualClock, job: Job) -> None:
    """What a handler's final transaction does: finish the job, guarded by its attempt."""
    async with uow.tenant(job.tenant_id) as tx:
        current = await tx.jobs.get(job.id)
        assert current is not None
        await tx.jobs.update(current.finish(JobStatus.SUCCEEDED, now=clock.now()), if_attempt=job.attempts)
        await tx.commit()


@attrs.define
class World:
    uow: UnitOfWorkFactory
    clock: ManualClock
    tenant_id: uuid.UUID
    handler: ScriptedHandler

    def worker(self, **options: Any) -> Worker:
        return Worker(
            uow=self.uow,
            clock=self.clock,
            handlers={"ingest": self.handler},
            lease=options.pop("lease", LONG),
            max_attempts=options.pop("max_attempts", 3),
            poll_interval=options.pop("poll_interval", 0.01),
            **options,
        )

    async def add_job(self, **changes: Any) -> Job:
        job = attrs.evolve(make_job(self.tenant_id, created_at=self.clock.now()), **changes)
        async with self.uow.tenant(self.tenant_id) as uow:
            await uow.jobs.add(job)
            await uow.commit()
        return job

    async def stored(self, job: Job) -> Job:
        async with self.uow.tenant(job.tenant_id) as uow:
            found = await uow.jobs.get(job.id)
        assert found is not None
        return found

    async def claim_as_another_worker(self, lease: timedelta = LONG) -> Job | None:
        async with self.uow.system() as uow:
            now = self.clock.now()
            job = await uow.job_queue.claim(now=now, lease_until=now + lease)
            await uow.commit()
        return job


@pytest.fixture(name="world")
async def world_fixture() -> AsyncIterator[World]:
    uow = await open_memory_sqlite_async(DIMENSION)
    clock = ManualClock()
    seeded = await seed_tenant(uow)
    try:
        yield World(uow, clock, seeded.tenant.id, ScriptedHandler(uow, clock))
    finally:
        await uow.dispose()


async def eventually(condition: Callable[[], Awaitable[bool]]) -> None:
    """Poll ``condition`` (a look at the store, which sends no notifications) for up to 5 s."""
    async with asyncio.timeout(5):
        while True:
            if await condition():
                return
            await asyncio.sleep(0.01)
