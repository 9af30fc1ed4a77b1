"""Document: an uploaded source with an ingestion lifecycle.

pending -> processing -> completed | failed. A failed document may be queued
again (failed -> pending), a completed one re-ingested (completed -> pending), and
a worker that lost its lease hands the document back (processing -> pending).
"""

from __future__ import annotations

import enum
import hashlib
import uuid
from datetime import datetime
from typing import Any

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.model.lifecycle import check_transition


class DocumentStatus(enum.StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"

    @classmethod
    def parse(cls, value: object) -> DocumentStatus:
        try:
            return cls(value)  # type: ignore[arg-type]
        except ValueError:
            allowed = ", ".join(s.value for s in cls)
            raise InvalidInput("status", f"must be one of {allowed}, got {value!r:.40}") from None


DOCUMENT_TRANSITIONS: dict[DocumentStatus, frozenset[DocumentStatus]] = {
    DocumentStatus.PENDING: frozenset({DocumentStatus.PROCESSING, DocumentStatus.FAILED}),
    DocumentStatus.PROCESSING: frozenset(
        {DocumentStatus.COMPLETED, DocumentStatus.FAILED, DocumentStatus.PENDING}
    ),
    DocumentStatus.COMPLETED: frozenset({DocumentStatus.PENDING}),
    DocumentStatus.FAILED: frozenset({DocumentStatus.PENDING}),
}

MAX_ERROR_LENGTH = 4000
MAX_STORAGE_KEY_LENGTH = 1024
MAX_SOURCE_KEY_LENGTH = 1024


def sha256_hex(data: str | bytes) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def parse_status(value: DocumentStatus | str) -> DocumentStatus:
    return DocumentStatus.parse(value)


def _optional_strip(value: str | None) -> str | None:
    return None if value is None else v.strip(value)


def _media_type(value: str) -> str:
    media = v.text("media_type", value, max_length=255).strip().lower()
    if "/" not in media:
        raise InvalidInput("media_type", f"must look like 'type/subtype', got {media!r:.60}")
    return media


@attrs.frozen(kw_only=True)
class Document:
    id: uuid.UUID = attrs.field(validator=v.is_id())
    tenant_id: uuid.UUID = attrs.field(validator=v.is_id())
    uploaded_by: uuid.UUID | None = attrs.field(default=None, validator=v.is_id(optional=True))
    filename: str = attrs.field(converter=v.strip, validator=v.is_text())
    title: str = attrs.field(default="", converter=v.strip, validator=v.is_text(allow_empty=True))
    media_type: str = attrs.field(default="text/plain", converter=_media_type)
    size_bytes: int = attrs.field(default=0, validator=v.is_count())
    status: DocumentStatus = attrs.field(default=DocumentStatus.PENDING, converter=parse_status)
    error_message: str | None = attrs.field(
        default=None, validator=v.is_text(max_length=MAX_ERROR_LENGTH, allow_empty=True, optional=True)
    )
    storage_key: str = attrs.field(validator=v.is_text(max_length=MAX_STORAGE_KEY_LENGTH))
    # The caller's name for the source (a path, a URL, an id in another system): uploading
    # under a known key makes a new version of that document, never a second document.
    source_key: str | None = attrs.field(
        default=None,
        converter=_optional_strip,
        validator=v.is_text(max_length=MAX_SOURCE_KEY_LENGTH, optional=True),
    )
    content_sha256: str | None = attrs.field(default=None, validator=v.is_sha256(optional=True))
    # The active version: the one whose chunks are searched (see DocumentVersion).
    version: int = attrs.field(default=1)
    metadata: dict[str, Any] = attrs.field(
        factory=dict, converter=v.copy_json, validator=v.is_json_object, hash=False
    )
    tags: tuple[str, ...] = attrs.field(default=(), converter=v.sort_tags, validator=v.is_tags)
    chunk_count: int = attrs.field(default=0, validator=v.is_count())
    processed_at: datetime | None = attrs.field(default=None, validator=v.is_timestamp(optional=True))
    created_at: datetime = attrs.field(validator=v.is_timestamp())
    updated_at: datetime = attrs.field(validator=v.is_timestamp())

    @version.validator
    def _check_version(self, _attribute: object, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidInput("version", f"must be a positive integer, got {value!r}")

    def __attrs_post_init__(self) -> None:
        if self.status is DocumentStatus.FAILED and not self.error_message:
            raise InvalidInput("error_message", "a failed document must say why it failed")
        if self.status is not DocumentStatus.FAILED and self.error_message is not None:
            raise InvalidInput("error_message", "only a failed document carries an error message")
        if self.status is DocumentStatus.COMPLETED and self.processed_at is None:
            raise InvalidInput("processed_at", "a completed document records when it was processed")

    def transition(self, target: DocumentStatus, *, now: datetime, error: str | None = None) -> Document:
        check_transition("document", DOCUMENT_TRANSITIONS, self.status, target)
        if target is DocumentStatus.FAILED:
            return attrs.evolve(
                self, status=target, error_message=error or "ingestion failed", updated_at=now
            )
        return attrs.evolve(
            self,
            status=target,
            error_message=None,
            processed_at=now if target is DocumentStatus.COMPLETED else self.processed_at,
            updated_at=now,
        )
