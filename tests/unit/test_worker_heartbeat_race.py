"""A lease renewal racing the commit that finishes the job never turns a success into a failure.

What happened before: the handler committed the job as succeeded; the heartbeat's renewal,
waiting on the same row, then found no running attempt, took the lease for lost and
cancelled the handler in the middle of ending its transaction. The connection's cleanup
raised (PendingRollbackError) instead of CancelledError, the worker took that for a failed
attempt and tried to queue the succeeded job again (InvalidTransition succeeded -> queued).
"""

from __future__ import annotations

import asyncio
import logging

import attrs
import pytest

from tenantrag.domain.model.job import Job, JobStatus
from tenantrag.domain.usecases.worker import Worker
from tests.unit.worker_world import (
    SHORT,
    World,
    finish,
    world_fixture,  # noqa: F401 - the world fixture
)


@attrs.define
class CommitThenLinger:
    """Finishes the job, then takes a while to end its transaction (the window of the race)."""

    world: World
    cancelled: bool = False

    async def run(self, job: Job) -> None:
        await finish(self.world.uow, self.world.clock, job)
        try:
            # Long enough for two renewals (every lease / 3) to find the job succeeded.
            await asyncio.sleep(SHORT.total_seconds())
        except asyncio.CancelledError:
            self.cancelled = True
            # What a connection cancelled halfway through its cleanup raised.
            raise RuntimeError("PendingRollbackError: the transaction is inactive") from None

    async def give_up(self, job: Job, error: str) -> None:
        raise AssertionError(f"nothing to give up: {job.id} succeeded ({error})")


async def test_a_renewal_that_meets_the_finished_job_does_not_cancel_the_handler(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    handler = CommitThenLinger(world)
    worker = Worker(uow=world.uow, clock=world.clock, handlers={"ingest": handler}, lease=SHORT)
    job = await world.add_job()
    with caplog.at_level(logging.WARNING):
        settled = await worker.run_once()

    assert settled is not None
    assert settled.status is JobStatus.SUCCEEDED
    assert (await world.stored(job)).status is JobStatus.SUCCEEDED
    assert not handler.cancelled
    assert "InvalidTransition" not in caplog.text
    assert "lost its lease" not in caplog.text
    assert "failed" not in caplog.text, "the attempt was never taken for a failed one"


async def test_a_failure_after_the_handler_finished_the_job_leaves_it_finished(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    async def commit_then_fail(job: Job) -> None:
        await finish(world.uow, world.clock, job)
        raise RuntimeError("the connection broke while closing")

    world.handler.script = [commit_then_fail]
    job = await world.add_job()
    with caplog.at_level(logging.WARNING):
        settled = await world.worker().run_once()

    assert settled is not None
    assert settled.status is JobStatus.SUCCEEDED, "a job the handler finished is not queued or failed again"
    stored = await world.stored(job)
    assert stored.status is JobStatus.SUCCEEDED
    assert stored.error is None
    assert "found it succeeded" in caplog.text
