"""The worker on an in-memory SQLite store, with scripted handlers and a clock that moves when told.

Heartbeats run on real time (every third of the lease), so the tests that need one use
a lease of a fraction of a second; the others use a lease long enough that none fires.
"""

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
from tenantrag.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Unavailable
from tenantrag.domain.model.job import Job, JobStatus
from tenantrag.domain.ports.parser import UnparseableDocument
from tenantrag.domain.ports.unit_of_work import SystemUnitOfWork, UnitOfWorkFactory
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


@pytest.fixture
async def world() -> AsyncIterator[World]:
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


async def test_a_job_runs_once_and_succeeds(world: World) -> None:
    job = await world.add_job()
    worker = world.worker()

    done = await worker.run_once()

    assert done is not None
    assert (done.id, done.status, done.attempts, done.progress) == (job.id, JobStatus.SUCCEEDED, 1, 100)
    assert done.lease_expires_at is None
    assert [run.id for run in world.handler.runs] == [job.id]
    assert world.handler.runs[0].status is JobStatus.RUNNING
    assert world.handler.given_up == []
    assert await worker.run_once() is None
    assert await world.stored(job) == done


async def test_an_empty_queue_runs_nothing(world: World) -> None:
    assert await world.worker().run_once() is None
    assert world.handler.runs == []


async def test_a_failed_attempt_is_queued_again_with_its_error_and_retried(world: World) -> None:
    job = await world.add_job()
    world.handler.script = [ConnectionError("embedder down")]
    worker = world.worker()

    retried = await worker.run_once()
    assert retried is not None
    # Queued again, not before the retry delay (5 s after the first attempt, then doubling).
    not_before = world.clock.now() + timedelta(seconds=5)
    assert (retried.status, retried.attempts, retried.lease_expires_at) == (JobStatus.QUEUED, 1, not_before)
    assert retried.error == "ConnectionError: embedder down"
    assert await worker.run_once() is None  # too early
    assert (worker.backoff(2), worker.backoff(30)) == (timedelta(seconds=10), timedelta(minutes=10))

    world.clock.advance(timedelta(seconds=5))
    done = await worker.run_once()
    assert done is not None
    assert (done.status, done.attempts, done.error) == (JobStatus.SUCCEEDED, 2, None)
    assert [run.id for run in world.handler.runs] == [job.id, job.id]
    assert world.handler.given_up == []


async def test_after_the_last_attempt_fails_the_handler_gives_up_and_the_job_fails(world: World) -> None:
    job = await world.add_job()
    world.handler.script = [RuntimeError("first"), RuntimeError("second")]
    worker = world.worker(max_attempts=2, retry_delay=timedelta(0))

    first = await worker.run_once()
    last = await worker.run_once()

    assert first is not None
    assert first.status is JobStatus.QUEUED
    assert last is not None
    assert (last.status, last.attempts) == (JobStatus.FAILED, 2)
    assert last.error == "gave up after 2 attempts; the last error: RuntimeError: second"
    assert world.handler.given_up == [(job.id, last.error)]
    assert await worker.run_once() is None
    assert len(world.handler.runs) == 2


@pytest.mark.parametrize(
    "error",
    [
        InvalidInput("file", "not a PDF"),
        UnparseableDocument("cats.pdf", "not a PDF"),
        NotFound("document", uuid.UUID(int=7)),
        PermissionDenied("the key may not write"),
    ],
    ids=lambda error: type(error).__name__,
)
async def test_a_permanent_error_fails_the_job_at_once(world: World, error: Exception) -> None:
    job = await world.add_job()
    world.handler.script = [error]
    worker = world.worker(max_attempts=3)

    failed = await worker.run_once()

    assert failed is not None
    assert (failed.status, failed.attempts, failed.error) == (JobStatus.FAILED, 1, str(error))
    assert world.handler.given_up == [(job.id, str(error))]
    assert await worker.run_once() is None
    assert len(world.handler.runs) == 1


async def test_a_handler_that_returns_without_finishing_the_job_counts_as_a_failed_attempt(
    world: World,
) -> None:
    await world.add_job()
    world.handler.script = ["return"]

    retried = await world.worker().run_once()

    assert retried is not None
    assert retried.status is JobStatus.QUEUED
    assert retried.error == "RuntimeError: the 'ingest' handler returned without finishing the job"


async def test_the_heartbeat_extends_the_lease_while_the_handler_works(world: World) -> None:
    job = await world.add_job()
    seen: list[Job] = []

    async def work(claimed: Job) -> None:
        assert claimed.lease_expires_at == world.clock.now() + SHORT
        world.clock.advance(timedelta(seconds=10))
        renewed = world.clock.now() + SHORT

        async def renewed_lease() -> bool:
            seen.append(await world.stored(claimed))
            return seen[-1].lease_expires_at == renewed

        await eventually(renewed_lease)

    world.handler.script = [work]
    started = world.clock.now()

    done = await world.worker(lease=SHORT).run_once()

    assert done is not None
    assert done.status is JobStatus.SUCCEEDED
    assert seen[-1].lease_expires_at == started + timedelta(seconds=10) + SHORT
    assert seen[-1].updated_at == started + timedelta(seconds=10)
    assert (seen[-1].status, seen[-1].attempts) == (JobStatus.RUNNING, 1)
    assert job.id == done.id


async def test_a_heartbeat_that_finds_the_job_taken_over_cancels_the_handler(world: World) -> None:
    job = await world.add_job()
    taken: list[Job | None] = []

    async def stall(claimed: Job) -> None:
        # This worker stalls past its lease; another takes the job over meanwhile.
        world.clock.advance(timedelta(hours=1))
        taken.append(await world.claim_as_another_worker())
        await asyncio.sleep(30)

    world.handler.script = [stall]

    async with asyncio.timeout(5):
        result = await world.worker(lease=SHORT).run_once()

    assert taken[0] is not None
    assert taken[0].attempts == 2
    assert world.handler.cancelled == [job.id]
    assert world.handler.given_up == []
    # Left alone: the other worker's attempt, running, as it claimed it.
    assert result == taken[0]
    assert await world.stored(job) == taken[0]


async def test_a_handler_whose_final_write_finds_the_job_taken_over_is_left_alone(world: World) -> None:
    job = await world.add_job()
    taken: list[Job | None] = []

    async def lose_the_job(claimed: Job) -> None:
        world.clock.advance(timedelta(hours=1))
        taken.append(await world.claim_as_another_worker())

    world.handler.script = [lose_the_job]  # then finish(), which its guard refuses

    result = await world.worker().run_once()

    assert taken[0] is not None
    assert result == taken[0]
    assert await world.stored(job) == taken[0]
    assert (taken[0].status, taken[0].attempts) == (JobStatus.RUNNING, 2)
    assert world.handler.given_up == []


async def test_a_job_whose_workers_kept_dying_is_failed_without_running_it(world: World) -> None:
    started = world.clock.now()
    # Claimed three times, and each time its worker vanished: the lease ran out.
    job = await world.add_job(
        status=JobStatus.RUNNING, attempts=3, started_at=started, lease_expires_at=started
    )
    world.clock.advance(timedelta(seconds=1))

    failed = await world.worker(max_attempts=3).run_once()

    assert failed is not None
    assert (failed.status, failed.attempts) == (JobStatus.FAILED, 4)
    assert failed.error is not None
    assert failed.error.startswith("gave up after 3 attempts")
    assert world.handler.runs == []
    assert world.handler.given_up == [(job.id, failed.error)]


async def test_the_job_fails_even_if_give_up_fails(world: World) -> None:
    await world.add_job()
    world.handler.script = [InvalidInput("file", "empty")]
    world.handler.give_up_error = RuntimeError("the document store is down")

    failed = await world.worker().run_once()

    assert failed is not None
    assert (failed.status, failed.error) == (JobStatus.FAILED, "file: empty")
    assert len(world.handler.given_up) == 1


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
