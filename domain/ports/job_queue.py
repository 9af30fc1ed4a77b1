"""The job queue: how a worker takes the next job, whichever tenant it belongs to.

Jobs are rows of their tenant, written and finished through tenant units of work. Only
*taking* one crosses tenants, so the queue is offered by the system unit of work
(``uow.job_queue``) and does exactly one thing: claim. Which jobs may be taken, and what
taking one changes, are the job's own rules (``Job.claimable``, ``Job.claimed``); the
worker then keeps the lease alive and finishes the job with ``jobs.update(...,
if_attempt=...)``, so a worker whose job was taken over can no longer write to it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol

import attrs

from tenantrag.domain.model.job import Job, check_lease

# Re-exported until adapters/sql/job_queue.py imports it from model/job.py.
__all__ = ["JobQueue", "QueueDepth", "check_lease"]


@attrs.frozen(kw_only=True)
class QueueDepth:
    """The whole queue at a glance (every tenant): what an operator's metrics show."""

    queued: int
    running: int
    # When the longest-waiting queued job was created; None when nothing is queued.
    oldest_queued_at: datetime | None = None


class JobQueue(Protocol):
    async def claim(
        self, *, now: datetime, lease_until: datetime, kinds: Collection[str] | None = None
    ) -> Job | None:
        """Take the oldest claimable job (by ``created_at``, then id) of any tenant, of one of
        ``kinds`` (any kind when None), as ``job.claimed(now=now, lease_until=lease_until)``;
        None when there is none.

        The claim is atomic: two units of work never claim the same attempt of a job (on
        PostgreSQL concurrent claimers skip each other's rows rather than wait). It is
        visible to others once the unit of work commits.
        """
        ...

    async def depth(self) -> QueueDepth:
        """How many jobs of every tenant are queued and running, and when the oldest queued
        one was created. Counts only: no tenant's job is read."""
        ...
