"""The worker runs a claimed job: success, retries, permanent errors, giving up, and leases
(the heartbeat, a job taken over)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from tenantrag.domain.errors import InvalidInput, NotFound, PermissionDenied
from tenantrag.domain.model.job import Job, JobStatus
from tenantrag.domain.ports.parser import UnparseableDocument
from tests.unit.worker_world import (
    SHORT,
    World,
    eventually,
    world_fixture,  # noqa: F401 - the world fixture
)


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
