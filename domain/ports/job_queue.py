"""The job queue: how a worker takes the next job, whichever tenant it belongs to.

Jobs are rows of their tenant, written and finished through tenant units of work. Only
*taking* one crosses tenants, so the queue is offered by the system unit of work
(``uow.job_queue``) and does exactly one thing: claim.

A job is claimable when it is queued (and, if it was queued again after a failed attempt,
its retry delay is over: a queued job's ``lease_expires_at`` is the earliest time it may
run), or running with a lease that ran out before ``now`` (its worker died or stalled:
the job is retried). A running job without a lease
is being run by someone who did not take it from the queue, and is never claimable.
Claiming sets the job running for one more attempt under a new lease; the worker then
keeps the lease alive and finishes the job with ``jobs.update(..., if_attempt=...)``, so
a worker whose job was taken over can no longer write to it.

``claimable`` and ``claimed`` state the rules once: the memory backend runs them, the
SQL backends run the same rules as one statement, and the contract suite holds each
backend's result equal to ``claimed(job, ...)``.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol

import attrs

from tenantrag.domain.errors import InvalidInput, InvalidTransition
from tenantrag.domain.model.job import Job, JobStatus


class JobQueue(Protocol):
    async def claim(
        self, *, now: datetime, lease_until: datetime, kinds: Collection[str] | None = None
    ) -> Job | None:
        """Take the oldest claimable job (by ``created_at``, then id) of any tenant, of one of
        ``kinds`` (any kind when None), as ``claimed(job, now=now, lease_until=lease_until)``;
        None when there is none.

        The claim is atomic: two units of work never claim the same attempt of a job (on
        PostgreSQL concurrent claimers skip each other's rows rather than wait). It is
        visible to others once the unit of work commits.
        """
        ...


def check_lease(now: datetime, lease_until: datetime) -> None:
    """A lease that has already run out would hand the job straight to the next claimer."""
    if lease_until <= now:
        raise InvalidInput("lease_until", f"must be later than now ({now.isoformat()})")


def claimable(job: Job, now: datetime) -> bool:
    """Whether a worker may take ``job`` at ``now``."""
    if job.status is JobStatus.QUEUED:
        return job.lease_expires_at is None or job.lease_expires_at <= now
    return job.status is JobStatus.RUNNING and job.lease_expires_at is not None and job.lease_expires_at < now


def claimed(job: Job, *, now: datetime, lease_until: datetime) -> Job:
    """``job`` as a worker takes it: running, one more attempt, leased until ``lease_until``.

    A queued job starts (``Job.start``). A running job whose lease ran out is taken over:
    it stays running, which the lifecycle has no edge for (running -> running), so the
    takeover is stated here, with what ``start`` would set.
    """
    check_lease(now, lease_until)
    if not claimable(job, now):
        raise InvalidTransition("job", job.status.value, "claimed")
    if job.status is JobStatus.QUEUED:
        return job.start(now=now, lease_until=lease_until)
    return attrs.evolve(
        job,
        attempts=job.attempts + 1,
        lease_expires_at=lease_until,
        started_at=now,
        updated_at=now,
        error=None,
    )
