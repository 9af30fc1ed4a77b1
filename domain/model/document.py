"""Document: an uploaded source with an ingestion lifecycle.

pending -> processing -> completed | failed. A failed document may be queued
again (failed -> pending), a completed one re-ingested (completed -> pending), and
a worker that lost its lease hands the document back (processing -> pending).

Ingestion moves a document with the methods named after what happens (``queued``,
``started``, ``activate``, ``failed``), which take whichever legal path leads there;
``transition`` is the single edge they are built from.
"""

from __future__ import annotations

import enum
import hashlib
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.model.lifecycle import check_transition, parse_status

if TYPE_CHECKING:
    from tenantrag.domain.model.document_version import DocumentVersion


class DocumentStatus(enum.StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"

    @classmethod
    def parse(cls, value: object) -> DocumentStatus:
        return parse_status(cls, value)


DOCUMENT_TRANSITIONS: dict[DocumentStatus, frozenset[DocumentStatus]] = {
    DocumentStatus.PENDING: frozenset({DocumentStatus.PROCESSING, DocumentStatus.FAILED}),
    DocumentStatus.PROCESSING: frozenset(
        {DocumentStatus.COMPLETED, DocumentStatus.FAILED, DocumentStatus.PENDING}
    ),
    DocumentStatus.COMPLETED: frozenset({DocumentStatus.PENDING}),
    DocumentStatus.FAILED: frozenset({DocumentStatus.PENDING}),
}

MAX_STORAGE_KEY_LENGTH = 1024
MAX_SOURCE_KEY_LENGTH = 1024
MAX_MEDIA_TYPE_LENGTH = 255


def sha256_hex(data: str | bytes) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def _status(value: object) -> DocumentStatus:
    return DocumentStatus.parse(value)


def _optional_strip(value: str | None) -> str | None:
    return None if value is None else v.strip(value)


def parse_media_type(value: str) -> str:
    """A media type as given (``type/subtype``, parameters allowed), lower-cased; else InvalidInput."""
    media = v.text("media_type", value, max_length=MAX_MEDIA_TYPE_LENGTH).strip().lower()
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
    media_type: str = attrs.field(default="text/plain", converter=parse_media_type)
    size_bytes: int = attrs.field(default=0, validator=v.is_count())
    status: DocumentStatus = attrs.field(default=DocumentStatus.PENDING, converter=_status)
    error_message: str | None = attrs.field(
        default=None, validator=v.is_text(max_length=v.MAX_ERROR_LENGTH, allow_empty=True, optional=True)
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
    version: int = attrs.field(default=1, validator=v.is_positive)
    metadata: dict[str, Any] = attrs.field(
        factory=dict, converter=v.copy_json, validator=v.is_json_object, hash=False
    )
    tags: tuple[str, ...] = attrs.field(default=(), converter=v.sort_tags, validator=v.is_tags)
    chunk_count: int = attrs.field(default=0, validator=v.is_count())
    processed_at: datetime | None = attrs.field(default=None, validator=v.is_timestamp(optional=True))
    created_at: datetime = attrs.field(validator=v.is_timestamp())
    updated_at: datetime = attrs.field(validator=v.is_timestamp())

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
                self, status=target, error_message=v.error_text(error or "ingestion failed"), updated_at=now
            )
        return attrs.evolve(
            self,
            status=target,
            error_message=None,
            processed_at=now if target is DocumentStatus.COMPLETED else self.processed_at,
            updated_at=now,
        )

    def queued(self, *, now: datetime) -> Document:
        """The document with an ingestion queued: pending, unless one is already under way."""
        if self.status in (DocumentStatus.PENDING, DocumentStatus.PROCESSING):
            return self
        return self.transition(DocumentStatus.PENDING, now=now)

    def started(self, *, now: datetime) -> Document:
        """The document being ingested: processing, through pending if it was settled."""
        if self.status is DocumentStatus.PROCESSING:
            return self
        return self.queued(now=now).transition(DocumentStatus.PROCESSING, now=now)

    def failed(self, *, now: datetime, error: str) -> Document:
        """The document failed with ``error`` (a settled document is queued first: the
        lifecycle reaches failed only from pending or processing)."""
        document = self
        if document.status in (DocumentStatus.COMPLETED, DocumentStatus.FAILED):
            document = document.transition(DocumentStatus.PENDING, now=now)
        return document.transition(DocumentStatus.FAILED, now=now, error=error)

    def activate(
        self, version: DocumentVersion, *, now: datetime, parsed_title: str | None, newer_queued: bool
    ) -> Document:
        """The document serving ``version`` (ingested into its chunks): completed at it, with
        the version's content fields, or pending again when a newer version is queued.

        ``parsed_title`` (the title found in the content) replaces a title that only
        repeats the filename; a title given by the caller is kept.
        """
        if version.document_id != self.id:
            raise InvalidInput("version", f"version {version.version} belongs to another document")
        completed = self.started(now=now).transition(DocumentStatus.COMPLETED, now=now)
        completed = attrs.evolve(
            completed,
            version=version.version,
            content_sha256=version.content_sha256,
            size_bytes=version.size_bytes,
            media_type=version.media_type,
            storage_key=version.storage_key,
            chunk_count=version.chunk_count,
            title=parsed_title if parsed_title and self.title == self.filename else self.title,
        )
        return completed.transition(DocumentStatus.PENDING, now=now) if newer_queued else completed
