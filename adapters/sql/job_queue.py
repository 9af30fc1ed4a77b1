"""The job queue of the SQL backends (see domain/ports/job_queue.py): one statement.

    UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_expires_at = :lease_until, ...
    WHERE (tenant_id, id) = (SELECT tenant_id, id FROM jobs WHERE <claimable> [AND kind IN (...)]
                             ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING *

Why one statement, and why this shape:

- The sub-select is uncorrelated, so PostgreSQL runs it once (an InitPlan) and locks the
  one row it returns. ``IN (SELECT ... LIMIT 1 FOR UPDATE SKIP LOCKED)`` may be planned as
  a join whose inner side re-runs the sub-select, and so claim more than one row.
- ``SKIP LOCKED``: a claimer passes over rows another claimer has locked instead of
  queueing behind it, so any number of workers share the queue without waiting on each
  other, and no two take the same row. A row another claimer took and committed after
  this statement's snapshot is re-read when it is locked (READ COMMITTED's re-check),
  found running under a live lease, and passed over as well.
- SQLite has no row locks and SQLAlchemy does not render FOR UPDATE for it. It needs
  none: ``session.write`` takes the database's write lock (BEGIN IMMEDIATE) before the
  statement, so the sub-select reads the latest committed jobs and nothing can change
  them before the UPDATE. Claimers take turns, which is all a single-file database allows.
- PostgreSQL's row-level security hides every tenant's jobs from system work. The
  statement runs while ``app.job_queue`` is bound on (signed: adapters/postgres/binding.py),
  which two policies read (``jobs_queue_select``,
  ``jobs_queue_update``, migration 7c1e2a9b4d10): they admit the ``jobs`` table only, and
  only for this statement. Everything else a worker does to a job, it does in that job's
  tenant unit of work.

The SET list is ``claimed()`` of the domain, written in SQL; the contract suite checks
that both give the same job.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, tuple_, update

from tenantrag.adapters.sql import rows
from tenantrag.adapters.sql.session import SqlSession
from tenantrag.domain.model.job import Job, JobStatus
from tenantrag.domain.ports.job_queue import QueueDepth, check_lease

_JOBS = rows.JOBS.table


class SqlJobQueue:
    def __init__(self, session: SqlSession) -> None:
        self._session = session

    async def claim(
        self, *, now: datetime, lease_until: datetime, kinds: Collection[str] | None = None
    ) -> Job | None:
        check_lease(now, lease_until)
        c = _JOBS.c
        conditions = [
            or_(
                and_(
                    c.status == JobStatus.QUEUED.value,
                    or_(c.lease_expires_at.is_(None), c.lease_expires_at <= now),
                ),
                and_(c.status == JobStatus.RUNNING.value, c.lease_expires_at < now),
            )
        ]
        if kinds is not None:
            if not kinds:
                return None
            conditions.append(c.kind.in_(sorted(kinds)))
        oldest = (
            select(c.tenant_id, c.id)
            .where(*conditions)
            .order_by(c.created_at, c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(_JOBS)
            .where(tuple_(c.tenant_id, c.id) == oldest.scalar_subquery())
            .values(
                status=JobStatus.RUNNING.value,
                attempts=c.attempts + 1,
                lease_expires_at=lease_until,
                started_at=now,
                updated_at=now,
                error=None,
            )
            .returning(*_JOBS.columns)
        )
        async with self._session.acting_for(job_queue="on"):
            row = (await self._session.write(statement)).mappings().first()
        return None if row is None else rows.JOBS.from_row(row)

    async def depth(self) -> QueueDepth:
        c = _JOBS.c
        live = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
        statement = (
            select(c.status, func.count(), func.min(c.created_at))
            .where(c.status.in_(live))
            .group_by(c.status)
        )
        # The queue's policies admit reading every tenant's jobs while app.job_queue is on.
        async with self._session.acting_for(job_queue="on"):
            result: list[Any] = list((await self._session.read(statement)).all())
        found = {status: (count, oldest) for status, count, oldest in result}
        queued, oldest = found.get(JobStatus.QUEUED.value, (0, None))
        running, _ = found.get(JobStatus.RUNNING.value, (0, None))
        return QueueDepth(queued=queued, running=running, oldest_queued_at=oldest)
