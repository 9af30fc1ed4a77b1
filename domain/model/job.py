"""Job: a unit of background work (ingestion first) with progress, attempts and a lease.

queued -> running -> succeeded | failed | cancelled; a running job whose lease ran
out goes back to queued; a queued job may be cancelled.

The claim rules live here too (``claimable``, ``claimed``): the job queue port only
promises to apply them, and the SQL backends write them as one statement, which the
contract suite holds equal to ``Job.claimed``.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.errors import Conflict, InvalidInput, InvalidTransition
from tenantrag.domain.model.lifecycle import check_transition, parse_status


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


JOB_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED}),
    JobStatus.RUNNING: frozenset(
        {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.QUEUED}
    ),
    JobStatus.SUCCEEDED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
}


MAX_KIND_LENGTH = 64
MAX_SUMMARY_LENGTH = 4000


def parse_job_status(value: JobStatus | str) -> JobStatus:
    return parse_status(JobStatus, value)


def _progress(_instance: object, _attribute: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise InvalidInput("progress", f"must be an integer from 0 to 100, got {value!r}")


@attrs.frozen(kw_only=True)
class Job:
    id: uuid.UUID = attrs.field(validator=v.is_id())
    tenant_id: uuid.UUID = attrs.field(validator=v.is_id())
    document_id: uuid.UUID | None = attrs.field(default=None, validator=v.is_id(optional=True))
    kind: str = attrs.field(validator=v.is_text(max_length=MAX_KIND_LENGTH))
    # What the worker needs to run the job (for ingest: the version and its blob).
    payload: dict[str, Any] = attrs.field(
        factory=dict, converter=v.copy_json, validator=v.is_json_object, hash=False
    )
    status: JobStatus = attrs.field(default=JobStatus.QUEUED, converter=parse_job_status)
    progress: int = attrs.field(default=0, validator=_progress)
    summary: str = attrs.field(
        default="", validator=v.is_text(allow_empty=True, max_length=MAX_SUMMARY_LENGTH)
    )
    attempts: int = attrs.field(default=0, validator=v.is_count())
    lease_expires_at: datetime | None = attrs.field(default=None, validator=v.is_timestamp(optional=True))
    error: str | None = attrs.field(
        default=None, validator=v.is_text(max_length=v.MAX_ERROR_LENGTH, allow_empty=True, optional=True)
    )
    created_at: datetime = attrs.field(validator=v.is_timestamp())
    updated_at: datetime = attrs.field(validator=v.is_timestamp())
    started_at: datetime | None = attrs.field(default=None, validator=v.is_timestamp(optional=True))
    finished_at: datetime | None = attrs.field(default=None, validator=v.is_timestamp(optional=True))

    @property
    def is_terminal(self) -> bool:
        return not JOB_TRANSITIONS[self.status]

    def start(self, *, now: datetime, lease_until: datetime) -> Job:
        check_transition("job", JOB_TRANSITIONS, self.status, JobStatus.RUNNING)
        return self._attempted(now=now, lease_until=lease_until)

    def claimable(self, now: datetime) -> bool:
        """Whether a worker may take the job at ``now``: queued (and its retry delay over: a
        queued job's ``lease_expires_at`` is the earliest time it may run), or running under
        a lease that ran out before ``now`` (its worker died or stalled). Running without a
        lease means someone runs it outside the queue: never claimable."""
        if self.status is JobStatus.QUEUED:
            return self.lease_expires_at is None or self.lease_expires_at <= now
        lease = self.lease_expires_at
        return self.status is JobStatus.RUNNING and lease is not None and lease < now

    def claimed(self, *, now: datetime, lease_until: datetime) -> Job:
        """The job as a worker takes it: running, one more attempt, leased until ``lease_until``.

        A queued job starts. A running job whose lease ran out is taken over: it stays
        running, which the lifecycle has no edge for (running -> running), so the takeover
        is stated here, with what ``start`` would set.
        """
        check_lease(now, lease_until)
        if not self.claimable(now):
            raise InvalidTransition("job", self.status.value, "claimed")
        if self.status is JobStatus.QUEUED:
            return self.start(now=now, lease_until=lease_until)
        return self._attempted(now=now, lease_until=lease_until)

    def _attempted(self, *, now: datetime, lease_until: datetime) -> Job:
        return attrs.evolve(
            self,
            status=JobStatus.RUNNING,
            attempts=self.attempts + 1,
            lease_expires_at=lease_until,
            started_at=now,
            updated_at=now,
            error=None,
        )

    def renewed(self, *, now: datetime, lease_until: datetime) -> Job:
        """The running job with its lease moved on (a worker's heartbeat)."""
        return attrs.evolve(self, lease_expires_at=lease_until, updated_at=now)

    def report(self, *, progress: int, summary: str | None, now: datetime) -> Job:
        if self.status is not JobStatus.RUNNING:
            raise InvalidInput("progress", "only a running job reports progress")
        return attrs.evolve(
            self, progress=progress, summary=self.summary if summary is None else summary, updated_at=now
        )

    def finish(
        self, target: JobStatus, *, now: datetime, error: str | None = None, summary: str | None = None
    ) -> Job:
        check_transition("job", JOB_TRANSITIONS, self.status, target)
        return attrs.evolve(
            self,
            status=target,
            progress=100 if target is JobStatus.SUCCEEDED else self.progress,
            summary=self.summary if summary is None else summary,
            error=v.error_text(error) if target is JobStatus.FAILED and error is not None else None,
            lease_expires_at=None,
            finished_at=None if target is JobStatus.QUEUED else now,
            updated_at=now,
        )

    def queued_again(self, *, now: datetime, error: str, not_before: datetime) -> Job:
        """A failed attempt's job back in the queue, with the attempt's error, claimable
        from ``not_before`` on (the lease of a queued job is its earliest start)."""
        queued = self.finish(JobStatus.QUEUED, now=now)
        return attrs.evolve(queued, error=v.error_text(error), lease_expires_at=not_before)


def check_lease(now: datetime, lease_until: datetime) -> None:
    """A lease that has already run out would hand the job straight to the next claimer."""
    if lease_until <= now:
        raise InvalidInput("lease_until", f"must be later than now ({now.isoformat()})")


def lease_lost(job_id: uuid.UUID, attempt: int) -> Conflict:
    """A worker's attempt at a job is no longer the job's current one: its lease ran out and
    another worker took the job, or it was cancelled. Its work must not be kept."""
    return Conflict(
        f"job {job_id} is no longer running attempt {attempt}; another worker took it over",
        details={"rule": "jobs.lease"},
    )
