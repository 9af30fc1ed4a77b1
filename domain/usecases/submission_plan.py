"""What submitting content to a document means, decided from the document's versions and jobs.

``plan`` is pure reading: IngestionService.submit calls it once without a lock (so the
usual "unchanged" answer costs no write), and again inside its write transaction with the
document locked, where the decision is made for good.

- The latest version has this content and is active, or in flight with a job that will
  run it: unchanged, nothing to do.
- The latest version has this content but nothing will ever finish it (it failed, or its
  job failed or was lost while it stayed pending or processing): retry it in place, with a
  new job. That is how a version that ended up pending or failed is always re-queued: by
  submitting its content again.
- Anything else is a new version, numbered after the latest.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.model.document import MAX_SOURCE_KEY_LENGTH, Document
from tenantrag.domain.model.document_version import DocumentVersion, VersionStatus
from tenantrag.domain.ports.unit_of_work import TenantUnitOfWork
from tenantrag.domain.usecases.documents import get_document


class Step(enum.Enum):
    UNCHANGED = "unchanged"
    RETRY = "retry"
    NEW_VERSION = "new_version"


@attrs.frozen
class Plan:
    step: Step
    number: int  # the version the job will ingest
    retried: DocumentVersion | None = None  # with RETRY: the version queued again


async def plan(uow: TenantUnitOfWork, document: Document, digest: str) -> Plan:
    """What submitting content with SHA-256 ``digest`` to ``document`` should do."""
    versions = await uow.versions.list_for_document(document.id)
    latest = versions[-1] if versions else None
    if latest is None:
        return Plan(Step.NEW_VERSION, 1)
    if latest.content_sha256 == digest:
        if latest.status is VersionStatus.ACTIVE:
            return Plan(Step.UNCHANGED, latest.version)
        if latest.in_flight and await _has_a_job(uow, latest):
            return Plan(Step.UNCHANGED, latest.version)
        if latest.in_flight or latest.status is VersionStatus.FAILED:
            return Plan(Step.RETRY, latest.version, latest)
    return Plan(Step.NEW_VERSION, latest.version + 1)


async def _has_a_job(uow: TenantUnitOfWork, version: DocumentVersion) -> bool:
    """Whether a queued or running job will ingest ``version`` (a running one whose worker
    died is claimed again once its lease runs out, so it counts)."""
    jobs = await uow.jobs.unfinished_for_document(version.document_id)
    return any(job.payload.get("version") == version.version for job in jobs)


def checked_source_key(source_key: str | None) -> str | None:
    if source_key is None:
        return None
    return v.text("source_key", source_key, max_length=MAX_SOURCE_KEY_LENGTH).strip()


async def existing(
    uow: TenantUnitOfWork, document_id: uuid.UUID | None, source_key: str | None
) -> Document | None:
    """The document ``document_id`` (NotFound if none) or ``source_key`` names, if any."""
    if document_id is not None:
        document = await get_document(uow, document_id)
        if source_key is not None and document.source_key not in (None, source_key):
            raise InvalidInput(
                "source_key", f"document {document_id} has the source key {document.source_key!r}"
            )
        return document
    if source_key is None:
        return None
    return await uow.documents.get_by_source_key(source_key)


def relabelled(
    document: Document,
    *,
    title: str | None,
    metadata: Mapping[str, Any] | None,
    tags: Iterable[str] | None,
) -> Document:
    """``document`` with the title, metadata and tags given with its new content (None: kept)."""
    changes: dict[str, Any] = {}
    if title is not None:
        changes["title"] = title or document.filename
    if metadata is not None:
        changes["metadata"] = dict(metadata)
    if tags is not None:
        changes["tags"] = tuple(tags)
    return attrs.evolve(document, **changes)
