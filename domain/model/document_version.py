"""DocumentVersion: one ingested (or ingesting) content of a document.

A document's content changes by versions: uploading new content makes version n+1,
pending, beside the active version n; when n+1 is ingested it becomes active and n
superseded in the same transaction that swaps the chunks, so search always sees
exactly one version of the document. A version whose ingestion fails stays failed and
the active one stays active. Versions are kept, with their blobs, for audit and to
re-ingest later; only the active one has chunks.

pending -> processing -> active -> superseded; pending | processing -> failed.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.model.document import MAX_MEDIA_TYPE_LENGTH, MAX_STORAGE_KEY_LENGTH
from tenantrag.domain.model.lifecycle import check_transition, parse_status


class VersionStatus(enum.StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    ACTIVE = "active"
    SUPERSEDED = "superseded"
    FAILED = "failed"


VERSION_TRANSITIONS: dict[VersionStatus, frozenset[VersionStatus]] = {
    VersionStatus.PENDING: frozenset({VersionStatus.PROCESSING, VersionStatus.FAILED}),
    # Back to pending: a worker lost its lease and the job is retried.
    # Superseded straight away: a newer version became active first (several workers).
    VersionStatus.PROCESSING: frozenset(
        {VersionStatus.ACTIVE, VersionStatus.FAILED, VersionStatus.PENDING, VersionStatus.SUPERSEDED}
    ),
    VersionStatus.ACTIVE: frozenset({VersionStatus.SUPERSEDED}),
    VersionStatus.SUPERSEDED: frozenset(),
    # A failed version may be retried (the same content uploaded again).
    VersionStatus.FAILED: frozenset({VersionStatus.PENDING}),
}


def parse_version_status(value: VersionStatus | str) -> VersionStatus:
    return parse_status(VersionStatus, value)


@attrs.frozen(kw_only=True)
class DocumentVersion:
    id: uuid.UUID = attrs.field(validator=v.is_id())
    tenant_id: uuid.UUID = attrs.field(validator=v.is_id())
    document_id: uuid.UUID = attrs.field(validator=v.is_id())
    version: int = attrs.field(validator=v.is_positive)
    status: VersionStatus = attrs.field(default=VersionStatus.PENDING, converter=parse_version_status)
    content_sha256: str = attrs.field(validator=v.is_sha256())
    size_bytes: int = attrs.field(default=0, validator=v.is_count())
    media_type: str = attrs.field(default="text/plain", validator=v.is_text(max_length=MAX_MEDIA_TYPE_LENGTH))
    storage_key: str = attrs.field(validator=v.is_text(max_length=MAX_STORAGE_KEY_LENGTH))
    chunk_count: int = attrs.field(default=0, validator=v.is_count())
    # How many chunks kept their embedding from the version before (not embedded again).
    reused_chunks: int = attrs.field(default=0, validator=v.is_count())
    error: str | None = attrs.field(
        default=None, validator=v.is_text(max_length=v.MAX_ERROR_LENGTH, allow_empty=True, optional=True)
    )
    created_at: datetime = attrs.field(validator=v.is_timestamp())
    updated_at: datetime = attrs.field(validator=v.is_timestamp())

    def __attrs_post_init__(self) -> None:
        if (self.status is VersionStatus.FAILED) != (self.error is not None):
            raise InvalidInput("error", "a failed version says why, and only a failed one")

    def transition(
        self, target: VersionStatus, *, now: datetime, error: str | None = None
    ) -> DocumentVersion:
        check_transition("document version", VERSION_TRANSITIONS, self.status, target)
        failed = target is VersionStatus.FAILED
        return attrs.evolve(
            self,
            status=target,
            error=v.error_text(error or "ingestion failed") if failed else None,
            updated_at=now,
        )

    @property
    def in_flight(self) -> bool:
        """Whether the version is still to be ingested (queued or being ingested)."""
        return self.status in (VersionStatus.PENDING, VersionStatus.PROCESSING)

    def activate(self, *, now: datetime, chunk_count: int, reused_chunks: int) -> DocumentVersion:
        """The version whose chunks were just stored: active, with how many there are and how
        many kept their embedding from the version before."""
        active = self.transition(VersionStatus.ACTIVE, now=now)
        return attrs.evolve(active, chunk_count=chunk_count, reused_chunks=reused_chunks)
