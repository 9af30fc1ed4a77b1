"""The worker's loop: cancellation, graceful stops, waiting for jobs, database outages, and its options."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import attrs
import pytest

from tenantrag.domain.errors import Conflict, InvalidInput, Unavailable
from tenantrag.domain.model.job import Job, JobStatus
from tenantrag.domain.ports.unit_of_work import SystemUnitOfWork
from tests.contract.factories import DIMENSION
from tests.unit.worker_world import (
    LONG,
    World,
    eventually,
    world_fixture,  # noqa: F401 - the world fixture
)


async def test_a_worker_cancelled_mid_job_leaves_it_to_be_retried_when_the_lease_runs_out(
    world: World,
) -> None:
    job = await world.add_job()
    started = asyncio.Event()

    async def hang(claimed: Job) -> None:
        started.set()
        await asyncio.sleep(30)

    world.handler.script = [hang]
    worker = world.worker()
    attempt = asyncio.create_task(worker.run_once())
    await started.wait()
    attempt.cancel()
    with pytest.raises(asyncio.CancelledError):
        await attempt

    abandoned = await world.stored(job)
    assert (abandoned.status, abandoned.attempts) == (JobStatus.RUNNING, 1)
    assert world.handler.cancelled == [job.id]
    assert await worker.run_once() is None  # its lease still runs

    world.clock.advance(LONG + timedelta(seconds=1))
    done = await worker.run_once()
    assert done is not None
    assert (done.status, done.attempts) == (JobStatus.SUCCEEDED, 2)


async def test_run_works_through_the_queue_and_stops_gracefully_after_the_job_in_hand(
    world: World,
) -> None:
    jobs = [await world.add_job(created_at=world.clock.now() + timedelta(seconds=i)) for i in range(3)]
    stop = asyncio.Event()
    in_second, release = asyncio.Event(), asyncio.Event()

    async def hold(claimed: Job) -> None:
        in_second.set()
        await release.wait()

    world.handler.script = ["finish", hold]
    running = asyncio.create_task(world.worker().run(stop))
    await in_second.wait()
    stop.set()
    await asyncio.sleep(0.05)
    assert not running.done()  # the job in hand is finished first
    release.set()
    async with asyncio.timeout(5):
        await running

    assert [run.id for run in world.handler.runs] == [jobs[0].id, jobs[1].id]
    assert [(await world.stored(job)).status for job in jobs] == [
        JobStatus.SUCCEEDED,
        JobStatus.SUCCEEDED,
        JobStatus.QUEUED,
    ]


async def test_run_waits_for_new_jobs_and_reports_each(world: World) -> None:
    stop = asyncio.Event()
    reported: list[Job] = []
    running = asyncio.create_task(world.worker(on_job=reported.append).run(stop))
    await asyncio.sleep(0.05)  # idle, polling
    job = await world.add_job()

    async def reported_once() -> bool:
        return len(reported) == 1

    await eventually(reported_once)
    stop.set()
    async with asyncio.timeout(5):
        await running
    assert [(r.id, r.status) for r in reported] == [(job.id, JobStatus.SUCCEEDED)]


async def test_run_outlives_a_database_outage(world: World) -> None:
    job = await world.add_job()
    outages = [Unavailable("the database did not answer")]

    class Flaky:
        """The store, whose first system unit of work fails to open."""

        dimension = DIMENSION

        def tenant(self, tenant_id: uuid.UUID, *, read_only: bool = False) -> Any:
            return world.uow.tenant(tenant_id, read_only=read_only)

        def system(self) -> SystemUnitOfWork:
            if outages:
                raise outages.pop()
            return world.uow.system()

    stop = asyncio.Event()
    worker = attrs.evolve(world.worker(), uow=Flaky())
    running = asyncio.create_task(worker.run(stop))

    async def succeeded() -> bool:
        return (await world.stored(job)).status is JobStatus.SUCCEEDED

    await eventually(succeeded)
    stop.set()
    async with asyncio.timeout(5):
        await running
    assert outages == []


@pytest.mark.parametrize(
    ("option", "value"),
    [("lease", timedelta(0)), ("max_attempts", 0), ("max_attempts", True), ("poll_interval", 0.0)],
)
async def test_worker_options_are_checked(world: World, option: str, value: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        world.worker(**{option: value})
    assert raised.value.field == option


def test_a_lease_conflict_is_the_only_conflict_the_worker_swallows() -> None:
    from tenantrag.domain.model.job import lease_lost
    from tenantrag.domain.usecases.worker import is_lease_lost

    assert is_lease_lost(lease_lost(uuid.uuid4(), 1))
    assert not is_lease_lost(Conflict("busy", details={"rule": "database.locked"}))
    assert not is_lease_lost(RuntimeError("jobs.lease"))
