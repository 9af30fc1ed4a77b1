"""Ingesting files so that running the same ingest twice changes nothing.

A file is known by its name within its tenant, used as the document's source key
(see IngestionService.submit): the same name with the same content is left alone (no
job, no embedding); other content becomes a new version of that document, keeping its
id and re-embedding only the chunks that changed; a new name becomes a new document.
``tenantrag ingest`` and the demo's sample documents rely on this to be re-runnable.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from tenantrag.domain.model.document import Document
from tenantrag.domain.model.job import Job
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.ingestion import SubmitOutcome
from tenantrag.domain.usecases.principal import Principal


class SyncStatus(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


_STATUS = {
    SubmitOutcome.CREATED: SyncStatus.CREATED,
    SubmitOutcome.NEW_VERSION: SyncStatus.UPDATED,
    SubmitOutcome.RETRIED: SyncStatus.UPDATED,
    SubmitOutcome.UNCHANGED: SyncStatus.UNCHANGED,
}


@attrs.frozen
class SyncResult:
    status: SyncStatus
    document: Document
    job: Job | None = None


@attrs.define
class DocumentIndex:
    """One tenant's documents, addressed by filename (their source key)."""

    rag: TenantRag
    actor: Principal
    tenant_id: uuid.UUID

    async def sync(
        self,
        *,
        filename: str,
        data: bytes | str,
        media_type: str | None = None,
        tags: Iterable[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        wait: bool = True,
    ) -> SyncResult:
        """Make the tenant's document ``filename`` hold ``data``, ingesting only if needed
        (here, or with ``wait=False`` by queueing a job for a worker)."""
        submission = await self.rag.ingestion.submit(
            self.actor, self.tenant_id, filename=filename, source_key=filename,
            data=data.encode() if isinstance(data, str) else data, media_type=media_type,
            tags=tags, metadata=metadata, wait=wait,
        )  # fmt: skip
        return SyncResult(_STATUS[submission.outcome], submission.document, submission.job)
