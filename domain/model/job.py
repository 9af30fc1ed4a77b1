"""Job: a unit of background work (ingestion first) with progress, attempts and a lease.

queued -> running -> succeeded | failed | cancelled; a running job whose lease ran
out goes back to queued; a queued job may be cancelled.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.errors import Conflict, InvalidInput
from tenantrag.domain.model.lifecycle import check_transition


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


def parse_job_status(value: JobStatus | str) -> JobStatus:
    try:
        return JobStatus(value)
    except ValueError:
        allowed = ", ".join(s.value for s in JobStatus)
        raise InvalidInput("status", f"must be one of {allowed}, got {value!r:.40}") from None


def _progress(_instance: object, _attribute: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise InvalidInput("progress", f"must be an integer from 0 to 100, got {value!r}")


@attrs.frozen(kw_only=True)
class Job:
    id: uuid.UUID = attrs.field(validator=v.is_id())
    tenant_id: uuid.UUID = attrs.field(validator=v.is_id())
    document_id: uuid.UUID | None = attrs.field(default=None, validator=v.is_id(optional=True))
    kind: str = attrs.field(validator=v.is_text(max_length=64))
    # What the worker needs to run the job (for ingest: the version and its blob).
    payload: dict[str, Any] = attrs.field(
        factory=dict, converter=v.copy_json, validator=v.is_json_object, hash=False
    )
    status: JobStatus = attrs.field(default=JobStatus.QUEUED, converter=parse_job_status)
    progress: int = attrs.field(default=0, validator=_progress)
    summary: str = attrs.field(default="", validator=v.is_text(allow_empty=True, max_length=4000))
    attempts: int = attrs.field(default=0, validator=v.is_count())
    lease_expires_at: datetime | None = attrs.field(default=None, validator=v.is_timestamp(optional=True))
    error: str | None = attrs.field(
        default=None, validator=v.is_text(max_length=4000, allow_empty=True, optional=True)
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
        return attrs.evolve(
            self,
            status=JobStatus.RUNNING,
            attempts=self.attempts + 1,
            lease_expires_at=lease_until,
            started_at=now,
            updated_at=now,
            error=None,
        )

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
            error=error if target is JobStatus.FAILED else None,
            lease_expires_at=None,
            finished_at=None if target is JobStatus.QUEUED else now,
            updated_at=now,
        )


def lease_lost(job_id: uuid.UUID, attempt: int) -> Conflict:
    """A worker's attempt at a job is no longer the job's current one: its lease ran out and
    another worker took the job, or it was cancelled. Its work must not be kept."""
    return Conflict(
        f"job {job_id} is no longer running attempt {attempt}; another worker took it over",
        details={"rule": "jobs.lease"},
    )
