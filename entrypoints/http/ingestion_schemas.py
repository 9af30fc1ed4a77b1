"""What ingesting answers: the submission (document, outcome, job) and a document's versions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

from tenantrag.domain.model.document_version import DocumentVersion, VersionStatus
from tenantrag.domain.usecases.ingestion import Submission, SubmitOutcome
from tenantrag.entrypoints.http.schemas import DocumentOut, JobOut, Resource


class SubmissionOut(Resource):
    outcome: SubmitOutcome
    document: DocumentOut
    job: JobOut | None

    @classmethod
    def of(cls, submission: Submission) -> Self:
        job = None if submission.job is None else JobOut.of(submission.job)
        return cls(outcome=submission.outcome, document=DocumentOut.of(submission.document), job=job)


class VersionOut(Resource):
    version: int
    status: VersionStatus
    content_sha256: str
    size_bytes: int
    media_type: str
    chunk_count: int
    reused_chunks: int
    error: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, v: DocumentVersion) -> Self:
        return cls(
            version=v.version, status=v.status, content_sha256=v.content_sha256, size_bytes=v.size_bytes,
            media_type=v.media_type, chunk_count=v.chunk_count, reused_chunks=v.reused_chunks, error=v.error,
            created_at=v.created_at, updated_at=v.updated_at,
        )  # fmt: skip


class VersionList(Resource):
    document_id: uuid.UUID
    items: list[VersionOut]
